package io.pgchat.delivery;

import io.pgchat.posting.MessageInput;
import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.ServerPerClass;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event stream: live delivery, resume without gap or duplicate, and the exact bytes on the wire. */
public class EventStreamTest {

    @RegisterExtension
    static final ServerPerClass running = new ServerPerClass();

    @Test
    void postedMessageReachesEverySubscriberInTheRoomAndNoOther() throws Exception {
        String room = TestServer.room("live");
        String other = TestServer.room("other");
        try (SseClient first = server().subscribe(TestServer.events(room));
             SseClient second = server().subscribe(TestServer.events(room));
             SseClient elsewhere = server().subscribe(TestServer.events(other))) {
            SseClient.awaitOpen(first, second, elsewhere);

            server().say(room, "alice", "hello room");

            for (SseClient client : List.of(first, second)) {
                SseClient.Event event = client.next();
                assertEquals("1", event.id());
                assertEquals("message", event.event());
                JsonNode message = Json.parse(event.data());
                assertEquals("hello room", message.get("body").asText());
                assertEquals("alice", message.get("author").asText());
                assertEquals(room, message.get("room").asText());
            }
            server().assertNextIsASentinel(elsewhere, other);
        }
    }

    @Test
    void streamBytesFollowTheContract() throws Exception {
        String room = TestServer.room("wire");
        try (SseClient client = server().subscribe(TestServer.events(room))) {
            HttpResponse<?> response = client.response.get();
            assertEquals(200, response.statusCode());
            assertEquals("text/event-stream", response.headers().firstValue("Content-Type").orElseThrow());
            assertEquals("no-cache", response.headers().firstValue("Cache-Control").orElseThrow());
            assertEquals("no", response.headers().firstValue("X-Accel-Buffering").orElseThrow());
            SseClient.awaitOpen(client);

            String posted = server().postJson(room, Json.object("author", "a", "body", "line1\nline2\r\nid: 99\n\nevent: x"))
                    .body();
            client.next();

            List<String> lines = client.lines();
            int start = lines.indexOf("id: 1");
            assertEquals(List.of("id: 1", "event: message", "data: " + posted, ""), lines.subList(start, start + 4),
                    "one data line: content cannot split or forge the frame");
            assertTrue(lines.contains("retry: 2000"), lines.toString());
        }
    }

    @Test
    void idleStreamGetsHeartbeats() throws Exception {
        try (SseClient client = server().subscribe(TestServer.events(TestServer.room("idle")))) {
            SseClient.awaitOpen(client);
            Await.until(Duration.ofSeconds(5), () -> "fewer than two heartbeats: " + client.lines(),
                    () -> client.lines().stream().filter(":"::equals).count() >= 2);
        }
    }

    @Test
    void resumeWithLastEventIdReplaysOnlyWhatWasMissed() throws Exception {
        String room = TestServer.room("resume");
        for (int i = 1; i <= 5; i++) {
            server().say(room, "alice", "m" + i);
        }
        try (SseClient client = server().subscribe(TestServer.events(room), "Last-Event-ID", "2")) {
            assertEquals(List.of("3", "4", "5"), client.ids(3));
            server().say(room, "bob", "m6");
            assertEquals("6", client.next().id());
            server().assertNextIsASentinel(client, room);
        }
    }

    @Test
    void resumeWithQueryParameterWorksLikeTheHeader() throws Exception {
        String room = TestServer.room("query");
        for (int i = 1; i <= 4; i++) {
            server().say(room, "alice", "m" + i);
        }
        try (SseClient client = server().subscribe(TestServer.events(room) + "?lastEventId=1")) {
            assertEquals(List.of("2", "3", "4"), client.ids(3));
            server().assertNextIsASentinel(client, room);
        }
        try (SseClient client = server().subscribe(TestServer.events(room) + "?lastEventId=1", "Last-Event-ID", "3")) {
            assertEquals(List.of("4"), client.ids(1), "the header wins over the query parameter");
        }
    }

    @Test
    void withoutAResumePositionTheStreamStartsLiveOrWithTheTail() throws Exception {
        String room = TestServer.room("tail");
        for (int i = 1; i <= 5; i++) {
            server().say(room, "alice", "m" + i);
        }
        try (SseClient live = server().subscribe(TestServer.events(room));
             SseClient tail = server().subscribe(TestServer.events(room) + "?tail=2")) {
            assertEquals(List.of("4", "5"), tail.ids(2));
            SseClient.awaitOpen(live);
            server().say(room, "bob", "m6");
            assertEquals("6", live.next().id(), "nothing from before the connection");
            assertEquals("6", tail.next().id());
        }
    }

    @Test
    void aResumePositionBeyondTheRoomGetsAResetEvent() throws Exception {
        String room = TestServer.room("reset");
        server().say(room, "alice", "only one");
        try (SseClient client = server().subscribe(TestServer.events(room), "Last-Event-ID", "500")) {
            SseClient.Event reset = client.next();
            assertEquals("reset", reset.event());
            assertEquals("1", reset.id(), "the client's id moves to the room's end");
            assertEquals(1, Json.parse(reset.data()).get("lastSeq").asLong());
            server().say(room, "bob", "two");
            assertEquals("2", client.next().id());
        }
    }

    @Test
    void garbageResumePositionsAreRefused() throws Exception {
        String room = TestServer.room("garbage");
        for (String id : List.of("abc", "-1", "1e3", "99999999999999999999")) {
            try (SseClient client = server().subscribe(TestServer.events(room), "Last-Event-ID", id)) {
                assertEquals(400, client.status(), id);
            }
        }
        assertError(server().get(TestServer.events(room) + "?lastEventId=x"), 400, "invalid_lastEventId");
        assertError(server().get(TestServer.events(room) + "?tail=-3"), 400, "invalid_tail");
        assertError(server().get("/api/rooms/no%20spaces/events"), 400, "invalid_room");
    }

    @Test
    void streamsAreReadOnly() throws Exception {
        for (String path : List.of(TestServer.events("general"), "/api/events?rooms=general")) {
            HttpResponse<String> post = server().http.send(HttpRequest.newBuilder(server().uri(path))
                    .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
            assertError(post, 405, "method_not_allowed");
            assertEquals("GET", post.headers().firstValue("Allow").orElseThrow(), path);
        }
    }

    @Test
    void aBodyTooLargeForANotificationIsDeliveredWhole() throws Exception {
        String room = TestServer.room("large");
        String body = "€".repeat(MessageInput.MAX_BODY);
        assertTrue(body.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 8000);
        try (SseClient client = server().subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(client);
            server().say(room, "alice", "small first");
            server().say(room, "alice", body);
            server().say(room, "alice", "small after");

            assertEquals("small first", Json.parse(client.next().data()).get("body").asText());
            assertEquals(body, Json.parse(client.next().data()).get("body").asText());
            assertEquals("small after", Json.parse(client.next().data()).get("body").asText());
        }
    }

    private static TestServer server() {
        return running.get();
    }
}
