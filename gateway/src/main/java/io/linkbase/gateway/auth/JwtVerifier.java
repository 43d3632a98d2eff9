package io.linkbase.gateway.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.kit.grpc.Tenants;
import io.micronaut.http.HttpStatus;

import java.net.MalformedURLException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Duration;
import java.util.Date;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * JWT verification with the claim shapes of API.md: sub, exp, tenant, roles.
 *
 * <p>A client sends the same token with every request (every autocomplete keystroke), and parsing
 * and checking it was an eighth of the gateway's CPU on that path, so a verified token is kept
 * for up to {@link #RECHECK} (or until its {@code exp}, if sooner) in a Caffeine cache of at most
 * {@link #KEPT_TOKENS}, the least used forgotten first: a kept token is still refused once its
 * {@code exp} passes, and a JWKS key an identity provider withdraws stops being honoured within
 * that minute. Only tokens that passed are kept.
 */
final class JwtVerifier implements TokenVerifier {
    static final int KEPT_TOKENS = 10_000;
    static final Duration RECHECK = Duration.ofSeconds(60);

    /** Clock difference tolerated between the token's issuer and this gateway. */
    static final Duration SKEW = Duration.ofSeconds(60);

    private final MACVerifier hs256;
    private final DefaultJWTProcessor<SecurityContext> jwks;
    private final Cache<String, Verified> verified;
    private final TokenPolicy policy;

    /**
     * What a token must carry beyond a good signature: the issuer ({@code iss}) and an audience
     * ({@code aud}) when set, and a lifetime ({@code exp} minus {@code iat}, else {@code nbf},
     * else now) of at most {@code maxLifetime}.
     */
    public record TokenPolicy(String issuer, String audience, Duration maxLifetime) {
        /** HS256 (a self-hosted secret): iss/aud checked only when configured; tokens up to 31 days. */
        public static final Duration HS256_MAX_LIFETIME = Duration.ofDays(31);
        /** JWKS (an identity provider's access tokens): up to a day unless configured. */
        public static final Duration JWKS_MAX_LIFETIME = Duration.ofHours(24);

        public TokenPolicy {
            issuer = issuer == null || issuer.isBlank() ? null : issuer;
            audience = audience == null || audience.isBlank() ? null : audience;
            if (maxLifetime == null || maxLifetime.isNegative() || maxLifetime.isZero()) {
                throw new IllegalStateException("the maximum token lifetime must be positive");
            }
        }

        public static TokenPolicy hs256Default() {
            return new TokenPolicy(null, null, HS256_MAX_LIFETIME);
        }
    }

    private record Verified(Principal principal, long expiresAtMillis) {
        boolean stillGood() {
            return expiresAtMillis > System.currentTimeMillis();
        }
    }

    /** Kept for {@link #RECHECK}, or until the token's exp if that comes first; never longer on a read. */
    private static final class UntilRecheckOrExp implements Expiry<String, Verified> {
        @Override
        public long expireAfterCreate(String token, Verified v, long currentTime) {
            long untilExp = TimeUnit.MILLISECONDS.toNanos(Math.max(0, v.expiresAtMillis() - System.currentTimeMillis()));
            return Math.min(RECHECK.toNanos(), untilExp);
        }

        @Override
        public long expireAfterUpdate(String token, Verified v, long currentTime, long currentDuration) {
            return expireAfterCreate(token, v, currentTime);
        }

        @Override
        public long expireAfterRead(String token, Verified v, long currentTime, long currentDuration) {
            return currentDuration;
        }
    }

    private JwtVerifier(MACVerifier hs256, DefaultJWTProcessor<SecurityContext> jwks, TokenPolicy policy, int keptTokens) {
        this.hs256 = hs256;
        this.jwks = jwks;
        this.policy = policy;
        this.verified = Caffeine.newBuilder().maximumSize(keptTokens).expireAfter(new UntilRecheckOrExp()).build();
    }

    private JwtVerifier(MACVerifier hs256, DefaultJWTProcessor<SecurityContext> jwks, TokenPolicy policy) {
        this(hs256, jwks, policy, KEPT_TOKENS);
    }

    public static JwtVerifier hs256(String secret) {
        return hs256(secret, TokenPolicy.hs256Default());
    }

    public static JwtVerifier hs256(String secret, TokenPolicy policy) {
        if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
            throw new IllegalStateException("LINKBASE_JWT_SECRET must be at least 32 bytes");
        }
        try {
            return new JwtVerifier(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)), null, policy);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An identity provider's tokens, verified with the keys at its JWKS URL. The URL must be
     * https (plain http only to a loopback address, which never leaves the machine: a sidecar or a
     * test), and the policy must name the issuer and the audience: a key set signs tokens for
     * many applications, and without both checks a token the provider issued to another one would
     * be accepted here.
     */
    public static JwtVerifier jwks(String url, TokenPolicy policy) {
        URI uri = URI.create(url);
        if (!"https".equalsIgnoreCase(uri.getScheme()) && !("http".equalsIgnoreCase(uri.getScheme()) && loopback(uri.getHost()))) {
            throw new IllegalStateException("LINKBASE_JWKS_URL must be https (http only to a loopback address): " + url);
        }
        if (policy.issuer() == null || policy.audience() == null) {
            throw new IllegalStateException("with LINKBASE_JWKS_URL, set LINKBASE_AUTH_ISSUER and LINKBASE_AUTH_AUDIENCE too");
        }
        try {
            JWKSource<SecurityContext> source = JWKSourceBuilder.create(uri.toURL()).build();
            DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
            processor.setJWSKeySelector(new JWSVerificationKeySelector<>(
                Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), source));
            return new JwtVerifier(null, processor, policy);
        } catch (MalformedURLException | IllegalArgumentException e) {
            throw new IllegalStateException("bad linkbase.auth.jwks-url: " + url, e);
        }
    }

    private static boolean loopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        return h.equals("localhost") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1") || h.startsWith("127.");
    }

    @Override
    public boolean mayBlock() {
        return jwks != null;
    }

    @Override
    public Principal verify(String token) {
        Verified known = verified.getIfPresent(token);
        if (known != null) {
            if (known.stillGood()) {
                return known.principal();
            }
            verified.asMap().remove(token, known);
        }
        Verified fresh = check(token);
        verified.put(token, fresh);
        return fresh.principal();
    }

    /** Tokens kept now, after pending evictions (tests). */
    long keptTokens() {
        verified.cleanUp();
        return verified.estimatedSize();
    }

    private Verified check(String token) {
        JWTClaimsSet claims;
        try {
            if (hs256 != null) {
                SignedJWT jwt = SignedJWT.parse(token);
                if (!JWSAlgorithm.HS256.equals(jwt.getHeader().getAlgorithm()) || !jwt.verify(hs256)) {
                    throw unauthorized("bad signature");
                }
                claims = jwt.getJWTClaimsSet();
            } else {
                claims = jwks.process(token, null);
            }
        } catch (ParseException | JOSEException e) {
            throw unauthorized("malformed token");
        } catch (com.nimbusds.jose.proc.BadJOSEException e) {
            throw unauthorized("token rejected: " + e.getMessage());
        }
        long now = System.currentTimeMillis();
        Date exp = claims.getExpirationTime();
        if (exp == null || exp.getTime() <= now) {
            throw unauthorized("token expired or without exp");
        }
        if (policy.issuer() != null && !policy.issuer().equals(claims.getIssuer())) {
            throw unauthorized("token issuer (iss) is not " + policy.issuer());
        }
        if (policy.audience() != null && (claims.getAudience() == null || !claims.getAudience().contains(policy.audience()))) {
            throw unauthorized("token audience (aud) does not include " + policy.audience());
        }
        Date iat = claims.getIssueTime();
        Date nbf = claims.getNotBeforeTime();
        if (iat != null && iat.getTime() > now + SKEW.toMillis() || nbf != null && nbf.getTime() > now + SKEW.toMillis()) {
            throw unauthorized("token not valid yet (iat or nbf in the future)");
        }
        long from = iat != null ? iat.getTime() : nbf != null ? nbf.getTime() : now;
        if (exp.getTime() - from > policy.maxLifetime().toMillis()) {
            throw unauthorized("token lifetime exceeds " + policy.maxLifetime().toHours() + " h (exp minus iat)");
        }
        String sub = stringClaim(claims, "sub");
        String tenant = stringClaim(claims, "tenant");
        if (sub == null || tenant == null || !Tenants.isValid(tenant)) {
            throw unauthorized("token needs sub and a tenant matching [a-z0-9_-]{1,40}");
        }
        Object rolesClaim = claims.getClaim("roles");
        if (!(rolesClaim instanceof List<?> list)) {
            throw unauthorized("token needs a roles array");
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (Object r : list) {
            if (r instanceof String s) {
                Role.fromClaim(s).ifPresent(roles::add);
            }
        }
        return new Verified(new Principal(sub, tenant, roles), exp.getTime());
    }

    private static String stringClaim(JWTClaimsSet claims, String name) {
        Object v = claims.getClaim(name);
        return v instanceof String s && !s.isEmpty() ? s : null;
    }

    private static Problem unauthorized(String detail) {
        return new Problem(HttpStatus.UNAUTHORIZED, "unauthorized", detail);
    }
}
