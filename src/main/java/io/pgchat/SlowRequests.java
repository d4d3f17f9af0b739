package io.pgchat;

import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Cuts off clients that send a request too slowly (slowloris). Helidon closes connections idle
 * between requests or stalled on the request line, but nothing else: the headers and the body are
 * timed here. A connection's (virtual) thread that waits too long is interrupted, which closes the
 * socket it is blocked on.
 */
final class SlowRequests implements Http1ConnectionListener, AutoCloseable {

    private final ConcurrentMap<Thread, Long> waiting = new ConcurrentHashMap<>();
    private final long limitNanos;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pgchat-slow-request-timer").factory());

    SlowRequests(Duration limit) {
        this.limitNanos = limit.toNanos();
        long period = Math.max(50, limit.toMillis() / 4);
        timer.scheduleWithFixedDelay(this::cutOffLate, period, period, TimeUnit.MILLISECONDS);
    }

    /** The request line has arrived; the headers are now being read on this thread. */
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        waiting.put(Thread.currentThread(), System.nanoTime());
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        waiting.remove(Thread.currentThread());
    }

    /**
     * Runs a read of the request body under the same limit. A read cut off fails even if it returned:
     * over HTTP/2 Helidon ends an interrupted body early as if it were complete.
     */
    byte[] readBody(IoSupplier read) {
        Thread thread = Thread.currentThread();
        Long since = System.nanoTime();
        waiting.put(thread, since);
        try {
            byte[] body = read.get();
            if (!waiting.remove(thread, since)) {
                throw new InterruptedIOException("the request body did not arrive within the limit");
            }
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            waiting.remove(thread);
            Thread.interrupted(); // an interrupt that came after the read finished must not hit the next one
        }
    }

    interface IoSupplier {
        byte[] get() throws IOException;
    }

    private void cutOffLate() {
        long now = System.nanoTime();
        waiting.forEach((thread, since) -> {
            if (now - since > limitNanos && waiting.remove(thread, since)) {
                thread.interrupt();
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
