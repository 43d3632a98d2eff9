package io.linkbase.gateway.config;

import io.micronaut.context.ApplicationContext;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The settings bind from the same keys as before, with the same defaults. */
class GatewaySettingsTest {
    @Test
    void defaultsAndOverridesBindFromTheDocumentedKeys() {
        try (ApplicationContext ctx = ApplicationContext.builder().deduceEnvironment(false).properties(Map.of(
            "linkbase.services.schema", "localhost:1", "linkbase.services.record", "localhost:2",
            "linkbase.services.search", "localhost:3", "linkbase.rate-limit.burst", "7",
            "linkbase.rate-limit.overrides", "acme=1:2", "linkbase.suggest-stream.idle-timeout", "5s",
            "linkbase.auth.max-token-lifetime", "24h", "linkbase.jwt.secret", "s")).build()) {
            ctx.start();
            assertThat(ctx.getBean(GatewaySettings.Services.class))
                .isEqualTo(new GatewaySettings.Services("localhost:1", "localhost:2", "localhost:3", Duration.ofSeconds(30)));
            assertThat(ctx.getBean(GatewaySettings.RateLimit.class))
                .isEqualTo(new GatewaySettings.RateLimit(500, 7, "acme=1:2", 0.5, 1));
            assertThat(ctx.getBean(GatewaySettings.SuggestStream.class))
                .isEqualTo(new GatewaySettings.SuggestStream(8, 64, Duration.ofSeconds(5)));
            assertThat(ctx.getBean(GatewaySettings.BatchBodies.class))
                .isEqualTo(new GatewaySettings.BatchBodies(2, 32L * 1024 * 1024));
            assertThat(ctx.getBean(GatewaySettings.Auth.class).maxTokenLifetime()).isEqualTo("24h");
            assertThat(ctx.getBean(GatewaySettings.Jwt.class).secret()).isEqualTo("s");
        }
    }
}
