package io.linkbase.record;

import io.micronaut.runtime.Micronaut;

/** record-service: every tenant's records, in real PostgreSQL tables, and link reconciliation. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        Micronaut.run(Application.class, args);
    }
}
