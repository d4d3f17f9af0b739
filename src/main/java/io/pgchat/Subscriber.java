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
    private final Thread thread = Thread.currentThread();
    private final Semaphore doorbell = new Semaphore(0);
    private volatile boolean closed;
    private volatile long writingSince;

    Subscriber(RoomFeed feed) {
        this.feed = feed;
    }

    /** Marks the stream's thread as blocked in a write to the client, or done with it. */
    void writing(boolean writing) {
        writingSince = writing ? System.nanoTime() : 0;
    }

    /**
     * Disconnects a client whose write has not completed within the limit: it is not reading. An
     * interrupt closes a socket a virtual thread is blocked on, which ends the stream; the client
     * resumes from its Last-Event-ID whenever it reads again, and loses nothing.
     */
    boolean disconnectIfStuck(long now, long limitNanos) {
        long since = writingSince;
        if (closed || since == 0 || now - since < limitNanos) {
            return false;
        }
        closed = true;
        thread.interrupt();
        return true;
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

    /** Ends the stream: a waiting one wakes and finishes, one stuck writing is cut off. */
    void close() {
        closed = true;
        wake();
        if (writingSince != 0) {
            thread.interrupt();
        }
    }

    boolean closed() {
        return closed;
    }
}
