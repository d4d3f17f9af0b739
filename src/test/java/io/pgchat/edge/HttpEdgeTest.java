package io.pgchat.edge;

import io.pgchat.testing.Json;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP/1.1 edge, spoken to over raw sockets as an attacker would: a request's body never runs as a
 * request of its own, a refused body is not read for ever, every client mistake gets one 4xx answer (or
 * a quiet close) and no SEVERE log, and slow or numerous connections from one address are cut off.
 */
class HttpEdgeTest {

    private static final Duration SLOW = Duration.ofMillis(1500);
    private static TestServer server;
    private static final LogCapture LOG = new LogCapture();

    @BeforeAll
    static void start() throws Exception {
        // HTTP/1.1 settings as application.yaml has them: they once made Helidon add connections of its own.
        server = TestServer.start("pgchat.slow.request.millis", Long.toString(SLOW.toMillis()),
                "server.protocols.http_1_1.max-prologue-length", "4096");
        Logger.getLogger("").addHandler(LOG);
    }

    @AfterAll
    static void stop() throws Exception {
        Logger.getLogger("").removeHandler(LOG);
        server.close();
        TestDatabase.clear();
    }

    @AfterEach
    void noRequestWasSmuggledAndNothingWasLoggedSevere() throws Exception {
        assertEquals(0, TestDatabase.count("SELECT count(*) FROM messages WHERE room LIKE 'smuggled-%'"));
        assertEquals(List.of(), LOG.severe(), "SEVERE log lines");
    }

    /** A complete post that must never run: it hides in the body of the request around it. */
    private static final String INNER = post("smuggled-" + ProcessHandle.current().pid(), "application/json",
            Json.object("author", "mallory", "body", "smuggled"), "");

    @ParameterizedTest
    @ValueSource(strings = {"POST /no-such-path", "POST /api/rooms/bad.room/messages", "POST /api/rooms/r/messages/1",
            "GET /api/rooms/r/messages?limit=0", "POST /api/rooms"})
    void aRefusedRequestsBodyNeverRunsAsARequest(String methodAndPath) throws Exception {
        for (String connection : List.of("Connection: close\r\n", "")) {
            Exchange exchange = exchange(methodAndPath + " HTTP/1.1\r\nHost: x\r\n" + connection
                    + "Content-Type: application/json\r\nContent-Length: " + INNER.length() + "\r\n\r\n" + INNER);
            exchange.assertOneAnswerThenClosed(4);
        }
    }

    @Test
    void anUnsupportedMediaTypesBodyNeverRunsAsARequest() throws Exception {
        exchange(post("r", "text/plain", INNER, "")).assertOneAnswerThenClosed(415);
    }

