package io.pgchat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * A stored chat message and its two wire forms: JSON for the API, an SSE event for streams. seq counts
 * a room's messages with no gap; pos is its place in the log of all rooms, in commit order.
 */
public record Message(String room, long seq, long pos, String author, String body, Instant sentAt) {

    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter MILLIS =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final byte[] ID = "id: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] EVENT_NAME = "\nevent: message\ndata: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] END = "\n\n".getBytes(StandardCharsets.US_ASCII);

    public byte[] toJson() {
        return write(this::writeTo);
    }

    public static byte[] toJson(List<Message> messages) {
        return write(g -> {
            g.writeStartArray();
            for (Message m : messages) {
                m.writeTo(g);
            }
            g.writeEndArray();
        });
    }

    /**
     * An SSE event: {@code id}, {@code event} and a single {@code data} line holding the message's JSON.
     * JSON escapes every line break, so no message content can end the event early or forge a field.
     */
    public static void writeEvent(ByteBuffer out, long id, byte[] json) {
        out.put(ID).put(Long.toString(id).getBytes(StandardCharsets.US_ASCII)).put(EVENT_NAME).put(json).put(END);
    }

    /** The bytes writeEvent writes. */
    public static int eventSize(long id, byte[] json) {
        return ID.length + Long.toString(id).length() + EVENT_NAME.length + json.length + END.length;
    }

    private void writeTo(JsonGenerator g) throws IOException {
        g.writeStartObject();
        g.writeStringField("room", room);
        g.writeNumberField("seq", seq);
        g.writeNumberField("pos", pos);
        g.writeStringField("author", author);
        g.writeStringField("body", body);
        g.writeStringField("sentAt", timestamp(sentAt));
        g.writeEndObject();
    }

    /** UTC with milliseconds always written, so every timestamp of the API has one shape. */
    public static String timestamp(Instant instant) {
        return MILLIS.format(instant);
    }

    public interface JsonWriter {
        void write(JsonGenerator g) throws IOException;
    }

    public static byte[] write(JsonWriter writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
