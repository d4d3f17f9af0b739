package io.pgchat.edge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Deadlines for clients that send a request too slowly (slowloris). Helidon times only the wait between
 * requests; the request head and the body are timed here. A connection's (virtual) thread past its
 * deadline is interrupted, which closes the socket it is blocked on: right for a head that never
 * ends. A body is read on a helper thread instead, so that the request's thread can still answer 408.
 */
public final class SlowRequests implements AutoCloseable {

    private final ConcurrentMap<Thread, Long> deadlines = new ConcurrentHashMap<>();
    private final Duration limit;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pgchat-slow-request-timer").factory());

    public SlowRequests(Duration limit) {
        this.limit = limit;
        timer.scheduleWithFixedDelay(this::cutOffLate, 100, 100, TimeUnit.MILLISECONDS);
    }

    /** The current request's head has begun (or the connection opened): it must be whole within the limit. */
    void headStarted() {
        deadlines.putIfAbsent(Thread.currentThread(), System.nanoTime() + limit.toNanos());
    }

    /** From now, the current thread is interrupted if it is still at work after this long (until cancelled). */
    void interruptAfter(Duration wait) {
        deadlines.put(Thread.currentThread(), System.nanoTime() + wait.toNanos());
    }

    /** The head has arrived, or the deadline no longer matters; clears an interrupt that came too late to matter. */
    void cancel() {
        deadlines.remove(Thread.currentThread());
    }

    /**
     * Reads a request body within the limit. On time-out the helper thread stays blocked on the socket
     * until the connection closes, which it must: the body's framing is lost.
     */
    byte[] readBody(Callable<byte[]> read) throws TimeoutException {
        FutureTask<byte[]> body = new FutureTask<>(read);
        Thread.ofVirtual().name("pgchat-body-reader").start(body);
        try {
            return body.get(limit.toNanos(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case RuntimeException runtime -> throw runtime;
                case IOException io -> throw new UncheckedIOException(io);
                case Error error -> throw error;
                default -> throw new IllegalStateException(e.getCause());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TimeoutException("interrupted");
        }
    }

    private void cutOffLate() {
        long now = System.nanoTime();
        deadlines.forEach((thread, deadline) -> {
            if (now - deadline > 0 && deadlines.remove(thread, deadline)) {
                thread.interrupt();
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
