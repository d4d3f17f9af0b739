package io.pgchat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Floods meet limits: 429 or 503 with Retry-After, and nothing over a limit is stored. */
class LimitsTest {

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void postsOverTheAddressRateAreRefusedAndNotStored() throws Exception {
        String room = TestServer.room("flood");
        try (TestServer server = TestServer.start("pgchat.limits.posts.burst", "3", "pgchat.limits.posts.address", "1")) {
            for (int i = 0; i < 3; i++) {
                assertEquals(201, server.postJson(room, Json.object("author", "a" + i, "body", "hi")).statusCode());
            }
            HttpResponse<String> refused = server.postJson(room, Json.object("author", "other", "body", "too many"));
            PostMessageTest.assertError(refused, 429, "rate_limited");
            long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
            assertTrue(retryAfter >= 1 && retryAfter <= 60, "Retry-After " + retryAfter);
            assertEquals(List.of(1L, 2L, 3L), TestDatabase.seqs(room));
        }
    }

    @Test
    void oneAuthorCannotFloodThoughOthersMayPost() throws Exception {
        String room = TestServer.room("author");
        try (TestServer server = TestServer.start("pgchat.limits.posts.burst", "2", "pgchat.limits.posts.author", "1")) {
            server.say(room, "spammer", "1");
            server.say(room, "spammer", "2");
            PostMessageTest.assertError(server.postJson(room, Json.object("author", "spammer", "body", "3")),
                    429, "rate_limited");
            assertEquals(201, server.postJson(room, Json.object("author", "alice", "body", "hello")).statusCode());
            assertEquals(3, TestDatabase.seqs(room).size());
        }
    }

    @Test
    void newRoomsPerAddressAreLimitedButExistingRoomsStayOpen() throws Exception {
        try (TestServer server = TestServer.start("pgchat.limits.rooms.hour", "2")) {
            String first = TestServer.room("r");
            server.say(first, "alice", "1");
            server.say(TestServer.room("r"), "alice", "1");
            String third = TestServer.room("r");
            PostMessageTest.assertError(server.postJson(third, Json.object("author", "alice", "body", "1")),
                    429, "rate_limited");
            assertEquals(List.of(), TestDatabase.seqs(third));
            assertEquals(201, server.postJson(first, Json.object("author", "alice", "body", "2")).statusCode());
        }
    }

    @Test
    void behindATrustedProxyEachForwardedClientHasItsOwnLimit() throws Exception {
        String room = TestServer.room("forwarded");
        try (TestServer server = TestServer.start("pgchat.limits.posts.burst", "1", "pgchat.limits.posts.address", "1",
                "pgchat.limits.forwarded", "true")) {
            assertEquals(201, postFrom(server, room, "spoofed, 10.0.0.1").statusCode());
            assertEquals(429, postFrom(server, room, "10.0.0.1").statusCode(), "the proxy-appended entry counts");
            assertEquals(201, postFrom(server, room, "10.0.0.2").statusCode());
        }
    }

    @Test
    void streamsAreCappedPerProcessAndPerAddress() throws Exception {
        String room = TestServer.room("streams");
        try (TestServer server = TestServer.start("pgchat.limits.subscribers.max", "2",
                "pgchat.limits.subscribers.address", "2")) {
            try (SseClient a = server.subscribe(EventStreamTest.events(room));
                 SseClient b = server.subscribe(EventStreamTest.events(room))) {
                EventStreamTest.awaitOpen(a, b);
                HttpResponse<String> refused = server.get(EventStreamTest.events(room));
                PostMessageTest.assertError(refused, 503, "too_many_subscribers");
                assertTrue(refused.headers().firstValue("Retry-After").isPresent());
            }
            awaitNoSubscribers(server);
            assertEquals(200, server.subscribe(EventStreamTest.events(room)).status(), "a closed stream frees its place");
        }
        try (TestServer server = TestServer.start("pgchat.limits.subscribers.address", "1");
             SseClient only = server.subscribe(EventStreamTest.events(room))) {
            EventStreamTest.awaitOpen(only);
            PostMessageTest.assertError(server.get(EventStreamTest.events(room)), 429, "too_many_streams");
        }
    }

    private static HttpResponse<String> postFrom(TestServer server, String room, String forwardedFor) throws Exception {
        return server.http.send(HttpRequest.newBuilder(server.uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .header("X-Forwarded-For", forwardedFor)
                .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", forwardedFor, "body", "hi")))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitNoSubscribers(TestServer server) throws Exception {
        Await.until(Duration.ofSeconds(5), () -> "streams still held: " + server.chat.subscribers(),
                () -> server.chat.subscribers() == 0);
    }
}
