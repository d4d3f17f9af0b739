package io.pgchat.edge;

import io.pgchat.ApiError;
import io.pgchat.access.ClientAddress;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.task.InterruptableTask;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.http.WritableHeaders;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeoutException;

/**
 * The HTTP/1.1 edge: Helidon 4.3's connections, guarded where they are unsafe on the open internet.
 * Helidon's loop goes on reading a connection after an answer with {@code Connection: close}, and
 * after an error answer that left the body unread, so such a body runs as a request of its own
 * (request smuggling); it drains any other unread body without bound; it takes an unknown
 * Transfer-Encoding as "no body"; it lets a request head trickle in for minutes, from any number of
 * connections per address. So HTTP/1.1 connections are made here, around Helidon's, and:
 * <ul>
 * <li>a request whose framing is ambiguous (RFC 9112 6.3: a coding other than plain chunked,
 *     Transfer-Encoding with Content-Length, differing Content-Lengths) is refused and its connection ends;</li>
 * <li>after an answer with {@code Connection: close} (asked by the client, or sent with any error answer
 *     that left the body unread: see ApiError) the connection ends. What the client still sends is read and dropped, never parsed, for at most 5 s (1 s of
 *     silence) and 16 MiB, as nginx's lingering close does, so the client reads the answer rather
 *     than a reset. A body that a successful answer did not need is read to its end within the same
 *     bounds (the connection then goes on), or the connection ends;</li>
 * <li>a request's head must be whole within {@code pgchat.slow.request.millis} of its first byte
 *     (of the connection's opening, for the first request), like nginx's client_header_timeout;</li>
 * <li>one client address may hold a bounded number of connections; a trusted proxy's are not
 *     counted (all its clients share them: the proxy limits them).</li>
 * </ul>
 * Helidon runs a connection, and each of its requests, on one virtual thread: that thread is the key
 * to a connection's state here.
 */
public final class HttpEdge implements ServerConnectionSelector, Http1ConnectionListener, Filter {

    private static final Duration LINGER_TIME = Duration.ofSeconds(5);
    private static final Duration LINGER_SILENCE = Duration.ofSeconds(1);
    private static final long LINGER_BYTES = 16 << 20;

    private final ServerConnectionSelector http1;
    private final SlowRequests slowRequests;
    private final int connectionsPerAddress;
    private final ClientAddress clientAddress;
    private final ConcurrentMap<InetAddress, Integer> open = new ConcurrentHashMap<>();
    private final ConcurrentMap<Thread, Edge> connections = new ConcurrentHashMap<>();

    /** connectionsPerAddress 0: no cap. Helidon's selector is built without upgraders: pgchat upgrades to nothing (WebSocket, h2c). */
    public HttpEdge(Http1Config.Builder http1, SlowRequests slowRequests, int connectionsPerAddress, ClientAddress clientAddress) {
        this.http1 = Http1ConnectionSelector.builder()
                .config(http1.addReceiveListener(this).addSendListener(new OneCacheControl()).build()).build();
        this.slowRequests = slowRequests;
        this.connectionsPerAddress = connectionsPerAddress;
        this.clientAddress = clientAddress;
    }

    /**
     * The listener's settings without HTTP/1.1's, which are this edge's: Helidon would otherwise add
     * its own HTTP/1.1 connections beside these, and with two candidates it waits for a connection's
     * first bytes before choosing, out of reach of the head deadline.
     */
    public static Config listenerConfig(Config server) {
        String http1 = server.get("protocols.http_1_1").key().toString();
        Map<String, String> rest = new HashMap<>(server.asMap().orElseGet(Map::of));
        rest.keySet().removeIf(key -> key.startsWith(http1 + "."));
        return Config.just(ConfigSources.create(rest)).get(server.key().toString());
    }

    // --- connections

    @Override
    public int bytesToIdentifyConnection() {
        return http1.bytesToIdentifyConnection();
    }

    /** HTTP/1.0 too, so that it is answered (505) rather than closed when other protocols are served beside. */
    @Override
    public Support supports(BufferData request) {
        Support support = http1.supports(request);
        request.rewind();
        int lf = request.indexOf((byte) '\n');
        return lf > 0 && request.readString(lf).endsWith(" HTTP/1.0\r") ? Support.SUPPORTED : support;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return http1.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new Edge(ctx, http1.connection(ctx));
    }

    /** One HTTP/1.1 connection: Helidon's, counted per address and timed until its first head is whole. */
    private final class Edge implements ServerConnection, InterruptableTask<Void> {
        private final ConnectionContext ctx;
        private final ServerConnection http1;

