package io.pgchat.delivery;

import io.pgchat.ApiError;
import io.pgchat.ChatConfig;
import io.pgchat.Params;
import io.pgchat.access.Access;
import io.pgchat.ops.ChatMetrics;
import io.pgchat.posting.StoreUnavailable;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where messages are delivered: one SSE stream per request, of one room ({@code /api/rooms/{room}/events},
 * ids are the room's seq) or of many ({@code /api/events?rooms=a,b}, ids are log positions, so one
 * Last-Event-ID resumes every room). Each is written from the request's own (virtual) thread, which
 * takes from its {@link Subscription} what to write next.
 *
 * <p>It writes the SSE bytes itself rather than through Helidon's SseSink: the sink cannot send a
 * comment-only heartbeat or a {@code retry:} field, and writing each event separately was several
 * times slower than one write per batch of pre-encoded events.
 */
public final class EventStream implements HttpService {

    private static final Logger LOG = System.getLogger(EventStream.class.getName());

    private final Delivery delivery;
    private final Access access;
    private final ChatMetrics metrics;
    private final ChatConfig config;
    private final AtomicInteger open = new AtomicInteger();
    private final ConcurrentMap<String, Integer> openByAddress = new ConcurrentHashMap<>();

    public EventStream(Delivery delivery, Access access, ChatMetrics metrics, ChatConfig config) {
        this.delivery = delivery;
        this.access = access;
        this.metrics = metrics;
        this.config = config;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/rooms/{room}/events", this::room)
                .get("/events", this::rooms)
                .any("/rooms/{room}/events", ApiError.allow("GET"))
                .any("/events", ApiError.allow("GET"));
    }

    /** GET /api/rooms/{room}/events */
    private void room(ServerRequest req, ServerResponse res) {
        String room = Params.room(req);
        OptionalLong tail = Params.number(req, "tail", 0, config.historyMaxLimit())
                .map(OptionalLong::of).orElse(OptionalLong.empty());
        stream(req, res, List.of(room), EventIds.ROOM_SEQ, tail);
    }

    /** GET /api/events?rooms=a,b,c */
    private void rooms(ServerRequest req, ServerResponse res) {
        stream(req, res, Params.rooms(req, config.streamRoomsMax()), EventIds.LOG_POS, OptionalLong.empty());
    }

    private void stream(ServerRequest req, ServerResponse res, List<String> rooms, EventIds ids, OptionalLong tail) {
        access.check(req, rooms);
        OptionalLong after = Params.lastEventId(req);
        String client = config.limits().clientAddress().of(req);
        String name = rooms.size() == 1 ? "room " + rooms.getFirst() : rooms.size() + " rooms";
        admit(client);
        try (Subscription subscription = delivery.open(rooms, ids, after, tail)) {
            res.header(HeaderNames.CONTENT_TYPE, "text/event-stream");
            res.header(HeaderNames.CACHE_CONTROL, "no-cache");
            res.header("X-Accel-Buffering", "no");
            try (OutputStream out = res.outputStream()) {
                subscription.write(out, prelude(rooms, ids));
                if (subscription.reset() != null) {
                    subscription.write(out, subscription.reset());
                }
                for (Subscription.Batch batch = subscription.next(); batch != null; batch = subscription.next()) {
                    subscription.write(out, batch.bytes());
                    metrics.delivered(batch.count(), batch.fromTable());
                }
            } catch (StoreUnavailable e) {
                // The response has begun, so the error cannot be its status: end the stream, the
                // client reconnects with its Last-Event-ID and loses nothing.
                LOG.log(Level.WARNING, "Ending a stream of " + name + ": " + e.getMessage());
            }
        } catch (UncheckedIOException | IOException e) {
            LOG.log(Level.DEBUG, "Stream of " + name + " closed by the client: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            release(client);
        }
    }

    /** Built apart from the stream's loop, so that a stream of many rooms does not hold it while it lasts. */
    private byte[] prelude(List<String> rooms, EventIds ids) {
        return ((ids == EventIds.ROOM_SEQ ? ": room " : ": rooms ") + String.join(",", rooms)
                + "\nretry: " + config.retry().toMillis() + "\n\n").getBytes(StandardCharsets.UTF_8);
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
}
