package io.linkbase.search.opensearch;

import io.micronaut.context.annotation.Bean;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.apache.http.HttpHost;
import org.apache.http.impl.nio.client.HttpAsyncClientBuilder;
import org.opensearch.client.RestClient;
import org.opensearch.client.json.jackson.JacksonJsonpMapper;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.transport.rest_client.RestClientTransport;

import java.net.URI;

/** The OpenSearch client (micronaut-opensearch is not served at the BOM's version). */
@Factory
public class OpenSearchFactory {

    @Singleton
    @Bean(preDestroy = "close")
    RestClient restClient(@Value("${linkbase.opensearch.url}") String url) {
        URI uri = URI.create(url);
        return RestClient.builder(new HttpHost(uri.getHost(), uri.getPort(), uri.getScheme()))
            .setHttpClientConfigCallback(OpenSearchFactory::tuned)
            .build();
    }

    /**
     * The HTTP client settings for autocomplete traffic (public: the benchmark's raw baseline uses
     * the same, so neither side pays more per request).
     */
    public static HttpAsyncClientBuilder tuned(HttpAsyncClientBuilder http) {
        // the default pool (10 per route) would queue concurrent autocompletes behind each other
        return http.setMaxConnPerRoute(64).setMaxConnTotal(64)
            // no cookies and no auth cache (no credentials are configured): their request
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
