package io.pgchat.delivery;

import io.pgchat.Message;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One room as this process follows it, a part of {@link Delivery}: the subscriptions that follow it
 * and a window of its most recent messages, each encoded to JSON once and shared by every stream.
 * The window starts small and doubles up to its size as the room's messages come: a thousand quiet
 * rooms would otherwise hold a thousand empty full-size rings.
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

    private static final int FIRST_SIZE = 8;
    private static final VarHandle FOLLOWER = MethodHandles.arrayElementVarHandle(Subscription[].class);

    final String room;

    /**
     * The followers by slot (a free one is null), each with this room's index among its rooms, so a
     * ring names the room. Two arrays rather than a map: a stream of twenty rooms holds twenty
     * places, and a map's node each was most of what it cost more than a stream of one room.
     */
    private record Followers(Subscription[] subscriptions, int[] indexes) {
    }

    private volatile Followers followers = new Followers(new Subscription[1], new int[1]);
    /** Slots in use are below it; written after the slot, read before it. */
    private volatile int highSlot;
    private int followerCount;
    private int firstFreeSlot;

    private final int size;
    /** Replaced by a larger copy before a message it cannot hold is added; readers read it after last. */
    private volatile Event[] ring;
    // The window is [first, last]; empty while last < first. Written before last, read after it.
    private volatile long first = 1;
    private volatile long last = 0;
    /** Announcements of this room were lost (the read to fill them failed): vouch for nothing until the next. */
    private volatile boolean stale;
    private volatile Shared lastBuilt;

    RoomWindow(String room, int size) {
        this.room = room;
        this.size = size;
        this.ring = new Event[Math.min(size, FIRST_SIZE)];
    }

    /** Adds a follower for which this room is the index-th of its rooms; returns its slot, for {@link #unfollow}. */
    synchronized int follow(Subscription subscription, int index) {
        Followers table = followers;
        int slot = firstFreeSlot;
        while (slot < highSlot && table.subscriptions[slot] != null) {
            slot++;
        }
        if (slot == table.subscriptions.length) {
            table = new Followers(Arrays.copyOf(table.subscriptions, slot * 2), Arrays.copyOf(table.indexes, slot * 2));
            followers = table;
        }
        table.indexes[slot] = index;
        FOLLOWER.setVolatile(table.subscriptions, slot, subscription);
        if (slot == highSlot) {
            highSlot = slot + 1;
        }
        firstFreeSlot = slot + 1;
        followerCount++;
        return slot;
    }

    /** Removes the follower in the slot; true when none is left. */
    synchronized boolean unfollow(int slot) {
        FOLLOWER.setVolatile(followers.subscriptions, slot, null);
        firstFreeSlot = Math.min(firstFreeSlot, slot);
        return --followerCount == 0;
    }

    /** Tells every follower that this room has news (a follower added meanwhile starts by looking at every room). */
    void markNews() {
        int high = highSlot;
        Followers table = followers;
        for (int slot = 0; slot < high; slot++) {
            Subscription follower = (Subscription) FOLLOWER.getVolatile(table.subscriptions, slot);
            if (follower != null) {
                follower.news(table.indexes[slot]);
            }
        }
    }

    void ring() {
        int high = highSlot;
        Followers table = followers;
        for (int slot = 0; slot < high; slot++) {
            Subscription follower = (Subscription) FOLLOWER.getVolatile(table.subscriptions, slot);
            if (follower != null) {
                follower.wake();
            }
        }
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
            ring[slot(ring, seq)] = event;
            first = seq;
        } else {
            Event[] ring = roomFor(seq);
            if (seq - first >= ring.length) {
                first = seq - ring.length + 1;
            }
            ring[slot(ring, seq)] = event;
        }
        last = seq;
        stale = false;
    }

    /**
     * The ring, grown if it is full and smaller than the window's size. Events are copied, never
     * moved: a stream still reading the old ring finds there what it held.
     */
    private Event[] roomFor(long seq) {
        Event[] old = ring;
        if (seq - first < old.length || old.length == size) {
            return old;
        }
        Event[] grown = new Event[Math.min(size, old.length * 2)];
        for (long s = first; s <= last; s++) {
            grown[slot(grown, s)] = old[slot(old, s)];
        }
        ring = grown;
        return grown;
    }

    /** Whether the window holds, or may hold, events after the cursor: else the stream has all of this room's news. */
    boolean hasAfter(long cursor) {
        return stale || last > cursor;
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
        Event[] ring = this.ring;
        long limit = Math.min(end - cursor, max);
        int count = 0;
        while (count < limit) {
            Event event = ring[slot(ring, cursor + 1 + count)];
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
        Event[] ring = this.ring;
        Event[] events = new Event[count];
        for (int i = 0; i < count; i++) {
            Event event = ring[slot(ring, cursor + 1 + i)];
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

    private static int slot(Event[] ring, long seq) {
        return (int) Math.floorMod(seq, (long) ring.length);
    }
}
