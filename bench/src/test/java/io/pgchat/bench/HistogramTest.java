package io.pgchat.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class HistogramTest {

    @Test
    void percentilesAreWithinTwoPercentOfTheExactValue() {
        Histogram h = new Histogram();
        for (long micros = 1; micros <= 100_000; micros++) {
            h.recordNanos(micros * 1000);
        }
        assertEquals(100_000, h.count());
        assertEquals(100_000, h.max());
        for (double p : new double[] {50, 90, 99}) {
            long exact = (long) (p * 1000);
            long got = h.percentile(p);
            assertTrue(Math.abs(got - exact) <= exact * 0.02, p + ": " + got + " vs " + exact);
        }
    }

    @Test
    void addedHistogramsCountAsOne() {
        Histogram a = new Histogram();
        Histogram b = new Histogram();
        a.recordNanos(5_000);
        b.recordNanos(2_000_000_000L);
        a.add(b);
        assertEquals(2, a.count());
        assertEquals(2_000_000, a.percentile(100));
        assertEquals(5, a.percentile(50));
    }
}
