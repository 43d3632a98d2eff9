package io.linkbase.search.opensearch;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.apache.http.Header;
import org.apache.http.HttpHeaders;
import org.apache.http.HttpHost;
import org.apache.http.impl.nio.client.HttpAsyncClientBuilder;
import org.apache.http.message.BasicHeader;
import org.opensearch.client.RestClient;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.transport.rest_client.RestClientTransport;

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
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Base64;

/**
 * The OpenSearch client (micronaut-opensearch is not served at the BOM's version): the URL
 * ({@code https://} for TLS), basic-auth credentials of the security plugin, and the CA
 * certificates (PEM) the node's certificate is checked against when it is not signed by a CA
 * the JVM already trusts (docs/operations.md, "Server credentials").
 */
@Factory
public class OpenSearchFactory {

    @Singleton
    @Bean(preDestroy = "close")
    RestClient restClient(@Value("${linkbase.opensearch.url}") String url,
                          @Value("${linkbase.opensearch.username:}") String username,
                          @Value("${linkbase.opensearch.password:}") String password,
                          @Value("${linkbase.opensearch.ca:}") String caFile) {
        URI uri = URI.create(url);
        SSLContext tls = "https".equals(uri.getScheme()) && !caFile.isBlank() ? trusting(Path.of(caFile)) : null;
        var builder = RestClient.builder(new HttpHost(uri.getHost(), uri.getPort(), uri.getScheme()))
            .setHttpClientConfigCallback(http -> {
                tuned(http);
                return tls == null ? http : http.setSSLContext(tls);
            });
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
     * The HTTP client settings for autocomplete traffic (public: the benchmark's raw baseline uses
     * the same, so neither side pays more per request).
     */
    public static HttpAsyncClientBuilder tuned(HttpAsyncClientBuilder http) {
        // the default pool (10 per route) would queue concurrent autocompletes behind each other
        return http.setMaxConnPerRoute(64).setMaxConnTotal(64)
            // no cookies and no auth cache (credentials go in a default header): their request
            // interceptors were a fifth of search-service's CPU per autocomplete (JFR)
            .disableCookieManagement().disableAuthCaching()
            // suggestions are built on these threads (no blocked caller): more than one per core
            .setDefaultIOReactorConfig(org.apache.http.impl.nio.reactor.IOReactorConfig.custom()
                .setIoThreadCount(Math.max(4, 2 * Runtime.getRuntime().availableProcessors())).build());
    }

    @Singleton
    OpenSearchClient openSearchClient(RestClient restClient) {
        return new OpenSearchClient(new RestClientTransport(restClient, new JacksonJsonpMapper()));
    }
}
