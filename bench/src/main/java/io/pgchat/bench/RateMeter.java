package io.pgchat.bench;

/** "<n> <what>/s" since the previous call: the current rate for a progress line. */
final class RateMeter {

    private final String what;
    private long lastCount;
    private long lastAt = System.nanoTime();

    RateMeter(String what) {
        this.what = what;
    }

    synchronized String next(long count) {
        long now = System.nanoTime();
        double rate = (count - lastCount) * 1e9 / Math.max(1, now - lastAt);
        lastCount = count;
        lastAt = now;
        return String.format("%.0f %s/s", rate, what);
    }
}
