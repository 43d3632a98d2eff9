package io.linkbase.gateway.api;

import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.ops.TenantOps;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

/** Tenant provisioning (platform-admin only): idempotent, 201 the first time, 200 after. */
@Controller("/api/v1/tenants")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TenantsController {
    private final TenantOps tenants;

    public TenantsController(TenantOps tenants) {
        this.tenants = tenants;
    }

    @Put("/{tenant}")
    @Op(Operation.PROVISION_TENANT)
    public HttpResponse<String> provision(@PathVariable String tenant) {
        boolean created = tenants.provision(tenant, "tenant").getCreated();
        return Responses.json(created ? HttpStatus.CREATED : HttpStatus.OK,
            Json.MAPPER.createObjectNode().put("tenant", tenant).put("created", created));
    }
}
