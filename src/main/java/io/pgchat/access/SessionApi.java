package io.pgchat.access;

import io.pgchat.ApiError;
import io.pgchat.Message;

import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.util.Optional;

/** /api/session: with sign-in on, a token sent once becomes the cookie that EventSource sends by itself. */
public final class SessionApi implements HttpService {

    private final Optional<TokenAuth> auth;
    private final ClientAddress clientAddress;

    public SessionApi(Optional<TokenAuth> auth, ClientAddress clientAddress) {
        this.auth = auth;
        this.clientAddress = clientAddress;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/", this::signIn)
                .delete("/", this::signOut)
                .any("/", ApiError.allow("POST, DELETE"));
    }

    /**
     * Exchanges a token sent in the Authorization header for an HttpOnly cookie, which EventSource
     * sends by itself; SameSite=Strict keeps other sites' pages from using it. Secure over HTTPS,
     * here or at a trusted proxy that terminates TLS.
     */
    private void signIn(ServerRequest req, ServerResponse res) {
        TokenAuth auth = this.auth.orElseThrow(() -> new ApiError(Status.NOT_FOUND_404, "not_found",
                "Sign-in is not configured on this server; the chat is open."));
        String token = TokenAuth.bearer(req).orElseThrow(() -> new ApiError(Status.UNAUTHORIZED_401, "unauthorized",
                "Send the token as 'Authorization: Bearer <JWT>' to get a session cookie."));
        TokenAuth.Caller caller = auth.require(req);
        long maxAge = Math.max(0, caller.expiresAtEpochSecond() - java.time.Instant.now().getEpochSecond());
        res.header(HeaderNames.SET_COOKIE, TokenAuth.COOKIE + "=" + token + "; Path=/api; Max-Age=" + maxAge
                + "; HttpOnly; SameSite=Strict" + (clientAddress.secure(req) ? "; Secure" : ""));
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Message.write(g -> {
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

}
