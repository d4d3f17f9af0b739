package io.pgchat.delivery;

import io.pgchat.Message;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One room as this process follows it, a part of {@link Delivery}: the subscriptions that follow it
 * and a window of its most recent messages, each encoded to JSON once and shared by every stream.
 * Only Delivery appends to it, on the listener's event loop and in seq order; streams read it
 * without locks from their own threads. What it cannot vouch for (a cursor behind it, a slot
 * overwritten meanwhile, announcements it could not read) it answers with -1 or null, and the
 * stream reads the table instead.
 */
final class RoomWindow {

    /** A message as the window holds it: its place in the room and in the log, and its JSON. */
    record Event(long seq, long pos, byte[] json) {
        long id(EventIds ids) {
            return ids == EventIds.ROOM_SEQ ? seq : pos;
        }
    }

    final String room;
    final Set<Subscription> followers = ConcurrentHashMap.newKeySet();

    private final Event[] ring;
    // The window is [first, last]; empty while last < first. Written before last, read after it.
    private volatile long first = 1;
    private volatile long last = 0;
    /** Announcements of this room were lost (the read to fill them failed): vouch for nothing until the next. */
    private volatile boolean stale;
    private volatile Shared lastBuilt;

    RoomWindow(String room, int size) {
        this.room = room;
        this.ring = new Event[size];
    }

    long last() {
        return last;
    }

    boolean isEmpty() {
        return last < first;
    }

    boolean stale() {
        return stale;
    }

    void markStale() {
        stale = true;
    }

    /** Adds the message after the last one; one that does not follow restarts the window at it. */
    void append(Message message) {
        long seq = message.seq();
        if (!stale && !isEmpty() && seq <= last) {
            return;
        }
        Event event = new Event(seq, message.pos(), message.toJson());
        if (stale || isEmpty() || seq != last + 1) {
            ring[slot(seq)] = event;
            first = seq;
        } else {
            if (seq - first >= ring.length) {
                first = seq - ring.length + 1;
            }
            ring[slot(seq)] = event;
        }
        last = seq;
        stale = false;
    }

    /**
     * How many events follow the cursor up to log position bound, at most max; -1 when the window
     * cannot vouch for what follows the cursor.
     */
    int count(long cursor, long bound, int max) {
        if (stale) {
            return -1;
        }
        long end = last;
        long start = first;
        if (cursor >= end) {
            return 0;
        }
        if (cursor + 1 < start) {
            return -1;
        }
        long limit = Math.min(end - cursor, max);
        int count = 0;
        while (count < limit) {
            Event event = ring[slot(cursor + 1 + count)];
            if (event == null || event.seq() != cursor + 1 + count) {
                return -1;
            }
            if (event.pos() > bound) {
                break;
            }
            count++;
        }
        return count;
    }

    /** The count events after the cursor, or null when one was overwritten meanwhile. */
    Event[] events(long cursor, int count) {
        Event[] events = new Event[count];
        for (int i = 0; i < count; i++) {
            Event event = ring[slot(cursor + 1 + i)];
            if (event == null || event.seq() != cursor + 1 + i) {
                return null;
            }
            events[i] = event;
        }
        return events;
    }

    /**
     * The count events after the cursor ready for one write, with ids of the given kind, or null when
     * one was overwritten meanwhile. Streams that keep up all ask for the same batch, so the last one
     * built is shared.
     */
    byte[] encoded(long cursor, int count, EventIds ids) {
        Shared shared = lastBuilt;
        if (shared != null && shared.after == cursor && shared.count == count && shared.ids == ids) {
            return shared.bytes;
        }
        Event[] events = events(cursor, count);
        if (events == null) {
            return null;
        }
        byte[] bytes = encode(events, count, ids);
        lastBuilt = new Shared(cursor, count, ids, bytes);
        return bytes;
    }

    /** The first count events back to back as SSE events, ready for one write. */
    static byte[] encode(Event[] events, int count, EventIds ids) {
        int size = 0;
        for (int i = 0; i < count; i++) {
            size += Message.eventSize(events[i].id(ids), events[i].json());
        }
        ByteBuffer out = ByteBuffer.allocate(size);
        for (int i = 0; i < count; i++) {
            Message.writeEvent(out, events[i].id(ids), events[i].json());
        }
        return out.array();
    }

    private record Shared(long after, int count, EventIds ids, byte[] bytes) {
    }

    private int slot(long seq) {
        return (int) Math.floorMod(seq, (long) ring.length);
    }
}
