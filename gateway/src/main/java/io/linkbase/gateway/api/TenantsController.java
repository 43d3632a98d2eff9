package io.linkbase.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.ops.TenantOps;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Put;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;

/** Tenant provisioning (platform-admin only): idempotent, 201 the first time, 200 after. */
@Controller("/api/v1/tenants")
@ExecuteOn(TaskExecutors.BLOCKING)
class TenantsController {
    private final TenantOps tenants;

    public TenantsController(TenantOps tenants) {
        this.tenants = tenants;
    }

    /** The answer: the tenant, and whether this call created it. */
    @Serdeable
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Provisioned(String tenant, boolean created) {
    }

    @Put("/{tenant}")
    @Op(Operation.PROVISION_TENANT)
    public HttpResponse<Provisioned> provision(@PathVariable String tenant) {
        boolean created = tenants.provision(tenant, "tenant").getCreated();
        return HttpResponse.<Provisioned>status(created ? HttpStatus.CREATED : HttpStatus.OK)
            .contentType(MediaType.APPLICATION_JSON_TYPE).body(new Provisioned(tenant, created));
    }
}
