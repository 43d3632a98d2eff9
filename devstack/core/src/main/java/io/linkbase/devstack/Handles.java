package io.linkbase.devstack;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.regex.Pattern;

/** The implementations behind the server interfaces: an address plus how to stop it. */
final class Handles {

    private Handles() {
    }

    /** Stops what started the server (a child JVM, a container); nothing for external ones. */
    interface Stopper {
        void stop() throws Exception;
    }

    /** What every handle shares: a description and a stopper that runs at most once. */
    private abstract static class Stoppable implements AutoCloseable {
        final String description;
        private final Stopper stopper;
        private boolean closed;

        Stoppable(String description, Stopper stopper) {
            this.description = description;
            this.stopper = stopper;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            try {
                stopper.stop();
            } catch (Exception e) {
                System.err.println("[devstack] could not stop " + description + ": " + e);
            }
        }
    }

    static final class Postgres extends Stoppable implements PostgresServer {
        private static final Pattern DATABASE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_$-]{0,62}");
        private final String host;
        private final int port;
        private final String user;
        private final String password;
        private final String adminDatabase;
        private final String query;

        Postgres(String host, int port, String user, String password, String adminDatabase, String query,
                 String description, Stopper stopper) {
            super(description, stopper);
            this.host = host;
            this.port = port;
            this.user = user;
            this.password = password;
            this.adminDatabase = adminDatabase;
            this.query = query == null ? "" : query;
        }

        @Override
        public String host() {
            return host;
        }

        @Override
        public int port() {
            return port;
        }

        @Override
        public String user() {
            return user;
        }

        @Override
        public String password() {
            return password;
        }

        @Override
        public String jdbcUrl(String database) {
            String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
            return "jdbc:postgresql://" + h + ":" + port + "/" + database + (query.isEmpty() ? "" : "?" + query);
        }

        @Override
        public void createDatabase(String name) {
            if (!DATABASE_NAME.matcher(name).matches()) {
                throw new IllegalArgumentException("not a plain database name: " + name);
            }
            Properties props = new Properties();
            props.setProperty("user", user);
            props.setProperty("password", password);
            try (Connection c = DriverManager.getConnection(jdbcUrl(adminDatabase), props)) {
                try (PreparedStatement ps = c.prepareStatement("select 1 from pg_database where datname = ?")) {
                    ps.setString(1, name);
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            return;
                        }
                    }
                }
                try (Statement st = c.createStatement()) {
                    st.execute("create database \"" + name + "\"");
                } catch (SQLException e) {
                    // 42P04 duplicate_database: someone else created it meanwhile; 23505 the
                    // same race caught by the catalog's unique index
                    if (!"42P04".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
                        throw e;
                    }
                }
            } catch (SQLException e) {
                throw new DevstackException("could not create database " + name + " on " + description + ": " + e.getMessage(), e);
            }
        }

        @Override
        public String toString() {
            return description + " at " + host + ":" + port;
        }
    }

    static final class Kafka extends Stoppable implements KafkaServer {
        private final String bootstrapServers;

        Kafka(String bootstrapServers, String description, Stopper stopper) {
            super(description, stopper);
            this.bootstrapServers = bootstrapServers;
        }

        @Override
        public String bootstrapServers() {
            return bootstrapServers;
        }

        @Override
        public String toString() {
            return description + " at " + bootstrapServers;
        }
    }

    static final class OpenSearch extends Stoppable implements OpenSearchServer {
        private final String httpUrl;

        OpenSearch(String httpUrl, String description, Stopper stopper) {
            super(description, stopper);
            this.httpUrl = httpUrl.endsWith("/") ? httpUrl.substring(0, httpUrl.length() - 1) : httpUrl;
        }

        @Override
        public String httpUrl() {
            return httpUrl;
        }

        @Override
        public String toString() {
            return description + " at " + httpUrl;
        }
    }
}
