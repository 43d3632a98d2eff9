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

        /**
         * Passwords of the roles set by this JVM, by server and role: a second wiring of the same
         * database (a restarted service) gets the same one; the next JVM sets new ones.
         */
        private static final java.util.concurrent.ConcurrentHashMap<String, String> ROLE_PASSWORDS =
            new java.util.concurrent.ConcurrentHashMap<>();

        @Override
        public String createOwnedDatabase(String name) {
            createDatabase(name);
            return ROLE_PASSWORDS.computeIfAbsent(host + ":" + port + "/" + name, k -> {
                String rolePassword = Secrets.random();
                try (Connection c = connect(adminDatabase); Statement st = c.createStatement()) {
                    try {
                        st.execute("create role \"" + name + "\" login");
                    } catch (SQLException e) {
                        // 42710 duplicate_object: there already (an earlier run, a concurrent one)
                        if (!"42710".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
                            throw e;
                        }
                    }
                    st.execute("alter role \"" + name + "\" login nosuperuser nocreatedb nocreaterole password '" + rolePassword + "'");
                    st.execute("alter database \"" + name + "\" owner to \"" + name + "\"");
                    // PUBLIC may connect to (and make temporary tables in) any new database: not to ours
                    st.execute("revoke all on database \"" + name + "\" from public");
                } catch (SQLException e) {
                    throw new DevstackException("could not give database " + name + " a role of its own on " + description
                        + ": " + e.getMessage(), e);
                }
                try (Connection c = connect(name); Statement st = c.createStatement()) {
                    st.execute(OWN_EVERYTHING.replace("$role", name.replace("'", "''")));
                } catch (SQLException e) {
                    throw new DevstackException("could not hand database " + name + "'s objects to its role on " + description
                        + ": " + e.getMessage(), e);
                }
                return rolePassword;
            });
        }

        /**
         * Hands what an earlier superuser connection made in the database (a dev data directory
         * from before the services had roles of their own) to the database's role; a no-op on a new one.
         */
        private static final String OWN_EVERYTHING = """
            DO $do$
            DECLARE
              r record;
              owner oid := (SELECT oid FROM pg_roles WHERE rolname = '$role');
            BEGIN
              FOR r IN SELECT nspname FROM pg_namespace WHERE nspowner <> owner AND nspname <> 'information_schema'
                  AND nspname NOT LIKE 'pg\\_%' AND nspname <> 'public' LOOP
                EXECUTE format('ALTER SCHEMA %I OWNER TO %I', r.nspname, '$role');
              END LOOP;
              FOR r IN SELECT c.oid::regclass AS obj, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE c.relowner <> owner AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'
                    AND (c.relkind IN ('r', 'p', 'v', 'm')
                      OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                          AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')))) LOOP
                EXECUTE format('ALTER %s %s OWNER TO %I', CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                  WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, r.obj, '$role');
              END LOOP;
              FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE p.proowner <> owner AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' LOOP
                EXECUTE format('ALTER ROUTINE %s OWNER TO %I', r.fn, '$role');
              END LOOP;
            END
            $do$""";

        private Connection connect(String database) throws SQLException {
            Properties props = new Properties();
            props.setProperty("user", user);
            props.setProperty("password", password);
            return DriverManager.getConnection(jdbcUrl(database), props);
        }

        @Override
        public String toString() {
            return description + " at " + host + ":" + port;
        }
    }

    static final class Kafka extends Stoppable implements KafkaServer {
        private final String bootstrapServers;
        private final String username;
        private final String password;

        Kafka(String bootstrapServers, String username, String password, String description, Stopper stopper) {
            super(description, stopper);
            this.bootstrapServers = bootstrapServers;
            this.username = username;
            this.password = password;
        }

        @Override
        public String bootstrapServers() {
            return bootstrapServers;
        }

        @Override
        public String username() {
            return username;
        }

        @Override
        public String password() {
            return password;
        }

        @Override
        public String toString() {
            return description + " at " + bootstrapServers + (username == null ? "" : " (SASL/SCRAM user " + username + ")");
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
