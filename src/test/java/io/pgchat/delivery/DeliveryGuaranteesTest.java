package io.pgchat.delivery;

import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TcpProxy;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.sql.Connection;
import java.net.http.HttpResponse;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The promise under pressure: concurrent writers, reconnecting readers, several servers and a lost
 * LISTEN connection, and still every subscriber holds every message exactly once, in order.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class DeliveryGuaranteesTest {

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void concurrentPostersAndReconnectingSubscribersEachGetEverySeqOnceInOrder() throws Exception {
        int posters = 8;
        int perPoster = 500;
        int total = posters * perPoster;
        String room = TestServer.room("load");
        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Reader> readers = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                readers.add(new Reader(server, room, i < 5 ? total / 3 + 100 * i : -1));
            }
            for (Reader reader : readers) {
                SseClient.awaitOpen(reader.client);
            }
            List<Future<List<Long>>> readResults = readers.stream()
                    .map(reader -> threads.submit(() -> reader.readUntil(total))).toList();
            List<Future<?>> posts = new ArrayList<>();
            for (int p = 0; p < posters; p++) {
                int poster = p;
                posts.add(threads.submit(() -> {
                    for (int i = 0; i < perPoster; i++) {
                        server.say(room, "poster" + poster, "message " + i);
                    }
                    return null;
                }));
            }
            for (Future<?> post : posts) {
                post.get(2, TimeUnit.MINUTES);
            }

            List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
            assertEquals(expected, TestDatabase.seqs(room), "the table holds 1..N with no gap");
            for (int i = 0; i < readers.size(); i++) {
                assertEquals(expected, readResults.get(i).get(1, TimeUnit.MINUTES), "subscriber " + i);
            }
            assertEquals(5, readers.stream().filter(r -> r.reconnected).count(), "five reconnected mid-way");
        }
    }

    @Test
    void aReaderNeverSeesALaterSeqBeforeAnEarlierOneIsVisible() throws Exception {
        String room = TestServer.room("order");
        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             Connection db = TestDatabase.connect()) {
            server.say(room, "setup", "first");
            AtomicBoolean posting = new AtomicBoolean(true);
            List<Future<?>> posts = new ArrayList<>();
            for (int p = 0; p < 8; p++) {
                posts.add(threads.submit(() -> {
                    for (int i = 0; i < 150; i++) {
                        server.say(room, "poster", "m" + i);
                    }
                    return null;
                }));
            }
            Future<?> done = threads.submit(() -> {
                for (Future<?> post : posts) {
                    post.get();
                }
                posting.set(false);
                return null;
            });
            // With a plain sequence, seq 11 can commit before 10: a reader would see max 11 with 10 missing.
            long checks = 0;
            var query = db.prepareStatement("SELECT max(seq), count(*) FROM messages WHERE room = ?");
            query.setString(1, room);
            while (posting.get()) {
                try (ResultSet rows = query.executeQuery()) {
                    rows.next();
                    assertEquals(rows.getLong(1), rows.getLong(2), "a visible seq with a hole below it");
                }
                checks++;
            }
            done.get();
            assertEquals(1201, TestDatabase.seqs(room).size());
            assertTrue(checks > 10, "the reader ran alongside the writers: " + checks);
        }
    }

    @Test
    void aMessagePostedToOneServerReachesSubscribersOfAnother() throws Exception {
        String room = TestServer.room("multi");
        try (TestServer a = TestServer.start(); TestServer b = TestServer.start();
             SseClient onA = a.subscribe(TestServer.events(room));
             SseClient onB = b.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(onA, onB);
            for (int i = 0; i < 20; i++) {
                (i % 2 == 0 ? a : b).say(room, "alice", "m" + i);
            }
            List<String> expected = LongStream.rangeClosed(1, 20).mapToObj(Long::toString).toList();
            assertEquals(expected, onA.ids(20));
            assertEquals(expected, onB.ids(20));
        }
    }

    @Test
    void killingTheListenConnectionLosesNothing() throws Exception {
        String room = TestServer.room("killed");
        int total = 300;
        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             SseClient client = server.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(client);
            AtomicLong posted = new AtomicLong();
            Future<?> posting = threads.submit(() -> {
                for (int i = 0; i < total; i++) {
                    server.say(room, "alice", "m" + i);
                    posted.incrementAndGet();
                    Thread.sleep(5);
                }
                return null;
            });
            long kills = 0;
            for (long at : new long[] {50, 120, 200}) {
                while (posted.get() < at) {
                    Thread.sleep(5);
                }
                kills += TestDatabase.killListen();
            }
            posting.get(2, TimeUnit.MINUTES);

            assertEquals(3, kills, "one LISTEN connection per server, killed three times");
            List<String> expected = LongStream.rangeClosed(1, total).mapToObj(Long::toString).toList();
            assertEquals(expected, client.ids(total));
            server.assertNextIsASentinel(client, room);
            Await.until(Duration.ofSeconds(10), () -> "LISTEN is not back, once", () -> listenConnections() == 1);
        }
    }

    @Test
    void messagesPostedWhileListenIsDownArriveOnceItIsBack() throws Exception {
        String room = TestServer.room("outage");
        try (TestServer server = TestServer.start();
             SseClient client = server.subscribe(TestServer.events(room));
             Connection db = TestDatabase.connect();
             Connection admin = TestDatabase.connect("template1")) {
            SseClient.awaitOpen(client);
            server.say(room, "alice", "before");
            assertEquals("1", client.next().id());

            String database = db.getCatalog();
            admin.createStatement().execute("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS false");
            try {
                db.createStatement().execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                        + " WHERE application_name = 'pgchat-listen' AND datname = current_database()");
                Await.health(server, 503);
                // The pool's open connections still store posts; their NOTIFYs reach nobody.
                for (int i = 0; i < 3; i++) {
                    server.say(room, "alice", "during " + i);
                }
            } finally {
                admin.createStatement().execute("ALTER DATABASE " + database + " WITH ALLOW_CONNECTIONS true");
            }

            assertEquals(List.of("2", "3", "4"), client.ids(3), "caught up from the table");
            Await.health(server, 200);
        }
    }

    @Test
    void listenBackWhileThePoolIsDownCatchesUpOnceThePoolReturns() throws Exception {
        String room = TestServer.room("pool-down");
        try (TcpProxy pool = TcpProxy.toTestDatabase(); TcpProxy listen = TcpProxy.toTestDatabase();
             TestServer a = TestServer.start(Map.of("DATABASE_URL", TcpProxy.databaseUrlThrough(pool),
                     "LISTEN_DATABASE_URL", TcpProxy.databaseUrlThrough(listen)));
             TestServer b = TestServer.start();
             SseClient client = a.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(client);
            for (int i = 0; i < 5; i++) {
                a.say(room, "alice", "before " + i);
            }
            assertEquals(List.of("1", "2", "3", "4", "5"), client.ids(5));

            listen.cut();
            Await.health(a, 503);
            for (int i = 0; i < 10; i++) {
                b.say(room, "bob", "while A hears nothing " + i);
            }
            pool.cut();
            listen.restore();
            Await.until(Duration.ofSeconds(15), () -> "A's LISTEN is not back beside B's", () -> listenConnections() == 2);
            HttpResponse<String> health = a.get("/observe/health");
            assertEquals(503, health.statusCode());
            assertEquals("DOWN", check(health.body(), "delivery"),
                    "delivery is not ready while it cannot catch up: " + health.body());
            pool.restore();

            assertEquals(LongStream.rangeClosed(6, 15).mapToObj(Long::toString).toList(), client.ids(10),
                    "caught up once the pool is back, with no new post to wake it");
            Await.health(a, 200);
        }
    }

    /** One check's status in the health answer's details. */
    private static String check(String health, String name) {
        for (var check : Json.parse(health).path("checks")) {
            if (check.path("name").asText().equals(name)) {
                return check.path("status").asText();
            }
        }
        throw new AssertionError("no check '" + name + "' in " + health);
    }

    private static long listenConnections() throws Exception {
        return TestDatabase.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgchat-listen'"
                + " AND datname = current_database()");
    }

    /** A subscriber that, when told to, drops its connection mid-way and resumes with its last id. */
    private static final class Reader {
        private final TestServer server;
        private final String room;
        private final int reconnectAfter;
        private SseClient client;
        private boolean reconnected;

        Reader(TestServer server, String room, int reconnectAfter) {
            this.server = server;
            this.room = room;
            this.reconnectAfter = reconnectAfter;
            this.client = server.subscribe(TestServer.events(room));
        }

        List<Long> readUntil(int total) throws Exception {
            List<Long> seqs = new ArrayList<>();
            while (seqs.size() < total) {
                seqs.add(Long.parseLong(client.next(Duration.ofSeconds(30)).id()));
                if (!reconnected && seqs.size() == reconnectAfter) {
                    client.close();
                    // What had already arrived was received; the next connection resumes after it.
                    client.drain(Duration.ofMillis(50)).forEach(e -> seqs.add(Long.parseLong(e.id())));
                    client = server.subscribe(TestServer.events(room),
                            "Last-Event-ID", Long.toString(seqs.getLast()));
                    reconnected = true;
                }
            }
            client.close();
            return seqs;
        }
    }
}
