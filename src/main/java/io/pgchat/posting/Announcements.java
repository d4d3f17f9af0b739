package io.pgchat.posting;

import io.pgchat.Message;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The NOTIFY payload, in one place: written in SQL by the posting statement (GroupCommit), read here
 * for the listener. A payload is a JSON array of one commit's messages in log order, each whole or,
 * when too large to travel, as room, seq and pos only.
 */
public final class Announcements {

    public static final String CHANNEL = "pgchat";
    /** One message as an item of the payload, from the columns room, seq, pos, author, body, sent_at. */
    static final String ITEM_SQL = "json_build_object('room', room, 'seq', seq, 'pos', pos, 'author', author,"
            + " 'body', body, 'sentAt', (extract(epoch FROM sent_at) * 1000)::bigint)::text";
    /** The item of a message whose payload would pass PostgreSQL's 8000-byte limit: the listener reads its row. */
    static final String SHORT_ITEM_SQL = "json_build_object('room', room, 'seq', seq, 'pos', pos)";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** A payload read: each room's part, and the log position of its last message. */
    public record Commit(List<Room> rooms, long lastPos) {
    }

    /** One room's part of a payload: its seq range, and its messages unless some came without their row. */
    public record Room(String room, long first, long last, List<Message> messages) {
    }

    private Announcements() {
    }

    public static Commit parse(String payload) throws IOException {
        Map<String, Gathering> rooms = new LinkedHashMap<>();
        long lastPos = 0;
        for (JsonNode item : MAPPER.readTree(payload)) {
            String room = item.get("room").asText();
            long seq = item.get("seq").asLong();
            long pos = item.get("pos").asLong();
            Message message = item.has("body")
                    ? new Message(room, seq, pos, item.get("author").asText(), item.get("body").asText(),
                            Instant.ofEpochMilli(item.get("sentAt").asLong()))
                    : null;
            rooms.computeIfAbsent(room, r -> new Gathering(seq)).add(seq, message);
            lastPos = Math.max(lastPos, pos);
        }
        List<Room> parts = new ArrayList<>(rooms.size());
        rooms.forEach((room, part) -> parts.add(new Room(room, part.first, part.last, part.messages)));
        return new Commit(parts, lastPos);
    }

    private static final class Gathering {
        final long first;
        long last;
        List<Message> messages = new ArrayList<>();

        Gathering(long first) {
            this.first = first;
        }

        void add(long seq, Message message) {
            last = seq;
            if (messages != null && message != null) {
                messages.add(message);
            } else {
                messages = null;
            }
        }
    }
}
