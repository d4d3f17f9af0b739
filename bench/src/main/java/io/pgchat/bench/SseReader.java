package io.pgchat.bench;

import java.nio.charset.StandardCharsets;

/**
 * Reads one subscriber's response as it arrives, at byte level: the HTTP head, chunked framing if
 * any, then SSE lines. Per event it extracts only numbers: the `id:`, the message number n from the
 * `data:` line (the digits after "b:"), the publisher's mark ("p:<publisher>.<k>", see Publishers)
 * and, for a pgchat multi-room stream, the message's `"seq"` and
 * the number that ends its `"room"` (the bench's rooms are `<prefix>_<i>`). No String is made per
 * event: at 300k events/s this parser shares two cores with the server it measures.
 */
final class SseReader {

    interface Listener {
        /** Headers and the first line of the stream (pgchat's prelude, Nchan's ": hi") have arrived. */
        void ready();

        /**
         * id is -1 unless it is a number; n is -1 when the data holds no "b:<n>"; publisher and k are
         * -1 when it holds no "p:<publisher>.<k>"; seq and room are -1 unless the reader was asked for
         * them and the data holds them.
         */
        void event(long id, long n, int publisher, long k, long seq, long room);

        void unexpectedEvent(String type);

        void refused(String why);
    }

    private static final int HEAD_MAX = 16384;
    private static final int SIZE = 0, DATA = 1, DATA_END = 2;

    private final Listener listener;
    private final boolean numericIds;
    private final boolean roomFields;

    private byte[] head = new byte[1024];
    private int headLength;
    private boolean headDone;
    private boolean chunked;
    private int chunkState;
    private long chunkLeft;
    private boolean chunkExtension;

    private byte[] line = new byte[512];
    private int lineLength;
    private boolean anyLine;
    private boolean data;
    private long id;
    private long n;
    private int publisher;
    private long k;
    private long seq;
    private long room;

    SseReader(Listener listener, boolean numericIds) {
        this(listener, numericIds, false);
    }

    /** roomFields: also read each message's "seq" and the number ending its "room" (pgchat's multi-room stream). */
    SseReader(Listener listener, boolean numericIds, boolean roomFields) {
        this.listener = listener;
        this.numericIds = numericIds;
        this.roomFields = roomFields;
        reset();
    }

    /** For a new connection of the same subscriber. */
    void reset() {
        headLength = 0;
        headDone = false;
        chunked = false;
        chunkState = SIZE;
        chunkLeft = 0;
        chunkExtension = false;
        lineLength = 0;
        anyLine = false;
        clearEvent();
    }

    private void clearEvent() {
        data = false;
        id = -1;
        n = -1;
        publisher = -1;
        k = -1;
        seq = -1;
        room = -1;
    }

    /** False when the stream cannot go on: refused, malformed, or its last chunk came. */
    boolean feed(byte[] b, int offset, int length) {
        int end = offset + length;
        int i = offset;
        if (!headDone) {
            i = readHead(b, i, end);
            if (i < 0) {
                return false;
            }
        }
        if (!chunked) {
            lines(b, i, end);
            return true;
        }
        while (i < end) {
            switch (chunkState) {
                case SIZE -> {
                    byte c = b[i++];
                    if (c == '\n') {
                        if (chunkLeft == 0) {
                            listener.refused("stream_ended");
                            return false;
                        }
                        chunkState = DATA;
                    } else if (c == ';') {
                        chunkExtension = true;
                    } else if (!chunkExtension && Character.digit(c, 16) >= 0) {
                        chunkLeft = chunkLeft * 16 + Character.digit(c, 16);
                    }
                }
                case DATA -> {
                    int take = (int) Math.min(chunkLeft, end - i);
                    lines(b, i, i + take);
                    i += take;
                    chunkLeft -= take;
                    if (chunkLeft == 0) {
                        chunkState = DATA_END;
                    }
                }
                default -> {
                    if (b[i++] == '\n') {
                        chunkState = SIZE;
                        chunkExtension = false;
                    }
                }
            }
        }
        return true;
    }

    /** Index of the first body byte, or -1 when the response is refused. */
    private int readHead(byte[] b, int i, int end) {
        while (i < end) {
            if (headLength == head.length) {
                if (head.length >= HEAD_MAX) {
                    listener.refused("head_too_large");
                    return -1;
                }
                head = java.util.Arrays.copyOf(head, head.length * 2);
            }
            head[headLength++] = b[i++];
            if (headLength >= 4 && head[headLength - 1] == '\n' && head[headLength - 2] == '\r'
                    && head[headLength - 3] == '\n' && head[headLength - 4] == '\r') {
                String text = new String(head, 0, headLength, StandardCharsets.ISO_8859_1);
                int status = text.length() > 12 ? Integer.parseInt(text.substring(9, 12)) : 0;
                if (status != 200) {
                    listener.refused("http_" + status);
                    return -1;
                }
                chunked = text.toLowerCase().contains("\ntransfer-encoding: chunked");
                headDone = true;
                return i;
            }
        }
        return end;
    }

