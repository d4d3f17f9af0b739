package io.pgchat;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
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
final class RoomsApi implements HttpService {

    private static final HeaderName IDEMPOTENCY_KEY = HeaderNames.create("Idempotency-Key");
    private static final Pattern IDEMPOTENCY_KEY_FORMAT = Pattern.compile("[A-Za-z0-9_.:-]{1,100}");

    private final MessageStore store;
    private final EventStream events;
    private final CrossOrigin crossOrigin;
    private final HttpEdge edge;
    private final ChatMetrics metrics;
    private final ChatConfig config;
    private final RateLimits postsByAddress;
    private final RateLimits postsByAuthor;
    private final RateLimits roomsByAddress;

    RoomsApi(MessageStore store, EventStream events, CrossOrigin crossOrigin, HttpEdge edge,
             ChatMetrics metrics, ChatConfig config) {
        this.store = store;
        this.edge = edge;
        this.events = events;
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
                .post("/session", this::signIn)
                .delete("/session", this::signOut)
                .post("/rooms/{room}/messages", this::post)
                .get("/rooms/{room}/messages", this::history)
                .get("/rooms/{room}/messages/{seq}", this::one)
                .get("/rooms/{room}/events", events::stream)
                .any("/rooms", allow("GET"))
                .any("/session", allow("POST, DELETE"))
                .any("/rooms/{room}/messages", allow("GET, POST"))
                .any("/rooms/{room}/messages/{seq}", allow("GET"))
                .any("/rooms/{room}/events", allow("GET"))
                .any("/*", (req, res) -> {
                    throw new ApiError(Status.NOT_FOUND_404, "not_found", "No such resource: " + req.path().rawPath());
                });
    }

    private void post(ServerRequest req, ServerResponse res) {
        String room = room(req);
        String idempotencyKey = idempotencyKey(req);
        crossOrigin.checkPost(req);
        Optional<TokenAuth.Caller> caller = caller(req, room);
        String client = ClientAddress.of(req, config.limits().trustForwardedFor());
        postsByAddress.take(client);
        MessageInput input = MessageInput.read(req, config.maxRequestBytes(), edge,
                caller.map(TokenAuth.Caller::author).orElse(null));
        postsByAuthor.take(input.author());
        if (!store.roomExists(room)) {
            roomsByAddress.take(client);
        }
        MessageStore.Posted posted = store.post(room, input, idempotencyKey);
        Message message = posted.message();
        if (posted.replayed() && !(message.author().equals(input.author()) && message.body().equals(input.body()))) {
            throw new ApiError(Status.CONFLICT_409, "idempotency_key_reused",
                    "This Idempotency-Key was used for a different message in this room.");
        }
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
        String room = room(req);
        caller(req, room);
        Optional<Long> after = number(req, "after", 0, Long.MAX_VALUE);
        long before = number(req, "before", 1, Long.MAX_VALUE).orElse(Long.MAX_VALUE);
        int limit = number(req, "limit", 1, config.historyMaxLimit()).orElse((long) config.historyLimit()).intValue();
        List<Message> page = after.isPresent()
                ? store.between(room, after.get(), before, limit)
                : store.latest(room, before, limit);
        sendJson(res, Message.toJson(page));
    }

    private void one(ServerRequest req, ServerResponse res) {
        String room = room(req);
        caller(req, room);
        long seq = parse("seq", req.path().pathParameters().get("seq"), 1, Long.MAX_VALUE);
        List<Message> found = store.between(room, seq - 1, seq + 1, 1);
        if (found.isEmpty()) {
            throw new ApiError(Status.NOT_FOUND_404, "not_found", "Room " + room + " has no message " + seq + ".");
        }
        sendJson(res, found.getFirst().toJson());
    }

