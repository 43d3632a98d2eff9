package io.linkbase.gateway.auth;

import io.linkbase.gateway.config.GatewaySettings;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

import java.time.Duration;

/** Chooses the token verifier by configuration: JWKS when a URL is set, else HS256; and its policy (iss, aud, lifetime). */
@Factory
class AuthFactory {
    @Singleton
    TokenVerifier tokenVerifier(GatewaySettings.Auth auth, GatewaySettings.Jwt jwt) {
        String jwksUrl = auth.jwksUrl();
        String secret = jwt.secret();
        String issuer = auth.issuer();
        String audience = auth.audience();
        String lifetime = auth.maxTokenLifetime();
        Duration maxLifetime = lifetime == null || lifetime.isBlank() ? null : duration(lifetime.strip());
        if (jwksUrl != null && !jwksUrl.isBlank()) {
            return JwtVerifier.jwks(jwksUrl, new JwtVerifier.TokenPolicy(issuer, audience,
                maxLifetime != null ? maxLifetime : JwtVerifier.TokenPolicy.JWKS_MAX_LIFETIME));
        }
        return JwtVerifier.hs256(secret, new JwtVerifier.TokenPolicy(issuer, audience,
            maxLifetime != null ? maxLifetime : JwtVerifier.TokenPolicy.HS256_MAX_LIFETIME));
    }

    /** {@code 90s}, {@code 30m}, {@code 24h}, {@code 31d} or ISO-8601 ({@code PT24H}). */
    static Duration duration(String text) {
        try {
            if (text.startsWith("P") || text.startsWith("p")) {
                return Duration.parse(text);
            }
            long n = Long.parseLong(text.substring(0, text.length() - 1));
            return switch (text.charAt(text.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                case 'd' -> Duration.ofDays(n);
                default -> throw new IllegalArgumentException("unit");
            };
        } catch (RuntimeException e) {
            throw new IllegalStateException("LINKBASE_AUTH_MAX_TOKEN_LIFETIME: not a duration (e.g. 24h, 31d, PT1H): " + text, e);
        }
    }
}
