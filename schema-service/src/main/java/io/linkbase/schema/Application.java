package io.linkbase.schema;

import io.micronaut.runtime.Micronaut;

/** schema-service: the event-sourced tables, columns and links of every tenant. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        Micronaut.run(Application.class, args);
    }
}
