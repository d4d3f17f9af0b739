package io.pgchat;

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

/** A real pgchat server on a free port of 127.0.0.1, on the test database, and a client for it. */
final class TestServer implements AutoCloseable {

    private static final AtomicInteger ROOMS = new AtomicInteger();

    final PgChat chat;
    /** HTTP/2 where the server offers it (with TLS, trusting the test certificate), else HTTP/1.1. */
    final HttpClient http;
    private final String scheme;

    private TestServer(PgChat chat, Optional<Path> certificate) {
        this.chat = chat;
        this.scheme = certificate.isPresent() ? "https" : "http";
        this.http = certificate.map(c -> HttpClient.newBuilder().sslContext(TestCertificate.trusting(c)).build())
                .orElseGet(HttpClient::newHttpClient);
    }

    /** Settings as in application.yaml but for a short heartbeat and no per-client limits; keys and values alternate. */
    static TestServer start(String... settings) throws Exception {
        return start(Map.of(), settings);
    }

    static TestServer start(Map<String, String> env, String... settings) throws Exception {
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
    static String room(String purpose) {
        return purpose + "-" + ProcessHandle.current().pid() + "-" + ROOMS.incrementAndGet();
    }

    URI uri(String path) {
        return URI.create(scheme + "://127.0.0.1:" + chat.port() + path);
    }

    HttpResponse<String> postJson(String room, String json) throws IOException, InterruptedException {
        return post(room, "application/json", json);
    }

    HttpResponse<String> post(String room, String contentType, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri("/api/rooms/" + room + "/messages"))
                .header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Posts and insists on 201: for tests where posting is the setup, not the subject. */
    void say(String room, String author, String body) throws IOException, InterruptedException {
        HttpResponse<String> response = postJson(room, Json.object("author", author, "body", body));
        if (response.statusCode() != 201) {
            throw new AssertionError("post failed: " + response.statusCode() + " " + response.body());
        }
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    SseClient subscribe(String pathAndQuery, String... headers) {
        return SseClient.open(http, uri(pathAndQuery), headers);
    }

    @Override
    public void close() {
        chat.close();
    }
}
