package io.pgchat.access;

import io.pgchat.testing.Await;
import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.pgchat.testing.ApiAssertions.assertError;
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
            assertError(refused, 429, "rate_limited");
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
            assertError(server.postJson(room, Json.object("author", "spammer", "body", "3")),
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
            assertError(server.postJson(third, Json.object("author", "alice", "body", "1")),
                    429, "rate_limited");
            assertEquals(List.of(), TestDatabase.seqs(third));
            assertEquals(201, server.postJson(first, Json.object("author", "alice", "body", "2")).statusCode());
        }
    }

    /**
     * Whether a room is new is read from the table only for a room this process has not seen: once its
     * history or its stream was read, a post to it takes no new-room allowance. The rows are removed
     * behind the server's back (rooms are never deleted otherwise), so that a read would now say "new"
     * and the post would be refused.
     */
    @Test
    void aRoomSeenByAReadIsNotReadAgainBeforeAPost() throws Exception {
        String history = TestServer.room("seen-history");
        String stream = TestServer.room("seen-stream");
        try (TestServer elsewhere = TestServer.start()) {
            elsewhere.say(history, "alice", "1");
            elsewhere.say(stream, "alice", "1");
        }
        try (TestServer server = TestServer.start("pgchat.limits.rooms.hour", "1")) {
            server.say(TestServer.room("r"), "alice", "1"); // this address's one new room of the hour
            assertEquals(200, server.get("/api/rooms/" + history + "/messages").statusCode());
            try (SseClient client = server.subscribe(TestServer.events(stream) + "?lastEventId=0")) {
                assertEquals("1", client.next().id());
            }
            TestDatabase.execute("DELETE FROM messages WHERE room IN ('" + history + "', '" + stream + "');"
                    + "DELETE FROM rooms WHERE name IN ('" + history + "', '" + stream + "')");
            assertEquals(201, server.postJson(history, Json.object("author", "alice", "body", "2")).statusCode());
            assertEquals(201, server.postJson(stream, Json.object("author", "alice", "body", "2")).statusCode());
            assertError(server.postJson(TestServer.room("r"), Json.object("author", "alice", "body", "1")),
                    429, "rate_limited");
        }
    }

    /**
     * Through our proxy (compose's nginx) with the default limits: 60 people are 60 clients, each
     * with its own posts and streams, and the proxy's connections are not capped as one client's.
     */
    @Test
    void behindATrustedProxyEachForwardedClientHasItsOwnLimits() throws Exception {
        String room = TestServer.room("forwarded");
        List<SseClient> streams = new ArrayList<>();
        try (TestServer server = TestServer.start("pgchat.limits.trusted.proxies", "127.0.0.1, ::1",
                "pgchat.limits.posts.address", "120", "pgchat.limits.subscribers.address", "50",
                "pgchat.limits.connections.address", "10")) {
            for (int i = 1; i <= 60; i++) {
                String client = "203.0.113." + i;
                assertEquals(201, postFrom(server, room, client).statusCode(), client);
                streams.add(server.subscribe(TestServer.events(room), "X-Forwarded-For", client));
            }
            for (SseClient stream : streams) {
                assertEquals(200, stream.status(), "a stream of its own client, on a connection of the proxy's");
            }
        } finally {
            streams.forEach(SseClient::close);
        }
    }

    @Test
    void aClientCannotForgeItsAddress() throws Exception {
        String room = TestServer.room("forged");
        // The test's peer, 127.0.0.1, is not a trusted proxy: what it says it forwards is ignored.
        try (TestServer server = TestServer.start("pgchat.limits.trusted.proxies", "10.0.0.0/8",
                "pgchat.limits.posts.burst", "1", "pgchat.limits.posts.address", "1")) {
            assertEquals(201, postFrom(server, room, "198.51.100.1").statusCode());
            assertEquals(429, postFrom(server, room, "198.51.100.2").statusCode(), "still 127.0.0.1's bucket");
        }
        // Through a trusted proxy, what the client wrote left of the proxy's entry is ignored.
        try (TestServer server = TestServer.start("pgchat.limits.trusted.proxies", "127.0.0.1",
                "pgchat.limits.posts.burst", "1", "pgchat.limits.posts.address", "1")) {
            assertEquals(201, postFrom(server, room, "198.51.100.9, 203.0.113.1").statusCode());
            assertEquals(429, postFrom(server, room, "198.51.100.10, 203.0.113.1").statusCode(),
                    "the address our proxy appended counts, not the forged one before it");
            assertEquals(201, postFrom(server, room, "203.0.113.2").statusCode());
        }
    }

    @Test
    void theClientIsTheRightMostUntrustedAddressAcrossEveryHeaderLine() throws Exception {
        String room = TestServer.room("chain");
        try (TestServer server = TestServer.start("pgchat.limits.trusted.proxies", "127.0.0.1,10.0.0.0/8,fd00::/8",
                "pgchat.limits.posts.burst", "1", "pgchat.limits.posts.address", "1")) {
            // Two lines, as a chain of proxies may send them: the client is 203.0.113.7 behind 10.0.0.5.
            assertEquals(201, postFrom(server, room, "198.51.100.1, 203.0.113.7", "10.0.0.5").statusCode());
            assertEquals(429, postFrom(server, room, "203.0.113.7, 10.1.2.3, [fd00::1]").statusCode(),
                    "the same client behind other trusted hops");
            assertEquals(201, postFrom(server, room, "203.0.113.8", "10.0.0.5").statusCode(), "another client");
            // Every entry trusted: the left-most is the client.
            assertEquals(201, postFrom(server, room, "10.9.9.9, 10.0.0.5").statusCode());
            assertEquals(429, postFrom(server, room, "10.9.9.9", "fd00::2").statusCode());
            assertEquals(201, postFrom(server, room, "2001:db8::1, fd00::3").statusCode(), "IPv6 clients too");
            assertEquals(429, postFrom(server, room, "2001:db8:0:0::1").statusCode(), "one address however written");
        }
    }

    @Test
    void streamsAreCappedPerProcessAndPerAddress() throws Exception {
        String room = TestServer.room("streams");
        try (TestServer server = TestServer.start("pgchat.limits.subscribers.max", "2",
                "pgchat.limits.subscribers.address", "2")) {
            try (SseClient a = server.subscribe(TestServer.events(room));
                 SseClient b = server.subscribe(TestServer.events(room))) {
                SseClient.awaitOpen(a, b);
                HttpResponse<String> refused = server.get(TestServer.events(room));
                assertError(refused, 503, "too_many_subscribers");
                assertTrue(refused.headers().firstValue("Retry-After").isPresent());
            }
            awaitNoSubscribers(server);
            assertEquals(200, server.subscribe(TestServer.events(room)).status(), "a closed stream frees its place");
        }
        try (TestServer server = TestServer.start("pgchat.limits.subscribers.address", "1");
             SseClient only = server.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(only);
            assertError(server.get(TestServer.events(room)), 429, "too_many_streams");
        }
    }

    /** A post with one X-Forwarded-For header line per forwardedFor, from 127.0.0.1; its author is unique. */
    private static HttpResponse<String> postFrom(TestServer server, String room, String... forwardedFor) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(server.uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", TestServer.room("a"), "body", "hi")));
        for (String line : forwardedFor) {
            request.header("X-Forwarded-For", line);
        }
        return server.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static void awaitNoSubscribers(TestServer server) throws Exception {
        Await.until(Duration.ofSeconds(5), () -> "streams still held: " + server.chat.subscribers(),
                () -> server.chat.subscribers() == 0);
    }
}
