package io.pgchat.access;

import io.helidon.webserver.http.ServerRequest;

import java.util.List;
import java.util.Optional;

/**
 * The one access check of the API. With sign-in off the chat is open; with it on, every call needs a
 * valid token (401) and every room it names must be allowed by the token's rooms claim (403).
 */
public final class Access {

    private final Optional<TokenAuth> auth;

    public Access(Optional<TokenAuth> auth) {
        this.auth = auth;
    }

    /** The signed-in caller, when sign-in is on, allowed every one of the rooms. */
    public Optional<TokenAuth.Caller> check(ServerRequest req, List<String> rooms) {
        Optional<TokenAuth.Caller> caller = auth.map(a -> a.require(req));
        caller.ifPresent(c -> rooms.forEach(c::checkRoom));
        return caller;
    }

    public Optional<TokenAuth.Caller> check(ServerRequest req, String room) {
        return check(req, List.of(room));
    }

    /** Whether the caller (none: sign-in is off) may see the room. */
    public static boolean mayUse(Optional<TokenAuth.Caller> caller, String room) {
        return caller.map(c -> c.mayUse(room)).orElse(true);
    }
}
