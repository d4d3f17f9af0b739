package io.pgchat;

import java.time.Duration;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * One open event stream as the hub sees it: a room and a doorbell. The hub rings it from the
 * listener's event loop (never blocking); the stream's own thread waits on it. Where the stream is
 * in the room (its cursor) is kept by the stream, so a wake-up carries no data and cannot overflow.
 */
final class Subscriber {

    final RoomFeed feed;
    private final Semaphore doorbell = new Semaphore(0);
    private volatile boolean closed;

    Subscriber(RoomFeed feed) {
        this.feed = feed;
    }

    void wake() {
        if (doorbell.availablePermits() == 0) {
            doorbell.release();
        }
    }

    /** True when woken, false when the time passed without news. */
    boolean await(Duration timeout) throws InterruptedException {
        boolean woken = doorbell.tryAcquire(timeout.toMillis(), TimeUnit.MILLISECONDS);
        doorbell.drainPermits();
        return woken;
    }

    void close() {
        closed = true;
        wake();
    }

    boolean closed() {
        return closed;
    }
}
