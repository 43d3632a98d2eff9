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
public final class JwtVerifier implements TokenVerifier {
    static final int KEPT_TOKENS = 10_000;
    static final Duration RECHECK = Duration.ofSeconds(60);

    private final MACVerifier hs256;
    private final DefaultJWTProcessor<SecurityContext> jwks;
    private final Cache<String, Verified> verified;

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

    private JwtVerifier(MACVerifier hs256, DefaultJWTProcessor<SecurityContext> jwks, int keptTokens) {
        this.hs256 = hs256;
        this.jwks = jwks;
        this.verified = Caffeine.newBuilder().maximumSize(keptTokens).expireAfter(new UntilRecheckOrExp()).build();
    }

    private JwtVerifier(MACVerifier hs256, DefaultJWTProcessor<SecurityContext> jwks) {
        this(hs256, jwks, KEPT_TOKENS);
    }

    public static JwtVerifier hs256(String secret) {
        if (secret == null || secret.getBytes(StandardCharsets.UTF_8).length < 32) {
            throw new IllegalStateException("LINKBASE_JWT_SECRET must be at least 32 bytes");
        }
        try {
            return new JwtVerifier(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)), null);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    public static JwtVerifier jwks(String url) {
        try {
            JWKSource<SecurityContext> source = JWKSourceBuilder.create(URI.create(url).toURL()).build();
            DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
            processor.setJWSKeySelector(new JWSVerificationKeySelector<>(
                Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), source));
            return new JwtVerifier(null, processor);
        } catch (MalformedURLException e) {
            throw new IllegalStateException("bad linkbase.auth.jwks-url: " + url, e);
        }
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
        Date exp = claims.getExpirationTime();
        if (exp == null || exp.getTime() <= System.currentTimeMillis()) {
            throw unauthorized("token expired or without exp");
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
