package io.pgchat.bench;

import java.util.Arrays;

/**
 * One subscriber's check of each publisher's order in its room. A publisher numbers its acked posts
 * to a room k = 0, 1, 2... in the body and posts one at a time (Publishers), so its messages must
 * arrive with k rising by one, from the first received on: for pgchat and Nchan alike, and for any
 * number of publishers. Duplicates are the caller's to sort out first.
 */
final class PublisherOrder {

    enum Verdict { IN_ORDER, OUT_OF_ORDER, GAP }

    private final long[] last;

    PublisherOrder(int publishers) {
        last = new long[publishers];
        Arrays.fill(last, -1);
    }

    /** A message without a mark of one of this run's publishers cannot be shown in order. */
    Verdict next(int publisher, long k) {
        if (publisher < 0 || publisher >= last.length || k < 0) {
            return Verdict.OUT_OF_ORDER;
        }
        long previous = last[publisher];
        if (k <= previous) {
            return Verdict.OUT_OF_ORDER;
        }
        last[publisher] = k;
        return previous >= 0 && k > previous + 1 ? Verdict.GAP : Verdict.IN_ORDER;
    }
}
