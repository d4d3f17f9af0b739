package io.pgchat.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * An event-stream reader for tests that parses the wire format as the SSE specification says and
 * keeps everything it read, comments included, so tests can assert on the exact stream.
 */
public final class SseClient implements AutoCloseable {

    public record Event(String id, String event, String data) {
    }

    public final CompletableFuture<HttpResponse<InputStream>> response;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final List<String> lines = java.util.Collections.synchronizedList(new ArrayList<>());
    private final CompletableFuture<Void> ended = new CompletableFuture<>();
    private volatile InputStream body;

    private SseClient(CompletableFuture<HttpResponse<InputStream>> response) {
        this.response = response;
        response.whenComplete((r, failed) -> {
            if (failed != null) {
                ended.complete(null);
            } else {
                Thread.ofVirtual().start(() -> read(r));
            }
        });
    }

    public static SseClient open(HttpClient http, URI uri, String... headers) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("Accept", "text/event-stream");
        for (int i = 0; i < headers.length; i += 2) {
            request.header(headers[i], headers[i + 1]);
        }
        return new SseClient(http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofInputStream()));
    }

    public int status() throws Exception {
        return response.get(10, TimeUnit.SECONDS).statusCode();
    }

    private void read(HttpResponse<InputStream> r) {
        body = r.body();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String id = null;
            String event = null;
            StringBuilder data = null;
            for (String line; (line = reader.readLine()) != null; ) {
                lines.add(line);
                if (line.isEmpty()) {
                    if (data != null) {
                        events.add(new Event(id, event == null ? "message" : event, data.toString()));
                    }
                    event = null;
                    data = null;
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1).replaceFirst("^ ", "");
                switch (field) {
                    case "id" -> id = value;
                    case "event" -> event = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> { }
                }
            }
        } catch (IOException e) {
            // closed by the test or by the server
        } finally {
            ended.complete(null);
        }
    }

    /** The next event, waiting up to the timeout; fails the test when none comes. */
    public Event next(Duration timeout) throws InterruptedException {
        Event event = events.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (event == null) {
            throw new AssertionError("no event within " + timeout + "; stream so far: " + lines);
        }
        return event;
    }

    /** The next event; null once the stream has ended (or never opened) and every event was taken. */
    Event nextOrEnd() throws InterruptedException {
        while (true) {
            boolean over = ended.isDone();
            Event event = events.poll(over ? 0 : 100, TimeUnit.MILLISECONDS);
            if (event != null || over) {
                return event;
            }
        }
    }

    public Event next() throws InterruptedException {
        return next(Duration.ofSeconds(10));
    }

    /** Waits until the stream has gone quiet for the given time, and returns whatever came. */
    public List<Event> drain(Duration quiet) throws InterruptedException {
        List<Event> got = new ArrayList<>();
        for (Event e; (e = events.poll(quiet.toMillis(), TimeUnit.MILLISECONDS)) != null; ) {
            got.add(e);
        }
        return got;
    }

    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    boolean awaitEnd(Duration timeout) {
        try {
            ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    @Override
    public void close() {
        response.cancel(true);
        InputStream in = body;
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // already closed
            }
        }
    }

    public List<String> ids(int count) throws InterruptedException {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            ids.add(next().id());
        }
        return ids;
    }

    /** The stream is open once its first line arrived: from then on the subscriber is registered. */
    public static void awaitOpen(SseClient... clients) throws Exception {
        for (SseClient client : clients) {
            Await.until(Duration.ofSeconds(10), () -> "the stream did not open", () -> !client.lines().isEmpty());
        }
    }
}