    private void listRooms(ServerRequest req, ServerResponse res) {
        Optional<TokenAuth.Caller> caller = config.auth().map(auth -> auth.require(req));
        List<MessageStore.RoomSummary> rooms = store.rooms().stream()
                .filter(r -> caller.map(c -> c.mayUse(r.room())).orElse(true)).toList();
        sendJson(res, Message.write(g -> {
            g.writeStartArray();
            for (MessageStore.RoomSummary room : rooms) {
                g.writeStartObject();
                g.writeStringField("room", room.room());
                g.writeNumberField("lastSeq", room.lastSeq());
                g.writeStringField("lastSentAt", Message.timestamp(room.lastSentAt()));
                g.writeEndObject();
            }
            g.writeEndArray();
        }));
    }

    /**
     * Exchanges a token sent in the Authorization header for an HttpOnly cookie, which EventSource
     * sends by itself; SameSite=Strict keeps other sites' pages from using it.
     */
    private void signIn(ServerRequest req, ServerResponse res) {
        TokenAuth auth = config.auth().orElseThrow(() -> new ApiError(Status.NOT_FOUND_404, "not_found",
                "Sign-in is not configured on this server; the chat is open."));
        String token = TokenAuth.bearer(req).orElseThrow(() -> new ApiError(Status.UNAUTHORIZED_401, "unauthorized",
                "Send the token as 'Authorization: Bearer <JWT>' to get a session cookie."));
        TokenAuth.Caller caller = auth.require(req);
        long maxAge = Math.max(0, caller.expiresAtEpochSecond() - java.time.Instant.now().getEpochSecond());
        res.header(HeaderNames.SET_COOKIE, TokenAuth.COOKIE + "=" + token + "; Path=/api; Max-Age=" + maxAge
                + "; HttpOnly; SameSite=Strict" + (req.isSecure() ? "; Secure" : ""));
        sendJson(res, Message.write(g -> {
            g.writeStartObject();
            g.writeStringField("author", caller.author());
            g.writeArrayFieldStart("rooms");
            for (String room : caller.rooms()) {
                g.writeString(room);
            }
            g.writeEndArray();
            g.writeNumberField("expiresAt", caller.expiresAtEpochSecond());
            g.writeEndObject();
        }));
    }

    private void signOut(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.SET_COOKIE, TokenAuth.COOKIE + "=; Path=/api; Max-Age=0; HttpOnly; SameSite=Strict");
        res.status(Status.NO_CONTENT_204).send();
    }

    /** The signed-in caller when sign-in is on (401 without a valid token, 403 for a room it may not use). */
    Optional<TokenAuth.Caller> caller(ServerRequest req, String room) {
        Optional<TokenAuth.Caller> caller = config.auth().map(auth -> auth.require(req));
        caller.ifPresent(c -> c.checkRoom(room));
        return caller;
    }

    static String room(ServerRequest req) {
        return MessageInput.room(req.path().pathParameters().get("room"));
    }

    static Optional<Long> number(ServerRequest req, String name, long min, long max) {
        return req.query().first(name).asOptional()
                .filter(value -> !value.isEmpty())
                .map(value -> parse(name, value, min, max));
    }

    /** ASCII digits only: Long.parseLong would also take a sign and the digits of other scripts. */
    static long parse(String name, String value, long min, long max) {
        try {
            long n = Long.parseLong(value);
            if (n >= min && n <= max && value.chars().allMatch(c -> c >= '0' && c <= '9')) {
                return n;
            }
        } catch (NumberFormatException e) {
            // refused below, with the range
        }
        throw ApiError.badRequest("invalid_" + name, "'" + name + "' must be a whole number from " + min
                + (max == Long.MAX_VALUE ? " up" : " to " + max) + ".");
    }

    private static void sendJson(ServerResponse res, byte[] json) {
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(json);
    }

    private static io.helidon.webserver.http.Handler allow(String methods) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, methods);
            throw new ApiError(Status.METHOD_NOT_ALLOWED_405, "method_not_allowed",
                    req.prologue().method().text() + " is not allowed here; use " + methods + ".");
        };
    }
}
