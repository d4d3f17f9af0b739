package io.pgchat.ops;

import io.pgchat.ChatConfig;
import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.RunningMain;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TcpProxy;
import io.pgchat.testing.TestCertificate;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator sees: health, metrics, streams freed when clients leave, and a clear refusal to start. */
public class OperationsTest {

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void healthChecksTheDatabaseAndListen() throws Exception {
        try (TestServer server = TestServer.start()) {
            var health = server.get("/observe/health");
            assertEquals(200, health.statusCode(), health.body());
            assertTrue(health.body().contains("\"database\"") && health.body().contains("\"listen\""), health.body());
        }
    }

    @Test
    void metricsCountPostsDeliveriesReplaysAndSubscribers() throws Exception {
        String room = TestServer.room("metrics");
        try (TestServer server = TestServer.start()) {
            double posted = server.metric("pgchat_messages_posted_total");
            double delivered = server.metric("pgchat_messages_delivered_total");
            double replayed = server.metric("pgchat_messages_replayed_total");
            server.say(room, "alice", "one");
            try (SseClient a = server.subscribe(TestServer.events(room) + "?lastEventId=0");
                 SseClient b = server.subscribe(TestServer.events(room) + "?lastEventId=0")) {
                a.next();
                b.next();
                assertEquals(2, server.metric("pgchat_subscribers"));
            }
            assertEquals(posted + 1, server.metric("pgchat_messages_posted_total"));
            assertEquals(delivered + 2, server.metric("pgchat_messages_delivered_total"));
            assertEquals(replayed + 2, server.metric("pgchat_messages_replayed_total"));
            assertTrue(server.get("/observe/metrics").body().contains("pgchat_listen_reconnects_total"));
        }
    }

    @Test
    void aClosedStreamIsFreedWithinTwoHeartbeats() throws Exception {
        try (TestServer server = TestServer.start()) {
            SseClient client = server.subscribe(TestServer.events(TestServer.room("leaving")));
            SseClient.awaitOpen(client);
            assertEquals(1, server.metric("pgchat_subscribers"));
            client.close();
            Await.until(Duration.ofSeconds(5), () -> "the stream is still held", () -> server.metric("pgchat_subscribers") == 0);
        }
    }

