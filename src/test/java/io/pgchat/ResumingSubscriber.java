package io.pgchat;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * A subscriber that behaves as EventSource does: whenever its stream ends, is refused or cannot
 * connect, it connects again, to whichever server the test names at that moment, with the id of the
 * last event it received. It keeps every seq it received, duplicates included, so a test can see them.
 */
final class ResumingSubscriber implements AutoCloseable {

    private static final Duration RETRY = Duration.ofMillis(100);

    private final List<Long> seqs = new ArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Thread thread;
    private volatile SseClient current;
    private volatile boolean closed;

    /** Follows the room from its first message; server gives the base URI (http://host:port) to connect to. */
    ResumingSubscriber(HttpClient http, Supplier<URI> server, String room) {
        thread = Thread.ofVirtual().start(() -> run(http, server, room));
    }

    private void run(HttpClient http, Supplier<URI> server, String room) {
        long last = 0;
        while (!closed) {
            connections.incrementAndGet();
            current = SseClient.open(http, server.get().resolve(EventStreamTest.events(room)),
                    "Last-Event-ID", Long.toString(last));
            try (SseClient client = current) {
                for (SseClient.Event event; (event = client.nextOrEnd()) != null; ) {
                    if (event.event().equals("message")) {
                        last = Long.parseLong(event.id());
                        synchronized (seqs) {
                            seqs.add(last);
                            seqs.notifyAll();
                        }
                    }
                }
                Thread.sleep(RETRY);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** Waits until count seqs arrived (or the timeout passed) and returns what arrived. */
    List<Long> awaitSeqs(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (seqs) {
            for (long left; seqs.size() < count && (left = deadline - System.nanoTime()) > 0; ) {
                seqs.wait(Math.max(1, left / 1_000_000));
            }
            return List.copyOf(seqs);
        }
    }

    int connections() {
        return connections.get();
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        SseClient client = current;
        if (client != null) {
            client.close();
        }
    }
}
