package io.pgchat;

import io.vertx.core.Future;

import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A room as this process follows it: its local subscribers and a window of its most recent events,
 * each encoded once and shared by every subscriber. The window is appended on the listener's event
 * loop only, in seq order, and read without locks from stream threads; whatever it cannot answer
 * (a cursor behind it, a slot overwritten meanwhile) is read from the table instead.
 */
final class RoomFeed {

    record Event(long seq, byte[] bytes) {
    }

    final String room;
    final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
    /** Updates to the window, chained so they apply one after another in the order announced. */
    Future<Void> updates = Future.succeededFuture();

    private final Event[] ring;
    // The window is [first, last]; empty while last < first. Written before last, read after it.
    private volatile long first = 1;
    private volatile long last = 0;
    private volatile Shared lastBuilt;

    RoomFeed(String room, int size) {
        this.room = room;
        this.ring = new Event[size];
    }

    long last() {
        return last;
    }

    boolean isEmpty() {
        return last < first;
    }

    /** Adds the message after the last one; one that does not follow restarts the window at it. */
    void append(Message message) {
        long seq = message.seq();
        if (!isEmpty() && seq <= last) {
            return;
        }
        Event event = new Event(seq, message.toEvent());
        if (isEmpty() || seq != last + 1) {
            ring[slot(seq)] = event;
            first = seq;
        } else {
            if (seq - first >= ring.length) {
                first = seq - ring.length + 1;
            }
            ring[slot(seq)] = event;
        }
        last = seq;
    }

    /**
     * Up to max events after the cursor, in order and ready for one write; empty when there is
     * nothing newer yet; null when the window cannot answer and the caller must read the table.
     * Subscribers that keep up all ask for the same batch, so the last one built is shared.
     */
    DeliveryHub.Batch after(long cursor, int max) {
        long end = last;
        long start = first;
        if (cursor >= end) {
            return DeliveryHub.Batch.EMPTY;
        }
        if (cursor + 1 < start) {
            return null;
        }
        int count = (int) Math.min(end - cursor, max);
        Shared shared = lastBuilt;
        if (shared != null && shared.after == cursor && shared.batch.count() == count) {
            return shared.batch;
        }
        Event[] events = new Event[count];
        int bytes = 0;
        for (int i = 0; i < count; i++) {
            long seq = cursor + 1 + i;
            Event event = ring[slot(seq)];
            if (event == null || event.seq() != seq) {
                return null;
            }
            events[i] = event;
            bytes += event.bytes().length;
        }
        ByteBuffer joined = ByteBuffer.allocate(bytes);
        for (Event event : events) {
            joined.put(event.bytes());
        }
        DeliveryHub.Batch batch = new DeliveryHub.Batch(joined.array(), cursor + count, count, false);
        lastBuilt = new Shared(cursor, batch);
        return batch;
    }

    private record Shared(long after, DeliveryHub.Batch batch) {
    }

    void wakeAll() {
        subscribers.forEach(Subscriber::wake);
    }

    private int slot(long seq) {
        return (int) Math.floorMod(seq, (long) ring.length);
    }
}
