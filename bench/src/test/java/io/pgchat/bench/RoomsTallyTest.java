package io.pgchat.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RoomsTallyTest {

    // 100 messages round-robin over 10 rooms: room 3 gets n = 3, 13, 23...; room 7 gets 7, 17, 27...
    private final Ledger ledger = new Ledger(100, 10);
    // pgchat's events say their room, seq and pos; Nchan's only carry the body
    private final RoomsTally tally = new RoomsTally(new int[] {7, 3}, ledger, true);
    private final RoomsTally nchan = new RoomsTally(new int[] {7, 3}, ledger, false);

    @Test
    void eachRoomInItsOwnOrderWhateverTheInterleavingIsClean() {
        assertTrue(tally.record(1, 3, 1, 3));
        assertTrue(tally.record(2, 13, 2, 3));
        assertTrue(tally.record(5, 7, 1, 7));
        assertTrue(tally.record(9, 23, 3, 3));
        assertTrue(tally.record(12, 17, 2, 7));
        assertEquals(5, tally.delivered);
        assertTrue(tally.clean());
    }

    @Test
    void aMessageReceivedTwiceIsADuplicateAndNotDeliveredAgain() {
        tally.record(1, 3, 1, 3);
        assertFalse(tally.record(1, 3, 1, 3));
        assertEquals(1, tally.duplicates);
        assertEquals(1, tally.delivered);
        assertEquals(0, tally.outOfOrder + tally.posOutOfOrder);
    }

    @Test
    void nchanStreamIsCheckedByEachRoomsOrderOfMessageNumbers() {
        nchan.record(-1, 23, -1, -1);
        nchan.record(-1, 13, -1, -1); // below room 3's last: out of order
        nchan.record(-1, 7, -1, -1); // room 7's first: fine
        nchan.record(-1, 27, -1, -1); // skips 17: a gap in room 7
        assertEquals(1, nchan.outOfOrder);
        assertEquals(1, nchan.gaps);
        assertEquals(0, nchan.posOutOfOrder + nchan.wrongRoom);
        assertEquals(4, nchan.delivered);
        assertFalse(nchan.clean());
    }

    @Test
    void pgchatSeqMustRiseByOnePerRoomEvenWhenMessageNumbersAreInOrder() {
        tally.record(1, 3, 1, 3);
        tally.record(2, 13, 3, 3); // seq skips 2
        tally.record(3, 23, 3, 3); // seq repeats
        assertEquals(1, tally.gaps);
        assertEquals(1, tally.outOfOrder);
    }

    @Test
    void aPgchatEventWithoutSeqOrPosCannotBeShownInOrder() {
        tally.record(1, 3, -1, 3);
        tally.record(-1, 7, 1, 7);
        assertEquals(1, tally.outOfOrder);
        assertEquals(1, tally.posOutOfOrder);
    }

    @Test
    void pgchatPosMustRiseOverTheWholeStream() {
        tally.record(10, 3, 1, 3);
        tally.record(9, 7, 1, 7);
        assertEquals(1, tally.posOutOfOrder);
        assertEquals(10, tally.lastPos());
        assertFalse(tally.clean());
    }

    @Test
    void aMessageOfAnUnfollowedRoomOrLabelledWithAnotherRoomIsWrong() {
        assertFalse(tally.record(1, 5, 1, 5)); // room 5 is not followed
        assertFalse(tally.record(2, 3, 1, 7)); // n is room 3's, the data says room 7
        assertFalse(tally.record(3, 3, 1, -1)); // the data names no room of ours
        assertEquals(3, tally.wrongRoom);
        assertEquals(0, tally.delivered);
        assertFalse(tally.clean());
    }

    @Test
    void anEventOfNoMessageOfThisRunIsForeign() {
        assertFalse(tally.record(1, -1, -1, -1));
        assertFalse(tally.record(2, 100, 1, 0));
        assertEquals(2, tally.foreign);
        assertTrue(tally.clean());
    }

    @Test
    void whatAStreamNeverGotIsMissingPerFollowedRoom() throws Exception {
        Options options = Options.parse(
                new String[] {"multiroom", "--url", "http://127.0.0.1:9", "--rooms", "10", "--rooms-per-stream", "2"});
        Subscribers subscribers = new Subscribers(options);
        String[] names = new String[10];
        java.util.Arrays.setAll(names, r -> "r_" + r);
        Subscription s = subscribers.addMultiRoom(new int[] {3, 7}, names, ledger);
        subscribers.stop();
        s.event(1, 3, -1, -1, 1, 3);
        s.event(2, 13, -1, -1, 2, 3);
        s.event(3, 7, -1, -1, 1, 7);
        // every message acked: rooms 3 and 7 have 10 each, the stream got 3 of them
        BitSet all = new BitSet();
        all.set(0, 10);
        Subscribers.Tally t = subscribers.tally(room -> all);
        assertEquals(17, t.missing);
        assertEquals(3, t.deliveries);
        assertEquals(1, t.subscribersWithErrors);
        assertFalse(t.clean());
    }

    @Test
    void roomsAreChosenDistinctAscendingAndTheSameForTheSameSeed() {
        int[] a = LiveBench.chooseRooms(new Random(1), 1000, 20);
        assertArrayEquals(a, LiveBench.chooseRooms(new Random(1), 1000, 20));
        assertEquals(20, java.util.Arrays.stream(a).distinct().count());
        for (int i = 1; i < a.length; i++) {
            assertTrue(a[i - 1] < a[i] && a[i] < 1000);
        }
        assertArrayEquals(new int[] {0, 1, 2, 3, 4}, LiveBench.chooseRooms(new Random(7), 5, 5));
    }
}
