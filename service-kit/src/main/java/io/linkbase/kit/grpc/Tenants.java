package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Metadata;

import java.util.regex.Pattern;

/** The tenant of the current call: set by the gateway in metadata, read by every service. */
public final class Tenants {
    public static final Metadata.Key<String> METADATA_KEY =
        Metadata.Key.of("x-linkbase-tenant", Metadata.ASCII_STRING_MARSHALLER);
    public static final Context.Key<String> CONTEXT_KEY = Context.key("linkbase-tenant");
    /** API.md: tenant ids are {@code [a-z0-9_-]{1,40}}. */
    public static final Pattern VALID = Pattern.compile("[a-z0-9_-]{1,40}");

    private Tenants() {
    }

    /** The calling tenant; fails the call when there is none (a programming error upstream). */
    public static String current() {
        String tenant = CONTEXT_KEY.get();
        if (tenant == null) {
            throw ApiException.unauthenticated("no tenant in the call's metadata");
        }
        return tenant;
    }

    public static boolean isValid(String tenant) {
        return tenant != null && VALID.matcher(tenant).matches();
    }
}
