package io.linkbase.devstack;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PostgresServerIT {

    private static Connection connect(PostgresServer pg, String database) throws SQLException {
        return DriverManager.getConnection(pg.jdbcUrl(database), pg.user(), pg.password());
    }

    @Test
    void answersAsPostgres15() throws Exception {
        PostgresServer pg = TestServers.postgres();
        try (Connection c = connect(pg, "postgres");
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("select version(), current_setting('server_version_num')::int")) {
            assertTrue(rs.next());
            assertTrue(rs.getString(1).startsWith("PostgreSQL 15."), rs.getString(1));
            int versionNum = rs.getInt(2);
            assertTrue(versionNum >= 150000 && versionNum < 160000, "server_version_num " + versionNum);
        }
    }

    @Test
    void createDatabaseIsIdempotentAndEnforcesForeignKeys() throws Exception {
        PostgresServer pg = TestServers.postgres();
        pg.createDatabase("devstack_it_fk");
        pg.createDatabase("devstack_it_fk"); // second call: no error

        try (Connection c = connect(pg, "devstack_it_fk"); Statement st = c.createStatement()) {
            try (ResultSet rs = st.executeQuery("select current_database()")) {
                assertTrue(rs.next());
                assertEquals("devstack_it_fk", rs.getString(1));
            }
            st.execute("drop table if exists track; drop table if exists album");
            st.execute("create table album (id bigint primary key, title text not null)");
            st.execute("create table track (id bigint primary key, album_id bigint not null references album(id))");
            st.execute("insert into album values (1, 'Ace of Spades')");
            st.execute("insert into track values (10, 1)");

            SQLException dangling = assertThrows(SQLException.class, () -> st.execute("insert into track values (11, 42)"));
            assertEquals("23503", dangling.getSQLState(), dangling.getMessage()); // foreign_key_violation

            SQLException stillReferenced = assertThrows(SQLException.class, () -> st.execute("delete from album where id = 1"));
            assertEquals("23503", stillReferenced.getSQLState(), stillReferenced.getMessage());

            try (ResultSet rs = st.executeQuery("select count(*) from track")) {
                assertTrue(rs.next());
                assertEquals(1, rs.getInt(1));
            }
        }
    }
}
