package io.pgchat;

import io.pgchat.access.ClientAddress;
import io.pgchat.access.TokenAuth;
import io.pgchat.edge.ServerTls;
import io.pgchat.ops.DatabaseUrl;

import io.helidon.common.tls.Tls;
import io.helidon.config.Config;
import io.helidon.webserver.http2.Http2Config;
import io.vertx.pgclient.PgConnectOptions;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Every setting of the server, read once at start by its key from {@code application.yaml} and the
 * environment, and passed down through constructors; nothing below {@code Main} reads configuration
 * itself. Every default is in {@code application.yaml} and nowhere else. A value that is not valid
 * stops the start with one line naming its key, its environment variable and what is allowed.
 */
public final class ChatConfig {

    public static final String DATABASE_HELP = "set DATABASE_URL=postgresql://user:password@host:5432/db "
            + "or the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE";

    private static final int MINUTE_MILLIS = 60_000;
    private static final int HOUR_SECONDS = 3600;

    /** What one client may use; 0 turns a rate off. */
    public record Limits(
            int postBurst,
            int postsPerAddressPerMinute,
            int postsPerAuthorPerMinute,
            int roomsPerAddressPerHour,
            int maxSubscribers,
            int subscribersPerAddress,
            ClientAddress clientAddress,
            int connectionsPerAddress) {
    }

    private final Config source;
    private final Map<String, String> env;
    private final Optional<PgConnectOptions> database;
    private final boolean embedded;
    private final String host;
    private final int port;
    private final Optional<PgConnectOptions> listenDatabase;
    private final Path embeddedDirectory;
    private final boolean jsonLogs;
    private final int poolSize;
    private final Duration heartbeat;
    private final Duration retry;
    private final Duration slowClientLimit;
    private final Duration slowRequestLimit;
    private final Duration shutdownGrace;
    private final Duration databaseTimeout;
    private final int windowSize;
    private final int pageSize;
    private final int historyLimit;
    private final int historyMaxLimit;
    private final int maxRequestBytes;
    private final int streamRoomsMax;
    private final Limits limits;
    private final List<String> corsOrigins;
    private final Optional<TokenAuth> auth;
    private final Optional<Tls> tls;
    private final Http2Config http2;

    private ChatConfig(Config config, Map<String, String> env, Optional<PgConnectOptions> database, boolean embedded) {
        this.source = config;
        this.env = env;
        this.database = database;
        this.embedded = embedded;
        host = text(config, "server.host");
        port = env.containsKey("PORT") ? port("PORT", env.get("PORT")) : number(config, "server.port", 0, 65_535);
        listenDatabase = DatabaseUrl.parse("LISTEN_DATABASE_URL", env);
        embeddedDirectory = home(text(config, "pgchat.embedded.dir"), env);
        jsonLogs = choice(config, "pgchat.log.format", "text", "json").equals("json");
        poolSize = number(config, "pgchat.pool.size", 1, 1000);
        heartbeat = Duration.ofSeconds(number(config, "pgchat.heartbeat.seconds", 1, HOUR_SECONDS));
        retry = Duration.ofMillis(number(config, "pgchat.retry.millis", 0, MINUTE_MILLIS * 60));
        slowClientLimit = Duration.ofSeconds(number(config, "pgchat.slow.client.seconds", 1, HOUR_SECONDS));
        slowRequestLimit = Duration.ofMillis(number(config, "pgchat.slow.request.millis", 100, MINUTE_MILLIS * 60));
        shutdownGrace = Duration.ofSeconds(number(config, "pgchat.shutdown.grace.seconds", 0, HOUR_SECONDS));
        databaseTimeout = Duration.ofSeconds(number(config, "pgchat.database.timeout.seconds", 1, HOUR_SECONDS));
        windowSize = number(config, "pgchat.window.size", 1, 1_000_000);
        pageSize = number(config, "pgchat.page.size", 1, 100_000);
        historyMaxLimit = number(config, "pgchat.history.max", 1, 100_000);
        historyLimit = number(config, "pgchat.history.limit", 1, historyMaxLimit);
        maxRequestBytes = number(config, "pgchat.request.max.bytes", 1024, 16 << 20);
        streamRoomsMax = number(config, "pgchat.stream.rooms.max", 1, 1000);
        limits = new Limits(
                number(config, "pgchat.limits.posts.burst", 1, 1_000_000),
                number(config, "pgchat.limits.posts.address", 0, 1_000_000),
                number(config, "pgchat.limits.posts.author", 0, 1_000_000),
                number(config, "pgchat.limits.rooms.hour", 0, 1_000_000),
                number(config, "pgchat.limits.subscribers.max", 1, 10_000_000),
                number(config, "pgchat.limits.subscribers.address", 1, 10_000_000),
                trustedProxies(config),
                number(config, "pgchat.limits.connections.address", 0, 10_000_000));
        corsOrigins = Arrays.stream(config.get("pgchat.cors.origins").asString().orElse("").split("[,\\s]+"))
                .filter(o -> !o.isEmpty()).toList();
        auth = TokenAuth.from(config.get("pgchat.auth"));
        tls = ServerTls.from(config.get("pgchat.tls"));
        http2 = Http2Config.builder()
                .maxConcurrentStreams(number(config, "pgchat.http2.streams", 1, 10_000))
                .maxHeaderListSize(number(config, "pgchat.http2.headers.bytes", 1024, 1 << 20))
                .build();
    }

