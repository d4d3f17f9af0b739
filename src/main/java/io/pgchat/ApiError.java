package io.pgchat;

import io.pgchat.edge.Http2Connections;
import io.pgchat.posting.MessageStore;
import io.pgchat.posting.StoreUnavailable;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A request the server refuses: the status, a stable error code for programs and a sentence for
 * people. Every failure is turned into a response here, so statuses are mapped in one place.
 */
public final class ApiError extends RuntimeException {

    private static final Logger LOG = System.getLogger(ApiError.class.getName());

    public final Status status;
    public final String code;
    /** When the client may try again (Retry-After), 0 when it should not without a change. */
    final long retryAfterSeconds;

    public ApiError(Status status, String code, String message) {
        this(status, code, message, 0);
    }

    public ApiError(Status status, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiError badRequest(String code, String message) {
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
            send(req, res, e.status, e.code, e.getMessage());
        });
        routing.error(HttpException.class, (req, res, e) -> {
            if (e.status().code() < 400) {
                // Not an error: a static file's 304 (Not Modified) answer, which has no body.
                res.status(e.status());
                e.headers().forEach(res::header);
                res.send();
                return;
            }
            // Helidon's own refusals (no such route, a malformed request) keep their status.
            send(req, res, e.status(), code(e.status()), e.getMessage());
        });
        // Storage speaks of the database, not of HTTP: its failures get their status here.
        routing.error(StoreUnavailable.class, (req, res, e) -> {
            res.header(HeaderNames.RETRY_AFTER, "2");
            send(req, res, Status.SERVICE_UNAVAILABLE_503, "unavailable", e.getMessage());
        });
        routing.error(MessageStore.KeyReused.class, (req, res, e) ->
                send(req, res, Status.CONFLICT_409, "idempotency_key_reused", e.getMessage()));
        routing.error(Exception.class, (req, res, e) -> {
            LOG.log(Level.ERROR, "Failed to answer " + describe(req), e);
            send(req, res, Status.INTERNAL_SERVER_ERROR_500, "internal", "The server failed; the error is logged.");
        });
    }

    /**
     * Requests Helidon refuses before routing (a request line or headers too long, a malformed
     * request, HTTP/1.0) get the same JSON shape; the connection then closes. Their details are not
     * echoed: they may hold a client's token.
     */
    static DirectHandlers directHandlers() {
        DirectHandlers.Builder handlers = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            handlers.addHandler(type, (request, event, status, headers, message) -> {
                Status answer = event == DirectHandler.EventType.HTTP_VERSION_NOT_SUPPORTED
                        ? Status.HTTP_VERSION_NOT_SUPPORTED_505 : status;
                return DirectHandler.TransportResponse.builder()
                        .status(answer)
                        .headers(headers)
                        .header(HeaderNames.CONTENT_TYPE, "application/json")
                        .keepAlive(false)
                        .entity(json(code(answer), switch (code(answer)) {
                            case "internal" -> "The server failed; the error is logged.";
                            case "http_version_not_supported" -> "pgchat speaks HTTP/1.1 (behind nginx: proxy_http_version 1.1).";
                            default -> "The request is malformed or too large (" + answer.text() + ").";
                        }))
                        .build();
            });
        }
        return handlers.build();
    }

    /** The error code of a status that Helidon, rather than pgchat, decided on. */
    private static String code(Status status) {
        return switch (status.code()) {
            case 404 -> "not_found";
            case 405 -> "method_not_allowed";
            case 408 -> "request_timeout";
            case 413 -> "too_large";
            case 414 -> "uri_too_long";
            case 415 -> "unsupported_media_type";
            case 505 -> "http_version_not_supported";
            default -> status.code() >= 500 ? "internal" : "bad_request";
        };
    }

    /**
     * An HTTP/1.1 error answer to a request whose body was not read says Connection: close: the rest
     * of that body must never be parsed as a request, and HttpEdge ends the connection after the
     * answer. (HTTP/2 frames each body, and forbids the header.)
     */
    public static void send(ServerRequest req, ServerResponse res, Status status, String code, String message) {
        if (!req.content().consumed() && !Http2Connections.carries(req)) {
            res.header(HeaderValues.CONNECTION_CLOSE);
        }
        send(res, status, code, message);
    }

    /** The handler of a path's other methods: 405 naming the ones it allows. */
    public static Handler allow(String methods) {
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, methods);
            throw new ApiError(Status.METHOD_NOT_ALLOWED_405, "method_not_allowed",
                    req.prologue().method().text() + " is not allowed here; use " + methods + ".");
        };
    }

    public static void send(ServerResponse res, Status status, String code, String message) {
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
