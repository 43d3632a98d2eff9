package io.linkbase.kit.consumer;

import java.util.List;

/**
 * A bean that follows topics through kit consumers. Its consumers start when the application has
 * started and close when it stops ({@link Followers}), so no follower writes that lifecycle again.
 */
public interface Follower {
    /** The consumers to start on startup and close on shutdown, in this order. */
    List<EventConsumer> consumers();
}
