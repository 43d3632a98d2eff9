package io.linkbase.devstack;

/** A running PostgreSQL 15 (external, a Testcontainers container, or a runner child JVM). */
public interface PostgresServer extends AutoCloseable {

    String host();

    int port();

    /** A superuser. */
    String user();

    String password();

    /** {@code jdbc:postgresql://host:port/<database>}. */
    String jdbcUrl(String database);

    /** Creates the database unless it exists (idempotent, safe against concurrent callers). */
    void createDatabase(String name);

    /**
     * Creates the database unless it exists, owned by a login role of the same name (no superuser,
     * no other database: PUBLIC may not connect to it), and returns that role's password, set anew
     * by each JVM (the same one for every call in it).
     */
    String createOwnedDatabase(String name);

    /** Stops the server if this object started it; a no-op for an external server. */
    @Override
    void close();
}
