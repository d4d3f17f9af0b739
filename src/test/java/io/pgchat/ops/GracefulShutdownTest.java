package io.pgchat.ops;

import io.pgchat.testing.Posters;
import io.pgchat.testing.ResumingSubscribers;
import io.pgchat.testing.RunningMain;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGTERM while messages flow: the stopping server refuses new work so clients go to the other server
 * on the database, answers every post it had begun (201 only once committed), ends its streams so
 * their clients resume elsewhere, and exits 0. Nobody loses a message or a post's answer.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GracefulShutdownTest {

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void sigtermHandsEveryClientToAnotherServerWithoutLosingAMessageOrAnAnswer() throws Exception {
        String room = TestServer.room("sigterm");
        RunningMain a = RunningMain.start(Map.of("DATABASE_URL", TestDatabase.url(),
                "PGCHAT_LIMITS_POSTS_ADDRESS", "0", "PGCHAT_LIMITS_POSTS_AUTHOR", "0", "PGCHAT_LIMITS_ROOMS_HOUR", "0",
                "PGCHAT_LIMITS_SUBSCRIBERS_ADDRESS", "1000", "PGCHAT_HEARTBEAT_SECONDS", "1"));
        try (TestServer b = TestServer.start();
             ResumingSubscribers subscribers = new ResumingSubscribers(b.http,
                     List.of(a.uri("/"), b.uri("/")), room, 4);
             Connection lock = TestDatabase.connect()) {
            List<URI> servers = List.of(a.uri("/"), b.uri("/"));
            Posters posters = new Posters(b.http, room, 4, servers);
            posters.awaitCreated(100, Duration.ofSeconds(30));

            // Hold the room's row lock: the posts now in flight on A wait for it, longer than Helidon's
            // own half-second shutdown grace, and must still be answered once they commit.
            lock.setAutoCommit(false);
            var holding = lock.prepareStatement("SELECT 1 FROM rooms WHERE name = ? FOR UPDATE");
            holding.setString(1, room);
            holding.executeQuery().close();
            TestDatabase.awaitAPostWaitingOnALock();
            // Group commit sends one batch of A's posts at a time: the one waiting on the lock holds
            // the first, and the other posters' requests queue on A behind it.
            posters.awaitInFlight(a.uri("/"), 4, Duration.ofSeconds(10));
            long stoppedAt = System.nanoTime();
            a.sigterm();
            awaitLog(a, "pgchat stopping");
            Thread.sleep(1000);
            lock.commit();

            assertEquals(0, a.exit(), "SIGTERM is a normal stop: " + a.output());
            int storedWhenAStopped = posters.created();
            posters.awaitCreated(storedWhenAStopped + 100, Duration.ofSeconds(30));
            List<Posters.Answer> answers = posters.stop();

            List<Long> table = TestDatabase.seqs(room);
            assertEquals(LongStream.rangeClosed(1, table.size()).boxed().toList(), table, "the table holds 1..N");
            List<Long> acknowledged = new ArrayList<>();
            for (Posters.Answer answer : answers) {
                assertEquals(null, answer.noAnswer(), "no post lost its connection without an answer");
                if (answer.status() == 201) {
                    acknowledged.add(answer.seq());
                } else {
                    assertEquals(503, answer.status(), answer.toString());
                    assertEquals("shutting_down", answer.error(), answer.toString());
                    assertTrue(answer.retryAfter(), answer.toString());
                }
            }
            assertEquals(table, acknowledged.stream().sorted().toList(), "every stored post was answered 201, once");
            assertTrue(answers.stream().filter(x -> x.server().equals(a.uri("/")) && x.status() == 201
                    && x.at() > stoppedAt).count() >= 4, "the posts in flight on A at SIGTERM were answered 201");
            assertTrue(answers.stream().anyMatch(x -> x.server().equals(b.uri("/")) && x.status() == 201),
                    "the posters went on with B");

            for (List<Long> received : subscribers.await(table.size(), Duration.ofSeconds(30))) {
                assertEquals(table, received, "each subscriber, resumed on B, has every message once, in order");
            }
            assertTrue(subscribers.connections().stream().allMatch(n -> n >= 2), "each subscriber reconnected");
            String log = a.output();
            List<String> steps = List.of("pgchat stopping: refusing new requests (503) and ending",
                    "Every request in flight is answered", "Stopped accepting connections",
                    "Closed the database connections", "pgchat stopped");
            int at = 0;
            for (String step : steps) {
                at = log.indexOf(step, at);
                assertTrue(at >= 0, "the log says '" + step + "', in order: " + log);
            }
        } finally {
            if (a.alive()) {
                a.stop();
            }
        }
    }

    private static void awaitLog(RunningMain server, String line) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!server.output().contains(line)) {
            assertTrue(System.nanoTime() < deadline, "the log never said '" + line + "': " + server.output());
            Thread.sleep(10);
        }
    }
}
