package io.pgchat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A client that stops reading costs the others nothing, is disconnected, and resumes without loss. */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SlowSubscriberTest {

    private static final Pattern EVENT = Pattern.compile("id: (\\d+)\nevent: message\ndata: [^\n]*\n\n");

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void slowSubscriberIsDisconnectedNotBlockingOthers() throws Exception {
        String room = TestServer.room("slow");
        int total = 2000;
        String body = "x".repeat(MessageInput.MAX_BODY);
        try (TestServer server = TestServer.start("pgchat.slow.client.seconds", "1");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
             SseClient fast = server.subscribe(EventStreamTest.events(room));
             Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", server.chat.port()));
            slow.getOutputStream().write(("GET " + EventStreamTest.events(room) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream slowIn = slow.getInputStream();
            ByteArrayOutputStream slowBytes = new ByteArrayOutputStream();
            slowBytes.write(slowIn.read()); // the stream is open; from now on this client reads nothing
            EventStreamTest.awaitOpen(fast);

            List<Future<?>> posts = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                posts.add(threads.submit(() -> {
                    for (int i = 0; i < total / 4; i++) {
                        server.say(room, "alice", body);
                    }
                    return null;
                }));
            }
            for (Future<?> post : posts) {
                post.get(2, TimeUnit.MINUTES);
            }

            List<String> all = LongStream.rangeClosed(1, total).mapToObj(Long::toString).toList();
            assertEquals(all, EventStreamTest.ids(fast, total), "the reading subscriber got everything");

            // The server gave up on the stalled one: reading now ends in EOF (or a reset) after what was sent.
            readToEnd(slow, slowBytes, Duration.ofSeconds(20));
            List<Long> received = completeEvents(slowBytes.toByteArray());
            assertTrue(received.size() < total, "it was cut off before the end: " + received.size());
            assertEquals(LongStream.rangeClosed(1, received.size()).boxed().toList(), received, "in order, no gap");

            long last = received.isEmpty() ? 0 : received.getLast();
            try (SseClient resumed = server.subscribe(EventStreamTest.events(room),
                    "Last-Event-ID", Long.toString(last))) {
                assertEquals(all.subList((int) last, total), EventStreamTest.ids(resumed, (int) (total - last)),
                        "resuming from its Last-Event-ID loses nothing");
                assertEquals(List.of(), resumed.drain(Duration.ofMillis(500)));
            }
        }
    }

    private static void readToEnd(Socket socket, ByteArrayOutputStream into, Duration limit) throws IOException {
        long deadline = System.nanoTime() + limit.toNanos();
        socket.setSoTimeout(1000);
        byte[] buffer = new byte[64 * 1024];
        while (System.nanoTime() < deadline) {
            try {
                int n = socket.getInputStream().read(buffer);
                if (n < 0) {
                    return;
                }
                into.write(buffer, 0, n);
            } catch (SocketTimeoutException quiet) {
                // nothing for a second; keep waiting for the end until the deadline
            } catch (IOException reset) {
                return; // closed by the server with data unread: also a disconnect
            }
        }
        throw new AssertionError("the stalled subscriber is still connected after " + limit);
    }

    /** The ids of the whole events in a raw chunked HTTP response, which may end in the middle of one. */
    private static List<Long> completeEvents(byte[] raw) {
        String text = new String(raw, StandardCharsets.UTF_8);
        int at = text.indexOf("\r\n\r\n") + 4;
        StringBuilder body = new StringBuilder();
        while (at < text.length()) {
            int lineEnd = text.indexOf("\r\n", at);
            if (lineEnd < 0) {
                break;
            }
            int size = Integer.parseInt(text.substring(at, lineEnd).strip(), 16);
            int start = lineEnd + 2;
            body.append(text, start, Math.min(text.length(), start + size));
            at = start + size + 2;
        }
        List<Long> ids = new ArrayList<>();
        Matcher events = EVENT.matcher(body);
        while (events.find()) {
            ids.add(Long.parseLong(events.group(1)));
        }
        return ids;
    }
}