    @Test
    void withNoDatabaseConfiguredAnEmbeddedOneServesAndKeepsMessagesAcrossRestarts(@TempDir Path home)
            throws Exception {
        Map<String, String> env = Map.of("PGCHAT_EMBEDDED_DIR", home.resolve("pg").toString());
        String room = TestServer.room("embedded");

        RunningMain first = RunningMain.start(env);
        assertTrue(first.output().contains("using an embedded PostgreSQL with its data in " + home.resolve("pg")),
                first.output());
        assertTrue(first.output().matches("(?s).*pgchat \\S+ serving on http://\\S+ \\(database .* embedded, pool of 8\\).*"),
                first.output());
        assertEquals(201, first.post(room, "kept").statusCode());
        assertEquals(0, first.stop(), "SIGTERM is a normal stop: " + first.output());
        assertTrue(first.output().contains("pgchat stopped"), first.output());

        RunningMain second = RunningMain.start(env);
        var history = second.http.send(HttpRequest.newBuilder(second.uri("/api/rooms/" + room + "/messages")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("kept", Json.parse(history.body()).get(0).get("body").asText(), history.body());
        assertEquals(0, second.stop());
    }

    @Test
    void listenUsesItsOwnDatabaseUrlWhenGiven() throws Exception {
        try (TcpProxy listen = TcpProxy.toTestDatabase();
             TestServer server = TestServer.start(Map.of("LISTEN_DATABASE_URL", TcpProxy.databaseUrlThrough(listen)))) {
            String room = TestServer.room("listen-url");
            try (SseClient client = server.subscribe(TestServer.events(room))) {
                SseClient.awaitOpen(client);
                server.say(room, "alice", "through the LISTEN url");
                assertEquals("1", client.next().id());
            }
            // Cutting only that route loses LISTEN, while the pool (DATABASE_URL) still answers.
            listen.cut();
            String health = Await.health(server, 503).body();
            assertTrue(health.matches("(?s).*\\{\"name\":\"listen\",\"status\":\"DOWN\".*"), health);
            assertTrue(health.matches("(?s).*\\{\"name\":\"database\",\"status\":\"UP\".*"), health);
        }
        var unreachable = Map.of("LISTEN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere");
        Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> TestServer.start(unreachable).close());
        assertTrue(String.valueOf(refused.getMessage()).contains("LISTEN"), String.valueOf(refused));
    }

    @Test
    void badConfigurationStopsTheStartNamingTheKeyAndWhatIsAllowed() throws Exception {
        Map<Map<String, String>, String> cases = Map.of(
                Map.of("PORT", "abc"), "PORT must be a port number from 0 (any free port) to 65535, not 'abc'",
                Map.of("PORT", "-1"), "PORT must be a port number from 0 (any free port) to 65535, not '-1'",
                Map.of("PORT", "70000"), "PORT must be a port number from 0 (any free port) to 65535, not '70000'",
                Map.of("PGCHAT_POOL_SIZE", "abc"),
                "pgchat.pool.size (PGCHAT_POOL_SIZE) must be a whole number from 1 to 1000, not 'abc'",
                Map.of("PGCHAT_LOG_FORMAT", "xml"), "pgchat.log.format (PGCHAT_LOG_FORMAT) must be one of text, json, not 'xml'",
                Map.of("PGCHAT_LIMITS_TRUSTED_PROXIES", "10.0.0.0/8, 172.16.0.0/33"),
                "pgchat.limits.trusted.proxies (PGCHAT_LIMITS_TRUSTED_PROXIES) must list IPv4 or IPv6 addresses or CIDRs, "
                        + "comma-separated: '172.16.0.0/33' has a prefix length that is not 0 to 32",
                Map.of("PGCHAT_LIMITS_TRUSTED_PROXIES", "nginx"),
                "pgchat.limits.trusted.proxies (PGCHAT_LIMITS_TRUSTED_PROXIES) must list IPv4 or IPv6 addresses or CIDRs, "
                        + "comma-separated: 'nginx' is not an IPv4 or IPv6 address or CIDR",
                Map.of("PGCHAT_LIMITS_FORWARDED", "true"),
                "pgchat.limits.forwarded (PGCHAT_LIMITS_FORWARDED) is replaced by pgchat.limits.trusted.proxies");
        for (var c : cases.entrySet()) {
            Map<String, String> env = new java.util.HashMap<>(c.getKey());
            env.put("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere");
            RunningMain run = RunningMain.start(env);
            assertEquals(1, run.exit(), run.output());
            assertTrue(run.output().contains("pgchat cannot start: " + c.getValue()), c.getKey() + ": " + run.output());
            assertTrue(!run.output().contains("Cannot reach PostgreSQL"), "refused before any connection: " + run.output());
        }
    }

    @Test
    void aWrongPasswordIsReportedAsARefusedLoginNotAsUnreachable() throws Exception {
        var db = io.vertx.pgclient.PgConnectOptions.fromUri(TestDatabase.url());
        String wrong = "postgresql://" + db.getUser() + ":not-the-password@" + db.getHost() + ":" + db.getPort() + "/"
                + db.getDatabase();
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", wrong));
        assertEquals(1, run.exit(), run.output());
        assertTrue(run.output().contains("PostgreSQL refused the login as " + db.getUser() + "@"), run.output());
        assertTrue(!run.output().contains("Cannot reach") && !run.output().contains("not-the-password"), run.output());
    }

    @Test
    void onlyLibpqVariablesAndThePasswordFileReachTheDatabaseAsPsqlWould(@TempDir Path home) throws Exception {
        var db = io.vertx.pgclient.PgConnectOptions.fromUri(TestDatabase.url());
        Path pgpass = Files.writeString(home.resolve(".pgpass"),
                db.getHost() + ":" + db.getPort() + ":" + db.getDatabase() + ":" + db.getUser() + ":" + db.getPassword() + "\n");
        Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
        RunningMain run = RunningMain.start(Map.of("HOME", home.toString(), "PGHOST", db.getHost(),
                "PGPORT", String.valueOf(db.getPort()), "PGUSER", db.getUser(), "PGDATABASE", db.getDatabase()));
        try {
            assertTrue(run.output().contains("(database " + ChatConfig.describe(db)), run.output());
            assertEquals(201, run.post(TestServer.room("libpq"), "via PG* variables").statusCode(), run.output());
        } finally {
            assertEquals(0, run.stop(), run.output());
        }

        // libpq's defaults for the rest: the OS user, and a database named after it.
        String os = System.getProperty("user.name");
        RunningMain defaults = RunningMain.start(Map.of("HOME", home.toString(), "PGHOST", db.getHost(),
                "PGPORT", String.valueOf(db.getPort())));
        assertEquals(1, defaults.exit(), defaults.output());
        assertTrue(defaults.output().matches("(?s).*pgchat cannot start: PostgreSQL (refused the login|asks for a password)"
                + " as " + os + "@" + db.getHost() + ":" + db.getPort() + "/" + os + " .*"), defaults.output());
    }

    @Test
    void anUnreachableDatabaseIsNamedAndTheServerExits() throws Exception {
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/nowhere"));
        assertEquals(1, run.exit(), run.output());
        assertTrue(run.output().contains("Cannot reach PostgreSQL as nobody@127.0.0.1:1/nowhere"), run.output());
        assertTrue(!run.output().contains("secret"), "the password is never logged");
    }

    @Test
    void aPortAlreadyInUseStopsTheStartWithAReason() throws Exception {
        try (TestServer first = TestServer.start()) {
            Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                    () -> TestServer.start("server.port", String.valueOf(first.chat.port())).close());
            assertTrue(String.valueOf(refused.getMessage()).contains("Cannot listen on 127.0.0.1:" + first.chat.port()),
                    String.valueOf(refused));
            assertEquals(200, first.get("/observe/health").statusCode(), "the server holding the port goes on");
        }
    }

