package io.pgchat.bench;

import java.util.BitSet;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What was published: message n goes to room n % rooms, started at startNanos[n] and was acked (201)
 * or not. Publishers write it; subscribers read the start times to measure latency.
 */
final class Ledger {

    final int count;
    final int rooms;
    final long[] startNanos;
    private final boolean[] acked;
    private final AtomicLongArray ackedPerRoom;

    Ledger(int count, int rooms) {
        this.count = count;
        this.rooms = rooms;
        this.startNanos = new long[count];
        this.acked = new boolean[count];
        this.ackedPerRoom = new AtomicLongArray(rooms);
    }

    int roomOf(long n) {
        return (int) (n % rooms);
    }

    /** Index of n among its room's messages: subscribers keep one bit per message of their room. */
    int indexInRoom(long n) {
        return (int) (n / rooms);
    }

    void acked(int n) {
        acked[n] = true;
        ackedPerRoom.incrementAndGet(roomOf(n));
    }

    long ackedIn(int room) {
        return ackedPerRoom.get(room);
    }

    /** Read only once the publishers have finished (their threads joined). */
    BitSet ackedBitsOf(int room) {
        BitSet bits = new BitSet();
        for (int n = room; n < count; n += rooms) {
            if (acked[n]) {
                bits.set(indexInRoom(n));
            }
        }
        return bits;
    }
}
