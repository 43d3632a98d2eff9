package io.linkbase.gateway.auth;

/**
 * Turns a bearer token into a {@link Principal}, or throws a 401 problem. Pluggable: HS256 with
 * {@code LINKBASE_JWT_SECRET} by default, JWKS (RS256/ES256) from an identity provider when
 * {@code linkbase.auth.jwks-url} is set.
 */
interface TokenVerifier {
    Principal verify(String token);

    /** Whether {@link #verify} may wait on the network (fetching keys), so must not run on an event loop. */
    default boolean mayBlock() {
        return false;
    }
}