    @Test
    void aBusyPortIsOneLineAndExitCode1NotATrace() throws Exception {
        try (ServerSocket taken = new ServerSocket(0)) {
            RunningMain run = RunningMain.start(Map.of("DATABASE_URL", TestDatabase.url(),
                    "PORT", String.valueOf(taken.getLocalPort())));
            assertEquals(1, run.exit(), run.output());
            assertTrue(run.output().contains("pgchat cannot start: Cannot listen on 0.0.0.0:" + taken.getLocalPort()
                    + " (Address already in use): is another server using the port?"), run.output());
            List<String> errors = run.output().lines().filter(l -> !l.contains(" INFO ")).toList();
            assertEquals(1, errors.size(), "only our line, no trace: " + run.output());
        }
    }

    @Test
    void aTlsKeyWithoutItsCertificateStopsTheStartNamingTheMissingOne(@TempDir Path dir) throws Exception {
        TestCertificate certificate = TestCertificate.create(dir);
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", TestDatabase.url(),
                "PGCHAT_TLS_KEY", certificate.key().toString()));
        assertEquals(1, run.exit(), run.output());
        assertTrue(run.output().contains("pgchat cannot start: TLS needs a key and a certificate, but "
                + "pgchat.tls.certificate (PGCHAT_TLS_CERTIFICATE) is not set"), run.output());
    }

    @Test
    void jsonLogsWriteOneObjectPerLine() throws Exception {
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere",
                "PGCHAT_LOG_FORMAT", "json"));
        assertEquals(1, run.exit(), run.output());
        var error = run.output().lines().filter(l -> l.contains("cannot start")).findFirst().orElseThrow();
        var json = Json.parse(error);
        assertEquals("SEVERE", json.get("level").asText());
        assertTrue(json.get("message").asText().startsWith("pgchat cannot start: Cannot reach PostgreSQL"), error);
    }

    /**
     * Every line stays JSON when the libraries speak: the LISTEN connection is cut by PostgreSQL (Vert.x
     * once printed its error to standard error as a bare trace) and the server goes on.
     */
    @Test
    void jsonLogsStayJsonWhenVertxAndNettyReportALostConnection() throws Exception {
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", TestDatabase.url(), "PGCHAT_LOG_FORMAT", "json"));
        try {
            assertTrue(run.output().contains("serving on"), run.output());
            // Only this test's server runs now; another's LISTEN would only reconnect and catch up.
            TestDatabase.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pgchat-listen'");
            Await.until(Duration.ofSeconds(20), () -> "LISTEN not restored: " + run.output(),
                    () -> run.output().contains("LISTEN restored"));
        } finally {
            assertEquals(0, run.stop(), run.output());
        }
        for (String line : run.output().lines().toList()) {
            try {
                Json.parse(line);
            } catch (Exception e) {
                throw new AssertionError("not JSON: '" + line + "' in\n" + run.output(), e);
            }
        }
        assertTrue(run.output().contains("LISTEN connection failed: FATAL: terminating connection"), run.output());
    }

    @Test
    void metricsIncludeTheJvmsAndHttpRequestsAndHealthSendsOneCacheControl() throws Exception {
        try (TestServer server = TestServer.start()) {
            HttpResponse<String> base = server.get("/observe/metrics/base");
            assertEquals(200, base.statusCode(), base.body());
            assertTrue(base.body().contains("memory_usedHeap_bytes"), base.body());
            assertTrue(base.body().contains("thread_count"), base.body());
            double before = server.metric("requests_count_total");
            server.get("/api/rooms");
            assertTrue(server.metric("requests_count_total") >= before + 1, "HTTP requests are counted");
            server.metric("requests_inFlight");
            for (String path : List.of("/observe/health", "/observe/metrics")) {
                List<String> cacheControl = server.get(path).headers().allValues("Cache-Control");
                assertEquals(List.of("no-cache, no-store, must-revalidate, no-transform"), cacheControl, path);
            }
        }
    }
}
