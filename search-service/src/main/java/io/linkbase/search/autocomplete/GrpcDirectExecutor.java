package io.linkbase.search.autocomplete;

import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.grpc.server.GrpcServerConfiguration;
import jakarta.inject.Singleton;

/**
 * Runs gRPC handlers on the transport threads instead of handing each call to a pool: a Suggest
 * only validates, reads the Link from a cache and starts a non-blocking OpenSearch request, so the
 * extra thread hand-off would be most of its own cost. Everything that blocks for long (Rebuild,
 * SuggestStream's queries) runs on its own executor.
 */
@Singleton
class GrpcDirectExecutor implements BeanCreatedEventListener<GrpcServerConfiguration> {
    @Override
    public GrpcServerConfiguration onCreated(BeanCreatedEvent<GrpcServerConfiguration> event) {
        GrpcServerConfiguration configuration = event.getBean();
        configuration.getServerBuilder().directExecutor();
        return configuration;
    }
}
