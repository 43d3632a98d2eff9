package io.linkbase.schema;

import io.micronaut.runtime.Micronaut;

/** schema-service: the event-sourced tables, columns and links of every tenant. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        // No banner: every line a service logs is a log event (JSON on Kubernetes).
        Micronaut.build(args).mainClass(Application.class).banner(false).start();
    }
}
