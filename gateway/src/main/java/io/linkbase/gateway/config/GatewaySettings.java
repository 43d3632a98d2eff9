package io.linkbase.gateway.config;

import io.micronaut.context.annotation.ConfigurationProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.bind.annotation.Bindable;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotBlank;
import jakarta.validation.constraints.Positive;

import java.time.Duration;

/**
 * Every setting of the gateway, in one place (application.yml names the environment variable of
 * each and says what it does; docs/operations.md). Bound and checked at startup: a value out of
 * range stops the gateway with the setting's name rather than misbehaving later.
 */
public final class GatewaySettings {
    private GatewaySettings() {
    }

    /** The services the gateway calls, and how long one call may take. */
    @ConfigurationProperties("linkbase.services")
    public record Services(@NotBlank String schema, @NotBlank String record, @NotBlank String search,
                           @Bindable(defaultValue = "30s") Duration deadline) {
    }

    /** Tokens: an identity provider's JWKS when its URL is set, else HS256 with {@code linkbase.jwt.secret}. */
    @ConfigurationProperties("linkbase.auth")
    public record Auth(@Nullable String jwksUrl, @Nullable String issuer, @Nullable String audience,
                       @Nullable String maxTokenLifetime) { // 90s, 30m, 24h, 31d or ISO-8601; blank: the verifier's default
    }

    /** The HS256 secret (when no JWKS URL is set). */
    @ConfigurationProperties("linkbase.jwt")
    public record Jwt(@Nullable String secret) {
    }

    /**
     * Requests per tenant and per user (TenantRateLimiter, which checks the share and the
     * replicas); {@code overrides} is {@code tenant=rate:burst,…}.
     */
    @ConfigurationProperties("linkbase.rate-limit")
    public record RateLimit(@Bindable(defaultValue = "500") @Positive double requestsPerSecond,
                            @Bindable(defaultValue = "1000") @Positive double burst,
                            @Nullable String overrides,
                            @Bindable(defaultValue = "0.5") double userShare,
                            @Bindable(defaultValue = "1") int replicas) {
    }

    /** Open public SuggestStreams per user and per tenant on one replica (at least 1), and their idle timeout (positive). */
    @ConfigurationProperties("linkbase.suggest-stream")
    public record SuggestStream(@Bindable(defaultValue = "8") int perUser,
                                @Bindable(defaultValue = "64") int perTenant,
                                @Bindable(defaultValue = "60s") Duration idleTimeout) {
    }

    /** Batch bodies in flight (json/BatchBodies): per tenant, and in bytes for all tenants together. */
    @ConfigurationProperties("linkbase.limits.batch-bodies")
    public record BatchBodies(@Bindable(defaultValue = "2") @Min(1) int perTenant,
                              @Bindable(defaultValue = "33554432") @Positive long totalBytes) {
    }
}
