package io.pgchat;

import io.pgchat.posting.MessageInput;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.util.Optional;
import java.util.OptionalLong;

/** Reading a request's path and query parameters, each refused with a 400 naming it when it is not valid. */
public final class Params {

    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");

    private Params() {
    }

    /** The {room} path parameter. */
    public static String room(ServerRequest req) {
        return MessageInput.room(req.path().pathParameters().get("room"));
    }

    /** An optional whole number in the query, from min to max. */
    public static Optional<Long> number(ServerRequest req, String name, long min, long max) {
        return req.query().first(name).asOptional()
                .filter(value -> !value.isEmpty())
                .map(value -> parse(name, value, min, max));
    }

    /** The Last-Event-ID header, else the lastEventId query parameter (EventSource sets no header at first). */
    public static OptionalLong lastEventId(ServerRequest req) {
        return req.headers().first(LAST_EVENT_ID).map(String::strip).filter(id -> !id.isEmpty())
                .or(() -> req.query().first("lastEventId").asOptional().filter(id -> !id.isEmpty()))
                .map(id -> OptionalLong.of(parse("lastEventId", id, 0, Long.MAX_VALUE)))
                .orElse(OptionalLong.empty());
    }

    /** ASCII digits only: Long.parseLong would also take a sign and the digits of other scripts. */
    public static long parse(String name, String value, long min, long max) {
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
}
