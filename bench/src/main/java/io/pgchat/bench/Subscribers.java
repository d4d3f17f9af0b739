package io.pgchat.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** All subscribers of a run, spread over the io threads' loops, and their tally at the end. */
final class Subscribers {

    final List<SubscriberLoop> loops = new ArrayList<>();
    final List<Subscription> all = new ArrayList<>();
    private final Options options;

    Subscribers(Options options) throws IOException {
        this.options = options;
        InetSocketAddress address = new InetSocketAddress(options.host(), options.port());
        int perLoop = Math.max(1, options.connectsInFlight / options.ioThreads);
        for (int i = 0; i < options.ioThreads; i++) {
            loops.add(new SubscriberLoop("subscribers-" + i, address, perLoop));
        }
    }

    Subscription add(int room, String roomName, Ledger ledger, long seqBase) {
        int index = all.size();
        SubscriberLoop loop = loops.get(index % loops.size());
        Subscription s = new Subscription(index, room, roomName, loop, options.target, ledger, seqBase,
                options.publishers);
        all.add(s);
        return s;
    }

    /** A multi-room stream of these rooms (numbers in names). */
    Subscription addMultiRoom(int[] rooms, String[] names, Ledger ledger) {
        int index = all.size();
        Subscription s = new Subscription(index, rooms, names, loops.get(index % loops.size()), options.target, ledger);
        all.add(s);
        return s;
    }

    private long connectStartedAt;

    void connectAll() {
        connectStartedAt = System.nanoTime();
        all.forEach(s -> s.loop.connect(s));
    }

    long connectStartedAt() {
        return connectStartedAt;
    }

    int live() {
        return loops.stream().mapToInt(l -> l.liveCount).sum();
    }

    int failed() {
        return loops.stream().mapToInt(l -> l.failedCount).sum();
    }

    long delivered() {
        return loops.stream().mapToLong(l -> l.deliveredSeen).sum();
    }

    /** Waits until every subscriber is live or has failed; false on the deadline. */
    boolean awaitConnected(long deadline) throws InterruptedException {
        while (live() + failed() < all.size()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Stops the loops; after this, every subscription's fields may be read from this thread. */
    void stop() throws InterruptedException {
        for (SubscriberLoop loop : loops) {
            loop.stop();
        }
    }

    Histogram latency() {
        Histogram all = new Histogram();
        loops.forEach(l -> all.add(l.latency));
        return all;
    }

    long lastEventAt() {
        return all.stream().mapToLong(s -> s.lastEventAt).max().orElse(0);
    }

    Map<String, Long> errors() {
        Map<String, Long> result = new TreeMap<>();
        loops.forEach(l -> l.errors.forEach((k, v) -> result.merge(k, v, Long::sum)));
        return result;
    }

    /** Sums every subscriber's correctness; expected(room) is the bits each subscriber of a room must have. */
    Tally tally(java.util.function.IntFunction<BitSet> expected) {
        Tally t = new Tally();
        Map<Integer, BitSet> byRoom = new java.util.HashMap<>();
        for (Subscription s : all) {
            long m;
            boolean clean;
            if (s.rooms == null) {
                m = missing(byRoom.computeIfAbsent(s.room, expected::apply), s.received);
                t.duplicates += s.duplicates;
                t.outOfOrder += s.outOfOrder;
                t.seqGaps += s.seqGaps;
                t.foreign += s.foreign;
                clean = s.duplicates == 0 && s.outOfOrder == 0 && s.seqGaps == 0;
            } else {
                RoomsTally r = s.rooms;
                m = 0;
                for (int slot = 0; slot < r.rooms.length; slot++) {
                    m += missing(byRoom.computeIfAbsent(r.rooms[slot], expected::apply), r.received[slot]);
                }
                t.duplicates += r.duplicates;
                t.outOfOrder += r.outOfOrder;
                t.seqGaps += r.gaps;
                t.posOutOfOrder += r.posOutOfOrder;
                t.wrongRoom += r.wrongRoom;
                t.foreign += r.foreign;
                clean = r.clean();
            }
            t.missing += m;
            t.deliveries += s.delivered;
            if (m > 0 || !clean || s.error != null) {
                t.subscribersWithErrors++;
            }
            if (!s.everLive) {
                t.neverConnected++;
            }
        }
        return t;
    }

    private static long missing(BitSet expected, BitSet received) {
        BitSet missing = (BitSet) expected.clone();
        missing.andNot(received);
        return missing.cardinality();
    }

    static final class Tally {
        long missing;
        long duplicates;
        long outOfOrder;
        long seqGaps;
        /** Multi-room streams only: pgchat's pos not rising, an event of a room not followed or not its own. */
        long posOutOfOrder;
        long wrongRoom;
        long deliveries;
        long foreign;
        long subscribersWithErrors;
        long neverConnected;

        boolean clean() {
            return missing == 0 && duplicates == 0 && outOfOrder == 0 && seqGaps == 0 && posOutOfOrder == 0
                    && wrongRoom == 0 && subscribersWithErrors == 0;
        }
    }
}
