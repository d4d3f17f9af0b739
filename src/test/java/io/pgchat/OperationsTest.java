package io.pgchat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.File;
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
    void withoutADatabaseTheServerSaysWhatToSetAndExits() throws Exception {
        Result result = runMain(Map.of());
        assertEquals(1, result.exit(), result.output());
        assertTrue(result.output().contains("No database configured: set DATABASE_URL="), result.output());
    }

    @Test
    void anUnreachableDatabaseIsNamedAndTheServerExits() throws Exception {
        Result result = runMain(Map.of("DATABASE_URL", "postgresql://nobody:secret@127.0.0.1:1/nowhere"));
        assertEquals(1, result.exit(), result.output());
        assertTrue(result.output().contains("Cannot reach PostgreSQL as nobody@127.0.0.1:1/nowhere"), result.output());
        assertTrue(!result.output().contains("secret"), "the password is never logged");
    }

    private record Result(int exit, String output) {
    }

    private static Result runMain(Map<String, String> env) throws Exception {
        ProcessBuilder process = new ProcessBuilder(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), Main.class.getName())
                .redirectErrorStream(true);
        process.environment().keySet().removeIf(name -> name.startsWith("PG") || name.equals("DATABASE_URL"));
        process.environment().putAll(env);
        process.environment().put("PORT", "0");
        Process started = process.start();
        assertTrue(started.waitFor(60, TimeUnit.SECONDS), "the server should exit by itself");
        return new Result(started.exitValue(), new String(started.getInputStream().readAllBytes(),
                StandardCharsets.UTF_8));
    }

    static double metric(TestServer server, String name) throws Exception {
        String text = server.get("/observe/metrics").body();
        Matcher line = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? (\\S+)$").matcher(text);
        return line.find() ? Double.parseDouble(line.group(2)) : 0;
    }
}
