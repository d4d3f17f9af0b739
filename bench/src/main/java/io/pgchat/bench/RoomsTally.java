package io.pgchat.bench;

import java.util.Arrays;
import java.util.BitSet;

/**
 * What one multi-room stream received, room by room. Each room has exactly one publisher thread,
 * which posts the room's messages one after the other (the next only once the last is answered),
 * so a room's publish order is its order of n, for pgchat and Nchan alike. Per followed room:
 * a message received twice is a duplicate; one whose place in the room (its index there) is below
 * the last one received is out of order, one that skips a place is a gap. pgchat's multi-room
 * stream also says more, and that is checked too: a message's "room" must be the room of its n,
 * its "seq" must be the room's previous seq + 1 (as the one-room stream's ids), and its id (the
 * global pos) must be above the stream's previous one; an event without them counts as wrong room
 * or out of order. What never came is counted at the end (missing), against the posts that were acked.
 */
final class RoomsTally {

    /** The followed rooms' numbers, ascending; slot i is rooms[i]. */
    final int[] rooms;
    /** Per slot, one bit per index in the room of the messages received. */
    final BitSet[] received;
    private final Ledger ledger;
    /** pgchat: every event says its room, seq and pos. */
    private final boolean labelled;
    private final long[] lastIndex;
    private final long[] lastSeq;
    private long lastPos = -1;

    long delivered;
    long duplicates;
    long outOfOrder;
    long gaps;
    long posOutOfOrder;
    long wrongRoom;
    long foreign;

    RoomsTally(int[] rooms, Ledger ledger, boolean labelled) {
        this.rooms = rooms.clone();
        Arrays.sort(this.rooms);
        this.ledger = ledger;
        this.labelled = labelled;
        this.received = new BitSet[rooms.length];
        this.lastIndex = new long[rooms.length];
        this.lastSeq = new long[rooms.length];
        for (int i = 0; i < rooms.length; i++) {
            received[i] = new BitSet();
        }
        Arrays.fill(lastIndex, -1);
        Arrays.fill(lastSeq, -1);
    }

    /**
     * One event: pos is its numeric id, n its message number, seq and room what its data says (-1
     * for what it does not say, as with Nchan). True when it is the first delivery of a message of this run.
     */
    boolean record(long pos, long n, long seq, long room) {
        if (n < 0 || n >= ledger.count) {
            foreign++;
            return false;
        }
        int slot = Arrays.binarySearch(rooms, ledger.roomOf(n));
        if (slot < 0 || (labelled && room != rooms[slot])) {
            wrongRoom++;
            return false;
        }
        int index = ledger.indexInRoom(n);
        if (received[slot].get(index)) {
            duplicates++;
            return false;
        }
        long last = lastIndex[slot];
        long previousSeq = lastSeq[slot];
        boolean disorder = index < last || (labelled && (seq < 0 || (previousSeq >= 0 && seq <= previousSeq)));
        boolean gap = !disorder && ((last >= 0 && index > last + 1)
                || (labelled && previousSeq >= 0 && seq > previousSeq + 1));
        if (disorder) {
            outOfOrder++;
        } else if (gap) {
            gaps++;
        }
        if (labelled) {
            if (pos <= lastPos || pos < 0) {
                posOutOfOrder++;
            }
            lastPos = Math.max(lastPos, pos);
        }
        lastIndex[slot] = Math.max(last, index);
        lastSeq[slot] = Math.max(previousSeq, seq);
        received[slot].set(index);
        delivered++;
        return true;
    }

    /** Where a resumed pgchat stream starts: after the last pos it read (-1 for none). */
    long lastPos() {
        return lastPos;
    }

    boolean clean() {
        return duplicates == 0 && outOfOrder == 0 && gaps == 0 && posOutOfOrder == 0 && wrongRoom == 0;
    }
}
