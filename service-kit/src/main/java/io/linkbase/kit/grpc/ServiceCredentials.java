package io.linkbase.kit.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * Service-to-service credentials on every internal gRPC call (docs/decisions.md, "Internal calls
 * carry a signed service token"). A caller (the gateway, or a service calling another) sends
 * {@code x-linkbase-service-token}: its service name, the tenant it acts for and an expiry a
 * minute ahead, signed with HMAC-SHA256 under the secret every Linkbase process shares
 * ({@code LINKBASE_SERVICE_SECRET}, at least 32 bytes). {@link TenantInterceptor} checks it and
 * takes the tenant from it, so a process without the secret can neither call a service nor
 * choose the tenant a call acts for.
 */
@Singleton
public final class ServiceCredentials {
    public static final Metadata.Key<String> METADATA_KEY =
        Metadata.Key.of("x-linkbase-service-token", Metadata.ASCII_STRING_MARSHALLER);
    /** How long a minted token is good for. */
    public static final long LIFETIME_SECONDS = 60;
    /** Clock difference between two hosts that is still tolerated. */
    public static final long SKEW_SECONDS = 30;
    public static final int MIN_SECRET_BYTES = 32;
    private static final Pattern SERVICE_NAME = Pattern.compile("[a-z0-9-]{1,40}");
    private static final String VERSION = "v1";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getUrlDecoder();

    /** Who called: the service that signed the token and the tenant it acts for ("" for none). */
    public record Caller(String service, String tenant) {
    }

    private final String service;
    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;

    @Inject
    public ServiceCredentials(@Value("${linkbase.service.secret:}") String secret,
                              @Value("${micronaut.application.name:linkbase}") String service) {
        if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            throw new IllegalStateException("LINKBASE_SERVICE_SECRET (linkbase.service.secret) must be set to at least "
                + MIN_SECRET_BYTES + " bytes, the same in every Linkbase service: internal gRPC calls are signed with it");
        }
        if (!SERVICE_NAME.matcher(service).matches()) {
            throw new IllegalArgumentException("service name must match " + SERVICE_NAME + ": " + service);
        }
        this.service = service;
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    public String service() {
        return service;
    }

    /*
     * A token is minted per call, but within one second a caller mints the same token for the same
     * tenant again: both sides keep the last few, so a repeat costs a comparison instead of an
     * HMAC (with base64 and parsing, a share of search-service's CPU per autocomplete, measured in
     * docs/benchmarks.md). The slots are written racily; their entries are immutable, so a reader
     * sees a whole entry or an older one, and a miss only means the full work.
     */
    private static final int RECENT = 64;
    private final Minted[] minted = new Minted[RECENT];
    private final Verified[] verified = new Verified[RECENT];

    private record Minted(String tenant, long now, String token) {
    }

    private record Verified(String token, Caller caller, long expires) {
    }

    /** A token for a call on behalf of {@code tenant} (null or "" for a call without tenant). */
    public String mint(String tenant, long nowEpochSeconds) {
        String t = tenant == null ? "" : tenant;
        int slot = t.hashCode() & (RECENT - 1);
        Minted last = minted[slot];
        if (last != null && last.now == nowEpochSeconds && last.tenant.equals(t)) {
            return last.token;
        }
        String payload = VERSION + "\n" + service + "\n" + t + "\n" + (nowEpochSeconds + LIFETIME_SECONDS);
        byte[] p = payload.getBytes(StandardCharsets.UTF_8);
        String token = B64.encodeToString(p) + "." + B64.encodeToString(macs.get().doFinal(p));
        minted[slot] = new Minted(t, nowEpochSeconds, token);
        return token;
    }

    /** The caller a token names, or null when it is malformed, not signed with this secret or expired. */
    public Caller verify(String token, long nowEpochSeconds) {
        if (token == null || token.length() > 512) {
            return null;
        }
        int slot = token.hashCode() & (RECENT - 1);
        Verified seen = verified[slot];
        if (seen != null && sameToken(seen.token, token)) {
            return fresh(seen.expires, nowEpochSeconds) ? seen.caller : null;
        }
        Verified checked = check(token, nowEpochSeconds);
        if (checked == null) {
            return null;
        }
        verified[slot] = checked;
        return checked.caller;
    }

    /** Expired, or valid for longer than a minted token ever is? */
    private static boolean fresh(long expires, long nowEpochSeconds) {
        return nowEpochSeconds <= expires + SKEW_SECONDS && expires <= nowEpochSeconds + LIFETIME_SECONDS + SKEW_SECONDS;
    }

    /** Equal strings, in a time that does not depend on where they differ (a token's signature is a secret). */
    private static boolean sameToken(String a, String b) {
        if (a.length() != b.length()) {
            return false;
        }
        int d = 0;
        for (int i = 0; i < a.length(); i++) {
            d |= a.charAt(i) ^ b.charAt(i);
        }
        return d == 0;
    }

    /** The full check: format, signature, expiry. */
    private Verified check(String token, long nowEpochSeconds) {
        int dot = token.indexOf('.');
        if (dot < 0) {
            return null;
        }
        byte[] payload;
        byte[] signature;
        try {
            payload = B64D.decode(token.substring(0, dot));
            signature = B64D.decode(token.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!MessageDigest.isEqual(macs.get().doFinal(payload), signature)) {
            return null;
        }
        String[] parts = new String(payload, StandardCharsets.UTF_8).split("\n", -1);
        if (parts.length != 4 || !VERSION.equals(parts[0]) || !SERVICE_NAME.matcher(parts[1]).matches()) {
            return null;
        }
        long expires;
        try {
            expires = Long.parseLong(parts[3]);
        } catch (NumberFormatException e) {
            return null;
        }
        if (!fresh(expires, nowEpochSeconds)) {
            return null;
        }
        return new Verified(token, new Caller(parts[1], parts[2]), expires);
    }

    /**
     * Signs every call of a channel: the tenant is the call's {@code x-linkbase-tenant} header
     * (set by the stub), a token is minted per call (the same one within a second, see mint). Put it on the channel (not a stub), so
     * it runs after the stub's own interceptors have set the tenant.
     */
    public ClientInterceptor clientInterceptor() {
        return new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        headers.discardAll(METADATA_KEY);
                        headers.put(METADATA_KEY, mint(headers.get(Tenants.METADATA_KEY), System.currentTimeMillis() / 1000));
                        super.start(listener, headers);
                    }
                };
            }
        };
    }

    /** A plaintext channel to another Linkbase service whose calls carry these credentials. */
    public ManagedChannelBuilder<?> channel(String target) {
        return ManagedChannelBuilder.forTarget(target).usePlaintext().intercept(clientInterceptor());
    }

    /** The same, for code outside dependency injection (tests, tools) that knows the secret. */
    public static ManagedChannelBuilder<?> channel(String target, String secret, String caller) {
        return new ServiceCredentials(secret, caller).channel(target);
    }

    /**
     * {@code bin/linkbase service-token [--tenant T]}: a token for an operator's own call to a
     * service (grpcurl, docs/operations.md), signed with {@code LINKBASE_SERVICE_SECRET}, good for
     * {@link #LIFETIME_SECONDS} seconds.
     */
    public static void main(String[] args) {
        String tenant = null;
        if (args.length == 2 && args[0].equals("--tenant") && Tenants.isValid(args[1])) {
            tenant = args[1];
        } else if (args.length != 0) {
            System.err.println("usage: bin/linkbase service-token [--tenant <tenant>]");
            System.exit(2);
        }
        try {
            ServiceCredentials c = new ServiceCredentials(System.getenv("LINKBASE_SERVICE_SECRET"), "operator");
            System.out.println(c.mint(tenant, System.currentTimeMillis() / 1000));
        } catch (RuntimeException e) {
            System.err.println("linkbase service-token: " + e.getMessage());
            System.exit(2);
        }
    }
}
