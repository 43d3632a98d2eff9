package io.linkbase.devstack;

/** A running Kafka broker on which transactions and consumer groups work (replication factor 1). */
public interface KafkaServer extends AutoCloseable {

    /** For {@code bootstrap.servers}, e.g. {@code 127.0.0.1:9092}. */
    String bootstrapServers();

    /** Stops the broker if this object started it; a no-op for an external one. */
    @Override
    void close();
}
