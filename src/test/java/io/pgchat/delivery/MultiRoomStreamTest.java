package io.pgchat.delivery;

import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TcpProxy;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One stream of many rooms, GET /api/events?rooms=...: every listed room on one connection, each
 * event's id its log position, so that the single Last-Event-ID a browser keeps resumes every room
 * with no gap and no duplicate, under concurrent posters, several servers and a lost LISTEN.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MultiRoomStreamTest {

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    /** A message as a stream delivered it. */
    record Delivered(long id, String room, long seq, long pos) {
        static Delivered of(SseClient.Event event) {
            JsonNode data = Json.parse(event.data());
            return new Delivered(Long.parseLong(event.id()), data.get("room").asText(), data.get("seq").asLong(),
                    data.get("pos").asLong());
        }
    }

    static String events(List<String> rooms) {
        return "/api/events?rooms=" + String.join(",", rooms);
    }

    @Test
    void oneStreamCarriesEveryListedRoomWithLogPositionsAsIds() throws Exception {
        List<String> rooms = rooms("carry", 3);
        String other = TestServer.room("not-listed");
        try (TestServer server = TestServer.start(); SseClient client = server.subscribe(events(rooms))) {
            SseClient.awaitOpen(client);
            server.say(rooms.get(0), "alice", "in a");
            server.say(other, "alice", "elsewhere");
            server.say(rooms.get(2), "bob", "in c");
            server.say(rooms.get(1), "carol", "in b");

            List<Delivered> got = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                got.add(Delivered.of(client.next()));
            }
            assertEquals(List.of(rooms.get(0), rooms.get(2), rooms.get(1)), got.stream().map(Delivered::room).toList(),
                    "in commit order, the unlisted room left out");
            got.forEach(d -> assertEquals(d.pos(), d.id(), "the id is the log position"));
            assertTrue(got.get(0).id() < got.get(1).id() && got.get(1).id() < got.get(2).id(), "ids ascend: " + got);
            assertEquals(List.of(": rooms " + String.join(",", rooms), "retry: 2000", ""), client.lines().subList(0, 3));

            server.say(other, "alice", "elsewhere again");
            server.say(rooms.get(0), "alice", "sentinel");
            assertEquals("sentinel", Json.parse(client.next().data()).get("body").asText(),
                    "nothing of the unlisted room came before the next listed message");
        }
    }

    @Test
    void eachOfSeventyRoomsIsHeardWhenItAloneHasNews() throws Exception {
        // Seventy rooms need two words of news bits: each post wakes the stream for its room only.
        List<String> rooms = rooms("seventy", 70);
        try (TestServer server = TestServer.start(); SseClient client = server.subscribe(events(rooms))) {
            SseClient.awaitOpen(client);
            List<String> posted = new ArrayList<>();
            for (int i = 0; i < 2 * rooms.size(); i++) {
                String room = rooms.get((int) ((i * 37L) % rooms.size()));
                server.say(room, "alice", "news " + i);
                posted.add(room);
            }
            List<Delivered> got = read(client, posted.size());
            assertEquals(posted, got.stream().map(Delivered::room).toList(), "every room's news, in commit order");
            assertNoGapPerRoom(got);
        }
    }

    @Test
    void resumeAfterADroppedConnectionWhileFourPostersWriteToTenRoomsLosesAndRepeatsNothing() throws Exception {
        List<String> rooms = rooms("resume", 10);
        int posters = 4;
        int perPoster = 150;
        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            int total = posters * perPoster;
            List<Reader> readers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Reader reader = new Reader(server, rooms, i == 0 ? -1 : 90 * i);
                reader.open(0);
                readers.add(reader);
            }
            List<Future<List<Delivered>>> reads = readers.stream().map(r -> threads.submit(() -> r.readUntil(total))).toList();
            List<Future<?>> posts = postToRandomRooms(threads, List.of(server), rooms, posters, perPoster);
            for (Future<?> post : posts) {
                post.get(2, TimeUnit.MINUTES);
            }
            List<Delivered> log = log(rooms);
            assertEquals(total, log.size());
            for (int i = 0; i < readers.size(); i++) {
                List<Delivered> got = reads.get(i).get(1, TimeUnit.MINUTES);
                assertEquals(log, got, "reader " + i + " (dropped after " + readers.get(i).dropAfter + ")");
                assertNoGapPerRoom(got);
            }
            assertEquals(5, readers.stream().filter(r -> r.reconnected).count(), "five dropped and resumed mid-way");
        }
    }

    @Test
    void twoServersOnOneDatabaseDeliverTheSameLogOrder() throws Exception {
        List<String> rooms = rooms("two", 5);
        try (TestServer a = TestServer.start(); TestServer b = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             SseClient onA = a.subscribe(events(rooms));
             SseClient onB = b.subscribe(events(rooms))) {
            SseClient.awaitOpen(onA, onB);
            List<Future<?>> posts = postToRandomRooms(threads, List.of(a, b), rooms, 4, 100);
            for (Future<?> post : posts) {
                post.get(2, TimeUnit.MINUTES);
            }
            List<Delivered> log = log(rooms);
            assertEquals(400, log.size());
            assertEquals(log, read(onA, log.size()), "server A follows the log's order");
            assertEquals(log, read(onB, log.size()), "server B, the same order");
            assertNoGapPerRoom(log);
        }
    }

    @Test
    void streamsBehindTheirWindowsReadTheTableInPagesAndKeepLogOrder() throws Exception {
        List<String> rooms = rooms("behind", 3);
        try (TcpProxy listen = TcpProxy.toTestDatabase();
             TestServer server = TestServer.start(Map.of("LISTEN_DATABASE_URL", TcpProxy.databaseUrlThrough(listen)),
                     "pgchat.window.size", "2", "pgchat.page.size", "3");
             SseClient all = server.subscribe(events(rooms));
             SseClient some = server.subscribe(events(rooms.subList(1, 3)))) {
            SseClient.awaitOpen(all, some);
            server.say(rooms.getFirst(), "alice", "before");
            assertEquals("before", Json.parse(all.next().data()).get("body").asText());
            double replayed = server.metric("pgchat_messages_replayed_total");

            // Announcements missed while LISTEN is cut: once it is back, each window holds only the
            // last two of its room, so both streams read what they missed from the table, three at a time.
            listen.cut();
            Await.health(server, 503);
            // Room by room, so a page of one room reaches far beyond another's: merging pages must stop at the lowest.
            for (String room : rooms) {
                for (int i = 0; i < 10; i++) {
                    server.say(room, "bob", "missed " + i);
                }
            }
            listen.restore();

            List<Delivered> missed = log(rooms).subList(1, 31);
            assertEquals(missed, read(all, 30));
            assertEquals(missed.stream().filter(d -> !d.room().equals(rooms.getFirst())).toList(), read(some, 20));
            assertTrue(server.metric("pgchat_messages_replayed_total") - replayed >= 40,
                    "the missed messages came from the table");
        }
    }

    @Test
    void killingTheListenConnectionLosesNothing() throws Exception {
        List<String> rooms = rooms("killed", 4);
        int total = 240;
        try (TestServer server = TestServer.start();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             SseClient client = server.subscribe(events(rooms))) {
            SseClient.awaitOpen(client);
            AtomicLong posted = new AtomicLong();
            Future<?> posting = threads.submit(() -> {
                for (int i = 0; i < total; i++) {
                    server.say(rooms.get(i % rooms.size()), "alice", "m" + i);
                    posted.incrementAndGet();
                    Thread.sleep(5);
                }
                return null;
            });
            long kills = 0;
            for (long at : new long[] {40, 100, 170}) {
                while (posted.get() < at) {
                    Thread.sleep(5);
                }
                kills += TestDatabase.killListen();
            }
            posting.get(2, TimeUnit.MINUTES);

            assertEquals(3, kills, "the one LISTEN connection, killed three times");
            List<Delivered> log = log(rooms);
            assertEquals(total, log.size());
            assertEquals(log, read(client, total));
            server.say(rooms.getFirst(), "alice", "sentinel");
            assertEquals("sentinel", Json.parse(client.next().data()).get("body").asText(), "and nothing twice");
        }
    }

    @Test
    void aRoomAddedOnReconnectReplaysFromTheSamePosition() throws Exception {
        String a = TestServer.room("added-a");
        String b = TestServer.room("added-b");
        try (TestServer server = TestServer.start()) {
            long before;
            try (SseClient onlyA = server.subscribe(events(List.of(a)))) {
                SseClient.awaitOpen(onlyA);
                server.say(a, "alice", "a1");
                before = Delivered.of(onlyA.next()).id();
            }
            server.say(b, "bob", "b1");
            server.say(a, "alice", "a2");
            try (SseClient both = server.subscribe(events(List.of(a, b)), "Last-Event-ID", Long.toString(before))) {
                assertEquals(List.of("b1", "a2"), List.of(Json.parse(both.next().data()).get("body").asText(),
                        Json.parse(both.next().data()).get("body").asText()));
            }
            try (SseClient query = server.subscribe(events(List.of(b, a)) + "&lastEventId=" + before)) {
                assertEquals("b1", Json.parse(query.next().data()).get("body").asText(), "?lastEventId= alike");
            }
        }
    }

    @Test
    void aPositionBeyondTheLogsEndIsAnsweredWithAReset() throws Exception {
        String room = TestServer.room("beyond");
        try (TestServer server = TestServer.start()) {
            server.say(room, "alice", "one");
            long end = TestDatabase.count("SELECT last_pos FROM log_position");
            try (SseClient client = server.subscribe(events(List.of(room)), "Last-Event-ID", Long.toString(end + 1000))) {
                SseClient.Event reset = client.next();
                assertEquals("reset", reset.event());
                assertEquals(Long.toString(end), reset.id());
                assertEquals(end, Json.parse(reset.data()).get("lastPos").asLong());
                assertEquals(end + 1000, Json.parse(reset.data()).get("requested").asLong());
                server.say(room, "alice", "two");
                assertEquals("two", Json.parse(client.next().data()).get("body").asText(), "then live from the end");
            }
        }
    }

    @Test
    void hostileRoomListsAndIdsGetA400SayingWhatIsWrong() throws Exception {
        String many = IntStream.range(0, 101).mapToObj(i -> "r" + i).collect(Collectors.joining(","));
        String tenThousand = IntStream.range(0, 10_000).mapToObj(i -> "r" + i).collect(Collectors.joining(","));
        Map<String, String> cases = new HashMap<>(Map.of(
                "/api/events", "missing_rooms",
                "/api/events?rooms=", "missing_rooms",
                "/api/events?rooms=a,,b", "invalid_room",
                "/api/events?rooms=a,b%21", "invalid_room",
                "/api/events?rooms=a,b,a", "repeated_room",
                "/api/events?rooms=" + many, "too_many_rooms",
                "/api/events?rooms=a&lastEventId=-1", "invalid_lastEventId",
                "/api/events?rooms=a&lastEventId=99999999999999999999", "invalid_lastEventId",
                "/api/events?rooms=a&lastEventId=1e3", "invalid_lastEventId"));
        cases.put("/api/events?rooms=" + "x".repeat(65), "invalid_room");
        try (TestServer server = TestServer.start()) {
            for (var c : cases.entrySet()) {
                HttpResponse<String> response = server.get(c.getKey());
                assertEquals(400, response.statusCode(), c.getKey() + ": " + response.body());
                assertEquals(c.getValue(), Json.parse(response.body()).get("error").asText(), c.getKey());
            }
            HttpResponse<String> header = server.http.send(java.net.http.HttpRequest.newBuilder(
                    server.uri("/api/events?rooms=a")).header("Last-Event-ID", "-5").build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, header.statusCode());
            assertEquals("invalid_lastEventId", Json.parse(header.body()).get("error").asText());
            // 10,000 names do not fit in a request line: refused before any of it is parsed.
            HttpResponse<String> huge = server.get("/api/events?rooms=" + tenThousand);
            assertEquals(414, huge.statusCode());
            assertEquals("uri_too_long", Json.parse(huge.body()).get("error").asText());
            // The longest list allowed does fit.
            String longest = IntStream.range(0, 100).mapToObj(i -> String.format("%064d", i)).collect(Collectors.joining(","));
            try (SseClient client = server.subscribe("/api/events?rooms=" + longest)) {
                assertEquals(200, client.status());
            }
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    private static List<String> rooms(String purpose, int count) {
        return IntStream.range(0, count).mapToObj(i -> TestServer.room(purpose + i)).toList();
    }

    /** Posters writing to rooms chosen at random (seeded), spread over the servers. */
    private static List<Future<?>> postToRandomRooms(ExecutorService threads, List<TestServer> servers, List<String> rooms,
            int posters, int perPoster) {
        List<Future<?>> posts = new ArrayList<>();
        for (int p = 0; p < posters; p++) {
            int poster = p;
            posts.add(threads.submit(() -> {
                Random random = new Random(poster);
                TestServer server = servers.get(poster % servers.size());
                for (int i = 0; i < perPoster; i++) {
                    server.say(rooms.get(random.nextInt(rooms.size())), "poster" + poster, "m" + i);
                }
                return null;
            }));
        }
        return posts;
    }

    /** The rooms' messages as the table orders them: by log position. */
    private static List<Delivered> log(List<String> rooms) throws Exception {
        try (Connection c = TestDatabase.connect();
             var s = c.prepareStatement("SELECT room, seq, pos FROM messages WHERE room = ANY(?) ORDER BY pos")) {
            s.setArray(1, c.createArrayOf("text", rooms.toArray()));
            List<Delivered> log = new ArrayList<>();
            try (ResultSet rows = s.executeQuery()) {
                while (rows.next()) {
                    log.add(new Delivered(rows.getLong(3), rows.getString(1), rows.getLong(2), rows.getLong(3)));
                }
            }
            return log;
        }
    }

    private static List<Delivered> read(SseClient client, int count) throws InterruptedException {
        List<Delivered> got = new ArrayList<>();
        while (got.size() < count) {
            got.add(Delivered.of(client.next(Duration.ofSeconds(30))));
        }
        return got;
    }

    /** Each room's seqs run 1, 2, 3... in the order delivered. */
    private static void assertNoGapPerRoom(List<Delivered> delivered) {
        Map<String, List<Long>> byRoom = delivered.stream().collect(Collectors.groupingBy(Delivered::room,
                Collectors.mapping(Delivered::seq, Collectors.toList())));
        byRoom.forEach((room, seqs) -> assertEquals(LongStream.rangeClosed(1, seqs.size()).boxed().toList(), seqs, room));
    }

    /** A subscriber of the rooms that drops its connection after dropAfter events and resumes with the last id. */
    private static final class Reader {
        private final TestServer server;
        private final List<String> rooms;
        private final int dropAfter;
        private SseClient client;
        private boolean reconnected;

        Reader(TestServer server, List<String> rooms, int dropAfter) {
            this.server = server;
            this.rooms = rooms;
            this.dropAfter = dropAfter;
        }

        void open(long after) throws Exception {
            client = server.subscribe(events(rooms), "Last-Event-ID", Long.toString(after));
            SseClient.awaitOpen(client);
        }

        List<Delivered> readUntil(int total) throws Exception {
            List<Delivered> got = new ArrayList<>();
            while (got.size() < total) {
                got.add(Delivered.of(client.next(Duration.ofSeconds(30))));
                if (!reconnected && got.size() == dropAfter) {
                    client.close();
                    // What had already arrived was received; the next connection resumes after it.
                    client.drain(Duration.ofMillis(50)).forEach(e -> got.add(Delivered.of(e)));
                    open(got.getLast().id());
                    reconnected = true;
                }
            }
            client.close();
            return got;
        }
    }
}
