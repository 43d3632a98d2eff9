package io.linkbase.record;

import io.micronaut.runtime.Micronaut;

/** record-service: every tenant's records, in real PostgreSQL tables, and link reconciliation. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        // No banner: every line a service logs is a log event (JSON on Kubernetes).
        Micronaut.build(args).mainClass(Application.class).banner(false).start();
    }
}
