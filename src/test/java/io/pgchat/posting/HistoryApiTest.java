package io.pgchat.posting;

import io.pgchat.testing.Json;
import io.pgchat.testing.ServerPerClass;
import io.pgchat.testing.TestServer;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** History pages and the room list, read straight from the table. */
class HistoryApiTest {

    @RegisterExtension
    static final ServerPerClass running = new ServerPerClass("pgchat.history.limit", "3", "pgchat.history.max", "5");

    @Test
    void historyPagesAscendAndScrollBackWithBefore() throws Exception {
        String room = TestServer.room("history");
        for (int i = 1; i <= 8; i++) {
            server().say(room, "alice", "m" + i);
        }
        String messages = "/api/rooms/" + room + "/messages";

        assertEquals(List.of(6L, 7L, 8L), seqs(messages), "the newest page by default, ascending");
        assertEquals(List.of(3L, 4L, 5L), seqs(messages + "?before=6"), "scrolling back");
        assertEquals(List.of(1L, 2L), seqs(messages + "?before=3"));
        assertEquals(List.of(3L, 4L, 5L, 6L, 7L), seqs(messages + "?after=2&limit=5"), "paging forward");
        assertEquals(List.of(3L, 4L), seqs(messages + "?after=2&before=5"));
        assertEquals(List.of(), seqs(messages + "?after=8"));
        assertEquals(List.of(), seqs("/api/rooms/" + TestServer.room("empty") + "/messages"));

        JsonNode first = Json.parse(server().get(messages + "?after=0&limit=1").body()).get(0);
        assertEquals("m1", first.get("body").asText());
        assertEquals("alice", first.get("author").asText());
    }

    @Test
    void historyParametersAreChecked() throws Exception {
        String messages = "/api/rooms/" + TestServer.room("params") + "/messages";
        assertError(server().get(messages + "?limit=6"), 400, "invalid_limit");
        assertError(server().get(messages + "?limit=0"), 400, "invalid_limit");
        assertError(server().get(messages + "?after=x"), 400, "invalid_after");
        assertError(server().get(messages + "?before=-1"), 400, "invalid_before");
    }

    @Test
    void roomsAreListedWithTheirLastMessageNewestFirst() throws Exception {
        String quiet = TestServer.room("quiet");
        String busy = TestServer.room("busy");
        server().say(quiet, "alice", "once");
        server().say(busy, "bob", "one");
        server().say(busy, "bob", "two");

        JsonNode rooms = Json.parse(server().get("/api/rooms").body());
        assertEquals(2, rooms.size());
        assertEquals(busy, rooms.get(0).get("room").asText());
        assertEquals(2, rooms.get(0).get("lastSeq").asLong());
        assertEquals(quiet, rooms.get(1).get("room").asText());
        assertEquals(1, rooms.get(1).get("lastSeq").asLong());
        String lastSentAt = rooms.get(0).get("lastSentAt").asText();
        JsonNode last = Json.parse(server().get("/api/rooms/" + busy + "/messages/2").body());
        assertEquals(last.get("sentAt").asText(), lastSentAt);
    }

    private static List<Long> seqs(String path) throws Exception {
        var response = server().get(path);
        assertEquals(200, response.statusCode(), response.body());
        List<Long> seqs = new ArrayList<>();
        Json.parse(response.body()).forEach(m -> seqs.add(m.get("seq").asLong()));
        return seqs;
    }

    private static TestServer server() {
        return running.get();
    }
}
