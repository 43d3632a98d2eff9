package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Tenant ids (API.md: [a-z0-9_-]{1,40}) and how a call's tenant reaches a service. */
class TenantsTest {
    @Test
    void validTenantsAreLowercaseLettersDigitsUnderscoreAndDashUpTo40() {
        assertThat(Tenants.isValid("a")).isTrue();
        assertThat(Tenants.isValid("acme_2-eu")).isTrue();
        assertThat(Tenants.isValid("x".repeat(40))).isTrue();

        assertThat(Tenants.isValid("x".repeat(41))).isFalse();
        assertThat(Tenants.isValid("")).isFalse();
        assertThat(Tenants.isValid(null)).isFalse();
        assertThat(Tenants.isValid("Acme")).isFalse();
        assertThat(Tenants.isValid("a b")).isFalse();
        assertThat(Tenants.isValid("a/b")).isFalse();   // would cut a Kafka key tenant/aggregate
        assertThat(Tenants.isValid("a.b")).isFalse();
        assertThat(Tenants.isValid("café")).isFalse();
        assertThat(Tenants.isValid("acme\n")).isFalse();
    }

    @Test
    void outsideACallWithATenantThereIsNone() {
        assertThatThrownBy(Tenants::current).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo("unauthorized");
            assertThat(e.status().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        });
    }

    static final String SECRET = "tenants-test-secret-0123456789abcdef";
    static final ServiceCredentials GATEWAY = new ServiceCredentials(SECRET, "gateway");
    static final TenantInterceptor INTERCEPTOR = new TenantInterceptor(new ServiceCredentials(SECRET, "record-service"));

    @Test
    void theInterceptorPutsTheSignedTenantInTheCallsContext() {
        AtomicBoolean started = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>();
        AtomicReference<String> caller = new AtomicReference<>();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        INTERCEPTOR.interceptCall(call, signed(GATEWAY, "acme", "acme"),
            FakeServerCall.handler(started, () -> {
                seen.set(Tenants.current());
                caller.set(TenantInterceptor.CALLER_KEY.get());
            }));
        assertThat(started).isTrue();
        assertThat(seen.get()).isEqualTo("acme");
        assertThat(caller.get()).isEqualTo("gateway");
        assertThat(call.closedWith).isNull();
        assertThat(Tenants.CONTEXT_KEY.get(Context.current())).isNull(); // only inside the call
    }

    @Test
    void aCallWithoutServiceCredentialsIsRefusedWhateverTenantItNames() {
        assertRefused(tenant("acme"));
        assertRefused(new Metadata());
    }

    @Test
    void aForgedTenantHeaderBesideAValidTokenIsRefused() {
        // a token minted for "acme" cannot be replayed for "victim"
        assertRefused(signed(GATEWAY, "acme", "victim"));
    }

    @Test
    void aTokenSignedWithAnotherSecretTamperedOrExpiredIsRefused() {
        ServiceCredentials stranger = new ServiceCredentials("another-secret-0123456789abcdefghij", "gateway");
        assertRefused(signed(stranger, "acme", "acme"));

        String token = GATEWAY.mint("acme", now());
        String forged = new ServiceCredentials(SECRET, "gateway").mint("victim", now()).split("\\.")[0]
            + "." + token.split("\\.")[1];
        Metadata md = tenant("victim");
        md.put(ServiceCredentials.METADATA_KEY, forged);
        assertRefused(md);

        Metadata expired = tenant("acme");
        expired.put(ServiceCredentials.METADATA_KEY, GATEWAY.mint("acme", now() - ServiceCredentials.LIFETIME_SECONDS
            - ServiceCredentials.SKEW_SECONDS - 5));
        assertRefused(expired);

        Metadata tooLong = tenant("acme");
        tooLong.put(ServiceCredentials.METADATA_KEY, GATEWAY.mint("acme", now() + 3600));
        assertRefused(tooLong);

        Metadata garbage = tenant("acme");
        garbage.put(ServiceCredentials.METADATA_KEY, "not-a-token");
        assertRefused(garbage);
    }

    @Test
    void aTokenVerifiedOnceIsRefusedAgainOnceExpiredAndATamperedCopyNeverPasses() {
        ServiceCredentials service = new ServiceCredentials(SECRET, "search-service");
        long now = now();
        String token = GATEWAY.mint("acme", now);
        assertThat(GATEWAY.mint("acme", now)).isEqualTo(token); // the same within a second
        assertThat(GATEWAY.mint("acme", now + 1)).isNotEqualTo(token);
        assertThat(GATEWAY.mint("other", now)).isNotEqualTo(token);
        assertThat(service.verify(token, now)).isEqualTo(new ServiceCredentials.Caller("gateway", "acme"));
        assertThat(service.verify(token, now + 1)).isEqualTo(new ServiceCredentials.Caller("gateway", "acme"));
        // the repeat comes from what the service remembers, and is still checked for expiry
        assertThat(service.verify(token, now + ServiceCredentials.LIFETIME_SECONDS + ServiceCredentials.SKEW_SECONDS + 1))
            .isNull();
        int k = token.length() - 5; // inside the signature (its last character carries padding bits)
        String tampered = token.substring(0, k) + (token.charAt(k) == 'A' ? 'B' : 'A') + token.substring(k + 1);
        assertThat(service.verify(tampered, now)).isNull();
        assertThat(service.verify(token, now)).isNotNull();
    }

    @Test
    void aSignedCallWithoutTenantGoesOnWithoutOne() {
        AtomicBoolean started = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>("unset");
        Metadata md = new Metadata();
        md.put(ServiceCredentials.METADATA_KEY, GATEWAY.mint(null, now()));
        INTERCEPTOR.interceptCall(new FakeServerCall<String, String>(), md,
            FakeServerCall.handler(started, () -> seen.set(Tenants.CONTEXT_KEY.get())));
        assertThat(started).isTrue();
        assertThat(seen.get()).isNull();
    }

    @Test
    void aMalformedTenantNeverReachesTheService() {
        AtomicBoolean started = new AtomicBoolean();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        INTERCEPTOR.interceptCall(call, signed(GATEWAY, "../other", "../other"), FakeServerCall.handler(started, () -> { }));
        assertThat(started).isFalse();
        assertThat(call.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getCode()).isEqualTo("validation_failed");
        assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getErrors(0).getField()).isEqualTo("tenant");
    }

    @Test
    void theHealthServiceNeedsNoCredentials() {
        AtomicBoolean started = new AtomicBoolean();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        call.fullMethodName = "grpc.health.v1.Health/Check";
        INTERCEPTOR.interceptCall(call, new Metadata(), FakeServerCall.handler(started, () -> { }));
        assertThat(started).isTrue();
    }

    @Test
    void aServiceRefusesToStartWithoutAStrongEnoughSecret() {
        assertThatThrownBy(() -> new ServiceCredentials("", "gateway")).hasMessageContaining("LINKBASE_SERVICE_SECRET");
        assertThatThrownBy(() -> new ServiceCredentials("short", "gateway")).hasMessageContaining("at least 32 bytes");
    }

    private static void assertRefused(Metadata headers) {
        AtomicBoolean started = new AtomicBoolean();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        INTERCEPTOR.interceptCall(call, headers, FakeServerCall.handler(started, () -> { }));
        assertThat(started).as("the service never ran").isFalse();
        assertThat(call.closedWith.getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getCode()).isEqualTo("unauthorized");
    }

    private static Metadata signed(ServiceCredentials by, String signedTenant, String headerTenant) {
        Metadata md = tenant(headerTenant);
        md.put(ServiceCredentials.METADATA_KEY, by.mint(signedTenant, now()));
        return md;
    }

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    private static Metadata tenant(String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return md;
    }
}
