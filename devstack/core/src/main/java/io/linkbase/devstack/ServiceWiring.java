package io.linkbase.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a Linkbase service is pointed at the real servers: one place for the names, used as
 * environment variables for service processes (dev run, end-to-end tests) and as Micronaut
 * properties for services started inside a test JVM.
 */
public final class ServiceWiring {
    /**
     * The secret internal gRPC calls are signed with (LINKBASE_SERVICE_SECRET): the caller's own
     * when set, otherwise a new one for this JVM, so every dev run and test run has its own.
     * Test clients that call a service directly sign with it too (ServiceCredentials).
     */
    public static final String SERVICE_SECRET = serviceSecret();
    private final Map<String, String> properties = new LinkedHashMap<>();

    private ServiceWiring() {
        properties.put("linkbase.service.secret", SERVICE_SECRET);
        // Every internal port on the loopback interface only: nobody else on the network reaches
        // a dev or test service (the gateway is the one way in).
        properties.put("micronaut.server.host", "127.0.0.1");
        properties.put("grpc.server.host", "127.0.0.1");
    }

    private static String serviceSecret() {
        String configured = System.getenv("LINKBASE_SERVICE_SECRET");
        if (configured != null && configured.length() >= 32) {
            return configured;
        }
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        return java.util.HexFormat.of().formatHex(random);
    }

    public static ServiceWiring service() {
        return new ServiceWiring();
    }

    /**
     * The service's own database on {@code postgres} (created if missing), reached as the role of
     * the same name that owns it and nothing else (not the superuser).
     */
    public ServiceWiring database(PostgresServer postgres, String database) {
        String password = postgres.createOwnedDatabase(database);
        properties.put("datasources.default.url", postgres.jdbcUrl(database));
        properties.put("datasources.default.username", database);
        properties.put("datasources.default.password", password);
        return this;
    }

    /** The broker and, when it wants them, the SASL/SCRAM credentials (service-kit's KafkaSecurity). */
    public ServiceWiring kafka(KafkaServer kafka) {
        properties.putAll(kafkaProperties(kafka));
        return this;
    }

    /** Only the Kafka part, as environment variables (for a process wired otherwise, the gateway). */
    public static Map<String, String> kafkaEnvironment(KafkaServer kafka) {
        return asEnvironment(kafkaProperties(kafka));
    }

    private static Map<String, String> kafkaProperties(KafkaServer kafka) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("kafka.bootstrap.servers", kafka.bootstrapServers());
        if (kafka.username() != null) {
            p.put("linkbase.kafka.security-protocol", "SASL_PLAINTEXT");
            p.put("linkbase.kafka.sasl-mechanism", "SCRAM-SHA-256");
            p.put("linkbase.kafka.username", kafka.username());
            p.put("linkbase.kafka.password", kafka.password());
        }
        return p;
    }

    public ServiceWiring openSearch(OpenSearchServer openSearch) {
        properties.put("linkbase.opensearch.url", openSearch.httpUrl());
        return this;
    }

    public ServiceWiring httpPort(int port) {
        properties.put("micronaut.server.port", Integer.toString(port));
        return this;
    }

    public ServiceWiring grpcPort(int port) {
        properties.put("grpc.server.port", Integer.toString(port));
        return this;
    }

    public ServiceWiring property(String name, String value) {
        properties.put(name, value);
        return this;
    }

    /** As Micronaut properties (for {@code TestPropertyProvider}). */
    public Map<String, String> properties() {
        return Map.copyOf(properties);
    }

    /** As environment variables, the way Micronaut maps them back to the same properties. */
    public Map<String, String> environment() {
        return asEnvironment(properties);
    }

    private static Map<String, String> asEnvironment(Map<String, String> properties) {
        Map<String, String> env = new LinkedHashMap<>();
        properties.forEach((k, v) -> env.put(k.toUpperCase(java.util.Locale.ROOT).replace('.', '_').replace('-', '_'), v));
        return env;
    }

    /**
     * A port free right now on the loopback interface, below the kernel's ephemeral range: a port
     * the kernel handed out for {@code bind(0)} is also one it hands out as the local port of an
     * outgoing connection, so between this call and the server's bind a Kafka or PostgreSQL client
     * could take it (CI saw "Failed to bind to address /127.0.0.1:39201" once). Ports below the
     * range are never given to outgoing connections; random, so test JVMs running side by side
     * rarely pick the same one, and tried before they are returned.
     */
    public static int freePort() {
        int low = ephemeralLow();
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int attempt = 0; attempt < 100 && low > 11_000; attempt++) {
            int port = random.nextInt(10_000, low);
            try (ServerSocket socket = new ServerSocket()) {
                socket.bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), port));
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The first port of Linux's ephemeral range (0 where it cannot be read: other systems). */
    private static int ephemeralLow() {
        try {
            String range = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
            return Integer.parseInt(range.split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
