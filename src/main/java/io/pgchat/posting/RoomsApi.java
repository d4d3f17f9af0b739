package io.pgchat.posting;

import io.pgchat.ApiError;
import io.pgchat.ChatConfig;
import io.pgchat.Message;
import io.pgchat.Params;
import io.pgchat.access.Access;
import io.pgchat.access.CrossOrigin;
import io.pgchat.access.RateLimits;
import io.pgchat.access.TokenAuth;
import io.pgchat.edge.HttpEdge;
import io.pgchat.ops.ChatMetrics;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The HTTP API under /api: where a message is accepted (POST), history and rooms are read, and
 * streams are opened. Handlers run on request (virtual) threads and may block.
 */
public final class RoomsApi implements HttpService {

    private static final HeaderName IDEMPOTENCY_KEY = HeaderNames.create("Idempotency-Key");
    private static final Pattern IDEMPOTENCY_KEY_FORMAT = Pattern.compile("[A-Za-z0-9_.:-]{1,100}");

    private final MessageStore store;
    private final CrossOrigin crossOrigin;
    private final HttpEdge edge;
    private final ChatMetrics metrics;
    private final ChatConfig config;
    private final Access access;
    private final RateLimits postsByAddress;
    private final RateLimits postsByAuthor;
    private final RateLimits roomsByAddress;

    public RoomsApi(MessageStore store, Access access, CrossOrigin crossOrigin, HttpEdge edge,
             ChatMetrics metrics, ChatConfig config) {
        this.store = store;
        this.access = access;
        this.edge = edge;
        this.crossOrigin = crossOrigin;
        this.metrics = metrics;
        this.config = config;
        ChatConfig.Limits limits = config.limits();
        Duration minute = Duration.ofMinutes(1);
        this.postsByAddress = new RateLimits("posts from this address", limits.postBurst(),
                limits.postsPerAddressPerMinute(), minute);
        this.postsByAuthor = new RateLimits("posts by this author", limits.postBurst(),
                limits.postsPerAuthorPerMinute(), minute);
        this.roomsByAddress = new RateLimits("new rooms from this address", limits.roomsPerAddressPerHour(),
                limits.roomsPerAddressPerHour(), Duration.ofHours(1));
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/rooms", this::listRooms)
                .post("/rooms/{room}/messages", this::post)
                .get("/rooms/{room}/messages", this::history)
                .get("/rooms/{room}/messages/{seq}", this::one)
                .any("/rooms", ApiError.allow("GET"))
                .any("/rooms/{room}/messages", ApiError.allow("GET, POST"))
                .any("/rooms/{room}/messages/{seq}", ApiError.allow("GET"))
                .any("/*", (req, res) -> {
                    throw new ApiError(Status.NOT_FOUND_404, "not_found", "No such resource: " + req.path().rawPath());
                });
    }

    private void post(ServerRequest req, ServerResponse res) {
        String room = Params.room(req);
        String idempotencyKey = idempotencyKey(req);
        crossOrigin.checkPost(req);
        Optional<TokenAuth.Caller> caller = access.check(req, room);
        String client = config.limits().clientAddress().of(req);
        postsByAddress.take(client);
        MessageInput input = MessageInput.read(req, config.maxRequestBytes(), edge,
                caller.map(TokenAuth.Caller::author).orElse(null));
        postsByAuthor.take(input.author());
        // Only the limit of new rooms needs to know whether the room exists.
        if (config.limits().roomsPerAddressPerHour() > 0 && !store.roomExists(room)) {
            roomsByAddress.take(client);
        }
        MessageStore.Posted posted = store.post(room, input, idempotencyKey);
        Message message = posted.message();
        if (!posted.replayed()) {
            metrics.posted();
        }
        res.status(posted.replayed() ? Status.OK_200 : Status.CREATED_201);
        res.header(HeaderNames.LOCATION, "/api/rooms/" + room + "/messages/" + message.seq());
        sendJson(res, message.toJson());
    }

    /** Optional: a client's name for this message, so that a retry of it is stored once. */
    private static String idempotencyKey(ServerRequest req) {
        Optional<String> key = req.headers().first(IDEMPOTENCY_KEY);
        if (key.isEmpty()) {
            return null;
        }
        if (!IDEMPOTENCY_KEY_FORMAT.matcher(key.get()).matches()) {
            throw ApiError.badRequest("invalid_idempotency_key",
                    "An Idempotency-Key is 1-100 characters of letters, digits, '-', '_', ':' and '.'.");
        }
        return key.get();
    }

    /**
     * A page of history, ascending. With after: the first messages after it; otherwise the newest
     * before {@code before} (or the newest of all), which is how a reader scrolls back.
     */
    private void history(ServerRequest req, ServerResponse res) {
        String room = Params.room(req);
        access.check(req, room);
        Optional<Long> after = Params.number(req, "after", 0, Long.MAX_VALUE);
        long before = Params.number(req, "before", 1, Long.MAX_VALUE).orElse(Long.MAX_VALUE);
        int limit = Params.number(req, "limit", 1, config.historyMaxLimit()).orElse((long) config.historyLimit()).intValue();
        List<Message> page = after.isPresent()
                ? store.between(room, after.get(), before, limit)
                : store.latest(room, before, limit);
        sendJson(res, Message.toJson(page));
    }

    private void one(ServerRequest req, ServerResponse res) {
        String room = Params.room(req);
        access.check(req, room);
        long seq = Params.parse("seq", req.path().pathParameters().get("seq"), 1, Long.MAX_VALUE);
        List<Message> found = store.between(room, seq - 1, seq + 1, 1);
        if (found.isEmpty()) {
            throw new ApiError(Status.NOT_FOUND_404, "not_found", "Room " + room + " has no message " + seq + ".");
        }
        sendJson(res, found.getFirst().toJson());
    }

    private void listRooms(ServerRequest req, ServerResponse res) {
        Optional<TokenAuth.Caller> caller = access.check(req, List.of());
        List<MessageStore.RoomSummary> rooms = store.rooms().stream().filter(r -> Access.mayUse(caller, r.room())).toList();
        sendJson(res, Message.write(g -> {
            g.writeStartArray();
            for (MessageStore.RoomSummary room : rooms) {
                g.writeStartObject();
                g.writeStringField("room", room.room());
                g.writeNumberField("lastSeq", room.lastSeq());
                g.writeNumberField("lastPos", room.lastPos());
                g.writeStringField("lastSentAt", Message.timestamp(room.lastSentAt()));
                g.writeEndObject();
            }
            g.writeEndArray();
        }));
    }

    private static void sendJson(ServerResponse res, byte[] json) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(json);
    }
}
