package io.pgchat;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A request the server refuses: the status, a stable error code for programs and a sentence for
 * people. Every failure is turned into a response here, so statuses are mapped in one place.
 */
final class ApiError extends RuntimeException {

    private static final Logger LOG = System.getLogger(ApiError.class.getName());

    final Status status;
    final String code;
    /** When the client may try again (Retry-After), 0 when it should not without a change. */
    final long retryAfterSeconds;

    ApiError(Status status, String code, String message) {
        this(status, code, message, 0);
    }

    ApiError(Status status, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    static ApiError badRequest(String code, String message) {
        return new ApiError(Status.BAD_REQUEST_400, code, message);
    }

    static void register(HttpRouting.Builder routing) {
        routing.error(ApiError.class, (req, res, e) -> {
            if (e.retryAfterSeconds > 0) {
                res.header(HeaderNames.RETRY_AFTER, Long.toString(e.retryAfterSeconds));
            }
            if (e.status == Status.UNAUTHORIZED_401) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"pgchat\", error=\"" + e.code + "\"");
            }
            send(res, e.status, e.code, e.getMessage());
        });
        // Storage speaks of the database, not of HTTP: its failures get their status here.
        routing.error(StoreUnavailable.class, (req, res, e) -> {
            res.header(HeaderNames.RETRY_AFTER, "2");
            send(res, Status.SERVICE_UNAVAILABLE_503, "unavailable", e.getMessage());
        });
        routing.error(MessageStore.KeyReused.class, (req, res, e) ->
                send(res, Status.CONFLICT_409, "idempotency_key_reused", e.getMessage()));
        // Helidon's own refusals (a malformed request line, a bad header) keep their status.
        routing.error(HttpException.class, (req, res, e) ->
                send(res, e.status(), "bad_request", e.getMessage()));
        routing.error(Exception.class, (req, res, e) -> {
            LOG.log(Level.ERROR, "Failed to answer " + describe(req), e);
            send(res, Status.INTERNAL_SERVER_ERROR_500, "internal", "The server failed; the error is logged.");
        });
    }

    /**
     * Requests Helidon refuses before routing (a request line or headers too long, a malformed
     * request) get the same JSON shape. Their details are not echoed: they may hold a client's token.
     */
    static DirectHandlers directHandlers() {
        DirectHandlers.Builder handlers = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            handlers.addHandler(type, (request, event, status, headers, message) -> {
                boolean failure = status.code() >= 500;
                return DirectHandler.TransportResponse.builder()
                        .status(status)
                        .headers(headers)
                        .header(HeaderNames.CONTENT_TYPE, "application/json")
                        .keepAlive(false)
                        .entity(json(failure ? "internal" : status.code() == 414 ? "uri_too_long" : "bad_request",
                                failure ? "The server failed; the error is logged."
                                        : "The request is malformed or too large (" + status.text() + ")."))
                        .build();
            });
        }
        return handlers.build();
    }

    static void send(ServerResponse res, Status status, String code, String message) {
        if (res.isSent()) {
            return;
        }
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(json(code, message));
    }

    private static byte[] json(String code, String message) {
        return Message.write(g -> {
            g.writeStartObject();
            g.writeStringField("error", code);
            g.writeStringField("message", message);
            g.writeEndObject();
        });
    }

    static String describe(ServerRequest req) {
        return req.prologue().method().text() + " " + req.path().rawPath();
    }
}
