package io.linkbase.search.opensearch;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.apache.hc.client5.http.config.TlsConfig;
import org.apache.hc.client5.http.impl.async.HttpAsyncClientBuilder;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.client5.http.ssl.ClientTlsStrategyBuilder;
import org.apache.hc.client5.http.ssl.DefaultHostnameVerifier;
import org.apache.hc.client5.http.ssl.HostnameVerificationPolicy;
import org.apache.hc.core5.http.Header;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.HttpHost;
import org.apache.hc.core5.http.message.BasicHeader;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Transport;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5TransportBuilder;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;

/**
 * The OpenSearch client (micronaut-opensearch is not served at the BOM's version): the URL
 * ({@code https://} for TLS), basic-auth credentials of the security plugin, and the CA
 * certificates (PEM) the node's certificate is checked against when it is not signed by a CA
 * the JVM already trusts (docs/operations.md, "Server credentials"). One transport, opensearch-java's
 * Apache HttpClient 5 one, carries the typed client and the generic client the index's own JSON
 * goes through (docs/decisions.md, "OpenSearch transport").
 */
@Factory
public class OpenSearchFactory {

    /** Public: tests and the benchmark's raw baseline build theirs here, so both sides pay the same per request. */
    @Singleton
    @Bean(preDestroy = "close")
    public ApacheHttpClient5Transport transport(@Value("${linkbase.opensearch.url}") String url,
                                                @Value("${linkbase.opensearch.username:}") String username,
                                                @Value("${linkbase.opensearch.password:}") String password,
                                                @Value("${linkbase.opensearch.ca:}") String caFile) {
        URI uri = URI.create(url);
        SSLContext tls = "https".equals(uri.getScheme()) && !caFile.isBlank() ? trusting(Path.of(caFile)) : null;
        var builder = ApacheHttpClient5TransportBuilder.builder(new HttpHost(uri.getScheme(), uri.getHost(), uri.getPort()))
            .setMapper(new JacksonJsonpMapper())
            .setHttpClientConfigCallback(http -> tuned(http, tls));
        if (!username.isBlank()) {
            // sent with every request (no 401 round trip, no auth cache: see tuned)
            String basic = Base64.getEncoder().encodeToString((username + ":" + password).getBytes(StandardCharsets.UTF_8));
            builder.setDefaultHeaders(new Header[] {new BasicHeader(HttpHeaders.AUTHORIZATION, "Basic " + basic)});
        }
        return builder.build();
    }

/** TLS that trusts exactly the CA certificates in this PEM file. */
    static SSLContext trusting(Path pem) {
        try (InputStream in = Files.newInputStream(pem)) {
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            int i = 0;
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca-" + i++, cert);
            }
            if (i == 0) {
                throw new IllegalStateException("no certificate in " + pem + " (linkbase.opensearch.ca)");
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, tmf.getTrustManagers(), null);
            return ctx;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot read the OpenSearch CA certificates in " + pem, e);
        }
    }

    /**
     * The HTTP client settings for autocomplete traffic. {@code tls}: the CA to trust, null for the
     * JVM's own; host names are checked either way.
     */
    private static HttpAsyncClientBuilder tuned(HttpAsyncClientBuilder http, SSLContext tls) {
        SSLContext context;
        try {
            context = tls != null ? tls : SSLContext.getDefault();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        // the default pool (10 per route) would queue concurrent autocompletes behind each other
        var pool = PoolingAsyncClientConnectionManagerBuilder.create()
            .setMaxConnPerRoute(64).setMaxConnTotal(64)
            // the host name is checked by the client after the handshake too: with the builder's
            // default (JSSE's check alone) a certificate for "localhost" was accepted at 127.0.0.1
            .setTlsStrategy(ClientTlsStrategyBuilder.create().setSslContext(context)
                .setHostVerificationPolicy(HostnameVerificationPolicy.BOTH).setHostnameVerifier(new DefaultHostnameVerifier())
                .build())
            // the TLS handshake gets a budget of its own: left unset, HttpClient 5 counts it into the
            // 1 s connect timeout, which a busy node (or a cold JVM) overruns; the old client gave
            // it the 30 s socket timeout
            .setDefaultTlsConfig(TlsConfig.custom().setHandshakeTimeout(Timeout.ofSeconds(10)).build())
            .build();
        return http.setConnectionManager(pool)
            // no cookies and no auth cache (credentials go in a default header): their request
            // interceptors were a fifth of search-service's CPU per autocomplete (JFR)
            .disableCookieManagement().disableAuthCaching()
            // suggestions are built on these threads (no blocked caller): more than one per core
            .setIOReactorConfig(IOReactorConfig.custom()
                .setIoThreadCount(Math.max(4, 2 * Runtime.getRuntime().availableProcessors())).build());
    }

    @Singleton
    OpenSearchClient openSearchClient(ApacheHttpClient5Transport transport) {
        return new OpenSearchClient(transport);
    }
}
