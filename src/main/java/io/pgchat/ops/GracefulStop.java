package io.pgchat.ops;

import io.pgchat.ApiError;
import io.pgchat.edge.Http2Connections;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * How a stopping server steps aside for the others on its database. Once stopping, every new request
 * (health included, so load balancers notice) is refused with 503, Retry-After and, over HTTP/1.1,
 * Connection: close, so clients go elsewhere, while the requests already in flight finish: a post is
 * answered once committed. A filter, on request threads.
 *
 * <p>Helidon's own stop closes the port at once and gives requests in flight only its shutdown grace
 * period (half a second by default) before interrupting them; a client that sends its next request
 * just then finds its connection closed without an answer. So the server drains here first.
 */
public final class GracefulStop implements Filter {

    /** A client between two requests learns of the stop from a 503 rather than from a closed connection. */
    private static final long QUIET_NANOS = Duration.ofMillis(250).toNanos();

    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile long lastRequestEnded = System.nanoTime();
    private volatile boolean stopping;

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        inFlight.incrementAndGet();
        try {
            if (!stopping) {
                chain.proceed();
                return;
            }
            if (!Http2Connections.carries(req)) {
                // HTTP/2 forbids the header (Helidon resets the stream instead of answering); its
                // connections end with the GOAWAY the server sends as it stops.
                res.header(HeaderValues.CONNECTION_CLOSE);
            }
            res.header(HeaderNames.RETRY_AFTER, "1");
            ApiError.send(res, Status.SERVICE_UNAVAILABLE_503, "shutting_down",
                    "This server is stopping; retry, another server will answer.");
        } finally {
            lastRequestEnded = System.nanoTime();
            inFlight.decrementAndGet();
        }
    }

    /** From now on every new request is refused. */
    public void begin() {
        stopping = true;
    }

    /**
     * Waits until no request is in flight and none has come for a moment, but no longer than grace.
     * Returns the number of requests still in flight then (0 when all finished).
     */
    public int awaitQuiet(Duration grace) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        while (inFlight.get() > 0 || System.nanoTime() - lastRequestEnded < QUIET_NANOS) {
            if (System.nanoTime() > deadline) {
                return inFlight.get();
            }
            Thread.sleep(10);
        }
        return 0;
    }
}
