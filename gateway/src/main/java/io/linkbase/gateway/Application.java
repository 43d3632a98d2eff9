package io.linkbase.gateway;

import io.micronaut.runtime.Micronaut;

/** gateway: the public HTTP and gRPC API of Linkbase. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        // No banner: every line a service logs is a log event (JSON on Kubernetes).
        Micronaut.build(args).mainClass(Application.class).banner(false).start();
    }
}
