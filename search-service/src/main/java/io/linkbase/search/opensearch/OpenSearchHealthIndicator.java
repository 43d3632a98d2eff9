package io.linkbase.search.opensearch;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import jakarta.inject.Singleton;
import org.opensearch.client.opensearch.OpenSearchClient;

import java.util.Map;

/** search-service is up only when its OpenSearch cluster answers and is not red. */
@Singleton
class OpenSearchHealthIndicator extends AbstractHealthIndicator<Map<String, String>> {
    private final OpenSearchClient client;

    public OpenSearchHealthIndicator(OpenSearchClient client) {
        this.client = client;
    }

    @Override
    protected Map<String, String> getHealthInformation() {
        try {
            var health = client.cluster().health();
            String status = health.status().jsonValue();
            healthStatus = "red".equals(status) ? HealthStatus.DOWN : HealthStatus.UP;
            return Map.of("cluster", health.clusterName(), "status", status);
        } catch (Exception e) {
            throw new IllegalStateException("OpenSearch does not answer: " + e.getMessage(), e);
        }
    }

    @Override
    protected String getName() {
        return "opensearch";
    }
}
