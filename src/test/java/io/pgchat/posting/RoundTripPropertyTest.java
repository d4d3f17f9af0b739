package io.pgchat.posting;

import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.net.http.HttpResponse;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * For any author and body: what is accepted comes out of the event stream exactly as stored (trimmed,
 * CRLF as LF), what is refused gets a 400, and no content can split the stream or forge a field.
 */
class RoundTripPropertyTest {

    private static TestServer server;
    private static String room;
    private static SseClient stream;

    @BeforeContainer
    static void start() throws Exception {
        server = TestServer.start();
        room = TestServer.room("props");
        stream = server.subscribe(TestServer.events(room));
        SseClient.awaitOpen(stream);
    }

    @AfterContainer
    static void stop() throws Exception {
        try {
            // No event beyond one per accepted post: a sentinel is the next.
            server.assertNextIsASentinel(stream, room);
            // Every line on the wire is one of the protocol's own: nothing injected by content.
            for (String line : stream.lines()) {
                assertTrue(line.isEmpty() || line.startsWith(":") || line.matches("retry: \\d+|id: \\d+|event: message")
                        || line.startsWith("data: {\"room\":"), "a line no frame of ours has: " + line);
            }
        } finally {
            stream.close();
            server.close();
            TestDatabase.clear();
        }
    }

    @Property(tries = 250)
    void whatASubscriberDecodesIsWhatWasPosted(@ForAll("texts") String author, @ForAll("texts") String body)
            throws Exception {
        HttpResponse<String> response = server.postJson(room, Json.object("author", author, "body", body));
        Optional<String> storedAuthor = accepted(author, MessageInput.MAX_AUTHOR, false);
        Optional<String> storedBody = accepted(body, MessageInput.MAX_BODY, true);
        if (storedAuthor.isEmpty() || storedBody.isEmpty()) {
            assertEquals(400, response.statusCode(), response.body());
            return;
        }
        assertEquals(201, response.statusCode(), response.body());
        SseClient.Event event = stream.next();
        JsonNode message = Json.parse(event.data());
        assertEquals("message", event.event());
        assertEquals(Json.parse(response.body()).get("seq").asText(), event.id());
        assertEquals(event.id(), message.get("seq").asText());
        assertEquals(storedAuthor.get(), message.get("author").asText());
        assertEquals(storedBody.get(), message.get("body").asText());
    }

    /** The documented rules, written out independently of the server's code. */
    private static Optional<String> accepted(String value, int max, boolean multiline) {
        String text = value.replace("\r\n", "\n");
        boolean clean = text.codePoints().allMatch(cp -> Character.isISOControl(cp)
                ? multiline && (cp == '\n' || cp == '\t')
                : !(cp >= 0xD800 && cp <= 0xDFFF));
        text = text.strip();
        int length = text.codePointCount(0, text.length());
        return clean && length >= 1 && length <= max ? Optional.of(text) : Optional.empty();
    }

    @Provide
    Arbitrary<String> texts() {
        Arbitrary<String> piece = Arbitraries.oneOf(
                Arbitraries.strings().all().ofMaxLength(12),
                Arbitraries.strings().withCharRange(' ', '\uD7FF').ofMaxLength(200),
                Arbitraries.of("\n", "\r\n", "\r", "\t", "\n\n", "\r\n\r\n", "id: 99", "\nid: 7\n\n", "event: reset",
                        "data: {}", ":", "retry: 0", "😀", "👩‍👩‍👧", "\u2028", "\u0085", "\u001f", "\"", "\\",
                        "<img src=x onerror=alert(1)>", "'; DROP TABLE messages; --", "é", "\uFEFF"),
                Arbitraries.integers().between(60, 4100).map("long line "::repeat).map(s -> s.substring(0, s.length() / 10)));
        return piece.list().ofMaxSize(8).map(parts -> String.join("", parts));
    }
}
