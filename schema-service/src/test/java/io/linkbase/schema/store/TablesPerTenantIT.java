package io.linkbase.schema.store;

import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.proto.v1.Table;
import io.linkbase.schema.table.TableCommand;
import io.linkbase.schema.table.TableRefusal;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Tables per tenant on real PostgreSQL, with the limit configured down to 3 so a test reaches
 * it: the fourth create is refused with 409 limit_exceeded and appends nothing; deleting a table
 * frees its slot; concurrent creates never take more slots than there are.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TablesPerTenantIT implements TestPropertyProvider {
    private static final int LIMIT = 3;
    private static final TableCommand.IdSource IDS = () -> UUID.randomUUID().toString();

    @Inject
    TableStore store;

    @Override
    public Map<String, String> getProperties() {
        Map<String, String> p = new HashMap<>(ServiceWiring.service()
            .database(TestServers.postgres(), "schema_limits_it")
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .properties());
        p.put("linkbase.limits.tables-per-tenant", Integer.toString(LIMIT));
        return p;
    }

    @Test
    void theTableAfterTheLimitIsRefusedAndChangesNothingUntilOneIsDeleted() {
        String tenant = provisioned("limit-seq");
        List<Table> tables = new ArrayList<>();
        for (int i = 0; i < LIMIT; i++) {
            tables.add(create(tenant, "T" + i));
        }
        String refusedId = UUID.randomUUID().toString();
        assertThatThrownBy(() -> store.execute(tenant, refusedId, null,
            new TableCommand.CreateTable(refusedId, "One too many", List.of(), IDS), "test"))
            .isInstanceOfSatisfying(TableRefusal.class, e -> {
                assertThat(e.code()).isEqualTo("limit_exceeded");
                assertThat(e.kind()).isEqualTo(TableRefusal.Kind.LIMIT_EXCEEDED);
                assertThat(e.field()).isEqualTo("tables");
                assertThat(e.getMessage()).contains("at most " + LIMIT + " tables", "has " + LIMIT);
            });
        assertThat(store.history(tenant, refusedId)).isEmpty();
        assertThat(store.list(tenant)).hasSize(LIMIT);

        store.execute(tenant, tables.get(0).getId(), null, new TableCommand.DeleteTable(List.of()), "test");
        assertThat(create(tenant, "In the freed slot").getName()).isEqualTo("In the freed slot");
        assertThat(store.list(tenant)).hasSize(LIMIT);
    }

    @Test
    void concurrentCreatesNeverTakeMoreThanTheLimit() throws Exception {
        String tenant = provisioned("limit-race");
        create(tenant, "First");
        int attempts = 8;
        ExecutorService pool = Executors.newFixedThreadPool(attempts);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Boolean>> results = new ArrayList<>();
        try {
            for (int i = 0; i < attempts; i++) {
                String name = "Racer " + i;
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        create(tenant, name);
                        return true;
                    } catch (TableRefusal e) {
                        assertThat(e.code()).isEqualTo("limit_exceeded");
                        return false;
                    }
                }));
            }
            start.countDown();
            int created = 0;
            for (Future<Boolean> f : results) {
                created += f.get() ? 1 : 0;
            }
            assertThat(created).isEqualTo(LIMIT - 1);
        } finally {
            pool.shutdownNow();
        }
        assertThat(store.list(tenant)).hasSize(LIMIT);
    }

    @Test
    void tenantsHaveSlotsOfTheirOwn() {
        String a = provisioned("limit-a");
        String b = provisioned("limit-b");
        for (int i = 0; i < LIMIT; i++) {
            create(a, "A" + i);
        }
        assertThat(create(b, "B0").getName()).isEqualTo("B0");
    }

    private Table create(String tenant, String name) {
        String id = UUID.randomUUID().toString();
        return store.execute(tenant, id, null, new TableCommand.CreateTable(id, name, List.of(), IDS), "test");
    }

    private String provisioned(String prefix) {
        String tenant = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        store.provisionTenant(tenant, "test");
        return tenant;
    }
}
