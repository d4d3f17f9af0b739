package io.pgchat.testing;

import io.pgchat.ChatConfig;
import io.pgchat.PgChat;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A real pgchat server on a free port of 127.0.0.1, on the test database, and a client for it. */
public final class TestServer implements AutoCloseable {

    private static final AtomicInteger ROOMS = new AtomicInteger();

    public final PgChat chat;
    /** HTTP/2 where the server offers it (with TLS, trusting the test certificate), else HTTP/1.1. */
    public final HttpClient http;
    private final String scheme;

    private TestServer(PgChat chat, Optional<Path> certificate) {
        this.chat = chat;
        this.scheme = certificate.isPresent() ? "https" : "http";
        this.http = certificate.map(c -> HttpClient.newBuilder().sslContext(TestCertificate.trusting(c)).build())
                .orElseGet(HttpClient::newHttpClient);
    }

    /** Settings as in application.yaml but for a short heartbeat and no per-client limits; keys and values alternate. */
    public static TestServer start(String... settings) throws Exception {
        return start(Map.of(), settings);
    }

    public static TestServer start(Map<String, String> env, String... settings) throws Exception {
        // Every test client posts from 127.0.0.1: per-client limits are off unless a test sets them.
        Map<String, String> values = new HashMap<>(Map.of("server.host", "127.0.0.1", "server.port", "0",
                "pgchat.heartbeat.seconds", "1", "pgchat.limits.posts.address", "0", "pgchat.limits.posts.author", "0",
                "pgchat.limits.rooms.hour", "0", "pgchat.limits.subscribers.address", "10000",
                "pgchat.limits.connections.address", "0"));
        for (int i = 0; i < settings.length; i += 2) {
            values.put(settings[i], settings[i + 1]);
        }
        // application.yaml beneath the test's settings, as in production: it holds every default.
        Config config = Config.just(ConfigSources.create(values), ConfigSources.classpath("application.yaml"));
        return new TestServer(PgChat.start(config.get("server"), ChatConfig.from(config, withDatabase(env))),
                Optional.ofNullable(values.get("pgchat.tls.certificate")).map(Path::of));
    }

    /** The test database, unless env names another route to it (a proxy a test can cut). */
    private static Map<String, String> withDatabase(Map<String, String> env) {
        Map<String, String> all = new HashMap<>(env);
        all.putIfAbsent("DATABASE_URL", TestDatabase.url());
        return all;
    }

    /** A room name no other test uses, so no test sees another's messages. */
    public static String room(String purpose) {
        return purpose + "-" + ProcessHandle.current().pid() + "-" + ROOMS.incrementAndGet();
    }

    public URI uri(String path) {
        return URI.create(scheme + "://127.0.0.1:" + chat.port() + path);
    }

    public HttpResponse<String> postJson(String room, String json) throws IOException, InterruptedException {
        return post(room, "application/json", json);
    }

    public HttpResponse<String> post(String room, String contentType, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Posts and insists on 201: for tests where posting is the setup, not the subject. */
    public void say(String room, String author, String body) throws IOException, InterruptedException {
        HttpResponse<String> response = postJson(room, Json.object("author", author, "body", body));
        if (response.statusCode() != 201) {
            throw new AssertionError("post failed: " + response.statusCode() + " " + response.body());
        }
    }

    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    public SseClient subscribe(String pathAndQuery, String... headers) {
        return SseClient.open(http, uri(pathAndQuery), headers);
    }

    @Override
    public void close() {
        chat.close();
    }

    /** The path of a room's event stream. */
    public static String events(String room) {
        return "/api/rooms/" + room + "/events";
    }

    /** A metric's value; a metric that is missing fails rather than reads as 0. */
    public double metric(String name) throws Exception {
        String text = get("/observe/metrics").body();
        Matcher line = Pattern.compile("(?m)^" + name + "(\\{[^}]*})? (\\S+)$").matcher(text);
        if (!line.find()) {
            throw new AssertionError("no metric " + name + " in /observe/metrics");
        }
        return Double.parseDouble(line.group(2));
    }

    /**
     * Nothing more is on its way: a message posted now is the next event. (Draining for a while
     * would only show that nothing came soon enough.)
     */
    public void assertNextIsASentinel(SseClient client, String room) throws Exception {
        say(room, "test", "sentinel");
        SseClient.Event next = client.next();
        assertEquals("sentinel", Json.parse(next.data()).get("body").asText(), "the next event: " + next);
    }
}