        Edge(ConnectionContext ctx, ServerConnection http1) {
            this.ctx = ctx;
            this.http1 = http1;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            InetAddress peer = ctx.remotePeer().address() instanceof InetSocketAddress inet ? inet.getAddress() : null;
            InetAddress address = peer == null || clientAddress.trusts(peer) ? null : peer; // null: not counted
            if (!admit(address)) {
                ctx.dataWriter().writeNow(BufferData.create(TOO_MANY_CONNECTIONS));
                return;
            }
            connections.put(Thread.currentThread(), this);
            slowRequests.headStarted();
            try {
                http1.handle(limit);
            } finally {
                slowRequests.cancel();
                connections.remove(Thread.currentThread());
                release(address);
            }
        }

        /** True while waiting for a request line: Helidon interrupts such a connection to close it. */
        @Override
        public boolean canInterrupt() {
            return http1 instanceof InterruptableTask<?> task && task.canInterrupt();
        }

        @Override
        public Duration idleTime() {
            return http1.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            http1.close(interrupt);
        }

        /**
         * Ends the connection after the current request. Unless the answer said Connection: close,
         * Helidon would read the rest of the body: the socket is closed under it.
         */
        void end(boolean linger, boolean announced) {
            if (linger) {
                linger();
            }
            http1.close(false);
            if (!announced) {
                ctx.serverSocket().close();
            }
        }

        /** Reads and drops what the client still sends, within the lingering bounds. */
        private void linger() {
            DataReader reader = ctx.dataReader();
            long deadline = System.nanoTime() + LINGER_TIME.toNanos();
            long budget = LINGER_BYTES;
            try {
                while (budget > 0 && deadline - System.nanoTime() > 0) {
                    int buffered = reader.available();
                    if (buffered > 0) {
                        reader.skip(buffered);
                        budget -= buffered;
                    } else {
                        slowRequests.interruptAfter(Duration.ofNanos(
                                Math.min(LINGER_SILENCE.toNanos(), deadline - System.nanoTime())));
                        reader.pullData();
                    }
                }
            } catch (RuntimeException closedOrQuiet) {
                // the client closed, or was silent long enough: done either way
            } finally {
                slowRequests.cancel();
                Thread.interrupted();
            }
        }
    }

    private static final byte[] TOO_MANY_CONNECTIONS = response(Status.TOO_MANY_REQUESTS_429,
            "{\"error\":\"too_many_connections\",\"message\":\"Too many connections from your address; close some.\"}");

    private static byte[] response(Status status, String json) {
        return ("HTTP/1.1 " + status.code() + " " + status.reasonPhrase() + "\r\nContent-Type: application/json\r\n"
                + "Retry-After: 1\r\nConnection: close\r\nContent-Length: " + json.length() + "\r\n\r\n" + json)
                .getBytes(StandardCharsets.US_ASCII);
    }

    private boolean admit(InetAddress address) {
        if (connectionsPerAddress <= 0 || address == null) {
            return true;
        }
        boolean[] admitted = {false};
        open.compute(address, (a, n) -> {
            int count = n == null ? 0 : n;
            if (count >= connectionsPerAddress) {
                return n;
            }
            admitted[0] = true;
            return count + 1;
        });
        return admitted[0];
    }

    private void release(InetAddress address) {
        if (connectionsPerAddress > 0 && address != null) {
            open.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
        }
    }

    /**
     * Helidon writes each value of a header on a line of its own: its health and metrics endpoints
     * answered with four Cache-Control lines. Joined into one before the head is written.
     */
    private static final class OneCacheControl implements Http1ConnectionListener {
        @Override
        public void headers(ConnectionContext ctx, Headers headers) {
            if (headers instanceof WritableHeaders<?> response && response.contains(HeaderNames.CACHE_CONTROL)) {
                List<String> values = response.get(HeaderNames.CACHE_CONTROL).allValues();
                if (values.size() > 1) {
                    response.set(HeaderValues.create(HeaderNames.CACHE_CONTROL, String.join(", ", values)));
                }
            }
        }
    }

    // --- bodies

    /**
     * At most limit bytes of the request's body. A body that has arrived whole is read at once;
     * another on a helper thread within the slow-request limit, so that a stalled one gets its 408.
     * The entity's stream is not closed: closing it would read the rest of a refused body, however long.
     */
    public byte[] readBody(ServerRequest req, int limit) throws TimeoutException {
        Edge edge = connections.get(Thread.currentThread());
        long length = req.headers().contentLength().orElse(-1);
        if (edge != null && length >= 0 && edge.ctx.dataReader().available() >= length) {
            return readAtMost(req, limit);
        }
        return slowRequests.readBody(() -> readAtMost(req, limit));
    }

