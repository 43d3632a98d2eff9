package io.linkbase.kit.consumer;

import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;

import java.util.List;

/** The one lifecycle of every {@link Follower} bean of a service: started with it, closed with it. */
@Singleton
final class Followers {
    private final List<Follower> followers;

    Followers(List<Follower> followers) {
        this.followers = followers;
    }

    @EventListener
    synchronized void onStartup(StartupEvent event) {
        followers.forEach(f -> f.consumers().forEach(EventConsumer::start));
    }

    @EventListener
    synchronized void onShutdown(ShutdownEvent event) {
        followers.forEach(f -> f.consumers().forEach(EventConsumer::close));
    }
}
