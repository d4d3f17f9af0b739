package io.pgchat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What an operator sees: health, metrics, streams freed when clients leave, and a clear refusal to start. */
class OperationsTest {

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
            double posted = metric(server, "pgchat_messages_posted_total");
            double delivered = metric(server, "pgchat_messages_delivered_total");
            double replayed = metric(server, "pgchat_messages_replayed_total");
            server.say(room, "alice", "one");
            try (SseClient a = server.subscribe(EventStreamTest.events(room) + "?lastEventId=0");
                 SseClient b = server.subscribe(EventStreamTest.events(room) + "?lastEventId=0")) {
                a.next();
                b.next();
                assertEquals(2, metric(server, "pgchat_subscribers"));
            }
            assertEquals(posted + 1, metric(server, "pgchat_messages_posted_total"));
            assertEquals(delivered + 2, metric(server, "pgchat_messages_delivered_total"));
            assertEquals(replayed + 2, metric(server, "pgchat_messages_replayed_total"));
            assertTrue(server.get("/observe/metrics").body().contains("pgchat_listen_reconnects_total"));
        }
    }

    @Test
    void aClosedStreamIsFreedWithinTwoHeartbeats() throws Exception {
        try (TestServer server = TestServer.start()) {
            SseClient client = server.subscribe(EventStreamTest.events(TestServer.room("leaving")));
            EventStreamTest.awaitOpen(client);
            assertEquals(1, metric(server, "pgchat_subscribers"));
            client.close();
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (metric(server, "pgchat_subscribers") > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(0, metric(server, "pgchat_subscribers"));
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
        var listenUrl = io.vertx.pgclient.PgConnectOptions.fromUri(TestDatabase.url());
        String direct = "postgresql://" + listenUrl.getUser() + (listenUrl.getPassword() == null ? "" : ":"
                + listenUrl.getPassword()) + "@127.0.0.1:" + listenUrl.getPort() + "/" + listenUrl.getDatabase();
        try (TestServer server = TestServer.start(Map.of("LISTEN_DATABASE_URL", direct))) {
            String room = TestServer.room("listen-url");
            try (SseClient client = server.subscribe(EventStreamTest.events(room))) {
                EventStreamTest.awaitOpen(client);
                server.say(room, "alice", "through the LISTEN url");
                assertEquals("1", client.next().id());
            }
        }
        var unreachable = Map.of("LISTEN_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere");
        Exception refused = org.junit.jupiter.api.Assertions.assertThrows(Exception.class,
                () -> TestServer.start(unreachable).close());
        assertTrue(String.valueOf(refused.getMessage()).contains("LISTEN"), String.valueOf(refused));
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
    void jsonLogsWriteOneObjectPerLine() throws Exception {
        RunningMain run = RunningMain.start(Map.of("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/nowhere",
                "PGCHAT_LOG_FORMAT", "json"));
        assertEquals(1, run.exit(), run.output());
        var error = run.output().lines().filter(l -> l.contains("cannot start")).findFirst().orElseThrow();
        var json = Json.parse(error);
        assertEquals("SEVERE", json.get("level").asText());
        assertTrue(json.get("message").asText().startsWith("pgchat cannot start: Cannot reach PostgreSQL"), error);
    }

    /** The real entry point in its own JVM, as `java -jar` runs it, with only the given environment. */
    private static final class RunningMain {
        private static final Pattern SERVING = Pattern.compile("serving on http://\\S+:(\\d+) ");
        private final Process process;
        private final StringBuffer output = new StringBuffer();
        private final HttpClient http = HttpClient.newHttpClient();
        private final Thread reader;
        private int port;

        private RunningMain(Process process) {
            this.process = process;
            this.reader = Thread.ofVirtual().start(() -> {
                try (var lines = process.inputReader(StandardCharsets.UTF_8)) {
                    lines.lines().forEach(line -> output.append(line).append('\n'));
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        /** Starts and waits until it serves or exits. */
        static RunningMain start(Map<String, String> env) throws Exception {
            ProcessBuilder builder = new ProcessBuilder(
                    System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName())
                    .redirectErrorStream(true);
            builder.environment().keySet().removeIf(name -> name.startsWith("PG") || name.endsWith("DATABASE_URL"));
            builder.environment().putAll(env);
            builder.environment().put("PORT", "0");
            RunningMain run = new RunningMain(builder.start());
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (run.process.isAlive() && System.nanoTime() < deadline) {
                Matcher serving = SERVING.matcher(run.output);
                if (serving.find()) {
                    run.port = Integer.parseInt(serving.group(1));
                    return run;
                }
                Thread.sleep(50);
            }
            return run;
        }

        URI uri(String path) {
            return URI.create("http://127.0.0.1:" + port + path);
        }

        HttpResponse<String> post(String room, String body) throws Exception {
            return http.send(HttpRequest.newBuilder(uri("/api/rooms/" + room + "/messages"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", "test", "body", body))).build(),
                    HttpResponse.BodyHandlers.ofString());
        }

        /** Sends SIGTERM and returns the exit code. (Process.destroy would also close its output.) */
        int stop() throws Exception {
            process.toHandle().destroy();
            return exit();
        }

        int exit() throws Exception {
            assertTrue(process.waitFor(60, TimeUnit.SECONDS), "the server should exit by itself: " + output);
            reader.join(Duration.ofSeconds(10));
            return process.exitValue();
        }

        String output() {
            return output.toString();
        }
    }

    static double metric(TestServer server, String name) throws Exception {
        String text = server.get("/observe/metrics").body();
        Matcher line = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? (\\S+)$").matcher(text);
        return line.find() ? Double.parseDouble(line.group(2)) : 0;
    }
}
