package io.linkbase.devstack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * HS256 tokens signed with {@code LINKBASE_JWT_SECRET}, with the claims API.md names (sub, tenant,
 * roles, iat, exp): what {@code bin/linkbase token} prints, the demo's tokens and the tests'.
 *
 * <pre>bin/linkbase token --tenant acme --role owner [--role …] [--sub ada] [--expires 24h]</pre>
 */
public final class Tokens {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern TENANT = Pattern.compile("[a-z0-9_-]{1,40}");
    private static final List<String> ROLES = List.of("viewer", "editor", "owner", "platform-admin");
    /** The gateway's limit for HS256 tokens (its LINKBASE_AUTH_MAX_TOKEN_LIFETIME default). */
    public static final Duration MAX_LIFETIME = Duration.ofDays(31);

    private Tokens() {
    }

    public static String hs256(String secret, String subject, String tenant, List<String> roles, Duration lifetime) {
        long now = System.currentTimeMillis() / 1000;
        ObjectNode claims = JSON.createObjectNode();
        claims.put("sub", subject);
        claims.put("tenant", tenant);
        claims.putArray("roles").addAll(roles.stream().map(JSON.getNodeFactory()::textNode).toList());
        claims.put("iat", now);
        claims.put("exp", now + lifetime.toSeconds());
        String content = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64(claims.toString());
        return content + "." + sign(content, secret);
    }

    /** The HMAC-SHA256 signature of {@code content}, base64url without padding (a JWT's third part). */
    public static String sign(String content, String secret) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(content.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String b64(String s) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code 90s}, {@code 30m}, {@code 24h}, {@code 7d}. */
    static Duration duration(String text) {
        long n = Long.parseLong(text.substring(0, text.length() - 1));
        return switch (text.charAt(text.length() - 1)) {
            case 's' -> Duration.ofSeconds(n);
            case 'm' -> Duration.ofMinutes(n);
            case 'h' -> Duration.ofHours(n);
            case 'd' -> Duration.ofDays(n);
            default -> throw new IllegalArgumentException("not a duration: " + text);
        };
    }

    /** {@code bin/linkbase token}: prints one token on stdout; exits 2 on bad arguments. */
    public static void main(String[] args) {
        String tenant = null;
        String subject = "admin";
        Duration lifetime = Duration.ofHours(24);
        List<String> roles = new ArrayList<>();
        try {
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--tenant" -> tenant = value;
                    case "--role" -> roles.add(value);
                    case "--sub" -> subject = value;
                    case "--expires" -> lifetime = duration(value);
                    default -> throw new IllegalArgumentException("unknown argument: " + args[i]);
                }
                i++;
            }
            if (tenant == null || !TENANT.matcher(tenant).matches()) {
                throw new IllegalArgumentException("--tenant must match [a-z0-9_-]{1,40} (use --tenant platform --role platform-admin to provision tenants)");
            }
            if (roles.isEmpty() || !ROLES.containsAll(roles)) {
                throw new IllegalArgumentException("--role must be one of " + ROLES + " (repeat it for several)");
            }
            if (subject == null || subject.isBlank()) {
                throw new IllegalArgumentException("--sub must not be empty");
            }
            if (lifetime.isNegative() || lifetime.isZero() || lifetime.compareTo(MAX_LIFETIME) > 0) {
                throw new IllegalArgumentException("--expires must be positive and at most 31d (the gateway refuses longer tokens)");
            }
            String secret = System.getenv("LINKBASE_JWT_SECRET");
            if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
                throw new IllegalArgumentException("set LINKBASE_JWT_SECRET (at least 32 bytes) to the gateway's secret");
            }
            System.out.println(hs256(secret, subject, tenant, roles, lifetime));
        } catch (RuntimeException e) {
            System.err.println("linkbase token: " + e.getMessage());
            System.err.println("usage: bin/linkbase token --tenant <tenant> --role <viewer|editor|owner|platform-admin> [--role …] [--sub <user>] [--expires 24h]");
            System.exit(2);
        }
    }
}
