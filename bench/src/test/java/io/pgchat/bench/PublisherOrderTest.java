package io.pgchat.bench;

import static io.pgchat.bench.PublisherOrder.Verdict.GAP;
import static io.pgchat.bench.PublisherOrder.Verdict.IN_ORDER;
import static io.pgchat.bench.PublisherOrder.Verdict.OUT_OF_ORDER;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PublisherOrderTest {

    private final PublisherOrder order = new PublisherOrder(3);

    @Test
    void eachPublisherRisesByOneFromItsFirstReceivedWhateverTheOthersDo() {
        assertEquals(IN_ORDER, order.next(2, 5)); // first received of publisher 2: missing ones are missing, not a gap
        assertEquals(IN_ORDER, order.next(0, 0));
        assertEquals(IN_ORDER, order.next(2, 6));
        assertEquals(IN_ORDER, order.next(0, 1));
    }

    @Test
    void aSkipIsAGapAndWhatComesBelowTheLastIsOutOfOrder() {
        order.next(1, 0);
        assertEquals(GAP, order.next(1, 3));
        assertEquals(OUT_OF_ORDER, order.next(1, 2));
        assertEquals(OUT_OF_ORDER, order.next(1, 3));
        assertEquals(IN_ORDER, order.next(1, 4));
    }

    @Test
    void noMarkOrAPublisherNotOfThisRunIsOutOfOrder() {
        assertEquals(OUT_OF_ORDER, order.next(-1, -1));
        assertEquals(OUT_OF_ORDER, order.next(3, 0));
        assertEquals(OUT_OF_ORDER, order.next(0, -1));
    }
}
