package io.pgchat.posting;

import io.pgchat.testing.Json;
import io.pgchat.testing.ServerPerClass;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Posting: what is accepted is stored and answered with the stored message; what is refused stores nothing. */
public class PostMessageTest {

    @RegisterExtension
    static final ServerPerClass running = new ServerPerClass();

    @Test
    void postedJsonIsStoredAndAnsweredWithTheStoredMessage() throws Exception {
        String room = TestServer.room("post");
        HttpResponse<String> response = server().postJson(room, "{\"author\":\" alice \",\"body\":\"hi\\nthere\"}");

        assertEquals(201, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("/api/rooms/" + room + "/messages/1", response.headers().firstValue("Location").orElseThrow());
        JsonNode message = Json.parse(response.body());
        assertEquals(room, message.get("room").asText());
        assertEquals(1, message.get("seq").asLong());
        assertEquals("alice", message.get("author").asText(), "trimmed");
        assertEquals("hi\nthere", message.get("body").asText());
        Instant sentAt = Instant.parse(message.get("sentAt").asText());
        assertTrue(Math.abs(ChronoUnit.SECONDS.between(sentAt, Instant.now())) < 60, sentAt.toString());
        assertTrue(message.get("sentAt").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));

        assertEquals(List.of(1L), TestDatabase.seqs(room));
        assertEquals(response.body(), server().get("/api/rooms/" + room + "/messages/1").body(),
                "the Location serves the same message");
    }

    @Test
    void postedFormIsAcceptedLikeJson() throws Exception {
        String room = TestServer.room("form");
        HttpResponse<String> response = server().post(room, "application/x-www-form-urlencoded; charset=UTF-8",
                "author=bob&body=hello+w%C3%B6rld%21%0D%0Aline+two");

        assertEquals(201, response.statusCode(), response.body());
        JsonNode message = Json.parse(response.body());
        assertEquals("bob", message.get("author").asText());
        assertEquals("hello wörld!\nline two", message.get("body").asText(), "CRLF from a form becomes a newline");
    }

    @Test
    void seqCountsUpPerRoomIndependently() throws Exception {
        String a = TestServer.room("a");
        String b = TestServer.room("b");
        for (int i = 0; i < 3; i++) {
            server().say(a, "alice", "a" + i);
        }
        server().say(b, "bob", "b0");

        assertEquals(List.of(1L, 2L, 3L), TestDatabase.seqs(a));
        assertEquals(List.of(1L), TestDatabase.seqs(b));
        assertEquals(4, Json.parse(server().postJson(a, Json.object("author", "x", "body", "y")).body())
                .get("seq").asLong());
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyIsStoredOnce() throws Exception {
        String room = TestServer.room("retry");
        String json = Json.object("author", "alice", "body", "sent twice, stored once");
        HttpResponse<String> first = postWithKey(room, json, "msg-7f3a");
        HttpResponse<String> retry = postWithKey(room, json, "msg-7f3a");

        assertEquals(201, first.statusCode(), first.body());
        assertEquals(200, retry.statusCode(), "a replay, not a new message: " + retry.body());
        assertEquals(first.body(), retry.body());
        assertEquals(first.headers().firstValue("Location"), retry.headers().firstValue("Location"));
        assertEquals(List.of(1L), TestDatabase.seqs(room), "one row, and no seq spent on the retry");
        server().say(room, "bob", "next");
        assertEquals(List.of(1L, 2L), TestDatabase.seqs(room));

        assertError(postWithKey(room, Json.object("author", "alice", "body", "something else"), "msg-7f3a"),
                409, "idempotency_key_reused");
        assertEquals(201, postWithKey(TestServer.room("other"), json, "msg-7f3a").statusCode(), "keys are per room");
        assertError(postWithKey(room, json, "has spaces"), 400, "invalid_idempotency_key");
        assertEquals(List.of(1L, 2L), TestDatabase.seqs(room));
    }

    @Test
    void concurrentRetriesOfOneKeyStoreOneMessage() throws Exception {
        String room = TestServer.room("race");
        String json = Json.object("author", "alice", "body", "raced");
        List<java.util.concurrent.Future<HttpResponse<String>>> answers = new java.util.ArrayList<>();
        try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 8; i++) {
                answers.add(threads.submit(() -> postWithKey(room, json, "same-key")));
            }
        }
        List<Integer> statuses = new java.util.ArrayList<>();
        for (var answer : answers) {
            statuses.add(answer.get().statusCode());
        }
        assertEquals(1, statuses.stream().filter(s -> s == 201).count(), statuses.toString());
        assertEquals(7, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
        assertEquals(List.of(1L), TestDatabase.seqs(room));
    }

