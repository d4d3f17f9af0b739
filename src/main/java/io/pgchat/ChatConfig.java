package io.pgchat;

import io.helidon.common.tls.Tls;
import io.helidon.config.Config;
import io.helidon.webserver.http2.Http2Config;
import io.vertx.pgclient.PgConnectOptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of the server, read once at start from {@code application.yaml} and the environment
 * and passed down through constructors; nothing below {@code Main} reads configuration itself.
 */
record ChatConfig(
        String host,
        int port,
        Optional<PgConnectOptions> database,
        Optional<PgConnectOptions> listenDatabase,
        Path embeddedDirectory,
        boolean embedded,
        boolean jsonLogs,
        int poolSize,
        Duration heartbeat,
        Duration retry,
        Duration slowClientLimit,
        Duration slowRequestLimit,
        Duration shutdownGrace,
        Duration databaseTimeout,
        int windowSize,
        int pageSize,
        int historyLimit,
        int historyMaxLimit,
        int maxRequestBytes,
        Limits limits,
        List<String> corsOrigins,
        Optional<TokenAuth> auth,
        int streamRoomsMax,
        Optional<Tls> tls,
        Http2Config http2) {

    /** What one client may use; 0 turns a rate off. */
    record Limits(
            int postBurst,
            int postsPerAddressPerMinute,
            int postsPerAuthorPerMinute,
            int roomsPerAddressPerHour,
            int maxSubscribers,
            int subscribersPerAddress,
            boolean trustForwardedFor,
            int connectionsPerAddress) {

        static Limits from(Config limits) {
            return new Limits(
                    limits.get("posts.burst").asInt().orElse(20),
                    limits.get("posts.address").asInt().orElse(120),
                    limits.get("posts.author").asInt().orElse(60),
                    limits.get("rooms.hour").asInt().orElse(20),
                    limits.get("subscribers.max").asInt().orElse(10_000),
                    limits.get("subscribers.address").asInt().orElse(50),
                    limits.get("forwarded").asBoolean().orElse(false),
                    limits.get("connections.address").asInt().orElse(256));
        }
    }

    static final String DATABASE_HELP = "set DATABASE_URL=postgresql://user:password@host:5432/db "
            + "or the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE";

    private static final List<String> LIBPQ = List.of("PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE");

    static ChatConfig from(Config config, Map<String, String> env) {
        Config chat = config.get("pgchat");
        return new ChatConfig(
                config.get("server.host").asString().orElse("0.0.0.0"),
                env.containsKey("PORT") ? Integer.parseInt(env.get("PORT").strip())
                        : config.get("server.port").asInt().orElse(8080),
                database(env),
                url("LISTEN_DATABASE_URL", env.get("LISTEN_DATABASE_URL")),
                Path.of(chat.get("embedded.dir").asString()
                        .orElse(System.getProperty("user.home") + "/.pgchat/postgres")).toAbsolutePath(),
                false,
                chat.get("log.format").asString().orElse("text").equalsIgnoreCase("json"),
                chat.get("pool.size").asInt().orElse(8),
                Duration.ofSeconds(chat.get("heartbeat.seconds").asInt().orElse(15)),
                Duration.ofMillis(chat.get("retry.millis").asInt().orElse(2000)),
                Duration.ofSeconds(chat.get("slow.client.seconds").asInt().orElse(10)),
                Duration.ofMillis(chat.get("slow.request.millis").asInt().orElse(10_000)),
                Duration.ofSeconds(chat.get("shutdown.grace.seconds").asInt().orElse(5)),
                Duration.ofSeconds(chat.get("database.timeout.seconds").asInt().orElse(10)),
                chat.get("window.size").asInt().orElse(1024),
                chat.get("page.size").asInt().orElse(1000),
                chat.get("history.limit").asInt().orElse(100),
                chat.get("history.max").asInt().orElse(1000),
                chat.get("request.max.bytes").asInt().orElse(64 * 1024),
                Limits.from(chat.get("limits")),
                List.of(chat.get("cors.origins").asString().orElse("").split("[,\\s]+")).stream()
                        .filter(o -> !o.isEmpty()).toList(),
                TokenAuth.from(chat.get("auth")),
                chat.get("stream.rooms.max").asInt().orElse(100),
                ServerTls.from(chat.get("tls")),
                Http2Config.builder()
                        .maxConcurrentStreams(chat.get("http2.streams").asLong().orElse(100L))
                        .maxHeaderListSize(chat.get("http2.headers.bytes").asLong().orElse(16_384L))
                        .build());
    }

    /** DATABASE_URL wins; otherwise the libpq variables, as psql would read them; otherwise none. */
    static Optional<PgConnectOptions> database(Map<String, String> env) {
        Optional<PgConnectOptions> url = url("DATABASE_URL", env.get("DATABASE_URL"));
        if (url.isPresent() || LIBPQ.stream().noneMatch(env::containsKey)) {
            return url;
        }
        return Optional.of(PgConnectOptions.fromEnv());
    }

    private static Optional<PgConnectOptions> url(String name, String url) {
        if (url == null || url.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(PgConnectOptions.fromUri(url.strip()));
        } catch (IllegalArgumentException e) {
            // The parser's message would repeat the URL, password included: say only which variable.
            throw new IllegalStateException(name + " is not a PostgreSQL URL: " + DATABASE_HELP);
        }
    }

    /** The same settings on the embedded database, once it runs. */
    ChatConfig withEmbeddedDatabase(PgConnectOptions options) {
        return new ChatConfig(host, port, Optional.of(options), listenDatabase, embeddedDirectory, true, jsonLogs,
                poolSize,
                heartbeat, retry, slowClientLimit, slowRequestLimit, shutdownGrace, databaseTimeout, windowSize, pageSize,
                historyLimit, historyMaxLimit,
                maxRequestBytes, limits, corsOrigins, auth, streamRoomsMax, tls, http2);
    }

    PgConnectOptions requireDatabase() {
        return database.orElseThrow(() -> new IllegalStateException("No database configured: " + DATABASE_HELP));
    }

    /** LISTEN may need its own route: a transaction-pooling PgBouncer does not keep LISTEN alive. */
    PgConnectOptions listenOrMainDatabase() {
        return listenDatabase.orElseGet(this::requireDatabase);
    }

    static String describe(PgConnectOptions db) {
        return db.getUser() + "@" + db.getHost() + ":" + db.getPort() + "/" + db.getDatabase();
    }
}
