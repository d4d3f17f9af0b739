package io.pgchat.posting;

import io.pgchat.testing.Json;
import io.pgchat.testing.ServerPerClass;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Posts that arrive together are committed together (one transaction, one announcement), and each
 * still keeps every promise of a post on its own: its own gap-free seq in commit order, a 201 only
 * once stored, and a failure that is its alone.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class GroupCommitTest {

    @RegisterExtension
    static final ServerPerClass running = new ServerPerClass();

    @Test
    void concurrentPostsShareCommitsYetEachGetsItsOwnGapFreeSeq() throws Exception {
        String room = TestServer.room("together");
        int posters = 32;
        int each = 25;
        try (Announcements announcements = new Announcements()) {
            List<HttpResponse<String>> answers = postConcurrently(posters, p -> {
                List<HttpResponse<String>> mine = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    mine.add(server().postJson(room, Json.object("author", "p" + p, "body", p + ":" + i)));
                }
                return mine;
            });

            List<Long> answered = new ArrayList<>();
            Map<String, Long> lastSeqByPoster = new HashMap<>();
            for (HttpResponse<String> answer : answers) {
                assertEquals(201, answer.statusCode(), answer.body());
                JsonNode message = Json.parse(answer.body());
                answered.add(message.get("seq").asLong());
                long previous = lastSeqByPoster.getOrDefault(message.get("author").asText(), 0L);
                assertTrue(message.get("seq").asLong() > previous, "one poster's posts are stored in the order sent");
                lastSeqByPoster.put(message.get("author").asText(), message.get("seq").asLong());
            }
            List<Long> expected = LongStream.rangeClosed(1, posters * each).boxed().toList();
            assertEquals(expected, answered.stream().sorted().toList(), "every answer its own seq, none skipped");
            assertEquals(expected, TestDatabase.seqs(room));

            List<List<Long>> commits = announcements.of(room, posters * each);
            assertEquals(expected, commits.stream().flatMap(List::stream).toList(),
                    "announced in seq order, each once");
            assertTrue(commits.size() < posters * each / 2,
                    "posts that waited went in together: " + posters * each + " posts in " + commits.size() + " commits");
        }
    }

    @Test
    void aBatchOverManyRoomsNumbersEachRoomOnItsOwn() throws Exception {
        List<String> rooms = LongStream.range(0, 20).mapToObj(i -> TestServer.room("many")).toList();
        List<HttpResponse<String>> answers = postConcurrently(16, p -> {
            List<HttpResponse<String>> mine = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                mine.add(server().postJson(rooms.get((p * 7 + i) % rooms.size()), Json.object("author", "a", "body", "b")));
            }
            return mine;
        });

        assertTrue(answers.stream().allMatch(a -> a.statusCode() == 201));
        Map<String, List<Long>> answeredByRoom = answers.stream().map(a -> Json.parse(a.body()))
                .collect(Collectors.groupingBy(m -> m.get("room").asText(),
                        Collectors.mapping(m -> m.get("seq").asLong(), Collectors.toList())));
        for (String room : rooms) {
            List<Long> stored = TestDatabase.seqs(room);
            assertEquals(LongStream.rangeClosed(1, stored.size()).boxed().toList(), stored, room);
            assertEquals(stored, answeredByRoom.get(room).stream().sorted().toList(), room);
        }
    }

    @Test
    void messagesTooLargeToAnnounceWholeStillReachSubscribersInOrder() throws Exception {
        String room = TestServer.room("large");
        server().say(room, "setup", "first");
        try (SseClient subscriber = server().subscribe("/api/rooms/" + room + "/events?lastEventId=1")) {
            SseClient.awaitOpen(subscriber);
            List<HttpResponse<String>> answers = postConcurrently(12, p -> List.of(server().postJson(room,
                    Json.object("author", "p" + p, "body", (p % 3 == 0 ? "é".repeat(MessageInput.MAX_BODY - 10) : "small ") + p))));
            assertTrue(answers.stream().allMatch(a -> a.statusCode() == 201));

            List<Long> seqs = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                SseClient.Event event = subscriber.next(Duration.ofSeconds(10));
                seqs.add(Long.parseLong(event.id()));
                JsonNode data = Json.parse(event.data());
                assertEquals(Json.parse(answers.stream().filter(a -> Json.parse(a.body()).get("seq").asLong()
                        == data.get("seq").asLong()).findFirst().orElseThrow().body()), data);
            }
            assertEquals(LongStream.rangeClosed(2, 13).boxed().toList(), seqs);
        }
    }

    @Test
    void aPostPostgresRefusesFailsAloneAndSpendsNoSeq() throws Exception {
        String room = TestServer.room("poison");
        // A trigger stands in for any error PostgreSQL may raise for one row (the test alone posts here).
        TestDatabase.execute("""
                CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                    IF NEW.room = '%s' AND NEW.body = 'poison' THEN RAISE EXCEPTION 'poisoned'; END IF;
                    RETURN NEW; END $$;
                CREATE TRIGGER refuse_poison BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION refuse_poison();
                """.formatted(room));
        try {
            List<HttpResponse<String>> answers = postConcurrently(24, p -> List.of(server().postJson(room,
                    Json.object("author", "p" + p, "body", p == 5 ? "poison" : "fine " + p))));

            List<Integer> statuses = answers.stream().map(HttpResponse::statusCode).toList();
            assertEquals(23, statuses.stream().filter(s -> s == 201).count(), statuses.toString());
            assertEquals(1, statuses.stream().filter(s -> s == 500).count(), statuses.toString());
            assertEquals(LongStream.rangeClosed(1, 23).boxed().toList(), TestDatabase.seqs(room),
                    "the refused post took no seq, and its neighbours were stored");
        } finally {
            TestDatabase.execute("DROP TRIGGER refuse_poison ON messages; DROP FUNCTION refuse_poison()");
        }
    }

    private interface Poster {
        List<HttpResponse<String>> post(int poster) throws Exception;
    }

    /** Starts every poster at once, so their posts meet while earlier ones commit. */
    @Test
    void aPostTheDatabaseDoesNotTakeInTimeIsAnswered503AndOneStillQueuedIsNeverStored() throws Exception {
        String room = TestServer.room("stuck");
        var threads = Executors.newFixedThreadPool(2);
        try (TestServer server = TestServer.start("pgchat.database.timeout.seconds", "1");
             Connection lock = TestDatabase.connect()) {
            server.say(room, "a", "first");
            lock.setAutoCommit(false);
            try (var holding = lock.prepareStatement("SELECT 1 FROM rooms WHERE name = ? FOR UPDATE")) {
                holding.setString(1, room);
                holding.executeQuery().close();
            }
            Future<HttpResponse<String>> sent = threads.submit(() ->
                    server.postJson(room, Json.object("author", "a", "body", "sent")));
            TestDatabase.awaitAPostWaitingOnALock();
            Future<HttpResponse<String>> queued = threads.submit(() ->
                    server.postJson(room, Json.object("author", "a", "body", "queued")));

            HttpResponse<String> late = sent.get(10, TimeUnit.SECONDS);
            assertEquals(503, late.statusCode(), late.body());
            assertTrue(late.body().contains("did not answer in 1 s"), late.body());
            HttpResponse<String> withdrawn = queued.get(10, TimeUnit.SECONDS);
            assertEquals(503, withdrawn.statusCode(), withdrawn.body());
            assertTrue(withdrawn.body().contains("it was not stored"), withdrawn.body());

            lock.commit();
            // The late one was already in PostgreSQL's hands and commits now (its 503 said only that it
            // was late); the withdrawn one is never sent, so the next post follows the late one.
            assertEquals(201, server.postJson(room, Json.object("author", "a", "body", "after")).statusCode());
            assertEquals(List.of("first", "sent", "after"), TestDatabase.bodies(room));
        } finally {
            threads.shutdownNow();
        }
    }

    private static List<HttpResponse<String>> postConcurrently(int posters, Poster poster) throws Exception {
        List<Future<List<HttpResponse<String>>>> running = new ArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int p = 0; p < posters; p++) {
                int id = p;
                running.add(threads.submit((Callable<List<HttpResponse<String>>>) () -> {
                    start.await();
                    return poster.post(id);
                }));
            }
            start.countDown();
        }
        List<HttpResponse<String>> answers = new ArrayList<>();
        for (Future<List<HttpResponse<String>>> f : running) {
            answers.addAll(f.get());
        }
        return answers;
    }

    /** What PostgreSQL announced on the server's channel, heard on a LISTEN connection of the test's own. */
    private static final class Announcements implements AutoCloseable {
        private final Connection connection;

        Announcements() throws Exception {
            connection = TestDatabase.connect();
            try (Statement s = connection.createStatement()) {
                s.execute("LISTEN " + io.pgchat.posting.Announcements.CHANNEL);
            }
        }

        /** The seqs of the room in each announcement, waiting until count of them have come. */
        List<List<Long>> of(String room, int count) throws Exception {
            List<List<Long>> announcements = new ArrayList<>();
            int seen = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (seen < count && System.nanoTime() < deadline) {
                PGNotification[] batch = connection.unwrap(PGConnection.class).getNotifications(500);
                for (PGNotification notification : batch == null ? new PGNotification[0] : batch) {
                    List<Long> seqs = new ArrayList<>();
                    for (JsonNode item : Json.parse(notification.getParameter())) {
                        if (item.get("room").asText().equals(room)) {
                            seqs.add(item.get("seq").asLong());
                        }
                    }
                    if (!seqs.isEmpty()) {
                        announcements.add(seqs);
                        seen += seqs.size();
                    }
                }
            }
            return announcements;
        }

        @Override
        public void close() throws Exception {
            connection.close();
        }
    }

    private static TestServer server() {
        return running.get();
    }
}
