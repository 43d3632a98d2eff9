package io.linkbase.gateway.ops;

import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.ProvisionTenantResponse;
import jakarta.inject.Singleton;

/** Tenant provisioning (platform admins), for both faces of the API. */
@Singleton
public class TenantOps {
    private final Access access;
    private final Backends backends;

    public TenantOps(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    /** Idempotent; {@code field} names the tenant id as the caller's face spells it. */
    public ProvisionTenantResponse provision(String tenant, String field) {
        if (!Tenants.isValid(tenant)) {
            throw Problem.invalid(field, "must match [a-z0-9_-]{1,40}");
        }
        ProvisionTenantResponse response = backends.schemaAdmin()
            .provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build());
        access.markProvisioned(tenant);
        return response;
    }
}
