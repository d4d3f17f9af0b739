package io.pgchat;

import io.helidon.config.Config;
import io.vertx.pgclient.PgConnectOptions;

import java.time.Duration;
import java.util.Map;

/**
 * Every setting of the server, read once at start from {@code application.yaml} and the environment
 * and passed down through constructors; nothing below {@code Main} reads configuration itself.
 */
record ChatConfig(
        String host,
        int port,
        PgConnectOptions database,
        int poolSize,
        Duration heartbeat,
        Duration retry,
        Duration slowClientLimit,
        int windowSize,
        int pageSize,
        int historyLimit,
        int historyMaxLimit,
        int maxRequestBytes) {

    static final String DATABASE_HELP = "set DATABASE_URL=postgresql://user:password@host:5432/db "
            + "or the libpq variables PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE";

    static ChatConfig from(Config config, Map<String, String> env) {
        Config chat = config.get("pgchat");
        return new ChatConfig(
                config.get("server.host").asString().orElse("0.0.0.0"),
                env.containsKey("PORT") ? Integer.parseInt(env.get("PORT").strip())
                        : config.get("server.port").asInt().orElse(8080),
                database(env),
                chat.get("pool.size").asInt().orElse(8),
                Duration.ofSeconds(chat.get("heartbeat.seconds").asInt().orElse(15)),
                Duration.ofMillis(chat.get("retry.millis").asInt().orElse(2000)),
                Duration.ofSeconds(chat.get("slow.client.seconds").asInt().orElse(10)),
                chat.get("window.size").asInt().orElse(1024),
                chat.get("page.size").asInt().orElse(1000),
                chat.get("history.limit").asInt().orElse(100),
                chat.get("history.max").asInt().orElse(1000),
                chat.get("request.max.bytes").asInt().orElse(64 * 1024));
    }

    /** DATABASE_URL wins; otherwise the libpq variables, as psql would read them. */
    static PgConnectOptions database(Map<String, String> env) {
        String url = env.get("DATABASE_URL");
        if (url != null && !url.isBlank()) {
            try {
                return PgConnectOptions.fromUri(url.strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("DATABASE_URL is not a PostgreSQL URL (" + e.getMessage() + "): "
                        + DATABASE_HELP);
            }
        }
        if (env.keySet().stream().noneMatch(k -> k.startsWith("PG"))) {
            throw new IllegalStateException("No database configured: " + DATABASE_HELP);
        }
        return PgConnectOptions.fromEnv();
    }

    String databaseName() {
        return database.getUser() + "@" + database.getHost() + ":" + database.getPort() + "/" + database.getDatabase();
    }
}
