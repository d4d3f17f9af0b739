package io.pgchat;

import io.helidon.config.Config;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.helidon.webserver.staticcontent.StaticContentService;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * A running pgchat server, wired in the order data flows: migrations, database clients, delivery hub,
 * LISTEN connection, web server. Main starts one; tests start several on one database.
 */
final class PgChat implements AutoCloseable {

    private static final Logger LOG = System.getLogger(PgChat.class.getName());

    private final Vertx vertx;
    private final Pool pool;
    private final DeliveryHub hub;
    private final ChatMetrics metrics;
    private final NotificationListener listener;
    private final WebServer server;

    private PgChat(Config serverConfig, ChatConfig config) throws Exception {
        vertx = Vertx.vertx();
        pool = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(config.poolSize()))
                .connectingTo(config.database())
                .using(vertx)
                .build();
        try {
            MessageStore store = new MessageStore(pool);
            if (!store.reachable()) {
                throw new IllegalStateException("Cannot reach PostgreSQL as " + config.databaseName() + ": "
                        + ChatConfig.DATABASE_HELP);
            }
            int migrations = Migrations.apply(config.database());
            LOG.log(Level.INFO, "Database " + config.databaseName() + " is ready (" + migrations
                    + " migrations applied now)");
            hub = new DeliveryHub(store, config.windowSize(), config.pageSize(), config.slowClientLimit());
            metrics = new ChatMetrics(hub::subscribers);
            listener = new NotificationListener(vertx, config.database(), hub, metrics);
            listener.start();
            server = WebServer.builder()
                    .config(serverConfig)
                    .host(config.host())
                    .port(config.port())
                    .shutdownHook(false)
                    .addFeature(ObserveFeature.just(health(store, listener), MetricsObserver.create()))
                    .routing(routing -> routing(routing, store, hub, metrics, config))
                    .build()
                    .start();
        } catch (Exception e) {
            vertx.close();
            throw e;
        }
        LOG.log(Level.INFO, "pgchat serving on http://" + config.host() + ":" + server.port()
                + " (database " + config.databaseName() + ", pool of " + config.poolSize() + ")");
    }

    static PgChat start(Config serverConfig, ChatConfig config) throws Exception {
        return new PgChat(serverConfig, config);
    }

    static void routing(HttpRouting.Builder routing, MessageStore store, DeliveryHub hub, ChatMetrics metrics,
                        ChatConfig config) {
        ApiError.register(routing);
        routing.register("/api", new RoomsApi(store, new EventStream(store, hub, metrics, config), metrics, config))
                .register("/", StaticContentService.builder("web").welcomeFileName("index.html").build());
        routing.addFilter(new PageHeaders());
    }

    private static HealthObserver health(MessageStore store, NotificationListener listener) {
        return HealthObserver.builder()
                .details(true)
                .addCheck(() -> HealthCheckResponse.builder().status(store.reachable()).build(),
                        HealthCheckType.READINESS, "database")
                .addCheck(() -> HealthCheckResponse.builder().status(listener.listening()).build(),
                        HealthCheckType.READINESS, "listen")
                .build();
    }

    int port() {
        return server.port();
    }

    /** Ends every stream first, so clients reconnect elsewhere, then stops taking requests. */
    @Override
    public void close() {
        LOG.log(Level.INFO, "pgchat stopping: closing " + hub.subscribers() + " streams");
        hub.close();
        server.stop();
        listener.close();
        metrics.close();
        pool.close().toCompletionStage().toCompletableFuture().join();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }
}
