package io.pgchat;

import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.regex.Pattern;

/** Reading a request's path and query parameters, each refused with a 400 naming it when it is not valid. */
public final class Params {

    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final Pattern ROOM = Pattern.compile("[A-Za-z0-9_-]{1,64}");

    private Params() {
    }

    /** The {room} path parameter. */
    public static String room(ServerRequest req) {
        return roomName(req.path().pathParameters().get("room"));
    }

    /** The rooms query parameter: 1 to max room names, comma-separated, none repeated. */
    public static List<String> rooms(ServerRequest req, int max) {
        List<String> values = req.query().all("rooms", List::of);
        if (values.stream().allMatch(String::isEmpty)) {
            throw ApiError.badRequest("missing_rooms", "Name the rooms to follow: ?rooms=general,random");
        }
        List<String> rooms = values.stream().flatMap(v -> Arrays.stream(v.split(",", -1))).toList();
        if (rooms.size() > max) {
            throw ApiError.badRequest("too_many_rooms", "A stream follows at most " + max + " rooms; this asks for "
                    + rooms.size() + ".");
        }
        Set<String> seen = new HashSet<>();
        for (String room : rooms) {
            roomName(room);
            if (!seen.add(room)) {
                throw ApiError.badRequest("repeated_room", "Room " + room + " is listed more than once.");
            }
        }
        return rooms;
    }

    private static String roomName(String name) {
        if (name == null || !ROOM.matcher(name).matches()) {
            throw ApiError.badRequest("invalid_room",
                    "A room name is 1-64 characters of letters, digits, '_' and '-'.");
        }
        return name;
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
