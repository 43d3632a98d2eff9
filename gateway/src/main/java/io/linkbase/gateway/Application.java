package io.linkbase.gateway;

import io.micronaut.runtime.Micronaut;

/** gateway: the public HTTP and gRPC API of Linkbase. */
public final class Application {
    private Application() {
    }

    public static void main(String[] args) {
        Micronaut.run(Application.class, args);
    }
}
