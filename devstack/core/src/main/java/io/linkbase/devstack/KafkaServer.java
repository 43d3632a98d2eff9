package io.linkbase.devstack;

import java.util.Map;
import java.util.Properties;

/**
 * A running Kafka broker on which transactions and consumer groups work (replication factor 1).
 * Devstack's own broker only takes clients that log in with SASL/SCRAM-SHA-256
 * ({@link #username()}/{@link #password()}); an external one may have no credentials.
 */
public interface KafkaServer extends AutoCloseable {

    /** For {@code bootstrap.servers}, e.g. {@code 127.0.0.1:9092}. */
    String bootstrapServers();

    /** The SCRAM-SHA-256 user clients log in as, or null when the broker takes anyone. */
    default String username() {
        return null;
    }

    default String password() {
        return null;
    }

    /**
     * What a plain Kafka client needs to reach this broker: {@code bootstrap.servers} and, when the
     * broker wants them, the credentials (the services get the same through {@link ServiceWiring}).
     */
    default Properties clientProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers());
        p.putAll(clientSecurity());
        return p;
    }

    /** The client properties that log in to this broker (none when it takes anyone). */
    default Map<String, String> clientSecurity() {
        if (username() == null) {
            return Map.of();
        }
        return Map.of("security.protocol", "SASL_PLAINTEXT", "sasl.mechanism", "SCRAM-SHA-256",
            "sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required username=\""
                + username() + "\" password=\"" + password() + "\";");
    }

    /** Stops the broker if this object started it; a no-op for an external one. */
    @Override
    void close();
}
