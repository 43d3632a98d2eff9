package io.linkbase.gateway.auth;

import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;

/** Chooses the token verifier by configuration: JWKS when a URL is set, else HS256. */
@Factory
public class AuthFactory {
    @Singleton
    TokenVerifier tokenVerifier(@Nullable @Value("${linkbase.auth.jwks-url:}") String jwksUrl,
                                @Nullable @Value("${linkbase.jwt.secret:}") String secret) {
        if (jwksUrl != null && !jwksUrl.isBlank()) {
            return JwtVerifier.jwks(jwksUrl);
        }
        return JwtVerifier.hs256(secret);
    }
}
