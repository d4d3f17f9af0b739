package io.pgchat;

import io.vertx.core.Future;

import java.util.ArrayList;
import java.util.List;
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
     * Up to max events after the cursor, in order; empty when there is nothing newer yet; null when
     * the window cannot answer and the caller must read the table.
     */
    List<Event> after(long cursor, int max) {
        long end = last;
        long start = first;
        if (cursor >= end) {
            return List.of();
        }
        if (cursor + 1 < start) {
            return null;
        }
        int count = (int) Math.min(end - cursor, max);
        List<Event> events = new ArrayList<>(count);
        for (long seq = cursor + 1; seq <= cursor + count; seq++) {
            Event event = ring[slot(seq)];
            if (event == null || event.seq() != seq) {
                return null;
            }
            events.add(event);
        }
        return events;
    }

    void wakeAll() {
        subscribers.forEach(Subscriber::wake);
    }

    private int slot(long seq) {
        return (int) Math.floorMod(seq, (long) ring.length);
    }
}
