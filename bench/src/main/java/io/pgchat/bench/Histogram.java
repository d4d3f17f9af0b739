package io.pgchat.bench;

/**
 * Latencies in microseconds, log-linear buckets: exact below 128 µs, then 64 buckets per power of two
 * (under 1.6% error), like HdrHistogram with two significant digits. Not thread-safe: each thread
 * records into its own and they are added up at the end. Every value is recorded (no sampling).
 */
final class Histogram {

    private static final int LINEAR = 128;
    private static final int PER_POWER = 64;

    private final long[] counts = new long[LINEAR + (64 - 7) * PER_POWER];
    private long total;
    private long max;

    void recordNanos(long nanos) {
        long micros = Math.max(0, nanos / 1000);
        counts[index(micros)]++;
        total++;
        max = Math.max(max, micros);
    }

    void add(Histogram other) {
        for (int i = 0; i < counts.length; i++) {
            counts[i] += other.counts[i];
        }
        total += other.total;
        max = Math.max(max, other.max);
    }

    long count() {
        return total;
    }

    /** The value at this percentile (0-100), in microseconds: the upper edge of its bucket. */
    long percentile(double p) {
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, (long) Math.ceil(p / 100.0 * total));
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(upperEdge(i), max);
            }
        }
        return max;
    }

    long max() {
        return max;
    }

    private static int index(long v) {
        if (v < LINEAR) {
            return (int) v;
        }
        int power = 63 - Long.numberOfLeadingZeros(v);
        return LINEAR + (power - 7) * PER_POWER + (int) ((v >>> (power - 6)) - PER_POWER);
    }

    private static long upperEdge(int i) {
        if (i < LINEAR) {
            return i;
        }
        int power = (i - LINEAR) / PER_POWER + 7;
        long sub = (i - LINEAR) % PER_POWER + PER_POWER;
        return ((sub + 1) << (power - 6)) - 1;
    }
}
