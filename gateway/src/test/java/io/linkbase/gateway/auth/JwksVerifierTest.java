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
        TokenVerifier verifier = JwtVerifier.jwks("http://127.0.0.1:" + provider.getAddress().getPort() + "/jwks.json");
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

    private static String sign(RSAKey with) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(with.getKeyID()).build(),
            new JWTClaimsSet.Builder().subject("ada").claim("tenant", "acme").claim("roles", List.of("owner"))
                .expirationTime(new Date(System.currentTimeMillis() + 60_000)).build());
        jwt.sign(new RSASSASigner(with));
        return jwt.serialize();
    }
}
