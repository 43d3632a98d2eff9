package io.linkbase.gateway.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.linkbase.gateway.errors.Problem;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class JwtVerifierTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private final JwtVerifier verifier = JwtVerifier.hs256(SECRET);

    @Test
    void aValidTokenYieldsItsSubjectTenantAndRoles() throws Exception {
        Principal p = verifier.verify(token(SECRET, claims().build()));
        assertThat(p.subject()).isEqualTo("ada");
        assertThat(p.tenant()).isEqualTo("acme");
        assertThat(p.roles()).containsExactly(Role.EDITOR);
        assertThat(p.has(Role.VIEWER)).isTrue();
        assertThat(p.has(Role.OWNER)).isFalse();
        assertThat(p.has(Role.PLATFORM_ADMIN)).isFalse();
    }

    @Test
    void expiredForgedOrMalformedTokensAreUnauthorized() throws Exception {
        assertUnauthorized(token(SECRET, claims().expirationTime(new Date(System.currentTimeMillis() - 1000)).build()));
        assertUnauthorized(token("another-secret-another-secret-!!", claims().build()));
        assertUnauthorized("not.a.jwt");
        assertUnauthorized(token(SECRET, claims().claim("tenant", "Not Valid!").build()));
        assertUnauthorized(token(SECRET, claims().claim("roles", "owner").build()));
        assertUnauthorized(token(SECRET, new JWTClaimsSet.Builder().subject("ada").claim("tenant", "acme")
            .claim("roles", List.of("owner")).build()));
    }

    @Test
    void aTokenAlreadyVerifiedIsStillRefusedOnceItExpires() throws Exception {
        String token = token(SECRET, claims().expirationTime(new Date(System.currentTimeMillis() + 1500)).build());
        assertThat(verifier.verify(token).tenant()).isEqualTo("acme");
        assertThat(verifier.verify(token).tenant()).isEqualTo("acme"); // now answered from memory
        Thread.sleep(1600);
        assertUnauthorized(token);
    }

    @Test
    void theVerifiedTokenCacheStaysBoundedWhenFilledBeyondItsSize() throws Exception {
        String hot = token(SECRET, claims().build());
        for (int i = 0; i < JwtVerifier.KEPT_TOKENS + 2_000; i++) {
            verifier.verify(token(SECRET, claims().subject("user-" + i).build()));
            if (i % 100 == 0) {
                verifier.verify(hot);
            }
        }
        assertThat(verifier.keptTokens()).isEqualTo(JwtVerifier.KEPT_TOKENS);
        assertThat(verifier.verify(hot).subject()).isEqualTo("ada");
    }

    @Test
    void onlyTokensThatPassedAreKept() throws Exception {
        for (int i = 0; i < 100; i++) {
            assertUnauthorized(token("another-secret-another-secret-!!", claims().subject("x" + i).build()));
        }
        assertThat(verifier.keptTokens()).isZero();
    }

    @Test
    void aRefusedTokenIsRefusedEveryTime() throws Exception {
        String forged = token("another-secret-another-secret-!!", claims().build());
        assertUnauthorized(forged);
        assertUnauthorized(forged);
    }

    @Test
    void aSecretShorterThan32BytesIsRefused() {
        assertThatThrownBy(() -> JwtVerifier.hs256("short")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void platformAdminsProvisionButDoNotReadTenantData() {
        assertThat(Role.PLATFORM_ADMIN.grants(Role.VIEWER)).isFalse();
        assertThat(Role.OWNER.grants(Role.PLATFORM_ADMIN)).isFalse();
        assertThat(Role.OWNER.grants(Role.EDITOR)).isTrue();
    }

    @Test
    void issuerAudienceAndLifetimeAreCheckedAsConfigured() throws Exception {
        JwtVerifier strict = JwtVerifier.hs256(SECRET,
            new JwtVerifier.TokenPolicy("https://id.example", "linkbase", java.time.Duration.ofHours(1)));
        long now = System.currentTimeMillis();
        JWTClaimsSet.Builder good = claims().issuer("https://id.example").audience(List.of("other", "linkbase"))
            .issueTime(new Date(now)).expirationTime(new Date(now + 3_000_000));
        assertThat(strict.verify(token(SECRET, good.build())).tenant()).isEqualTo("acme");
        assertUnauthorizedBy(strict, token(SECRET, good.issuer("https://evil.example").build()), "issuer");
        good.issuer("https://id.example");
        assertUnauthorizedBy(strict, token(SECRET, good.audience("other").build()), "audience");
        good.audience("linkbase");
        assertUnauthorizedBy(strict, token(SECRET, good.expirationTime(new Date(now + 3_700_000)).build()), "lifetime");
        // without iat, the lifetime counts from nbf, else from now
        assertUnauthorizedBy(strict, token(SECRET, good.issueTime(null).build()), "lifetime");
        assertUnauthorizedBy(strict, token(SECRET, good.issueTime(new Date(now + 600_000))
            .expirationTime(new Date(now + 900_000)).build()), "not valid yet");
    }

    @Test
    void aSelfHostedSecretsTokensMayLiveAMonthNotLonger() throws Exception {
        long now = System.currentTimeMillis();
        assertThat(verifier.verify(token(SECRET, claims().issueTime(new Date(now))
            .expirationTime(new Date(now + java.time.Duration.ofDays(30).toMillis())).build())).tenant()).isEqualTo("acme");
        assertUnauthorizedBy(verifier, token(SECRET, claims().issueTime(new Date(now))
            .expirationTime(new Date(now + java.time.Duration.ofDays(32).toMillis())).build()), "lifetime");
        assertThat(AuthFactory.duration("24h")).isEqualTo(java.time.Duration.ofHours(24));
        assertThat(AuthFactory.duration("PT30M")).isEqualTo(java.time.Duration.ofMinutes(30));
        assertThatThrownBy(() -> AuthFactory.duration("soon")).isInstanceOf(IllegalStateException.class);
    }

    private static void assertUnauthorizedBy(JwtVerifier v, String token, String detail) {
        assertThatThrownBy(() -> v.verify(token)).isInstanceOfSatisfying(Problem.class,
            e -> assertThat(e.code() + " " + e.getMessage()).startsWith("unauthorized").contains(detail));
    }

    private void assertUnauthorized(String token) {
        assertThatThrownBy(() -> verifier.verify(token)).isInstanceOfSatisfying(Problem.class,
            e -> assertThat(e.code()).isEqualTo("unauthorized"));
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().subject("ada").claim("tenant", "acme").claim("roles", List.of("editor", "unknown"))
            .expirationTime(new Date(System.currentTimeMillis() + 60_000));
    }

    static String token(String secret, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader(JWSAlgorithm.HS256), claims);
        jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jwt.serialize();
    }
}