    @Test
    void aWellFramedConnectionStaysOpenForRequestAfterRequest() throws Exception {
        String room = "edge-kept-" + ProcessHandle.current().pid();
        String chunk = Json.object("author", "a", "body", "chunked");
        try (Socket socket = connect()) {
            socket.getOutputStream().write((post(room, "application/json", Json.object("author", "a", "body", "one"), "")
                    + "POST /api/rooms/" + room + "/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n" + Integer.toHexString(chunk.length()) + "\r\n" + chunk
                    + "\r\n0\r\n\r\n" + "GET /api/rooms/" + room + "/messages HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.UTF_8));
            Exchange exchange = Exchange.read(socket, Duration.ofSeconds(2), true);
            assertEquals(List.of(201, 201, 200), exchange.statuses(), exchange.text);
            assertTrue(!exchange.closed, "kept alive");
        }
        assertEquals(List.of(1L, 2L), TestDatabase.seqs(room));
    }

    @Test
    void aBodyTheAnswerDidNotNeedIsSkippedAndTheConnectionGoesOn() throws Exception {
        try (Socket socket = connect()) {
            socket.getOutputStream().write(("GET /api/rooms HTTP/1.1\r\nHost: x\r\nContent-Length: " + INNER.length()
                    + "\r\n\r\n" + INNER + "GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            Exchange exchange = Exchange.read(socket, Duration.ofSeconds(2), true);
            assertEquals(List.of(200, 200), exchange.statuses(), exchange.text);
            assertTrue(!exchange.closed, "kept alive");
        }
    }

    @Test
    void connectionCloseClosesTheConnectionAfterASuccessfulAnswerToo() throws Exception {
        Exchange exchange = exchange("GET /api/rooms HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + INNER);
        exchange.assertOneAnswerThenClosed(200);
    }

    @ParameterizedTest
    @ValueSource(strings = {"xchunked", "gzip, chunked", "chunked, gzip", "identity"})
    void anUnknownTransferCodingIs501AndCloses(String coding) throws Exception {
        Exchange exchange = exchange("POST /api/rooms/r/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: " + coding + "\r\n\r\n" + INNER);
        exchange.assertOneAnswerThenClosed(501);
        exchange.assertError("unsupported_transfer_encoding");
    }

    @Test
    void twoDifferentContentLengthsAre400AndClose() throws Exception {
        String body = Json.object("author", "a", "body", "b");
        Exchange exchange = exchange("POST /api/rooms/smuggled-cl/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\nContent-Length: "
                + (body.length() + INNER.length()) + "\r\n\r\n" + body + INNER);
        exchange.assertOneAnswerThenClosed(400);
        exchange.assertError("bad_request");
    }

    @Test
    void contentLengthWithTransferEncodingIsAnsweredThenClosed() throws Exception {
        String chunk = Json.object("author", "a", "body", "b");
        Exchange exchange = exchange("POST /api/rooms/smuggled-te/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n0\r\n\r\n" + INNER);
        exchange.assertOneAnswerThenClosed(400);
    }

    @ParameterizedTest
    @ValueSource(strings = {"zz", "-1", "ffffffffffffffffff", ""})
    void aBadChunkSizeGetsOne400ThenClose(String size) throws Exception {
        Exchange exchange = exchange("POST /api/rooms/smuggled-chunk/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + size + "\r\n" + INNER + "\r\n0\r\n\r\n");
        exchange.assertOneAnswerThenClosed(400);
        exchange.assertError("bad_request");
    }

    @Test
    void anEndlessBodyAfterA413IsCutOffWithinABoundAndHealthStaysFast() throws Exception {
        AtomicLong sent = new AtomicLong();
        try (Socket socket = connect()) {
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/rooms/r/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            byte[] chunk = ("10000\r\n" + "a".repeat(0x10000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
            long start = System.nanoTime();
            CompletableFuture<Void> endless = CompletableFuture.runAsync(() -> {
                try {
                    while (sent.get() < 4L << 30) {
                        out.write(chunk);
                        sent.addAndGet(chunk.length);
                    }
                } catch (IOException cutOff) {
                    // what this test waits for
                }
            });
            Exchange answer = Exchange.read(socket, Duration.ofSeconds(5), true);
            assertTrue(answer.text.startsWith("HTTP/1.1 413"), answer.text);
            long healthStart = System.nanoTime();
            assertEquals(200, server.get("/observe/health").statusCode());
            assertTrue(Duration.ofNanos(System.nanoTime() - healthStart).toMillis() < 1000, "health while draining");
            endless.get(15, java.util.concurrent.TimeUnit.SECONDS);
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10, "cut off within the bound");
            assertTrue(sent.get() < 64L << 20, "bytes read before the cut-off: " + sent.get());
        }
    }

    @Test
    void http10IsAnswered505WithJsonAndClosed() throws Exception {
        Exchange exchange = exchange("GET /api/rooms HTTP/1.0\r\n\r\n");
        exchange.assertOneAnswerThenClosed(505);
        exchange.assertError("http_version_not_supported");
        assertTrue(exchange.text.contains("Connection: close"), exchange.text);
    }

    @ParameterizedTest
    @ValueSource(strings = {"CONNECT example.com:443", "OPTIONS *"})
    void aRequestTargetThatIsNotAPathIsRefusedWithA4xx(String request) throws Exception {
        Exchange exchange = exchange(request + " HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
        assertTrue(exchange.statuses().size() == 1 && exchange.statuses().getFirst() / 100 == 4, exchange.text);
    }

    @Test
    void anUnknownPathIsNotFoundNotBadRequest() throws Exception {
        assertError(server.get("/no-such-path"), 404, "not_found");
    }

    @Test
    void aClientClosingMidBodyIsAQuietClose() throws Exception {
        int before = LOG.records.size();
        for (String partial : List.of("Content-Length: 40\r\n\r\n{\"author\":", "Transfer-Encoding: chunked\r\n\r\n28\r\n{\"a")) {
            try (Socket socket = connect()) {
                socket.getOutputStream().write(("POST /api/rooms/r/messages HTTP/1.1\r\nHost: x\r\n"
                        + "Content-Type: application/json\r\n" + partial).getBytes(StandardCharsets.US_ASCII));
            }
        }
        assertEquals(200, server.get("/observe/health").statusCode());
        assertTrue(LOG.records.size() - before <= 2, "at most a line each: " + LOG.records.subList(before, LOG.records.size()));
    }

    @Test
    void aRevalidatedStaticFileIsA304WithoutSevereLogs() throws Exception {
        HttpResponse<String> first = server.get("/app.js");
        assertEquals(200, first.statusCode());
        String etag = first.headers().firstValue("ETag").orElseThrow();
        // Last-Modified is in whole seconds, the file's time is finer: one second later is "not modified since".
        String modified = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.parse(
                first.headers().firstValue("Last-Modified").orElseThrow(), DateTimeFormatter.RFC_1123_DATE_TIME).plusSeconds(1));
        for (String header : List.of("If-None-Match: " + etag, "If-Modified-Since: " + modified)) {
            Exchange exchange = exchange("GET /app.js HTTP/1.1\r\nHost: x\r\n" + header + "\r\n\r\n");
            assertEquals(List.of(304), exchange.statuses(), exchange.text);
            assertTrue(exchange.text.endsWith("\r\n\r\n"), "a 304 has no body: " + exchange.text);
        }
    }

    @Test
    void aStalledBodyIsAnswered408ThenClosed() throws Exception {
        long start = System.nanoTime();
        Exchange exchange = exchange("POST /api/rooms/r/messages HTTP/1.1\r\nHost: x\r\n"
                + "Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"author\":");
        exchange.assertOneAnswerThenClosed(408);
        exchange.assertError("request_timeout");
        assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(SLOW.multipliedBy(3)) < 0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "GET /api/rooms HTTP/1.1\r\nHost: x\r\n"})
    void aRequestThatTricklesInIsCutOffAtTheHeaderDeadline(String trickle) throws Exception {
        try (Socket socket = connect()) {
            long start = System.nanoTime();
            OutputStream out = socket.getOutputStream();
            socket.setSoTimeout(200);
            int i = 0;
            while (Duration.ofNanos(System.nanoTime() - start).compareTo(SLOW.multipliedBy(4)) < 0) {
                try {
                    if (i < trickle.length()) {
                        out.write(trickle.charAt(i++));
                    }
                    if (socket.getInputStream().read() == -1) {
                        break;
                    }
                } catch (SocketTimeoutException stillOpen) {
                    // one byte per 200 ms, like a slowloris
                } catch (IOException reset) {
                    break;
                }
            }
            Duration lived = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(lived.compareTo(SLOW.multipliedBy(3)) < 0, "lived " + lived);
        }
    }

    @Test
    void connectionsPerAddressAreCapped() throws Exception {
        try (TestServer capped = TestServer.start("pgchat.limits.connections.address", "8")) {
            List<Socket> idle = new ArrayList<>();
            try {
                for (int i = 0; i < 8; i++) {
                    idle.add(connect(capped));
                }
                for (Socket socket : idle) { // each is served: they are all open at once
                    socket.getOutputStream().write("GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    String answer = Exchange.read(socket, Duration.ofSeconds(2), false).text;
                    assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                }
                try (Socket ninth = connect(capped)) {
                    ninth.getOutputStream().write("GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    Exchange refused = Exchange.read(ninth, Duration.ofSeconds(5), true);
                    assertTrue(refused.closed, "the ninth is closed");
                    assertTrue(refused.text.isEmpty() || refused.text.startsWith("HTTP/1.1 429"), refused.text);
                }
            } finally {
                for (Socket socket : idle) {
                    socket.close();
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (true) { // once they are gone, the address may connect again
                try (Socket again = connect(capped)) {
                    again.getOutputStream().write("GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    if (Exchange.read(again, Duration.ofSeconds(2), false).text.startsWith("HTTP/1.1 200")) {
                        break;
                    }
                }
                assertTrue(System.nanoTime() < deadline, "the address is still refused after its connections left");
            }
        }
    }

    static String post(String room, String contentType, String body, String headers) {
        return "POST /api/rooms/" + room + "/messages HTTP/1.1\r\nHost: x\r\nContent-Type: " + contentType + "\r\n"
                + headers + "Content-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body;
    }

    private static Socket connect() throws IOException {
        return connect(server);
    }

    private static Socket connect(TestServer to) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", to.chat.port()));
        return socket;
    }

    /** Sends the bytes at once and reads what comes back until the server closes (or 5 s pass). */
    private static Exchange exchange(String request) throws IOException {
        try (Socket socket = connect()) {
            socket.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return Exchange.read(socket, Duration.ofSeconds(5), true);
        }
    }

    /** What a raw client received, and whether the server closed the connection. */
    record Exchange(String text, boolean closed) {

        private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.[01] (\\d{3}) ");

        static Exchange read(Socket socket, Duration wait, boolean untilClosed) throws IOException {
            socket.setSoTimeout((int) wait.toMillis());
            ByteArrayOutputStream received = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[8192];
            boolean closed = false;
            try {
                for (int n; (n = in.read(buffer)) != -1; ) {
                    received.write(buffer, 0, n);
                    if (!untilClosed && received.toString(StandardCharsets.UTF_8).contains("\r\n\r\n")) {
                        return new Exchange(received.toString(StandardCharsets.UTF_8), false);
                    }
                }
                closed = true;
            } catch (SocketTimeoutException e) {
                // still open
            } catch (IOException reset) {
                closed = true;
            }
            return new Exchange(received.toString(StandardCharsets.UTF_8), closed);
        }

        List<Integer> statuses() {
            List<Integer> statuses = new ArrayList<>();
            Matcher matcher = STATUS_LINE.matcher(text);
            while (matcher.find()) {
                statuses.add(Integer.parseInt(matcher.group(1)));
            }
            return statuses;
        }

        /** One answer of the expected status (or class, for a single digit), and no second one: the connection closes. */
        void assertOneAnswerThenClosed(int expected) {
            List<Integer> statuses = statuses();
            assertEquals(1, statuses.size(), "one answer: " + text);
            int status = statuses.getFirst();
            assertTrue(expected < 10 ? status / 100 == expected : status == expected, text);
            assertTrue(closed, "closed after the answer: " + text);
        }

        void assertError(String code) {
            assertTrue(text.contains("\"error\":\"" + code + "\""), text);
        }
    }

    /** Every log record, from any logger, while the tests run. */
    static final class LogCapture extends Handler {
        final List<LogRecord> records = java.util.Collections.synchronizedList(new ArrayList<>());

        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.INFO.intValue()) {
                records.add(record);
            }
        }

        /** The SEVERE records since the last call. */
        List<String> severe() {
            synchronized (records) {
                List<String> severe = records.stream().filter(r -> r.getLevel() == Level.SEVERE)
                        .map(r -> r.getLoggerName() + ": " + r.getMessage()).toList();
                records.clear();
                return severe;
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
