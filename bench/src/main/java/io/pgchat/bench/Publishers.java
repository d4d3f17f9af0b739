package io.pgchat.bench;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * C publisher threads, each with one keep-alive connection, posting the ledger's messages 0..count-1
 * in order of n, either back to back (rate 0) or each at its slot t0 + n/rate. Message n's body is
 * "b:<n> p:<p>.<k> " padded with filler to the requested size: publisher p numbers its own posts to
 * each room k = 0, 1, 2... Each publisher posts one message at a time (the next once the last is
 * answered), so a subscriber of the room must get each publisher's messages with k rising by one,
 * whatever the number of publishers. k advances only when the post is acked, so a refused post leaves
 * no hole. With roomPerPublisher, publisher p alone posts the rooms r with r % C == p, so each room's
 * publish order is known: n's order.
 */
final class Publishers {

    private final Options options;
    private final Ledger ledger;
    private final String[] roomNames;
    private final String host;
    private final boolean roomPerPublisher;
    private final AtomicLong next = new AtomicLong();
    private final LongAdder sent = new LongAdder();
    private final LongAdder acked = new LongAdder();
    private final LongAdder finished = new LongAdder();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final List<Histogram> latencies = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile long deadline;
    long t0;
    long endedAt;

    Publishers(Options options, Ledger ledger, String[] roomNames) {
        this(options, ledger, roomNames, false);
    }

    Publishers(Options options, Ledger ledger, String[] roomNames, boolean roomPerPublisher) {
        this.options = options;
        this.ledger = ledger;
        this.roomNames = roomNames;
        this.host = options.host() + ":" + options.port();
        this.roomPerPublisher = roomPerPublisher;
    }

    void start(long deadlineNanos) {
        deadline = deadlineNanos;
        t0 = System.nanoTime();
        for (int i = 0; i < options.publishers; i++) {
            Histogram latency = new Histogram();
            latencies.add(latency);
            int publisher = i;
            Thread thread = new Thread(() -> publish(publisher, latency), "publisher-" + i);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
    }

    /** True when every message was posted (acked or not) before the deadline. */
    boolean await() throws InterruptedException {
        for (Thread thread : threads) {
            thread.join(Math.max(1, (deadline - System.nanoTime()) / 1_000_000 + 1000));
        }
        endedAt = System.nanoTime();
        return finished.sum() == ledger.count;
    }

    long sent() {
        return sent.sum();
    }

    long acked() {
        return acked.sum();
    }

    Histogram latency() {
        Histogram all = new Histogram();
        latencies.forEach(all::add);
        return all;
    }

    Map<String, Long> errors() {
        Map<String, Long> result = new TreeMap<>();
        errors.forEach((k, v) -> result.put(k, v.sum()));
        return result;
    }

    /** The message this publisher posts after previous (-1 at first); ledger.count when it has none left. */
    private long next(int publisher, long previous) {
        if (!roomPerPublisher) {
            return next.getAndIncrement();
        }
        long n = previous + 1;
        while (n < ledger.count && ledger.roomOf(n) % options.publishers != publisher) {
            n++;
        }
        return n;
    }

    private void publish(int publisher, Histogram latency) {
        HttpConnection connection = null;
        long[] ackedPerRoom = new long[roomNames.length];
        for (long n = next(publisher, -1); n < ledger.count; n = next(publisher, n)) {
            if (options.rate > 0) {
                long slot = t0 + (long) (n * 1e9 / options.rate);
                for (long wait; (wait = slot - System.nanoTime()) > 0; ) {
                    LockSupport.parkNanos(wait);
                }
            }
            if (System.nanoTime() > deadline) {
                break;
            }
            int room = ledger.roomOf(n);
            byte[] request = request((int) n, publisher, ackedPerRoom[room]);
            long start = System.nanoTime();
            ledger.startNanos[(int) n] = start;
            sent.increment();
            try {
                if (connection == null) {
                    connection = new HttpConnection(options.host(), options.port());
                }
                int status = connection.exchange(request);
                latency.recordNanos(System.nanoTime() - start);
                if (options.target.accepted(status)) {
                    ledger.acked((int) n);
                    acked.increment();
                    ackedPerRoom[room]++;
                } else {
                    error("http_" + status);
                }
                if (connection.closing()) {
                    connection.close();
                    connection = null;
                }
            } catch (IOException | RuntimeException e) {
                error("post: " + e.getMessage());
                if (connection != null) {
                    connection.close();
                }
                connection = null;
            }
            finished.increment();
        }
        if (connection != null) {
            connection.close();
        }
    }

    private byte[] request(int n, int publisher, long k) {
        StringBuilder text = new StringBuilder(options.size).append("b:").append(n)
                .append(" p:").append(publisher).append('.').append(k).append(' ');
        while (text.length() < options.size) {
            text.append('x');
        }
        String room = roomNames[ledger.roomOf(n)];
        return HttpConnection.request("POST", options.target.postPath(room), host, options.target.contentType(),
                options.target.postBody(text.toString()));
    }

    private void error(String what) {
        errors.computeIfAbsent(what, k -> new LongAdder()).increment();
    }
}
