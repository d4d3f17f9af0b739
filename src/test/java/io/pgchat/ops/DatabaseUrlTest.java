package io.pgchat.ops;

import io.pgchat.ChatConfig;

import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The database as libpq (psql) finds it from DATABASE_URL, the PG* variables and their defaults. */
class DatabaseUrlTest {

    private static final String OS_USER = System.getProperty("user.name");

    @TempDir
    Path home;

    @Test
    void onlyPghostConnectsAsTheOsUserToItsOwnDatabaseOnPort5432() {
        PgConnectOptions db = database(Map.of("PGHOST", "db.example"));
        assertEquals(OS_USER + "@db.example:5432/" + OS_USER, ChatConfig.describe(db));
        assertEquals("", db.getPassword(), "no password unless one is given");
    }

    @Test
    void eachLibpqVariableIsUsedAndTheDatabaseDefaultsToTheUser() {
        PgConnectOptions db = database(Map.of("PGHOST", "db.example", "PGPORT", "6543", "PGUSER", "chat",
                "PGPASSWORD", "secret"));
        assertEquals("chat@db.example:6543/chat", ChatConfig.describe(db));
        assertEquals("secret", db.getPassword());
        assertEquals("chat@db.example:6543/rooms", ChatConfig.describe(database(Map.of("PGHOST", "db.example",
                "PGPORT", "6543", "PGUSER", "chat", "PGDATABASE", "rooms"))));
        assertEquals("other@10.0.0.5:5432/" + OS_USER, ChatConfig.describe(database(Map.of("PGHOST", "db.example",
                "PGHOSTADDR", "10.0.0.5", "PGUSER", "other", "PGDATABASE", OS_USER))), "PGHOSTADDR wins, as in libpq");
    }

    @Test
    void noVariableThatSaysWhereMeansTheEmbeddedDatabase() {
        assertTrue(DatabaseUrl.fromEnv(Map.of("HOME", home.toString(), "PGSSLMODE", "require", "PGHOST", "")).isEmpty());
        assertEquals("localhost:5432", where(database(Map.of("PGUSER", "chat"))), "PGUSER alone: the local server");
    }

    @Test
    void whatDatabaseUrlLeavesOutComesFromTheVariablesThenTheDefaults() {
        assertEquals(OS_USER + "@db.example:5432/" + OS_USER,
                ChatConfig.describe(database(Map.of("DATABASE_URL", "postgresql://db.example"))));
        assertEquals("chat@db.example:6543/rooms", ChatConfig.describe(database(Map.of(
                "DATABASE_URL", "postgresql://db.example/rooms", "PGUSER", "chat", "PGPORT", "6543"))));
        assertEquals("alice@db.example:5432/rooms", ChatConfig.describe(database(Map.of(
                "DATABASE_URL", "postgresql://alice@db.example/rooms", "PGHOST", "elsewhere", "PGUSER", "chat"))));
    }

    @Test
    void thePasswordFileGivesThePasswordOfTheFirstMatchingLine() throws Exception {
        Path file = passwordFile(home.resolve(".pgpass"), """
                # host:port:database:user:password
                other.example:*:*:*:not-this-one
                db.example:5432:rooms:chat:pass\\:with\\\\colon
                *:*:*:chat:fallback
                """);
        Map<String, String> env = Map.of("PGHOST", "db.example", "PGUSER", "chat", "PGDATABASE", "rooms");
        assertEquals("pass:with\\colon", database(env).getPassword());
        assertEquals("fallback", database(Map.of("PGHOST", "db.example", "PGUSER", "chat")).getPassword());
        assertEquals("explicit", database(with(env, "PGPASSWORD", "explicit")).getPassword(), "PGPASSWORD wins");

        Path elsewhere = passwordFile(home.resolve("elsewhere"), "*:*:*:*:from-pgpassfile\n");
        assertEquals("from-pgpassfile", database(with(env, "PGPASSFILE", elsewhere.toString())).getPassword());

        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        assertEquals("", database(env).getPassword(), "as libpq, a password file others may read is ignored");
    }

    @Test
    void aSocketDirectoryOrABadPortStopsTheStartNamingTheVariable() {
        var socket = assertThrows(IllegalStateException.class, () -> database(Map.of("PGHOST", "/var/run/postgresql")));
        assertEquals("PGHOST=/var/run/postgresql is a Unix socket directory: pgchat connects over TCP only, set PGHOST"
                + " to a host name or address (localhost)", socket.getMessage());
        var port = assertThrows(IllegalStateException.class, () -> database(Map.of("PGHOST", "db", "PGPORT", "x")));
        assertEquals("PGPORT must be a port number from 1 to 65535, not 'x'", port.getMessage());
    }

    /** As read at start, with HOME a directory of this test's (no ~/.pgpass unless a test writes one). */
    private PgConnectOptions database(Map<String, String> env) {
        Map<String, String> all = with(env, "PGSSLMODE", "disable");
        all.putIfAbsent("HOME", home.toString());
        return DatabaseUrl.fromEnv(all).orElseThrow();
    }

    private static Map<String, String> with(Map<String, String> env, String name, String value) {
        Map<String, String> all = new HashMap<>(env);
        all.putIfAbsent(name, value);
        return all;
    }

    private static Path passwordFile(Path file, String lines) throws Exception {
        Files.writeString(file, lines);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    private static String where(PgConnectOptions db) {
        return db.getHost() + ":" + db.getPort();
    }
}