    public static ChatConfig from(Config config, Map<String, String> env) {
        return new ChatConfig(config, env, database(env), false);
    }

    /** The same settings on the embedded database, once it runs. */
    ChatConfig withEmbeddedDatabase(PgConnectOptions options) {
        return new ChatConfig(source, env, Optional.of(options), true);
    }

    // --- reading values by key, each refused with its key, its variable and what is allowed -------

    private static String text(Config config, String key) {
        return config.get(key).asString().orElseThrow(() -> invalid(key, "is not set"));
    }

    private static int number(Config config, String key, int min, int max) {
        String value = text(config, key).strip();
        return parse(value, min, max).orElseThrow(() -> invalid(key,
                "must be a whole number from " + min + " to " + max + ", not '" + value + "'"));
    }

    private static String choice(Config config, String key, String... allowed) {
        String value = text(config, key).strip().toLowerCase(java.util.Locale.ROOT);
        if (!List.of(allowed).contains(value)) {
            throw invalid(key, "must be one of " + String.join(", ", allowed) + ", not '" + value + "'");
        }
        return value;
    }

    /** The proxies whose X-Forwarded-For is believed; the boolean it replaced would trust anyone's. */
    private static ClientAddress trustedProxies(Config config) {
        if (config.get("pgchat.limits.forwarded").exists()) {
            throw invalid("pgchat.limits.forwarded", "is replaced by pgchat.limits.trusted.proxies "
                    + "(PGCHAT_LIMITS_TRUSTED_PROXIES): list your proxies' addresses or CIDRs, e.g. 10.0.0.0/8");
        }
        String key = "pgchat.limits.trusted.proxies";
        try {
            return ClientAddress.trusting(text(config, key));
        } catch (IllegalArgumentException e) {
            throw invalid(key, "must list IPv4 or IPv6 addresses or CIDRs, comma-separated: " + e.getMessage());
        }
    }

    private static int port(String variable, String value) {
        return parse(value.strip(), 0, 65_535).orElseThrow(() -> new IllegalStateException(
                variable + " must be a port number from 0 (any free port) to 65535, not '" + value.strip() + "'"));
    }

    private static Optional<Integer> parse(String value, int min, int max) {
        if (!value.matches("[0-9]{1,10}")) {
            return Optional.empty();
        }
        long n = Long.parseLong(value);
        return n >= min && n <= max ? Optional.of((int) n) : Optional.empty();
    }

    private static IllegalStateException invalid(String key, String problem) {
        String variable = key.toUpperCase(java.util.Locale.ROOT).replace("-", "_dash_").replace('.', '_');
        return new IllegalStateException(key + " (" + variable + ") " + problem);
    }

    /** A leading ~ is the HOME of the environment, as a shell would expand it (Java's user.home ignores HOME). */
    private static Path home(String path, Map<String, String> env) {
        if (path.equals("~") || path.startsWith("~/")) {
            String home = Optional.ofNullable(env.get("HOME")).filter(h -> !h.isBlank())
                    .orElse(System.getProperty("user.home"));
            return Path.of(home + path.substring(1)).toAbsolutePath();
        }
        return Path.of(path).toAbsolutePath();
    }

    // --- the database ------------------------------------------------------------------------------

    public static Optional<PgConnectOptions> database(Map<String, String> env) {
        return DatabaseUrl.fromEnv(env);
    }

    PgConnectOptions requireDatabase() {
        return database.orElseThrow(() -> new IllegalStateException("No database configured: " + DATABASE_HELP));
    }

    /** LISTEN may need its own route: a transaction-pooling PgBouncer does not keep LISTEN alive. */
    PgConnectOptions listenOrMainDatabase() {
        return listenDatabase.orElseGet(this::requireDatabase);
    }

    public static String describe(PgConnectOptions db) {
        return db.getUser() + "@" + db.getHost() + ":" + db.getPort() + "/" + db.getDatabase();
    }

    // --- the settings ----------------------------------------------------------------------------

    public Optional<PgConnectOptions> database() {
        return database;
    }

    boolean embedded() {
        return embedded;
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    Optional<PgConnectOptions> listenDatabase() {
        return listenDatabase;
    }

    Path embeddedDirectory() {
        return embeddedDirectory;
    }

    boolean jsonLogs() {
        return jsonLogs;
    }

    int poolSize() {
        return poolSize;
    }

    Duration heartbeat() {
        return heartbeat;
    }

    public Duration retry() {
        return retry;
    }

    Duration slowClientLimit() {
        return slowClientLimit;
    }

    Duration slowRequestLimit() {
        return slowRequestLimit;
    }

    Duration shutdownGrace() {
        return shutdownGrace;
    }

    Duration databaseTimeout() {
        return databaseTimeout;
    }

    int windowSize() {
        return windowSize;
    }

    int pageSize() {
        return pageSize;
    }

    public int historyLimit() {
        return historyLimit;
    }

    public int historyMaxLimit() {
        return historyMaxLimit;
    }

    public int maxRequestBytes() {
        return maxRequestBytes;
    }

    public int streamRoomsMax() {
        return streamRoomsMax;
    }

    public Limits limits() {
        return limits;
    }

    List<String> corsOrigins() {
        return corsOrigins;
    }

    Optional<TokenAuth> auth() {
        return auth;
    }

    Optional<Tls> tls() {
        return tls;
    }

    Http2Config http2() {
        return http2;
    }

    /** Helidon's own metrics settings (application.yaml's metrics:), read by Helidon. */
    Config metrics() {
        return source.get("metrics");
    }
}
