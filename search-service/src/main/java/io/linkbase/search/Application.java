package io.linkbase.search;

import io.micronaut.runtime.Micronaut;

/** search-service: OpenSearch indexes of the tables that are link targets, and autocomplete. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        // No banner: every line a service logs is a log event (JSON on Kubernetes).
        Micronaut.build(args).mainClass(Application.class).banner(false).start();
    }
}
