package io.pgchat.edge;

import io.pgchat.testing.Await;
import io.pgchat.testing.Browser;
import io.pgchat.testing.ChatPage;
import io.pgchat.testing.Json;
import io.pgchat.testing.RunningMain;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestCertificate;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;

import static io.pgchat.testing.ApiAssertions.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * With TLS configured the server also speaks HTTP/2: a client's event streams share one connection,
 * each event still arrives as soon as it is written, a stream whose client leaves is freed, and a
 * post is stored whole or not at all. Checked with curl (with HTTP/2: CI installs it), the JDK's
 * client, Chromium and posts written frame by frame, against a certificate the test makes.
 */
class Http2Test {

    private static final Path CURL = Path.of("/usr/bin/curl");
    // The test certificate is self-signed: Chromium is told to accept it, as a person would click through.
    private static final String TRUST_TEST_CERTIFICATE = "--ignore-certificate-errors";

    @TempDir
    static Path certificates;
    private static TestCertificate certificate;
    private static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        certificate = TestCertificate.create(certificates);
        server = TestServer.start(certificate.settings());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void curlGetsHttp2AndAPostReachesItsOpenStreamAtOnce() throws Exception {
        assumeTrue(Files.isExecutable(CURL), "curl is not installed (apt-get install curl)");
        String room = TestServer.room("curl-h2");
        try (Curl stream = Curl.start("-N", server.uri(TestServer.events(room)).toString())) {
            assertEquals("HTTP/2 200", stream.await(line -> line.startsWith("HTTP/")).strip());
            stream.await(line -> line.equals(": room " + room));

            long start = System.nanoTime();
            try (Curl post = Curl.start("-H", "Content-Type: application/json",
                    "-d", Json.object("author", "alice", "body", "over h2"),
                    server.uri("/api/rooms/" + room + "/messages").toString())) {
                assertEquals("HTTP/2 201", post.await(line -> line.startsWith("HTTP/")).strip());
            }
            stream.await(line -> line.equals("id: 1"));
            assertTrue(stream.await(line -> line.startsWith("data: ")).contains("\"body\":\"over h2\""));
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 3000, "the event is not held back");
            stream.await(line -> line.equals(":")); // a heartbeat, once the room is quiet
        }
    }

    @Test
    void manyStreamsShareOneHttp2ConnectionAndEachGetsEveryPost() throws Exception {
        String room = TestServer.room("jdk-h2");
        List<SseClient> streams = new ArrayList<>();
        try {
            for (int i = 0; i < 20; i++) {
                streams.add(server.subscribe(TestServer.events(room)));
            }
            for (SseClient stream : streams) {
                assertEquals(HttpClient.Version.HTTP_2, stream.response.get(10, TimeUnit.SECONDS).version());
            }
            SseClient.awaitOpen(streams.toArray(SseClient[]::new));
            HttpResponse<String> posted = server.postJson(room, Json.object("author", "alice", "body", "to all"));
            assertEquals(HttpClient.Version.HTTP_2, posted.version());
            assertEquals(201, posted.statusCode(), posted.body());
            for (SseClient stream : streams) {
                assertEquals(posted.body(), stream.next(Duration.ofSeconds(5)).data());
            }
        } finally {
            streams.forEach(SseClient::close);
        }
    }

    @Test
    void aStreamWhoseClientLeavesIsFreed() throws Exception {
        assumeTrue(Files.isExecutable(CURL), "curl is not installed (apt-get install curl)");
        String room = TestServer.room("leave-h2");
        awaitStreams(0, "no stream is left from another test");
        try (SseClient cancelled = server.subscribe(TestServer.events(room));
             Curl gone = Curl.start("-N", server.uri(TestServer.events(room)).toString())) {
            SseClient.awaitOpen(cancelled);
            gone.await(line -> line.equals(": room " + room));
            awaitStreams(2, "both streams are open");

            cancelled.close(); // the stream alone is reset; the connection stays
            awaitStreams(1, "the reset stream is freed");
            gone.close(); // the whole connection goes
            awaitStreams(0, "the closed connection's stream is freed");
        }
    }

    @Test
    void aRefusedStreamGetsItsErrorOverHttp2() throws Exception {
        HttpResponse<String> refused = server.get(TestServer.events(TestServer.room("refused-h2")) + "?tail=x");
        assertEquals(HttpClient.Version.HTTP_2, refused.version());
        assertError(refused, 400, "invalid_tail");
    }

    @Test
    void streamsOutliveTheIdleConnectionTimeoutOfTheirConnection() throws Exception {
        String room = TestServer.room("idle-h2");
        // One connection carries the stream and, later, the post: with HTTP/2 it has no request in
        // progress between the two, as Helidon counts, although its stream is busy all along.
        try (TestServer idle = TestServer.start(settings("server.idle-connection-timeout", "PT1S",
                "server.idle-connection-period", "PT0.2S"));
             SseClient stream = idle.subscribe(TestServer.events(room))) {
            SseClient.awaitOpen(stream);
            // heartbeats for three idle timeouts
            Await.until(Duration.ofSeconds(10), () -> "heartbeats go on: " + stream.lines(),
                    () -> stream.lines().stream().filter(":"::equals).count() >= 3);
            HttpResponse<String> posted = idle.postJson(room, Json.object("author", "alice", "body", "still here"));
            assertEquals(201, posted.statusCode(), posted.body());
            assertEquals(posted.body(), stream.next(Duration.ofSeconds(5)).data());
        }
    }

    @Test
    void inChromiumThePageLoadsOverHttp2AndShowsAPostLive() throws Exception {
        Browser.assumeInstalled();
        String room = TestServer.room("page-h2");
        try (Browser browser = Browser.start(TRUST_TEST_CERTIFICATE)) {
            ChatPage page = ChatPage.open(browser, server, room).joinAs("alice").awaitLive();
            assertEquals("h2", browser.js("return performance.getEntriesByType('navigation')[0].nextHopProtocol"));
            server.say(room, "bob", "sent while alice watches");
            page.awaitBodies(List.of("sent while alice watches"));
            assertEquals(List.of(), browser.consoleErrors());
        }
    }

    /** Over HTTP/1.1 a browser opens at most six connections to an origin, so a seventh stream would wait. */
    @Test
    void inChromiumEightStreamsToOneOriginAllDeliver() throws Exception {
        Browser.assumeInstalled();
        String room = TestServer.room("tabs-h2");
        awaitStreams(0, "no stream is left from another test");
        try (Browser browser = Browser.start(TRUST_TEST_CERTIFICATE)) {
            browser.open(server.uri("/api/rooms")); // this origin, without the page's own stream
            browser.js("""
                    window.opened = 0;
                    window.got = [];
                    window.streams = [];
                    for (let i = 0; i < 8; i++) {
                      const stream = new EventSource('/api/rooms/' + arguments[0] + '/events');
                      stream.onopen = () => window.opened++;
                      stream.onmessage = () => window.got.push(i);
                      window.streams.push(stream);
                    }
                    """, room);
            browser.awaitEquals(8L, () -> browser.js("return window.opened"), "streams open");
            awaitStreams(8, "the server holds all eight");
            server.say(room, "bob", "to every tab");
            browser.awaitEquals(8L, () -> browser.js("return new Set(window.got).size"), "streams that got the post");

            // Closing an EventSource resets its stream while the page's connection stays open.
            browser.js("window.streams.forEach(stream => stream.close())");
            awaitStreams(0, "the server frees the closed streams");
        }
    }

    @Test
    void aPostWhoseBodyStallsIsRefusedRatherThanStoredCutShort() throws Exception {
        String room = TestServer.room("slow-h2");
        try (TestServer strict = TestServer.start(settings("pgchat.slow.request.millis", "500"))) {
            String answer = RawPost.send(strict, room, "author=alice&body=hel", 31, false); // the rest never comes
            assertEquals("request_timeout", Json.parse(answer).path("error").asText(), answer);
            assertEquals(List.of(), TestDatabase.seqs(room));
        }
    }

    @Test
    void aPostWhoseBodyEndsShortOfItsContentLengthIsRefused() throws Exception {
        String room = TestServer.room("short-h2");
        String answer = RawPost.send(server, room, "author=alice&body=hel", 31, true);
        assertEquals("bad_request", Json.parse(answer).path("error").asText(), answer);
        assertEquals(List.of(), TestDatabase.seqs(room));
    }

    @Test
    void aStoppingServerRefusesNewRequestsWith503OverHttp2Too() throws Exception {
        String room = TestServer.room("stop-h2");
        TestServer stopping = TestServer.start(certificate.settings());
        Thread closing = null;
        try (Connection lock = TestDatabase.connect()) {
            stopping.say(room, "alice", "the room exists");
            lock.setAutoCommit(false);
            try (var holding = lock.prepareStatement("SELECT 1 FROM rooms WHERE name = ? FOR UPDATE")) {
                holding.setString(1, room);
                holding.executeQuery().close();
            }
            // A post in flight keeps the server stopping (not yet stopped) while it answers others.
            var inFlight = stopping.http.sendAsync(HttpRequest.newBuilder(stopping.uri("/api/rooms/" + room + "/messages"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", "alice", "body", "in flight")))
                    .build(), HttpResponse.BodyHandlers.ofString());
            TestDatabase.awaitAPostWaitingOnALock();
            closing = Thread.ofVirtual().start(stopping::close);

            AtomicReference<HttpResponse<String>> answer = new AtomicReference<>();
            Await.until(Duration.ofSeconds(10), () -> "still answered while stopping: " + answer.get().body(), () -> {
                answer.set(stopping.get("/api/rooms"));
                return answer.get().statusCode() != 200;
            });
            HttpResponse<String> refused = answer.get();
            assertEquals(HttpClient.Version.HTTP_2, refused.version());
            assertError(refused, 503, "shutting_down");
            assertTrue(refused.headers().firstValue("Retry-After").isPresent(), refused.headers().toString());
            lock.commit();
            assertEquals(201, inFlight.get(10, TimeUnit.SECONDS).statusCode(), "the post in flight is answered");
        } finally {
            if (closing == null) {
                stopping.close();
            } else {
                closing.join();
            }
        }
    }

    @Test
    void withoutTlsTheServerSpeaksOnlyHttp11() throws Exception {
        // The real start, with application.yaml: Helidon starts any protocol configured there.
        RunningMain plain = RunningMain.start(Map.of("DATABASE_URL", TestDatabase.url()));
        try {
            // The JDK's client asks a plain server to upgrade to HTTP/2 in clear text (h2c); it must not.
            HttpResponse<String> response = plain.http.send(HttpRequest.newBuilder(plain.uri("/api/rooms")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, response.statusCode(), plain.output());
            assertEquals(HttpClient.Version.HTTP_1_1, response.version());
            if (Files.isExecutable(CURL)) {
                Process priorKnowledge = new ProcessBuilder(CURL.toString(), "-sS", "-o", "/dev/null",
                        "--http2-prior-knowledge", plain.uri("/api/rooms").toString()).start();
                assertTrue(priorKnowledge.waitFor(10, TimeUnit.SECONDS));
                assertTrue(priorKnowledge.exitValue() != 0, "HTTP/2 without TLS is refused");
            }
        } finally {
            assertEquals(0, plain.stop(), plain.output());
        }
    }

    /** The test certificate's settings and these. */
    private static String[] settings(String... more) {
        List<String> all = new ArrayList<>(List.of(certificate.settings()));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    private static void awaitStreams(int expected, String what) throws Exception {
        Await.until(Duration.ofSeconds(10), () -> what + ": " + server.chat.subscribers() + " streams open, not " + expected,
                () -> server.chat.subscribers() == expected);
    }

    /** curl over HTTP/2, trusting any certificate (-k), its headers and body read line by line. */
    static final class Curl implements AutoCloseable {
        private final Process process;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());

        private Curl(Process process) {
            this.process = process;
            Thread.ofVirtual().start(() -> {
                try (BufferedReader reader = new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = reader.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // curl ended
                }
            });
        }

        static Curl start(String... args) throws IOException {
            List<String> command = new ArrayList<>(List.of(CURL.toString(), "--http2", "-k", "-sS", "-i"));
            command.addAll(List.of(args));
            return new Curl(new ProcessBuilder(command).redirectErrorStream(true).start());
        }

        /** The first line from here on that matches; fails after 10 s with what curl printed. */
        String await(Predicate<String> wanted) throws Exception {
            AtomicReference<String> found = new AtomicReference<>();
            Await.until(Duration.ofSeconds(10), () -> "curl did not print the expected line; it printed " + seen, () -> {
                for (String line; found.get() == null && (line = lines.poll()) != null; ) {
                    seen.add(line);
                    found.set(wanted.test(line) ? line : null);
                }
                return found.get() != null;
            });
            return found.get();
        }

        @Override
        public void close() throws InterruptedException {
            process.destroy();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * An HTTP/2 form post written frame by frame, as no ready client sends one: its body may stop
     * short of its Content-Length, with or without ending the stream. Returns the answer's body.
     */
    static final class RawPost {
        private static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
        private static final int DATA = 0;
        private static final int HEADERS = 1;
        private static final int RST_STREAM = 3;
        private static final int SETTINGS = 4;
        private static final int GOAWAY = 7;
        private static final int END_STREAM = 1;
        private static final int END_HEADERS = 4;

        static String send(TestServer target, String room, String body, int contentLength, boolean endStream)
                throws Exception {
            SSLSocket socket = (SSLSocket) TestCertificate.trusting(certificate.certificate()).getSocketFactory()
                    .createSocket("127.0.0.1", target.chat.port());
            try (socket) {
                SSLParameters parameters = socket.getSSLParameters();
                parameters.setApplicationProtocols(new String[] {"h2"});
                socket.setSSLParameters(parameters);
                socket.setSoTimeout(10_000);
                DataOutputStream out = new DataOutputStream(socket.getOutputStream());
                out.write(PREFACE);
                frame(out, SETTINGS, 0, 0, new byte[0]);
                ByteArrayOutputStream headers = new ByteArrayOutputStream();
                headers.write(0x83); // :method POST, from HPACK's static table
                headers.write(0x87); // :scheme https
                literal(headers, 0x04, "/api/rooms/" + room + "/messages"); // :path
                literal(headers, 0x01, "127.0.0.1"); // :authority
                literal(headers, 0x0f, "application/x-www-form-urlencoded", 16); // content-type (table index 31)
                literal(headers, 0x0f, String.valueOf(contentLength), 13); // content-length (table index 28)
                frame(out, HEADERS, END_HEADERS, 1, headers.toByteArray());
                frame(out, DATA, endStream ? END_STREAM : 0, 1, body.getBytes(StandardCharsets.US_ASCII));
                return answer(new DataInputStream(socket.getInputStream()), out);
            }
        }

        /** The DATA of stream 1 until it ends; the server's settings are acknowledged on the way. */
        private static String answer(DataInputStream in, DataOutputStream out) throws IOException {
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            while (true) {
                int length = in.readUnsignedByte() << 16 | in.readUnsignedShort();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int stream = in.readInt() & 0x7fffffff;
                byte[] payload = in.readNBytes(length);
                if (type == SETTINGS && (flags & 1) == 0) {
                    frame(out, SETTINGS, 1, 0, new byte[0]);
                } else if (type == GOAWAY || type == RST_STREAM && stream == 1) {
                    throw new AssertionError("the server ended the stream without an answer (frame type " + type + ")");
                } else if (stream == 1 && type == DATA) {
                    answer.write(payload);
                }
                if (stream == 1 && (type == DATA || type == HEADERS) && (flags & END_STREAM) != 0) {
                    return answer.toString(StandardCharsets.UTF_8);
                }
            }
        }

        private static void literal(ByteArrayOutputStream headers, int indexedName, String value) {
            headers.write(indexedName); // a literal, not indexed, whose name is in the static table (index < 15)
            headers.write(value.length());
            headers.writeBytes(value.getBytes(StandardCharsets.US_ASCII));
        }

        private static void literal(ByteArrayOutputStream headers, int prefix, String value, int indexRest) {
            headers.write(prefix); // index 15 or more: the 4-bit prefix full, the rest in the next byte
            headers.write(indexRest);
            headers.write(value.length());
            headers.writeBytes(value.getBytes(StandardCharsets.US_ASCII));
        }

        private static void frame(DataOutputStream out, int type, int flags, int stream, byte[] payload)
                throws IOException {
            out.writeByte(payload.length >>> 16);
            out.writeShort(payload.length);
            out.writeByte(type);
            out.writeByte(flags);
            out.writeInt(stream);
            out.write(payload);
            out.flush();
        }
    }
}
