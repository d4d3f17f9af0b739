package io.pgchat.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A subscriber that behaves as EventSource behind a load balancer does: whenever its stream ends, it
 * connects again with the id of the last event it received, to the next of the servers when its
 * own refused it (a 503, or no connection). It keeps every seq it received, duplicates included.
 */
public final class ResumingSubscriber implements AutoCloseable {

    private static final Duration RETRY = Duration.ofMillis(100);

    private final List<Long> seqs = new ArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private final Thread thread;
    private volatile SseClient current;
    private volatile boolean closed;

    /** Follows the room from its first message, on the first of the servers (base URIs) that serves it. */
    public ResumingSubscriber(HttpClient http, List<URI> servers, String room) {
        thread = Thread.ofVirtual().start(() -> run(http, servers, room));
    }

    private void run(HttpClient http, List<URI> servers, String room) {
        long last = 0;
        int server = 0;
        while (!closed) {
            connections.incrementAndGet();
            current = SseClient.open(http, servers.get(server).resolve(TestServer.events(room)),
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
                if (refused(client) && server + 1 < servers.size()) {
                    server++;
                }
                Thread.sleep(RETRY);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private static boolean refused(SseClient client) {
        return client.response.isCompletedExceptionally() || client.response.getNow(null).statusCode() == 503;
    }

    /** Waits until count seqs arrived (or the timeout passed) and returns what arrived. */
    public List<Long> awaitSeqs(int count, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (seqs) {
            for (long left; seqs.size() < count && (left = deadline - System.nanoTime()) > 0; ) {
                seqs.wait(Math.max(1, left / 1_000_000));
            }
            return List.copyOf(seqs);
        }
    }

    public int connections() {
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
