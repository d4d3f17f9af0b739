package io.pgchat;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where messages are delivered: one SSE stream per request, written from the request's own (virtual)
 * thread. The stream keeps its cursor (the last seq written), replays what the table holds beyond it,
 * then follows the room live, waking when the hub rings and sending a heartbeat when it does not.
 *
 * <p>It writes the SSE bytes itself rather than through Helidon's SseSink: the sink cannot send a
 * comment-only heartbeat or a {@code retry:} field, and writing each event separately was several
 * times slower than one write per batch of pre-encoded events.
 */
final class EventStream {

    private static final Logger LOG = System.getLogger(EventStream.class.getName());
    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final byte[] HEARTBEAT = ":\n\n".getBytes(StandardCharsets.US_ASCII);

    private final MessageStore store;
    private final DeliveryHub hub;
    private final ChatMetrics metrics;
    private final ChatConfig config;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentMap<String, Integer> openByAddress = new ConcurrentHashMap<>();

    EventStream(MessageStore store, DeliveryHub hub, ChatMetrics metrics, ChatConfig config) {
        this.store = store;
        this.hub = hub;
        this.metrics = metrics;
        this.config = config;
    }

    void stream(ServerRequest req, ServerResponse res) {
        String room = RoomsApi.room(req);
        config.auth().ifPresent(auth -> auth.require(req).checkRoom(room));
        Optional<Long> resumeAfter = lastEventId(req);
        Optional<Long> tail = RoomsApi.number(req, "tail", 0, config.historyMaxLimit());
        String client = ClientAddress.of(req, config.limits().trustForwardedFor());
        admit(client);
        Subscriber subscriber = hub.join(room);
        try {
            // Read only now that the subscriber is registered: whatever commits after this read rings it.
            long last = store.lastSeq(room);
            long cursor = resumeAfter.orElse(tail.map(n -> Math.max(0, last - n)).orElse(last));
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            res.header("X-Accel-Buffering", "no");
            try (OutputStream out = res.outputStream()) {
                StringBuilder prelude = new StringBuilder(": room ").append(room)
                        .append("\nretry: ").append(config.retry().toMillis()).append("\n\n");
                if (cursor > last) {
                    prelude.append(reset(room, cursor, last));
                    cursor = last;
                }
                write(subscriber, out, prelude.toString().getBytes(StandardCharsets.UTF_8));
                follow(subscriber, cursor, last, out);
            } catch (ApiError e) {
                // The response has begun, so the error cannot be its status: end the stream, the
                // client reconnects with its Last-Event-ID and loses nothing.
                LOG.log(Level.WARNING, "Ending a stream of room " + room + ": " + e.getMessage());
            }
        } catch (UncheckedIOException | IOException e) {
            LOG.log(Level.DEBUG, "Stream of room " + room + " closed by the client: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            release(client);
            hub.leave(subscriber);
        }
    }

    /** Streams are long-lived: their number is capped per process (503) and per client address (429). */
    private void admit(String client) {
        ChatConfig.Limits limits = config.limits();
        if (open.incrementAndGet() > limits.maxSubscribers()) {
            open.decrementAndGet();
            throw new ApiError(Status.SERVICE_UNAVAILABLE_503, "too_many_subscribers", "This server holds its maximum of "
                    + limits.maxSubscribers() + " streams; retry shortly (or on another server).", 5);
        }
        try {
            openByAddress.merge(client, 1, (count, one) -> {
                if (count >= limits.subscribersPerAddress()) {
                    throw new ApiError(Status.TOO_MANY_REQUESTS_429, "too_many_streams", "This address already has "
                            + count + " open streams, the most allowed; close one first.", 10);
                }
                return count + one;
            });
        } catch (ApiError e) {
            open.decrementAndGet();
            throw e;
        }
    }

    private void release(String client) {
        openByAddress.computeIfPresent(client, (address, count) -> count <= 1 ? null : count - 1);
        open.decrementAndGet();
    }

    private void follow(Subscriber subscriber, long cursor, long replayTo, OutputStream out)
            throws IOException, InterruptedException {
        String room = subscriber.feed.room;
        while (cursor < replayTo) {
            DeliveryHub.Batch batch = hub.fromTable(room, cursor);
            if (batch.count() == 0) {
                break;
            }
            cursor = deliver(subscriber, batch, out);
        }
        long heartbeat = config.heartbeat().toNanos();
        while (!subscriber.closed()) {
            DeliveryHub.Batch batch = hub.next(subscriber, cursor);
            if (batch.count() > 0) {
                cursor = deliver(subscriber, batch, out);
            } else if (subscriber.quietFor(heartbeat, System.nanoTime())) {
                write(subscriber, out, HEARTBEAT);
            } else {
                subscriber.await();
            }
        }
    }

    private long deliver(Subscriber subscriber, DeliveryHub.Batch batch, OutputStream out) throws IOException {
        write(subscriber, out, batch.bytes());
        metrics.delivered(batch.count(), batch.fromTable());
        return batch.lastSeq();
    }

    private static void write(Subscriber subscriber, OutputStream out, byte[] bytes) throws IOException {
        subscriber.writing(true);
        try {
            out.write(bytes);
            out.flush();
        } finally {
            subscriber.writing(false);
        }
    }

    /**
     * The client is ahead of the room: the database was recreated or the id is not ours. Say so and
     * restart it at the room's end; its id moves there, so its next reconnect resumes correctly.
     */
    private static String reset(String room, long asked, long last) {
        return "id: " + last + "\nevent: reset\ndata: {\"room\":\"" + room + "\",\"lastSeq\":" + last
                + ",\"requested\":" + asked + "}\n\n";
    }

    /** The Last-Event-ID header, else the lastEventId query parameter (EventSource sets no header at first). */
    private static Optional<Long> lastEventId(ServerRequest req) {
        return req.headers().first(LAST_EVENT_ID).map(String::strip).filter(id -> !id.isEmpty())
                .or(() -> req.query().first("lastEventId").asOptional().filter(id -> !id.isEmpty()))
                .map(id -> RoomsApi.parse("lastEventId", id, 0, Long.MAX_VALUE));
    }
}
