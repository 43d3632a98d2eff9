package io.linkbase.gateway.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpServer;
import io.linkbase.gateway.errors.Problem;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Date;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A hosted deployment verifies an identity provider's RS256 tokens from its JWKS URL instead. */
class JwksVerifierTest {
    private HttpServer provider;
    private RSAKey key;

    @BeforeEach
    void startIdentityProvider() throws Exception {
        key = new RSAKeyGenerator(2048).keyID("k1").generate();
        byte[] jwks = new JWKSet(key.toPublicJWK()).toString().getBytes(StandardCharsets.UTF_8);
        provider = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        provider.createContext("/jwks.json", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, jwks.length);
            exchange.getResponseBody().write(jwks);
            exchange.close();
        });
        provider.start();
    }

    @AfterEach
    void stop() {
        provider.stop(0);
    }

    @Test
    void tokensSignedByTheProvidersKeyAreAcceptedAndOthersAreNot() throws Exception {
        TokenVerifier verifier = JwtVerifier.jwks(url(), POLICY);
        Principal p = verifier.verify(sign(key));
        assertThat(p.tenant()).isEqualTo("acme");
        assertThat(p.roles()).containsExactly(Role.OWNER);

        RSAKey stranger = new RSAKeyGenerator(2048).keyID("k1").generate();
        assertThatThrownBy(() -> verifier.verify(sign(stranger))).isInstanceOfSatisfying(Problem.class,
            e -> assertThat(e.code()).isEqualTo("unauthorized"));
        String hs256 = JwtVerifierTest.token("0123456789abcdef0123456789abcdef", new JWTClaimsSet.Builder()
            .subject("x").claim("tenant", "acme").claim("roles", List.of("owner"))
            .expirationTime(new Date(System.currentTimeMillis() + 60_000)).build());
        assertThatThrownBy(() -> verifier.verify(hs256)).isInstanceOf(Problem.class);
    }

    @Test
    void tokensForAnotherIssuerOrAudienceOrTooLongAreRefused() throws Exception {
        TokenVerifier verifier = JwtVerifier.jwks(url(), POLICY);
        long now = System.currentTimeMillis();
        assertRefused(verifier, sign(key, claims().issuer("https://other-idp.example").build()), "issuer");
        assertRefused(verifier, sign(key, claims().audience("another-app").build()), "audience");
        assertRefused(verifier, sign(key, claims().issueTime(new Date(now))
            .expirationTime(new Date(now + java.time.Duration.ofHours(25).toMillis())).build()), "lifetime");
    }

    @Test
    void aJwksUrlMustBeHttpsAndNameIssuerAndAudience() {
        assertThatThrownBy(() -> JwtVerifier.jwks("http://idp.example/jwks.json", POLICY))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("https");
        assertThatThrownBy(() -> JwtVerifier.jwks(url(), new JwtVerifier.TokenPolicy(null, "linkbase", java.time.Duration.ofHours(1))))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("LINKBASE_AUTH_ISSUER");
        assertThatThrownBy(() -> JwtVerifier.jwks(url(), new JwtVerifier.TokenPolicy("https://idp.example", "", java.time.Duration.ofHours(1))))
            .isInstanceOf(IllegalStateException.class).hasMessageContaining("LINKBASE_AUTH_AUDIENCE");
        assertThat(JwtVerifier.jwks("https://idp.example/jwks.json", POLICY)).isNotNull();
    }

    private static final JwtVerifier.TokenPolicy POLICY =
        new JwtVerifier.TokenPolicy("https://idp.example", "linkbase", JwtVerifier.TokenPolicy.JWKS_MAX_LIFETIME);

    private String url() {
        return "http://127.0.0.1:" + provider.getAddress().getPort() + "/jwks.json";
    }

    private static void assertRefused(TokenVerifier v, String token, String detail) {
        assertThatThrownBy(() -> v.verify(token)).isInstanceOfSatisfying(Problem.class,
            e -> assertThat(e.code() + " " + e.getMessage()).startsWith("unauthorized").contains(detail));
    }

    private static JWTClaimsSet.Builder claims() {
        return new JWTClaimsSet.Builder().subject("ada").claim("tenant", "acme").claim("roles", List.of("owner"))
            .issuer("https://idp.example").audience("linkbase")
            .expirationTime(new Date(System.currentTimeMillis() + 60_000));
    }

    private static String sign(RSAKey with) throws Exception {
        return sign(with, claims().build());
    }

    private static String sign(RSAKey with, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(with.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(with));
        return jwt.serialize();
    }
}