    private static byte[] readAtMost(ServerRequest req, int limit) {
        try {
            return req.content().inputStream().readNBytes(limit);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // --- the request head's deadline (a receive listener of Helidon's HTTP/1.1 reader)

    /** Bytes arrived: if the connection was waiting for a request line, the head's clock starts now. */
    @Override
    public void data(ConnectionContext ctx, BufferData data) {
        Edge edge = connections.get(Thread.currentThread());
        if (edge != null && edge.canInterrupt()) {
            slowRequests.headStarted();
        }
    }

    @Override
    public void data(ConnectionContext ctx, byte[] bytes, int offset, int length) {
        data(ctx, (BufferData) null);
    }

    /** A pipelined request's line may come without a read: its head is timed from here. */
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
        slowRequests.headStarted();
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
        slowRequests.cancel();
    }

    // --- each request (the outermost filter)

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Edge edge = connections.get(Thread.currentThread());
        if (edge == null) { // not an HTTP/1.1 connection (HTTP/2 frames its own messages)
            chain.proceed();
            return;
        }
        ApiError ambiguous = target(req).orElseGet(() -> framing(req.headers()));
        if (ambiguous != null) {
            res.header(HeaderValues.CONNECTION_CLOSE);
            ApiError.send(res, ambiguous.status, ambiguous.code, ambiguous.getMessage());
            edge.end(true, true);
            return;
        }
        try {
            chain.proceed();
        } catch (RuntimeException e) {
            edge.end(false, true); // answered by Helidon's error handling, with the connection ending after
            throw e;
        }
        boolean unread = !req.content().consumed();
        boolean announced = res.headers().contains(HeaderValues.CONNECTION_CLOSE);
        if (unread && !announced && skipBody(req)) {
            return; // a body the answer did not need, read to its end: the connection goes on
        }
        if (unread || announced) {
            // After a 408 the body is still being read by a thread that gave up on it: close at once.
            boolean linger = announced && res.status().code() != Status.REQUEST_TIMEOUT_408.code()
                    && (unread || edge.ctx.dataReader().available() > 0);
            edge.end(linger, announced);
        }
    }

    /**
     * Reads to its end a body that a successful answer did not need, as Helidon would, but within
     * the lingering bounds. False when it did not end within them.
     */
    private boolean skipBody(RoutingRequest req) {
        slowRequests.interruptAfter(LINGER_TIME);
        try {
            InputStream body = req.content().inputStream();
            byte[] buffer = new byte[8192];
            for (long left = LINGER_BYTES; left >= 0; ) {
                int n = body.read(buffer);
                if (n < 0) {
                    return true;
                }
                left -= n;
            }
            return false;
        } catch (IOException | RuntimeException brokenOrTooSlow) {
            return false;
        } finally {
            slowRequests.cancel();
            Thread.interrupted();
        }
    }

    /** Only paths are served: CONNECT's host:port (pgchat is no proxy) and OPTIONS * would fail the routes. */
    private static Optional<ApiError> target(RoutingRequest req) {
        String path = req.prologue().uriPath().rawPath();
        return path != null && path.startsWith("/") ? Optional.empty() : Optional.of(ApiError.badRequest("bad_request",
                "The request target must be a path: pgchat is not a proxy."));
    }

    /** Null when the body's bounds are clear (RFC 9112 6.3), else why the request is refused. */
    private static ApiError framing(Headers headers) {
        List<String> codings = values(headers, HeaderNames.TRANSFER_ENCODING);
        List<String> lengths = values(headers, HeaderNames.CONTENT_LENGTH);
        if (!codings.isEmpty() && !codings.equals(List.of("chunked"))) {
            return new ApiError(Status.NOT_IMPLEMENTED_501, "unsupported_transfer_encoding",
                    "Only 'Transfer-Encoding: chunked' is understood.");
        }
        if (!codings.isEmpty() && !lengths.isEmpty()) {
            return ApiError.badRequest("bad_request", "Send Content-Length or Transfer-Encoding, not both.");
        }
        if (lengths.stream().distinct().count() > 1) {
            return ApiError.badRequest("bad_request", "The request has conflicting Content-Length headers.");
        }
        return null;
    }

    /** Every comma-separated value of every line of a header. */
    private static List<String> values(Headers headers, HeaderName name) {
        if (!headers.contains(name)) {
            return List.of();
        }
        return headers.get(name).allValues().stream()
                .flatMap(value -> Arrays.stream(value.split(",", -1)))
                .map(String::strip)
                .toList();
    }
}
