package io.pgchat.delivery;

import io.pgchat.posting.MessageInput;
import io.pgchat.testing.Await;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
             SseClient fast = server.subscribe(TestServer.events(room));
             Socket slow = stalledReader(server, room)) {
            ByteArrayOutputStream slowBytes = new ByteArrayOutputStream();
            slowBytes.write('H'); // the one byte stalledReader read
            SseClient.awaitOpen(fast);

            postFromFourThreads(threads, server, room, body, total);

            List<String> all = LongStream.rangeClosed(1, total).mapToObj(Long::toString).toList();
            assertEquals(all, fast.ids(total), "the reading subscriber got everything");

            // The server gives up on the stalled one, still unread: reading it before then would un-stall it.
            // (Nothing else ends a stream here: no heartbeat is missed, the server does not stop.)
            awaitStreams(server, 1, Duration.ofSeconds(30));
            // Reading now ends in EOF (or a reset) after what was sent.
            readToEnd(slow, slowBytes, Duration.ofSeconds(20));
            List<Long> received = completeEvents(slowBytes.toByteArray());
            assertTrue(received.size() < total, "it was cut off before the end: " + received.size());
            assertEquals(LongStream.rangeClosed(1, received.size()).boxed().toList(), received, "in order, no gap");

            long last = received.isEmpty() ? 0 : received.getLast();
            try (SseClient resumed = server.subscribe(TestServer.events(room),
                    "Last-Event-ID", Long.toString(last))) {
                assertEquals(all.subList((int) last, total), resumed.ids((int) (total - last)),
                        "resuming from its Last-Event-ID loses nothing");
                server.assertNextIsASentinel(resumed, room);
            }
        }
    }

    @Test
    void stalledReadersHoldNoQueueOfTheirOwnAndDelayNoOneElse() throws Exception {
        String room = TestServer.room("stalled");
        String body = "x".repeat(MessageInput.MAX_BODY);
        int stalledCount = 10;
        int total = 2000;
        List<Socket> stalled = new ArrayList<>();
        // A limit long enough that they stay connected, and stalled, throughout.
        try (TestServer server = TestServer.start("pgchat.slow.client.seconds", "60");
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < stalledCount; i++) {
                stalled.add(stalledReader(server, room));
            }
            long heapBefore = usedHeapAfterGc();
            postFromFourThreads(threads, server, room, body, total);
            long grown = usedHeapAfterGc() - heapBefore;
            assertEquals(stalledCount, server.metric("pgchat_subscribers"), "all still connected");
            // A queue per stalled reader would now hold its 8 MB backlog (less what its socket buffers took),
            // over 50 MB in all. What may stay is the shared window (about 5 MB) and the one small batch each
            // stalled stream is blocked writing.
            assertTrue(grown < 32L << 20, "heap grew by " + (grown >> 20) + " MB while " + stalledCount
                    + " readers were stalled");

            // Each message reaches a reading subscriber before the next is posted, while the stalled ones are
            // still connected, still stalled: their writes hold nobody else's.
            try (SseClient fast = server.subscribe(TestServer.events(room))) {
                SseClient.awaitOpen(fast);
                for (int i = 1; i <= 100; i++) {
                    server.say(room, "bob", body);
                    assertEquals(Long.toString(total + i), fast.next(Duration.ofSeconds(30)).id());
                }
                assertEquals(stalledCount + 1, server.metric("pgchat_subscribers"), "none was cut off");
            }
        } finally {
            for (Socket socket : stalled) {
                socket.close();
            }
        }
    }

    /** A raw stream whose first byte is read, and then nothing more: a client that stopped reading. */
    private static Socket stalledReader(TestServer server, String room) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("127.0.0.1", server.chat.port()));
        socket.getOutputStream().write(("GET " + TestServer.events(room) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        if (socket.getInputStream().read() != 'H') {
            throw new AssertionError("no HTTP response");
        }
        return socket;
    }

    private static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    private static void awaitStreams(TestServer server, int count, Duration limit) throws Exception {
        Await.until(limit, () -> "the server still holds " + server.chat.subscribers() + " streams",
                () -> server.chat.subscribers() == count);
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

    private static void postFromFourThreads(ExecutorService threads, TestServer server, String room, String body,
                                            int total) throws Exception {
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
    }
}
