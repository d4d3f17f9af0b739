package io.pgchat.edge;

import io.helidon.http.http2.Http2Stream;
import io.helidon.http.http2.Http2StreamState;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.reflect.Field;
import java.util.Optional;

/**
 * Makes a write to an HTTP/2 stream that the client has reset (RST_STREAM: a closed EventSource, a
 * page left while the browser's connection stays) fail, as a write to a closed HTTP/1.1 connection
 * does. Helidon 4.3 marks such a stream closed but goes on accepting its writes, so an event stream
 * would never learn that its client left and would hold its place, counted against the address's
 * limit, until the whole connection closed.
 *
 * <p>Only event streams are watched: with a stream filter Helidon sends every response through its
 * output stream, marked sent only once the route ends, which a filter that answers by itself
 * (GracefulStop's 503) must not meet. Helidon offers no public view of a response's stream state:
 * it is read through the response's private stream field, found once. Should a Helidon upgrade
 * remove it, this says so once in the log and streams are then freed only when their connection closes.
 */
public final class Http2Resets implements Filter {

    private static final Logger LOG = System.getLogger(Http2Resets.class.getName());
    private static final String EVENTS = "/events"; // how the paths of event streams end

    private volatile Field streamField;
    private volatile boolean unavailable;

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (Http2Connections.carries(req) && req.path().path().endsWith(EVENTS)) {
            stream(res).ifPresent(stream -> res.streamFilter(out -> new Checked(out, stream)));
        }
        chain.proceed();
    }

    private Optional<Http2Stream> stream(RoutingResponse res) {
        if (unavailable) {
            return Optional.empty();
        }
        try {
            Field field = streamField;
            if (field == null) {
                field = findStreamField(res.getClass());
                field.setAccessible(true);
                streamField = field;
            }
            return Optional.of((Http2Stream) field.get(res));
        } catch (ReflectiveOperationException | RuntimeException e) {
            unavailable = true;
            LOG.log(Level.WARNING, "Cannot see when a client resets an HTTP/2 stream (" + e
                    + "); its event stream is freed only when the connection closes");
            return Optional.empty();
        }
    }

    private static Field findStreamField(Class<?> type) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (Http2Stream.class.isAssignableFrom(field.getType())) {
                    return field;
                }
            }
        }
        throw new NoSuchFieldException(type.getName() + " holds no HTTP/2 stream");
    }

    /** Fails a write once the client has reset the stream: the writer then ends as for a lost connection. */
    private static final class Checked extends FilterOutputStream {
        private final Http2Stream stream;

        Checked(OutputStream out, Http2Stream stream) {
            super(out);
            this.stream = stream;
        }

        @Override
        public void write(int b) throws IOException {
            check();
            out.write(b);
        }

        @Override
        public void write(byte[] bytes, int offset, int length) throws IOException {
            check();
            out.write(bytes, offset, length);
        }

        @Override
        public void flush() throws IOException {
            check();
            out.flush();
        }

        private void check() throws IOException {
            if (stream.streamState() == Http2StreamState.CLOSED) {
                throw new IOException("the client reset HTTP/2 stream " + stream.streamId());
            }
        }
    }
}