    private static HttpResponse<String> postWithKey(String room, String json, String key) throws Exception {
        return server().http.send(HttpRequest.newBuilder(server().uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aBodyOfExactlyTheLimitIsAccepted() throws Exception {
        String room = TestServer.room("limit");
        String body = "😀".repeat(MessageInput.MAX_BODY);
        HttpResponse<String> response = server().postJson(room, Json.object("author", "é".repeat(64), "body", body));

        assertEquals(201, response.statusCode(), response.body());
        assertEquals(body, Json.parse(response.body()).get("body").asText());
    }

    @ParameterizedTest(name = "{0} -> {1} {2}")
    @CsvSource(delimiter = '|', textBlock = """
            application/json | 400 | invalid_json         | {"author":"a","body":
            application/json | 400 | invalid_json         | ["a","b"]
            application/json | 400 | invalid_json         | {"author":"a","author":"b","body":"c"}
            application/json | 400 | missing_author       | {"body":"hi"}
            application/json | 400 | missing_body         | {"author":"alice"}
            application/json | 400 | missing_body         | {"author":"alice","body":"   "}
            application/json | 400 | invalid_author       | {"author":42,"body":"hi"}
            application/json | 400 | invalid_body         | {"author":"a","body":{"x":1}}
            application/json | 400 | unknown_field        | {"author":"a","body":"b","room":"other"}
            application/json | 400 | invalid_body         | {"author":"a","body":"nul \\u0000 here"}
            application/json | 400 | invalid_body         | {"author":"a","body":"bell \\u0007"}
            application/json | 400 | invalid_body         | {"author":"a","body":"lone \\ud800 surrogate"}
            application/json | 400 | invalid_author       | {"author":"two\\nlines","body":"b"}
            application/x-www-form-urlencoded | 400 | invalid_form     | author=a&body=%zz
            application/x-www-form-urlencoded | 400 | invalid_encoding | author=a&body=%ff%fe
            application/x-www-form-urlencoded | 400 | missing_author   | body=hello
            text/plain       | 415 | unsupported_media_type | hello
            """)
    void badInputIsRefusedWithItsCodeAndStoresNothing(String type, int status, String code, String body)
            throws Exception {
        String room = TestServer.room("bad");
        HttpResponse<String> response = server().post(room, type, body);

        assertError(response, status, code);
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM messages"));
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM rooms"));
    }

    @Test
    void tooLongFieldsAreRefused() throws Exception {
        String room = TestServer.room("long");
        assertError(server().postJson(room, Json.object("author", "a".repeat(65), "body", "b")), 400, "author_too_long");
        assertError(server().postJson(room, Json.object("author", "a", "body", "b".repeat(4001))), 400, "body_too_long");
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM messages"));
    }

    @Test
    void aBodyOverTheRequestLimitIs413() throws Exception {
        String room = TestServer.room("huge");
        String huge = Json.object("author", "a", "body", "x".repeat(200_000));
        assertError(server().postJson(room, huge), 413, "too_large");

        // Without Content-Length (chunked), the server stops reading at the limit all the same.
        HttpResponse<String> chunked = server().http.send(HttpRequest.newBuilder(
                        server().uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(
                        () -> new java.io.ByteArrayInputStream(huge.getBytes()))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertError(chunked, 413, "too_large");
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM messages"));
    }

    @Test
    void invalidRoomNamesAreRefused() throws Exception {
        assertError(server().postJson("a".repeat(65), "{\"author\":\"a\",\"body\":\"b\"}"), 400, "invalid_room");
        assertError(server().postJson("caf%C3%A9", "{\"author\":\"a\",\"body\":\"b\"}"), 400, "invalid_room");
        assertError(server().postJson("a.b", "{\"author\":\"a\",\"body\":\"b\"}"), 400, "invalid_room");
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM rooms"));
    }

    @Test
    void unknownPathsAndMethodsGetJsonErrors() throws Exception {
        assertError(server().get("/api/nothing-here"), 404, "not_found");
        assertError(server().get("/api/rooms/general/messages/7"), 404, "not_found");

        HttpResponse<String> delete = server().http.send(HttpRequest.newBuilder(
                server().uri("/api/rooms/general/messages")).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertError(delete, 405, "method_not_allowed");
        assertEquals("GET, POST", delete.headers().firstValue("Allow").orElseThrow());
    }

    private static TestServer server() {
        return running.get();
    }
}