    private void lines(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int newline = i;
            while (newline < to && b[newline] != '\n') {
                newline++;
            }
            if (newline == to) {
                append(b, i, to);
                return;
            }
            if (lineLength == 0) {
                line(b, i, newline);
            } else {
                append(b, i, newline);
                line(line, 0, lineLength);
                lineLength = 0;
            }
            i = newline + 1;
        }
    }

    private void append(byte[] b, int from, int to) {
        int need = lineLength + (to - from);
        if (need > line.length) {
            line = java.util.Arrays.copyOf(line, Math.max(need, line.length * 2));
        }
        System.arraycopy(b, from, line, lineLength, to - from);
        lineLength = need;
    }

    private void line(byte[] b, int start, int end) {
        if (end > start && b[end - 1] == '\r') {
            end--;
        }
        if (!anyLine) {
            anyLine = true;
            listener.ready();
        }
        if (end == start) {
            if (data) {
                listener.event(id, n, publisher, k, seq, room);
            }
            clearEvent();
            return;
        }
        switch (b[start]) {
            case 'd' -> {
                if (startsWith(b, start, end, "data:")) {
                    data = true;
                    n = numberAfterMarker(b, start + 5, end);
                    publisherMark(b, start + 5, end);
                    if (roomFields) {
                        seq = numberAfter(b, start + 5, end, SEQ_FIELD);
                        room = roomNumber(b, start + 5, end);
                    }
                }
            }
            case 'i' -> {
                if (numericIds && startsWith(b, start, end, "id:")) {
                    id = digits(b, start + 3, end);
                }
            }
            case 'e' -> {
                if (startsWith(b, start, end, "event:") && !startsWith(b, start, end, "event: message")) {
                    listener.unexpectedEvent(new String(b, start + 6, end - start - 6, StandardCharsets.UTF_8).trim());
                }
            }
            default -> {
                // comments (":"), "retry:" and anything else carry nothing to count
            }
        }
    }

    private static boolean startsWith(byte[] b, int start, int end, String prefix) {
        if (end - start < prefix.length()) {
            return false;
        }
        for (int k = 0; k < prefix.length(); k++) {
            if (b[start + k] != prefix.charAt(k)) {
                return false;
            }
        }
        return true;
    }

    /** The digits after the first "b:" (the body of every benchmark message starts with "b:<n> "). */
    private static long numberAfterMarker(byte[] b, int start, int end) {
        for (int i = start; i + 2 < end; i++) {
            if (b[i] == 'b' && b[i + 1] == ':' && b[i + 2] >= '0' && b[i + 2] <= '9') {
                return digits(b, i + 2, end);
            }
        }
        return -1;
    }

    /** The first "p:<publisher>.<k>": who posted the message, and its number among that publisher's posts there. */
    private void publisherMark(byte[] b, int start, int end) {
        for (int i = start; i + 2 < end; i++) {
            if (b[i] == 'p' && b[i + 1] == ':' && b[i + 2] >= '0' && b[i + 2] <= '9') {
                int dot = i + 2;
                while (dot < end && b[dot] >= '0' && b[dot] <= '9') {
                    dot++;
                }
                long who = digits(b, i + 2, dot);
                long number = dot + 1 < end && b[dot] == '.' ? digits(b, dot + 1, end) : -1;
                if (number >= 0 && who <= Integer.MAX_VALUE) {
                    publisher = (int) who;
                    k = number;
                }
                return;
            }
        }
    }

    private static final byte[] SEQ_FIELD = "\"seq\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] ROOM_FIELD = "\"room\":\"".getBytes(StandardCharsets.US_ASCII);

    /** The number right after the first occurrence of field, or -1. */
    private static long numberAfter(byte[] b, int start, int end, byte[] field) {
        int at = indexOf(b, start, end, field);
        return at < 0 ? -1 : digits(b, at + field.length, end);
    }

    /** The digits after the last '_' of the "room" value ("bench123_42" is 42), or -1. */
    private static long roomNumber(byte[] b, int start, int end) {
        int at = indexOf(b, start, end, ROOM_FIELD);
        if (at < 0) {
            return -1;
        }
        int quote = at + ROOM_FIELD.length;
        int afterUnderscore = -1;
        while (quote < end && b[quote] != '"') {
            if (b[quote] == '_') {
                afterUnderscore = quote + 1;
            }
            quote++;
        }
        if (afterUnderscore < 0 || afterUnderscore == quote || quote == end) {
            return -1;
        }
        long value = 0;
        for (int i = afterUnderscore; i < quote; i++) {
            if (b[i] < '0' || b[i] > '9') {
                return -1;
            }
            value = value * 10 + (b[i] - '0');
        }
        return value;
    }

    private static int indexOf(byte[] b, int start, int end, byte[] what) {
        outer:
        for (int i = start; i + what.length <= end; i++) {
            for (int k = 0; k < what.length; k++) {
                if (b[i + k] != what[k]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static long digits(byte[] b, int start, int end) {
        int i = start;
        while (i < end && b[i] == ' ') {
            i++;
        }
        long value = 0;
        int first = i;
        while (i < end && b[i] >= '0' && b[i] <= '9') {
            value = value * 10 + (b[i++] - '0');
        }
        return i == first ? -1 : value;
    }
}
