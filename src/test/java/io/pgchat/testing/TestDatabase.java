package io.pgchat.testing;

import io.pgchat.ops.EmbeddedDatabase;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.io.IOException;
import java.nio.file.Files;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import io.vertx.pgclient.PgConnectOptions;

/**
 * The real PostgreSQL every test runs against, one for the whole run: TEST_DATABASE_URL when set (CI
 * sets it to a local cluster), else a Testcontainers PostgreSQL where Docker runs, else the embedded
 * PostgreSQL the server itself uses when none is configured.
 */
public final class TestDatabase {

    private static String url;

    private TestDatabase() {
    }

    /** postgresql://user:password@host:port/db */
    public static synchronized String url() {
        if (url == null) {
            String configured = System.getenv("TEST_DATABASE_URL");
            if (configured != null && !configured.isBlank()) {
                url = configured.strip();
            } else if (DockerClientFactory.instance().isDockerAvailable()) {
                PostgreSQLContainer container = new PostgreSQLContainer("postgres:17-alpine");
                container.start();
                url = "postgresql://" + container.getUsername() + ":" + container.getPassword() + "@"
                        + container.getHost() + ":" + container.getFirstMappedPort() + "/"
                        + container.getDatabaseName();
            } else {
                url = embedded();
            }
        }
        return url;
    }

    private static String embedded() {
        try {
            EmbeddedDatabase embedded = EmbeddedDatabase.start(Files.createTempDirectory("pgchat-test-").resolve("pg"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    embedded.close();
                } catch (IOException e) {
                    // the run is over either way
                }
            }));
            PgConnectOptions options = embedded.options();
            String server = "postgresql://" + options.getUser() + ":" + options.getPassword() + "@"
                    + options.getHost() + ":" + options.getPort();
            url = server + "/postgres";
            execute("CREATE DATABASE pgchat_test");
            return server + "/pgchat_test";
        } catch (IOException | SQLException e) {
            throw new IllegalStateException("no TEST_DATABASE_URL, no Docker, and the embedded PostgreSQL failed", e);
        }
    }

    public static Connection connect() throws SQLException {
        return connect(PgConnectOptions.fromUri(url()).getDatabase());
    }

    public static Connection connect(String database) throws SQLException {
        PgConnectOptions options = PgConnectOptions.fromUri(url());
        return DriverManager.getConnection(
                "jdbc:postgresql://" + options.getHost() + ":" + options.getPort() + "/" + database,
                options.getUser(), options.getPassword());
    }

    public static long count(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement(); var rows = s.executeQuery(sql)) {
            rows.next();
            return rows.getLong(1);
        }
    }

    public static List<Long> seqs(String room) throws SQLException {
        return column(room, "seq").stream().map(Long.class::cast).toList();
    }

    public static List<String> bodies(String room) throws SQLException {
        return column(room, "body").stream().map(String.class::cast).toList();
    }

    /** One column of a room's messages, in seq order. */
    private static List<Object> column(String room, String column) throws SQLException {
        try (Connection c = connect();
             var s = c.prepareStatement("SELECT " + column + " FROM messages WHERE room = ? ORDER BY seq")) {
            s.setString(1, room);
            List<Object> values = new ArrayList<>();
            try (var rows = s.executeQuery()) {
                while (rows.next()) {
                    values.add(rows.getObject(1));
                }
            }
            return values;
        }
    }

    /** Waits until a post of a pgchat server waits on a row lock a test holds. */
    public static void awaitAPostWaitingOnALock() throws Exception {
        Await.until(Duration.ofSeconds(10), () -> "no post reached the lock", () -> count("SELECT count(*) FROM"
                + " pg_stat_activity WHERE datname = current_database() AND application_name = 'pgchat'"
                + " AND wait_event_type = 'Lock'") >= 1);
    }

    /**
     * Kills the LISTEN connection of every pgchat server on the test database; returns how many. Waits
     * for one to be there first: a kill while the last one is still reconnecting would find nothing.
     */
    public static long killListen() throws Exception {
        String listening = " FROM pg_stat_activity WHERE application_name = 'pgchat-listen' AND datname = current_database()";
        Await.until(Duration.ofSeconds(20), () -> "no LISTEN connection to kill", () -> count("SELECT count(*)" + listening) > 0);
        return count("SELECT count(pg_terminate_backend(pid))" + listening);
    }

    public static void execute(String sql) throws SQLException {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Leaves nothing for the next test; run after each one (tables exist once a server has started). */
    public static void clear() throws SQLException {
        execute("DO $$ BEGIN IF to_regclass('messages') IS NOT NULL THEN TRUNCATE messages, rooms; END IF; END $$");
    }
}
