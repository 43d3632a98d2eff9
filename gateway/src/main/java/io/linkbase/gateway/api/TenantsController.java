package io.linkbase.gateway.api;

import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/** Tenant provisioning (platform-admin only): idempotent, 201 the first time, 200 after. */
@Controller("/api/v1/tenants")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TenantsController {
    private final Access access;
    private final Backends backends;

    public TenantsController(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    @Put("/{tenant}")
    public HttpResponse<String> provision(@PathVariable String tenant, @Nullable @Header("Authorization") String auth) {
        access.platformCall(auth);
        if (!Tenants.isValid(tenant)) {
            throw Problem.invalid("tenant", "must match [a-z0-9_-]{1,40}");
        }
        boolean created = backends.schemaAdmin()
            .provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build()).getCreated();
        access.markProvisioned(tenant);
        return Responses.json(created ? HttpStatus.CREATED : HttpStatus.OK,
            Json.MAPPER.createObjectNode().put("tenant", tenant).put("created", created));
    }
}
