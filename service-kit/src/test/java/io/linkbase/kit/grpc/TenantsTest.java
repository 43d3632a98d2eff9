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

    @Test
    void theInterceptorPutsAValidTenantInTheCallsContext() {
        AtomicBoolean started = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        new TenantInterceptor().interceptCall(call, tenant("acme"),
            FakeServerCall.handler(started, () -> seen.set(Tenants.current())));
        assertThat(started).isTrue();
        assertThat(seen.get()).isEqualTo("acme");
        assertThat(call.closedWith).isNull();
        assertThat(Tenants.CONTEXT_KEY.get(Context.current())).isNull(); // only inside the call
    }

    @Test
    void aMalformedTenantNeverReachesTheService() {
        AtomicBoolean started = new AtomicBoolean();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        new TenantInterceptor().interceptCall(call, tenant("../other"), FakeServerCall.handler(started, () -> { }));
        assertThat(started).isFalse();
        assertThat(call.closedWith.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getCode()).isEqualTo("validation_failed");
        assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getErrors(0).getField()).isEqualTo("tenant");
    }

    @Test
    void aCallWithoutTenantGoesOnWithoutOne() {
        AtomicBoolean started = new AtomicBoolean();
        AtomicReference<String> seen = new AtomicReference<>("unset");
        new TenantInterceptor().interceptCall(new FakeServerCall<String, String>(), new Metadata(),
            FakeServerCall.handler(started, () -> seen.set(Tenants.CONTEXT_KEY.get())));
        assertThat(started).isTrue();
        assertThat(seen.get()).isNull();
    }

    private static Metadata tenant(String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return md;
    }
}
