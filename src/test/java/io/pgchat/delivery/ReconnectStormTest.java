package io.pgchat.delivery;

import io.pgchat.testing.Json;
import io.pgchat.testing.SseClient;
import io.pgchat.testing.TestDatabase;
import io.pgchat.testing.TestServer;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A thousand clients come back at once (after a network blip, a deploy), each hundreds of messages
 * behind: every one catches up exactly, live delivery to the others does not stall, and the database
 * sees the server's pool, never a connection per client.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class ReconnectStormTest {

    private static final int POOL = 8;
    private static final int CLIENTS = 1000;
    private static final int HISTORY = 600;
    private static final int LIVE = 20;

    @AfterEach
    void clear() throws Exception {
        TestDatabase.clear();
    }

    @Test
    void aThousandResumingClientsEachGetExactlyWhatTheyMissedWithoutStallingLiveDelivery() throws Exception {
        String room = TestServer.room("storm");
        try (TestServer server = TestServer.start("pgchat.pool.size", Integer.toString(POOL));
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> setup = new ArrayList<>();
            for (int p = 0; p < 8; p++) {
                setup.add(threads.submit(() -> {
                    for (int i = 0; i < HISTORY / 8; i++) {
                        server.say(room, "history", "m" + i);
                    }
                    return null;
                }));
            }
            for (Future<?> post : setup) {
                post.get(1, TimeUnit.MINUTES);
            }
            try (SseClient undisturbed = server.subscribe(TestServer.events(room),
                    "Last-Event-ID", Integer.toString(HISTORY));
                 ConnectionSampler sampler = new ConnectionSampler()) {
                SseClient.awaitOpen(undisturbed);

                List<SseClient> storm = new ArrayList<>();
                for (int i = 0; i < CLIENTS; i++) {
                    storm.add(server.subscribe(TestServer.events(room), "Last-Event-ID", Integer.toString(i % 100)));
                }
                Map<Long, Long> acknowledgedAt = new ConcurrentHashMap<>();
                List<Long> postMillis = java.util.Collections.synchronizedList(new ArrayList<>());
                Future<?> live = threads.submit(() -> {
                    for (int i = 0; i < LIVE; i++) {
                        long sent = System.nanoTime();
                        long seq = Json.parse(server.postJson(room, Json.object("author", "live", "body", "l" + i))
                                .body()).get("seq").asLong();
                        acknowledgedAt.put(seq, System.nanoTime());
                        postMillis.add((acknowledgedAt.get(seq) - sent) / 1_000_000);
                        Thread.sleep(100);
                    }
                    return null;
                });
                List<Long> latenciesMillis = new ArrayList<>();
                for (int i = 0; i < LIVE; i++) {
                    long seq = Long.parseLong(undisturbed.next(Duration.ofSeconds(10)).id());
                    long arrived = System.nanoTime();
                    Long acknowledged = acknowledgedAt.get(seq);
                    // The event may arrive before the poster has read its 201: that counts as no delay.
                    latenciesMillis.add(acknowledged == null ? 0 : Math.max(0, (arrived - acknowledged) / 1_000_000));
                }
                live.get(1, TimeUnit.MINUTES);

                int total = HISTORY + LIVE;
                for (int i = 0; i < CLIENTS; i++) {
                    int from = i % 100;
                    List<String> expected = LongStream.rangeClosed(from + 1, total).mapToObj(Long::toString).toList();
                    assertEquals(expected, storm.get(i).ids(total - from), "storm client " + i);
                }
                for (SseClient client : storm) {
                    assertEquals(List.of(), client.drain(Duration.ZERO), "nothing after the last message");
                    client.close();
                }
                // Generous bounds on a shared 2-core machine: "not held up", not a benchmark.
                assertTrue(latenciesMillis.stream().allMatch(ms -> ms < 2000),
                        "live delivery kept flowing during the storm (ms after each 201): " + latenciesMillis);
                assertTrue(postMillis.stream().allMatch(ms -> ms < 5000),
                        "posts were not queued behind the catch-up reads (ms per post): " + postMillis);
                assertTrue(sampler.samples() > 5, "connections were sampled during the storm");
                assertTrue(sampler.max() <= POOL + 1, "the pool and LISTEN at most, never a connection per client: "
                        + sampler.max());
            }
        }
    }

    /** Counts the server's PostgreSQL connections every few milliseconds and keeps the highest count. */
    private static final class ConnectionSampler implements AutoCloseable {
        private final AtomicLong max = new AtomicLong();
        private final AtomicLong samples = new AtomicLong();
        private final Thread thread = Thread.ofVirtual().start(this::sample);

        private void sample() {
            try (var db = TestDatabase.connect(); var query = db.prepareStatement("SELECT count(*) FROM pg_stat_activity"
                    + " WHERE datname = current_database() AND application_name LIKE 'pgchat%'")) {
                while (!Thread.currentThread().isInterrupted()) {
                    try (var rows = query.executeQuery()) {
                        rows.next();
                        max.accumulateAndGet(rows.getLong(1), Math::max);
                        samples.incrementAndGet();
                    }
                    Thread.sleep(20);
                }
            } catch (InterruptedException | java.sql.SQLException e) {
                // stopped
            }
        }

        long max() {
            return max.get();
        }

        long samples() {
            return samples.get();
        }

        @Override
        public void close() throws InterruptedException {
            thread.interrupt();
            thread.join();
        }
    }
}
