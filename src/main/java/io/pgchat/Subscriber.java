package io.pgchat;

import java.util.concurrent.locks.LockSupport;

/**
 * One open event stream as the hub sees it: a room and a doorbell. The hub rings it from the
 * listener's event loop (never blocking); the stream's own thread waits on it. Where the stream is
 * in the room (its cursor) is kept by the stream, so a wake-up carries no data and cannot overflow.
 *
 * <p>The wait has no timeout: a timed park arms and cancels a timer on every wake-up, which cost a
 * timer thread's wake-up per delivery. A quiet stream is rung by the hub's ticker instead, when its
 * heartbeat is due.
 */
final class Subscriber {

    final RoomFeed feed;
    private final Thread thread = Thread.currentThread();
    /** Rung since the stream last looked: it is cleared before the stream reads the room, so no news is missed. */
    private volatile boolean rung;
    private volatile boolean closed;
    private volatile long writingSince;
    private volatile long lastWrite = System.nanoTime();

    Subscriber(RoomFeed feed) {
        this.feed = feed;
    }

    /** Marks the stream's thread as blocked in a write to the client, or done with it. */
    void writing(boolean writing) {
        long now = System.nanoTime();
        writingSince = writing ? now : 0;
        if (!writing) {
            lastWrite = now;
        }
    }

    /** True when the stream has written nothing to its client for the interval, nor is writing now. */
    boolean quietFor(long intervalNanos, long now) {
        return writingSince == 0 && now - lastWrite >= intervalNanos;
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
        if (!rung) {
            rung = true;
            LockSupport.unpark(thread);
        }
    }

    /** Waits for news, a due heartbeat or the end of the stream. */
    void await() throws InterruptedException {
        while (!rung) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        rung = false;
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
