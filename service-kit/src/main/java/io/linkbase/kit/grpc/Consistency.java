package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import jakarta.inject.Singleton;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Read-your-writes across services: a caller that knows a table's schema version (the gateway,
 * after reading the table from schema-service) sends it along, and the receiving service applies
 * the call only once its own projection of that table has caught up to that version. So a
 * record written right after a table or column was created never meets a table the record
 * service has not created yet.
 */
@Singleton
public class Consistency implements ServerInterceptor {
    public static final Metadata.Key<String> METADATA_KEY =
        Metadata.Key.of("x-linkbase-table-versions", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<Map<String, Long>> CONTEXT_KEY = Context.key("linkbase-table-versions");

    /** The table versions the caller has seen (table id → version), empty when none were sent. */
    public static Map<String, Long> required() {
        Map<String, Long> v = CONTEXT_KEY.get();
        return v == null ? Map.of() : v;
    }

    /** A stub that tells the service which table versions this call depends on. */
    public static <S extends AbstractStub<S>> S after(S stub, Map<String, Long> tableVersions) {
        if (tableVersions.isEmpty()) {
            return stub;
        }
        StringBuilder value = new StringBuilder();
        tableVersions.forEach((table, version) -> {
            if (!value.isEmpty()) {
                value.append(',');
            }
            value.append(table).append('=').append(version);
        });
        Metadata md = new Metadata();
        md.put(METADATA_KEY, value.toString());
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String raw = headers.get(METADATA_KEY);
        if (raw == null || raw.isEmpty()) {
            return next.startCall(call, headers);
        }
        Map<String, Long> versions = new LinkedHashMap<>();
        for (String part : raw.split(",")) {
            int eq = part.lastIndexOf('=');
            try {
                versions.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
            } catch (RuntimeException e) {
                ApiException bad = ApiException.invalid("x-linkbase-table-versions", "must be tableId=version,…");
                call.close(bad.status(), bad.trailers());
                return new ServerCall.Listener<>() {
                };
            }
        }
        return Contexts.interceptCall(Context.current().withValue(CONTEXT_KEY, Map.copyOf(versions)), call, headers, next);
    }
}
