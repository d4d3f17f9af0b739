package io.pgchat.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SseReaderTest {

    private static final String PGCHAT_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
    private static final String EVENTS = ": room r\nretry: 2000\n\n"
            + "id: 7\nevent: message\ndata: {\"room\":\"r\",\"seq\":7,\"author\":\"bench\",\"body\":\"b:41 xx\",\"sentAt\":1}\n\n"
            + ":\n\n"
            + "id: 8\nevent: message\ndata: {\"room\":\"r\",\"seq\":8,\"author\":\"bench\",\"body\":\"b:42 xx\",\"sentAt\":1}\n\n";

    private final List<String> seen = new ArrayList<>();
    private final SseReader.Listener listener = new SseReader.Listener() {
        @Override
        public void ready() {
            seen.add("ready");
        }

        @Override
        public void event(long id, long n, int publisher, long k, long seq, long room) {
            seen.add(id + "/" + n + (publisher >= 0 || k >= 0 ? " p " + publisher + "." + k : "")
                    + (seq >= 0 || room >= 0 ? " seq " + seq + " room " + room : ""));
        }

        @Override
        public void unexpectedEvent(String type) {
            seen.add("event " + type);
        }

        @Override
        public void refused(String why) {
            seen.add(why);
        }
    };

    @Test
    void chunkedStreamYieldsIdAndMessageNumberOfEachEventWhateverTheReadBoundaries() {
        byte[] wire = (PGCHAT_HEAD + chunked(EVENTS, 13)).getBytes(StandardCharsets.UTF_8);
        for (int piece : new int[] {1, 2, 7, 64, wire.length}) {
            seen.clear();
            SseReader reader = new SseReader(listener, true);
            for (int i = 0; i < wire.length; i += piece) {
                assertTrue(reader.feed(wire, i, Math.min(piece, wire.length - i)));
            }
            assertEquals(List.of("ready", "7/41", "8/42"), seen, "read in pieces of " + piece);
        }
    }

    @Test
    void nchanStreamIsKnownByTheNumberInItsDataOnly() {
        String wire = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n\r\n"
                + ": hi\n\nid: 1795268610:1\ndata: b:5 xx\n\n";
        byte[] bytes = wire.getBytes(StandardCharsets.UTF_8);
        assertTrue(new SseReader(listener, false).feed(bytes, 0, bytes.length));
        assertEquals(List.of("ready", "-1/5"), seen);
    }

    @Test
    void multiRoomStreamYieldsPosMessageNumberSeqAndRoomNumberWhateverTheReadBoundaries() {
        String events = ": rooms bench9_3,bench9_17\nretry: 2000\n\n"
                + "id: 1234\nevent: message\ndata: {\"room\":\"bench9_17\",\"seq\":42,\"pos\":1234,"
                + "\"author\":\"bench\",\"body\":\"b:517 xx\",\"sentAt\":\"2026-11-21T10:00:00.123Z\"}\n\n"
                + ":\n\n"
                + "id: 1240\nevent: message\ndata: {\"room\":\"bench9_3\",\"seq\":1,\"pos\":1240,"
                + "\"author\":\"bench\",\"body\":\"b:3 xx\",\"sentAt\":\"2026-11-21T10:00:00.124Z\"}\n\n"
                // a room whose name does not end in _<digits> has no number
                + "id: 1241\nevent: message\ndata: {\"room\":\"general\",\"seq\":9,\"body\":\"b:4 xx\"}\n\n";
        byte[] wire = (PGCHAT_HEAD + chunked(events, 17)).getBytes(StandardCharsets.UTF_8);
        for (int piece : new int[] {1, 3, 64, wire.length}) {
            seen.clear();
            SseReader reader = new SseReader(listener, true, true);
            for (int i = 0; i < wire.length; i += piece) {
                assertTrue(reader.feed(wire, i, Math.min(piece, wire.length - i)));
            }
            assertEquals(List.of("ready", "1234/517 seq 42 room 17", "1240/3 seq 1 room 3", "1241/4 seq 9 room -1"),
                    seen, "read in pieces of " + piece);
        }
    }

    @Test
    void publisherMarkSaysWhoPostedAndItsNumberThere() {
        String wire = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
                + ": hi\n\n"
                + "data: b:5 p:3.17 xx\n\n"
                + "data: {\"room\":\"r\",\"seq\":2,\"pos\":9,\"body\":\"b:6 p:12.0 xx\"}\n\n"
                // an old body without a mark, and a mark without its number: neither says a publisher
                + "data: b:7 xx\n\n"
                + "data: b:8 p:3 xx\n\n";
        byte[] bytes = wire.getBytes(StandardCharsets.UTF_8);
        assertTrue(new SseReader(listener, false).feed(bytes, 0, bytes.length));
        assertEquals(List.of("ready", "-1/5 p 3.17", "-1/6 p 12.0", "-1/7", "-1/8"), seen);
    }

    @Test
    void roomFieldsAreReadOnlyWhenAskedFor() {
        byte[] wire = (PGCHAT_HEAD + chunked(EVENTS, 100)).getBytes(StandardCharsets.UTF_8);
        new SseReader(listener, true).feed(wire, 0, wire.length);
        assertEquals(List.of("ready", "7/41", "8/42"), seen);
    }

    @Test
    void refusedStreamSaysItsStatus() {
        byte[] wire = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.UTF_8);
        assertFalse(new SseReader(listener, true).feed(wire, 0, wire.length));
        assertEquals(List.of("http_503"), seen);
    }

    @Test
    void resetEventIsReported() {
        byte[] wire = (PGCHAT_HEAD + chunked(": room r\n\nid: 3\nevent: reset\ndata: {}\n\n", 100))
                .getBytes(StandardCharsets.UTF_8);
        new SseReader(listener, true).feed(wire, 0, wire.length);
        assertEquals(List.of("ready", "event reset", "3/-1"), seen);
    }

    private static String chunked(String body, int chunk) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < body.length(); i += chunk) {
            String part = body.substring(i, Math.min(body.length(), i + chunk));
            out.append(Integer.toHexString(part.length())).append("\r\n").append(part).append("\r\n");
        }
        return out.toString();
    }
}
