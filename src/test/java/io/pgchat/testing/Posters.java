package io.pgchat.testing;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Clients posting to a room without pause until stopped, keeping every answer. Each prefers the first
 * server and moves on to the next one when its server refuses the connection or says it is stopping;
 * a 503 for any other reason it retries on the same server, shortly after.
 */
public final class Posters implements AutoCloseable {

    /** One post's outcome (at: System.nanoTime() then): status and seq or error code, or the failure when no answer came. */
    public record Answer(URI server, long at, int status, long seq, String error, boolean retryAfter, IOException noAnswer) {
    }

    private final ConcurrentLinkedQueue<Answer> answers = new ConcurrentLinkedQueue<>();
    private final AtomicInteger created = new AtomicInteger();
    private final Map<URI, AtomicInteger> inFlight = new ConcurrentHashMap<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    public Posters(HttpClient http, String room, int count, List<URI> servers) {
        for (int p = 0; p < count; p++) {
            String author = "poster" + p;
            threads.add(Thread.ofVirtual().start(() -> post(http, room, author, servers)));
        }
    }

    private void post(HttpClient http, String room, String author, List<URI> servers) {
        int server = 0;
        for (int i = 0; !stopped; i++) {
            URI uri = servers.get(server);
            HttpRequest request = HttpRequest.newBuilder(uri.resolve("/api/rooms/" + room + "/messages"))
                    .header("Content-Type", "application/json")
                    .timeout(Duration.ofSeconds(30))
                    .POST(HttpRequest.BodyPublishers.ofString(Json.object("author", author, "body", "m" + i))).build();
            AtomicInteger waiting = inFlight.computeIfAbsent(uri, u -> new AtomicInteger());
            waiting.incrementAndGet();
            try {
                Answer answer = answer(uri, http.send(request, HttpResponse.BodyHandlers.ofString()));
                answers.add(answer);
                if (answer.status() == 201) {
                    created.incrementAndGet();
                } else if ("shutting_down".equals(answer.error()) && server + 1 < servers.size()) {
                    server++;
                } else {
                    Thread.sleep(20);
                }
            } catch (ConnectException refused) {
                if (server + 1 < servers.size()) {
                    server++;
                }
            } catch (IOException e) {
                answers.add(new Answer(uri, System.nanoTime(), 0, 0, null, false, e));
            } catch (InterruptedException e) {
                return;
            } finally {
                waiting.decrementAndGet();
            }
        }
    }

    private static Answer answer(URI server, HttpResponse<String> response) {
        JsonNode body;
        try {
            body = Json.parse(response.body());
        } catch (AssertionError notJson) {
            body = Json.parse(Json.object("error", "not JSON: " + response.body()));
        }
        return new Answer(server, System.nanoTime(), response.statusCode(), body.path("seq").asLong(0),
                body.has("error") ? body.get("error").asText() : null,
                response.headers().firstValue("Retry-After").isPresent(), null);
    }

    /** Waits until n posts to the server are waiting for their answers at once. */
    public void awaitInFlight(URI server, int n, Duration timeout) throws Exception {
        Await.until(timeout, () -> "fewer than " + n + " posts in flight to " + server,
                () -> inFlight.computeIfAbsent(server, u -> new AtomicInteger()).get() >= n);
    }

    public int created() {
        return created.get();
    }

    /** Waits until at least n posts were answered 201 in all. */
    public void awaitCreated(int n, Duration timeout) throws Exception {
        Await.until(timeout, () -> "only " + created.get() + " of " + n + " posts were stored", () -> created.get() >= n);
    }

    /** Stops posting, waits for the posts under way, and returns every answer. */
    public List<Answer> stop() throws InterruptedException {
        stopped = true;
        for (Thread thread : threads) {
            thread.join(Duration.ofSeconds(40));
        }
        return List.copyOf(answers);
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
