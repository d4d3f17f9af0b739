package io.pgchat.ops;

import io.pgchat.testing.Json;
import io.pgchat.testing.RunningMain;
import io.pgchat.testing.TestServer;

import io.vertx.pgclient.PgConnectOptions;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The zero-configuration database: closed to everyone without its password, durable, and back after kill -9. */
class EmbeddedDatabaseTest {

    @Test
    void onlyThePasswordInAnOwnerOnlyFileLetsInAndCommitsAreDurable(@TempDir Path home) throws Exception {
        Path dir = home.resolve("pg");
        try (EmbeddedDatabase embedded = EmbeddedDatabase.start(dir)) {
            assertSecured(embedded, dir);
        }
        try (EmbeddedDatabase again = EmbeddedDatabase.start(dir)) {
            assertSecured(again, dir);
        }
    }

    @Test
    void aClusterMadeBeforePasswordsGetsOne(@TempDir Path home) throws Exception {
        Path dir = home.resolve("pg");
        // As pgchat made it until now: every local user let in as the superuser, no password.
        EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false).start().close();
        try (EmbeddedDatabase embedded = EmbeddedDatabase.start(dir)) {
            assertSecured(embedded, dir);
        }
    }

    @Test
    void afterKillNineTheNextStartStopsTheOrphanedPostgresAndServes(@TempDir Path home) throws Exception {
        Map<String, String> env = Map.of("PGCHAT_EMBEDDED_DIR", home.resolve("pg").toString());
        String room = TestServer.room("orphan");
        RunningMain first = RunningMain.start(env);
        assertEquals(201, first.post(room, "before the crash").statusCode(), first.output());
        first.kill();
        long orphan = Long.parseLong(Files.readAllLines(home.resolve("pg/postmaster.pid")).getFirst().strip());
        assertTrue(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false),
                "kill -9 leaves PostgreSQL running");

        RunningMain second = RunningMain.start(env);
        assertTrue(second.alive(), second.output());
        assertTrue(second.output().contains("Stopping the embedded PostgreSQL (pid " + orphan + ")"), second.output());
        assertFalse(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false));
        var history = second.http.send(HttpRequest.newBuilder(second.uri("/api/rooms/" + room + "/messages")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("before the crash", Json.parse(history.body()).get(0).get("body").asText(), history.body());
        assertEquals(0, second.stop(), second.output());
    }

    private static void assertSecured(EmbeddedDatabase embedded, Path dir) throws Exception {
        PgConnectOptions options = embedded.options();
        String url = "jdbc:postgresql://127.0.0.1:" + options.getPort() + "/postgres";
        SQLException refused = assertThrows(SQLException.class,
                () -> DriverManager.getConnection(url, "postgres", null).close());
        assertTrue(refused.getMessage().contains("password"), refused.getMessage());
        assertThrows(SQLException.class, () -> DriverManager.getConnection(url, "postgres", "guess").close());

        try (Connection c = DriverManager.getConnection(url, "postgres", options.getPassword());
             Statement s = c.createStatement()) {
            assertEquals("on", show(s, "fsync"));
            assertEquals("on", show(s, "synchronous_commit"));
            assertEquals("", show(s, "unix_socket_directories"));
            assertEquals(0, Files.readAllLines(dir.resolve("pg_hba.conf")).stream()
                    .filter(line -> line.matches("\\s*(local|host).*\\btrust\\s*")).count(),
                    "no line lets in without a password");
        }
        assertEquals(options.getPassword(), Files.readString(dir.resolve(EmbeddedDatabase.PASSWORD_FILE)));
        assertEquals("rw-------", PosixFilePermissions.toString(
                Files.getPosixFilePermissions(dir.resolve(EmbeddedDatabase.PASSWORD_FILE))));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
    }

    private static String show(Statement s, String setting) throws SQLException {
        try (var rows = s.executeQuery("SHOW " + setting)) {
            rows.next();
            return rows.getString(1);
        }
    }
}
