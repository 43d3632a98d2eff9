package io.linkbase.search;

import io.micronaut.runtime.Micronaut;

/** search-service: OpenSearch indexes of the tables that are link targets, and autocomplete. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        Micronaut.run(Application.class, args);
    }
}
