package io.pgchat.ops;

import io.pgchat.testing.Await;
import io.pgchat.testing.Posters;
import io.pgchat.testing.ResumingSubscribers;
import io.pgchat.testing.TcpProxy;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.URI;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The network between the server and PostgreSQL breaks while messages flow (every connection reset,
 * new ones refused), then heals. Nothing acknowledged is lost, nothing lost is acknowledged, and
 * every subscriber ends with the room's whole sequence once, in order.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class DatabaseOutageTest {

    private static final Duration OUTAGE = Duration.ofSeconds(3);

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void aCutDatabaseConnectionIsAnsweredWith503AndHealsWithoutLossOrDuplicate() throws Exception {
        String room = TestServer.room("outage");
        try (TcpProxy proxy = TcpProxy.toTestDatabase();
             TestServer server = TestServer.start(Map.of("DATABASE_URL", TcpProxy.databaseUrlThrough(proxy)));
             ResumingSubscribers subscribers = new ResumingSubscribers(server.http, List.of(server.uri("/")), room, 4)) {
            URI uri = server.uri("/");
            Posters posters = new Posters(server.http, room, 4, List.of(uri));
            posters.awaitCreated(100, Duration.ofSeconds(20));

            proxy.cut();
            long cutAt = System.nanoTime();
            HttpResponse<String> down = Await.health(server, 503);
            assertTrue(down.body().contains("DOWN"), down.body());
            int storedBeforeHeal = posters.created();
            Thread.sleep(Math.max(0, OUTAGE.toMillis() - (System.nanoTime() - cutAt) / 1_000_000));
            assertEquals(503, server.get("/observe/health").statusCode(), "still down while cut");
            proxy.restore();

            Await.health(server, 200);
            posters.awaitCreated(storedBeforeHeal + 100, Duration.ofSeconds(20));
            List<Posters.Answer> answers = posters.stop();

            List<Long> table = TestDatabase.seqs(room);
            int stored = table.size();
            assertEquals(LongStream.rangeClosed(1, stored).boxed().toList(), table, "the table holds 1..N, no gap");
            List<Long> acknowledged = new ArrayList<>();
            long refused = 0;
            for (Posters.Answer answer : answers) {
                if (answer.status() == 201) {
                    acknowledged.add(answer.seq());
                    continue;
                }
                assertEquals(503, answer.status(), "a post either stored or refused as unavailable: " + answer);
                assertEquals("unavailable", answer.error(), answer.toString());
                assertTrue(answer.retryAfter(), "a 503 says when to retry: " + answer);
                refused++;
            }
            assertTrue(refused > 0, "posts during the outage were refused");
            assertTrue(table.containsAll(acknowledged), "every 201 names a stored message");
            assertEquals(acknowledged.size(), acknowledged.stream().distinct().count(), "no seq acknowledged twice");
            // A post whose connection broke during its commit may be stored yet answered 503: allowed.
            assertTrue(stored - acknowledged.size() <= refused, "no row without a post behind it");

            for (List<Long> received : subscribers.await(stored, Duration.ofSeconds(30))) {
                assertEquals(table, received, "each subscriber has every stored message once, in order");
            }
            assertEquals(1, TestDatabase.count("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE application_name = 'pgchat-listen' AND datname = current_database()"), "LISTEN is back");
            assertTrue(server.metric("pgchat_listen_reconnects_total") >= 1);
        }
    }
}
