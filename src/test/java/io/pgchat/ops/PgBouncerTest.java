package io.pgchat.ops;

import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import io.vertx.pgclient.PgConnectOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The README's PgBouncer set-up, for real: Debian's pgbouncer in transaction pooling mode in front of
 * the test database, with fewer server connections than pgchat's pool, so that every transaction
 * may land on another server connection; DATABASE_URL goes through it, LISTEN_DATABASE_URL straight.
 */
class PgBouncerTest {

    private static final Path PGBOUNCER = Path.of("/usr/sbin/pgbouncer");
    private static Process bouncer;
    private static int port;
    private static Path dir;
    private static PgConnectOptions database;

    @BeforeAll
    static void startPgBouncer() throws Exception {
        boolean installed = Files.isExecutable(PGBOUNCER);
        if (!installed && "required".equals(System.getenv("PGCHAT_PGBOUNCER_TESTS"))) {
            fail("PGCHAT_PGBOUNCER_TESTS=required but " + PGBOUNCER + " is missing");
        }
        assumeTrue(installed, "PgBouncer tests skipped: " + PGBOUNCER + " is needed (Debian: apt-get install pgbouncer)");
        database = PgConnectOptions.fromUri(TestDatabase.url());
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        dir = Files.createTempDirectory("pgchat-pgbouncer-");
        Path users = Files.writeString(dir.resolve("userlist.txt"),
                "\"" + database.getUser() + "\" \"" + nullToEmpty(database.getPassword()) + "\"\n");
        Path ini = Files.writeString(dir.resolve("pgbouncer.ini"), String.join("\n",
                "[databases]",
                "* = host=" + database.getHost() + " port=" + database.getPort(),
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                "listen_port = " + port,
                "unix_socket_dir =",
                "auth_type = " + (database.getPassword() == null ? "trust" : "scram-sha-256"),
                "auth_file = " + users,
                "pool_mode = transaction",
                "default_pool_size = 2",
                "admin_users = " + database.getUser(),
                // Vert.x sends it at start-up; PgBouncer refuses parameters it does not know.
                "ignore_startup_parameters = extra_float_digits",
                ""));
        List<String> command = new ArrayList<>(List.of(PGBOUNCER.toString(), ini.toString()));
        if ("root".equals(System.getProperty("user.name"))) {
            // PgBouncer refuses to run as root.
            dir.toFile().setExecutable(true, false);
            for (Path file : List.of(dir, users, ini)) {
                file.toFile().setReadable(true, false);
            }
            command.addAll(0, List.of("runuser", "-u", "nobody", "--"));
        }
        bouncer = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(dir.resolve("pgbouncer.log").toFile()).start();
        Await.until(Duration.ofSeconds(10), () -> "PgBouncer did not listen on " + port + ": " + log(dir), () -> {
            try (Socket s = new Socket("127.0.0.1", port)) {
                return true;
            } catch (IOException e) {
                if (!bouncer.isAlive()) {
                    throw new AssertionError("PgBouncer exited: " + log(dir));
                }
                return false;
            }
        });
    }

    @AfterAll
    static void stopPgBouncer() throws Exception {
        if (bouncer != null) {
            bouncer.destroy();
            bouncer.waitFor();
        }
    }

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void postsStreamsResumeAndHistoryWorkThroughPgBouncerInTransactionMode() throws Exception {
        String room = TestServer.room("bouncer");
        try (TestServer server = TestServer.start(Map.of("DATABASE_URL", throughBouncer() + "?pgbouncer=true",
                "LISTEN_DATABASE_URL", TestDatabase.url()));
             SseClient live = server.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(live);
            try (var posters = Executors.newFixedThreadPool(8)) {
                List<Future<?>> posts = new ArrayList<>();
                for (int i = 1; i <= 40; i++) {
                    String body = "message " + i;
                    posts.add(posters.submit(() -> {
                        server.say(room, "alice", body);
                        return null;
                    }));
                }
                for (Future<?> post : posts) {
                    post.get();
                }
            }
            List<String> all = IntStream.rangeClosed(1, 40).mapToObj(String::valueOf).toList();
            assertEquals(all, live.ids(40), "the live stream, in seq order");
            try (SseClient resumed = server.subscribe(TestServer.events(room), "Last-Event-ID", "30")) {
                assertEquals(all.subList(30, 40), resumed.ids(10), "the resumed stream");
            }
            for (int after = 0; after < 40; after += 5) {
                var page = Json.parse(server.get("/api/rooms/" + room + "/messages?after=" + after + "&limit=5").body());
                assertEquals(after + 1, page.get(0).get("seq").asInt());
                assertEquals(after + 5, page.get(4).get("seq").asInt());
            }
            assertEquals(40, Json.parse(server.get("/api/rooms/" + room + "/messages").body()).size());
            // (Its admin console's SHOW STATS refuses the extra_float_digits that JDBC and Vert.x send.)
            assertTrue(log(dir).contains("login attempt: db=" + database.getDatabase()), "the pool went through PgBouncer");
        }
    }

    @Test
    void pgbouncerWithoutADirectListenUrlIsRefused() {
        Exception refused = assertThrows(Exception.class, () -> TestServer.start(
                Map.of("DATABASE_URL", throughBouncer() + "?pgbouncer=true")).close());
        assertTrue(refused.getMessage().contains("set LISTEN_DATABASE_URL to PostgreSQL itself"), refused.getMessage());
    }

    private static String throughBouncer() {
        return "postgresql://" + database.getUser() + (database.getPassword() == null ? "" : ":" + database.getPassword())
                + "@127.0.0.1:" + port + "/" + database.getDatabase();
    }

    private static String nullToEmpty(String s) {
        return s == null ? "" : s;
    }

    private static String log(Path dir) {
        try {
            return Files.readString(dir.resolve("pgbouncer.log"));
        } catch (IOException e) {
            return "(no log)";
        }
    }
}
