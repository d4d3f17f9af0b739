package io.pgchat.edge;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.task.InterruptableTask;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.http2.Http2ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;

import java.time.Duration;
import java.util.Set;

/**
 * HTTP/2 connections as Helidon makes them, but not idle while one of their streams is open.
 * Helidon counts an HTTP/2 connection idle from its last new request, so one that carries only
 * event streams looked idle after server.idle-connection-timeout and was closed at its next request,
 * ending every stream on it (an HTTP/1.1 stream has its own connection, busy while it streams).
 */
public final class Http2Connections implements ServerConnectionSelector {

    private final ServerConnectionSelector helidon;

    private Http2Connections(Http2Config config) {
        this.helidon = Http2ConnectionSelector.builder().http2Config(config).build();
    }

    public static ServerConnectionSelector selector(Http2Config config) {
        return new Http2Connections(config);
    }

    /** Whether the request came over HTTP/2, that is over one of these connections. */
    public static boolean carries(ServerRequest req) {
        return "2.0".equals(req.prologue().protocolVersion());
    }

    @Override
    public int bytesToIdentifyConnection() {
        return helidon.bytesToIdentifyConnection();
    }

    @Override
    public Support supports(BufferData request) {
        return helidon.supports(request);
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return helidon.supportedApplicationProtocols();
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        return new StreamsKeepAlive(helidon.connection(ctx));
    }

    /** Helidon's connection, whose idle time starts only once it has no stream open. */
    private record StreamsKeepAlive(ServerConnection connection) implements ServerConnection, InterruptableTask<Void> {

        @Override
        public void handle(Limit limit) throws InterruptedException {
            try {
                connection.handle(limit);
            } catch (DataReader.InsufficientDataAvailableException e) {
                // A browser's spare connection may close before its first frame: no error, as Helidon
                // treats a close before any later frame, but it logged this one as unexpected.
                throw new CloseConnectionException("closed by the client before its preface", e);
            }
        }

        @Override
        public Duration idleTime() {
            return noStreamOpen() ? connection.idleTime() : Duration.ZERO;
        }

        @Override
        public void close(boolean interrupt) {
            connection.close(interrupt);
        }

        /** Helidon's HTTP/2 connection may be interrupted exactly when it has no stream open. */
        @Override
        public boolean canInterrupt() {
            return connection instanceof InterruptableTask<?> task && task.canInterrupt();
        }

        private boolean noStreamOpen() {
            return !(connection instanceof InterruptableTask<?>) || canInterrupt();
        }
    }
}
