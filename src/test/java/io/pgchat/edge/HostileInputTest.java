package io.pgchat.edge;

import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile input: each attack gets its documented 4xx and error code (never a 5xx), stores nothing
 * partial, and the server keeps serving a subscriber that is watching all along.
 */
class HostileInputTest {

    private static TestServer server;
    private static String watched;
    private static SseClient watcher;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start("pgchat.slow.request.millis", "1000",
                "server.idle-connection-timeout", "PT1S", "server.idle-connection-period", "PT0.2S");
        watched = TestServer.room("ok-watched");
        watcher = server.subscribe(TestServer.events(watched));
        SseClient.awaitOpen(watcher);
    }

    @AfterAll
    static void stop() throws Exception {
        // After every attack, the stream opened first still delivers, and only what was accepted was stored.
        server.say(watched, "alice", "still here");
        assertEquals("still here", Json.parse(watcher.next().data()).get("body").asText());
        watcher.close();
        server.close();
        TestDatabase.clear();
    }

    @AfterEach
    void nothingWasStored() throws Exception {
        // Rooms named ok-... are where a test posts on purpose.
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM messages WHERE room NOT LIKE 'ok-%'"));
    }

    @Test
    void aTenMegabyteBodyIsRefusedBeforeItIsRead() throws Exception {
        byte[] huge = new byte[10 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) 'a');
        HttpResponse<String> response = server.http.send(HttpRequest.newBuilder(server.uri(messages("big")))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(huge)).build(), HttpResponse.BodyHandlers.ofString());
        assertError(response, 413, "too_large");
    }

    /** As PostgreSQL does: a lone lead byte, overlong forms of '<' and '/', an encoded surrogate. */
    @ParameterizedTest
    @ValueSource(strings = {"C3", "C0BC", "E080BC", "C0AF", "EDA080"})
    void invalidUtf8IsRefusedInJsonAndForms(String hex) throws Exception {
        byte[] bad = java.util.HexFormat.of().parseHex(hex);
        String percent = "%" + String.join("%", hex.split("(?<=\\G..)"));
        for (var body : List.of(
                concat("{\"author\":\"a\",\"body\":\"x", bad, "y\"}", "application/json"),
                concat("author=a&body=x", bad, "y", "application/x-www-form-urlencoded"),
                concat("author=a&body=x" + percent + "y", new byte[0], "", "application/x-www-form-urlencoded"))) {
            HttpResponse<String> response = server.http.send(HttpRequest.newBuilder(server.uri(messages("utf8")))
                    .header("Content-Type", body.getValue())
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body.getKey())).build(), HttpResponse.BodyHandlers.ofString());
            assertError(response, 400, "invalid_encoding");
        }
    }

    private static Map.Entry<byte[], String> concat(String before, byte[] bytes, String after, String contentType) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.US_ASCII));
        out.writeBytes(bytes);
        out.writeBytes(after.getBytes(StandardCharsets.US_ASCII));
        return Map.entry(out.toByteArray(), contentType);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "null", "\"text\"", "[]", "{\"author\":[\"a\"],\"body\":\"b\"}",
            "{\"author\":\"a\",\"body\":1e999}", "{\"author\":\"a\",\"body\":\"b\"", "{\"author\":\"a\",\"body\":\"b\"}x",
            "{\"author\":\"a\",\"body\":\"b\",\"extra\":null}"})
    void malformedJsonIsRefusedWithA400(String json) throws Exception {
        HttpResponse<String> response = server.postJson(TestServer.room("json"), json);
        assertEquals(400, response.statusCode(), json + " -> " + response.body());
        assertTrue(Json.parse(response.body()).get("error").asText().matches("invalid_\\w+|missing_\\w+|unknown_field"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a/b", "..", "%2e%2e", "%2E", "a%2Fb", "a%00b", "%D0%B0dmin", "caf%C3%A9", "x'%3BDROP%20TABLE%20messages%3B--",
            "%3Cscript%3E", "a%20b", "a.b"})
    void hostileRoomNamesNeverReachTheDatabase(String room) throws Exception {
        HttpResponse<String> response = server.postJson(room, Json.object("author", "a", "body", "b"));
        assertTrue(response.statusCode() == 400 || response.statusCode() == 404, room + " -> " + response.statusCode());
        String code = Json.parse(response.body()).get("error").asText();
        assertTrue(code.equals("invalid_room") || code.equals("not_found"), room + " -> " + response.body());
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM rooms WHERE name NOT LIKE 'ok-%'"));
    }

    @Test
    void injectionStringsAreStoredAsPlainText() throws Exception {
        String room = TestServer.room("ok-inject");
        String sql = "x'); DROP TABLE messages; --";
        String script = "<img src=x onerror=alert(1)><script>alert(1)</script>";
        HttpResponse<String> response = server.postJson(room, Json.object("author", sql, "body", script));
        assertEquals(201, response.statusCode(), response.body());
        var stored = Json.parse(server.get(messages(room)).body()).get(0);
        assertEquals(sql, stored.get("author").asText());
        assertEquals(script, stored.get("body").asText());
    }

    @ParameterizedTest
    @ValueSource(strings = {"99999999999999999999999", "-5", "1.5", "0x10", "1e3", "NaN", "+7"})
    void absurdResumePositionsAreRefused(String id) throws Exception {
        try (SseClient client = server.subscribe(TestServer.events(TestServer.room("absurd")), "Last-Event-ID", id)) {
            assertEquals(400, client.status(), id);
        }
    }

    @Test
    void digitsOfOtherScriptsAreNotNumbers() throws Exception {
        assertError(server.get(TestServer.events(TestServer.room("digits"))
                + "?lastEventId=%D9%A1%D9%A2"), 400, "invalid_lastEventId");
    }

    @Test
    void lineBreaksInAResumePositionAreRefused() throws Exception {
        String room = TestServer.room("crlf");
        assertError(server.get(TestServer.events(room) + "?lastEventId=5%0D%0Aevent:%20x"),
                400, "invalid_lastEventId");
        String raw = raw("GET " + TestServer.events(room) + "?tail=1%0A2 HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(raw.startsWith("HTTP/1.1 400"), raw);
        assertTrue(raw.contains("\"error\":\"invalid_tail\""), raw);
    }

    @Test
    void oversizedHeadersAndRequestLinesGetJsonErrors() throws Exception {
        String headers = raw("GET /api/rooms HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n");
        assertTrue(headers.startsWith("HTTP/1.1 400"), headers);
        assertTrue(headers.contains("\"error\":\"bad_request\""), headers);
        String line = raw("GET /api/rooms?x=" + "a".repeat(9_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(line.startsWith("HTTP/1.1 414"), line);
        assertTrue(line.contains("\"error\":\"uri_too_long\""), line);
    }

    /**
     * The server ends the connection (1 s limits here), long before the client's own time-out (30 s): a
     * head is cut off without an answer, a body is answered 408. Which of the server's rules cuts a head
     * here, its deadline or the idle timeout, HttpEdgeTest tells apart with a head that trickles in.
     */
    @ParameterizedTest
    @ValueSource(strings = {"POST /api/rooms/slow/mess",
            "POST /api/rooms/slow/messages HTTP/1.1\r\nHost: x\r\nContent-Le",
            "POST /api/rooms/slow/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 40\r\n\r\n{\"author\":\"a\","})
    void aClientThatStopsSendingMidRequestIsCutOffByTheServer(String partial) throws Exception {
        try (Socket slow = new Socket()) {
            slow.connect(new InetSocketAddress("127.0.0.1", server.chat.port()));
            slow.getOutputStream().write(partial.getBytes(StandardCharsets.US_ASCII));
            slow.setSoTimeout(30_000);
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            try {
                slow.getInputStream().transferTo(received);
            } catch (SocketTimeoutException e) {
                throw new AssertionError("the server did not end the connection within 30 s", e);
            } catch (IOException reset) {
                // the server's close came as a reset: what this test wants
            }
            String response = received.toString(StandardCharsets.UTF_8);
            if (partial.contains("\r\n\r\n")) {
                assertTrue(response.startsWith("HTTP/1.1 408") && response.contains("\"error\":\"request_timeout\""),
                        response);
            } else {
                assertEquals("", response, "a head that never ends is cut off without an answer");
            }
        }
    }

    @Test
    void aLiveStreamOutlastsTheIdleConnectionTimeout() throws Exception {
        String room = TestServer.room("ok-idle");
        try (SseClient client = server.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(client);
            Thread.sleep(2500); // longer than the 1 s idle timeout this server runs with
            server.say(room, "alice", "after the idle timeout");
            assertEquals("1", client.next().id());
        }
    }

    private static String messages(String room) {
        return "/api/rooms/" + room + "/messages";
    }

    /** Sends bytes no well-behaved client would, and returns the whole response. */
    private static String raw(String request) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.chat.port()));
            socket.setSoTimeout(5_000);
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            ByteArrayOutputStream response = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            try {
                in.transferTo(response);
            } catch (SocketTimeoutException e) {
                // kept alive: what came is the response
            }
            return response.toString(StandardCharsets.UTF_8);
        }
    }

}
