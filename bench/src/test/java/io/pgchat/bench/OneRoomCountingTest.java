package io.pgchat.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import org.junit.jupiter.api.Test;

/**
 * The counting of a one-room stream on crafted streams: what a subscriber received, fed to it event
 * by event as SseReader would, then summed as at the end of a run. Two publishers (0 and 1) post 10
 * messages into one room; each numbers its own acked posts k = 0, 1, 2...
 */
class OneRoomCountingTest {

    private final Ledger ledger = new Ledger(10, 1);
    private Subscribers subscribers;

    private Subscription subscriber(String target) throws Exception {
        Options options = Options.parse(new String[] {"fanout", "--target", target, "--url", "http://127.0.0.1:9",
                "--publishers", "2"});
        subscribers = new Subscribers(options);
        Subscription s = subscribers.add(0, "r", ledger, 0);
        subscribers.stop();
        return s;
    }

    private Subscribers.Tally tally() {
        BitSet all = new BitSet();
        all.set(0, ledger.count);
        return subscribers.tally(room -> all);
    }

    @Test
    void publishersInterleavedEachInItsOwnOrderIsCleanForNchan() throws Exception {
        Subscription s = subscriber("nchan");
        // n as the shared counter handed them out; publisher 1 got ahead of publisher 0 in between
        int[][] events = {{0, 0, 0}, {1, 1, 0}, {3, 1, 1}, {2, 0, 1}, {4, 0, 2}, {5, 1, 2}, {6, 1, 3}, {7, 0, 3},
                          {8, 0, 4}, {9, 1, 4}};
        for (int[] e : events) {
            s.event(-1, e[0], e[1], e[2], -1, -1);
        }
        Subscribers.Tally t = tally();
        assertEquals(10, t.deliveries);
        assertTrue(t.clean(), "n out of order across publishers is no fault");
    }

    @Test
    void nchanMessageBelowItsPublishersLastIsOutOfOrderAndASkipIsAGap() throws Exception {
        Subscription s = subscriber("nchan");
        s.event(-1, 0, 0, 0, -1, -1);
        s.event(-1, 4, 0, 2, -1, -1); // publisher 0 skips its 1: a gap
        s.event(-1, 2, 0, 1, -1, -1); // then its 1 comes late: out of order
        s.event(-1, 1, 1, 0, -1, -1); // publisher 1's first: fine
        s.event(-1, 9, 1, 1, -1, -1); // its next: fine
        Subscribers.Tally t = tally();
        assertEquals(1, t.seqGaps);
        assertEquals(1, t.outOfOrder);
        assertEquals(5, t.deliveries);
        assertEquals(5, t.missing);
        assertEquals(1, t.subscribersWithErrors);
        assertFalse(t.clean());
    }

    @Test
    void aMessageTwiceIsADuplicateOnlyNotAlsoDisorder() throws Exception {
        Subscription s = subscriber("nchan");
        s.event(-1, 0, 0, 0, -1, -1);
        s.event(-1, 1, 0, 1, -1, -1);
        s.event(-1, 0, 0, 0, -1, -1);
        Subscribers.Tally t = tally();
        assertEquals(1, t.duplicates);
        assertEquals(0, t.outOfOrder + t.seqGaps);
        assertEquals(2, t.deliveries);
        assertEquals(8, t.missing);
    }

    @Test
    void aMessageWithoutAPublisherMarkOfThisRunCannotBeShownInOrder() throws Exception {
        Subscription s = subscriber("nchan");
        s.event(-1, 0, -1, -1, -1, -1); // no mark
        s.event(-1, 1, 2, 0, -1, -1); // publisher 2 of two
        assertEquals(2, tally().outOfOrder);
    }

    @Test
    void pgchatIsCheckedBySeqAndByPublisherEachFaultCountedOnce() throws Exception {
        Subscription s = subscriber("pgchat");
        s.event(1, 0, 0, 0, -1, -1);
        s.event(2, 1, 1, 0, -1, -1);
        s.event(4, 2, 0, 1, -1, -1); // seq skips 3, publishers fine: a gap
        s.event(5, 3, 1, 2, -1, -1); // publisher 1 skips its 1, seq fine: a gap
        s.event(6, 4, 0, 1, -1, -1); // publisher 0's 1 again (its post answered late, resent), seq fine: disorder
        s.event(6, 5, 0, 2, -1, -1); // seq repeats: disorder, once though the publisher is in order
        Subscribers.Tally t = tally();
        assertEquals(2, t.seqGaps);
        assertEquals(2, t.outOfOrder);
        assertEquals(6, t.deliveries);
        assertEquals(4, t.missing);
    }

    @Test
    void whatNeverCameIsMissingAgainstTheAckedOnly() throws Exception {
        Subscription s = subscriber("pgchat");
        s.event(1, 0, 0, 0, -1, -1);
        s.event(2, 2, 0, 1, -1, -1);
        BitSet acked = new BitSet();
        acked.set(0, 4); // 1 and 3 acked but never received; 4..9 never acked
        Subscribers.Tally t = subscribers.tally(room -> acked);
        assertEquals(2, t.missing);
        assertEquals(0, t.outOfOrder + t.seqGaps + t.duplicates);
        assertEquals(1, t.subscribersWithErrors);
    }

    @Test
    void anEventOfNoMessageOfThisRunIsForeignNotDelivered() throws Exception {
        Subscription s = subscriber("nchan");
        s.event(-1, 10, 0, 0, -1, -1);
        s.event(-1, -1, -1, -1, -1, -1);
        Subscribers.Tally t = tally();
        assertEquals(2, t.foreign);
        assertEquals(0, t.deliveries + t.outOfOrder);
    }

    @Test
    void publishRunSaysDeliveryAndOrderWereNotMeasured() {
        Options options = Options.parse(new String[] {"publish", "--url", "http://127.0.0.1:9"});
        Report report = new Report(options, System.nanoTime())
                .notMeasured("missing", "duplicates", "out_of_order", "seq_gaps");
        assertTrue(report.fields.containsKey("missing"));
        assertNull(report.fields.get("missing"));
        assertTrue(report.toJson().contains("\"missing\":null,\"duplicates\":null,\"out_of_order\":null"));
    }
}
