package io.pgchat;

import io.pgchat.access.Access;
import io.pgchat.access.CrossOrigin;
import io.pgchat.access.SessionApi;
import io.pgchat.delivery.Delivery;
import io.pgchat.delivery.EventStream;
import io.pgchat.delivery.NotificationListener;
import io.pgchat.edge.Http2Connections;
import io.pgchat.edge.Http2Resets;
import io.pgchat.edge.HttpEdge;
import io.pgchat.edge.SecurityHeaders;
import io.pgchat.edge.SlowRequests;
import io.pgchat.ops.ChatMetrics;
import io.pgchat.ops.DatabaseUrl;
import io.pgchat.ops.GracefulStop;
import io.pgchat.ops.Migrations;
import io.pgchat.posting.MessageStore;
import io.pgchat.posting.RoomsApi;

import io.helidon.config.Config;
import io.helidon.health.HealthCheckResponse;
import io.helidon.health.HealthCheckType;
import io.helidon.metrics.api.MetricsConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.helidon.webserver.staticcontent.StaticContentService;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;

import com.sun.management.UnixOperatingSystemMXBean;

import java.lang.System.Logger;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.lang.System.Logger.Level;

/**
 * A running pgchat server, wired in the order data flows: migrations, database clients, delivery,
 * LISTEN connection, web server. Main starts one; tests start several on one database.
 */
public final class PgChat implements AutoCloseable {

    private static final Logger LOG = System.getLogger(PgChat.class.getName());

    private final Vertx vertx;
    private final Pool pool;
    private final Delivery delivery;
    private final ChatMetrics metrics;
    private final NotificationListener listener;
    private final WebServer server;
    private final SlowRequests slowRequests;
    private final GracefulStop stop = new GracefulStop();
    private final Duration shutdownGrace;

    private PgChat(Config serverConfig, ChatConfig config) throws Exception {
        shutdownGrace = config.shutdownGrace();
        vertx = Vertx.vertx();
        pool = PgBuilder.pool()
                .with(new PoolOptions().setMaxSize(config.poolSize()))
                // Parsing and planning the group-commit statement each time cost PostgreSQL more than running it;
                // a transaction pooler (?pgbouncer=true) cannot keep a statement for a client, so none is kept there.
                .connectingTo(named(config.requireDatabase())
                        .setCachePreparedStatements(!config.requireDatabase().getUseLayer7Proxy())
                        // Vert.x keeps no statement longer than 2048 characters by default, and the group-commit
                        // statement grew past that with pos: each batch was parsed and planned again (PostgreSQL's
                        // CPU per commit went from 0.2 to 0.35 ms, the server's posts/s down 15 %).
                        .setPreparedStatementCacheSqlLimit(Math.max(2048, MessageStore.LONGEST_STATEMENT))
                        // Vert.x's copy of the options forgets this one.
                        .setUseLayer7Proxy(config.requireDatabase().getUseLayer7Proxy()))
                .using(vertx)
                .build();
        MessageStore store = new MessageStore(vertx, pool, config.databaseTimeout());
        delivery = new Delivery(vertx, store, config.windowSize(), config.pageSize(), config.heartbeat(),
                config.slowClientLimit(), config.poolSize());
        metrics = new ChatMetrics(delivery::subscribers);
        listener = new NotificationListener(vertx, config.listenOrMainDatabase(), delivery, metrics);
        slowRequests = new SlowRequests(config.slowRequestLimit());
        HttpEdge edge = new HttpEdge(Http1Config.builder()
                // The request line fits a stream of 100 rooms with the longest names.
                .maxPrologueLength(8192)
                .config(serverConfig.get("protocols.http_1_1")), slowRequests,
                config.limits().connectionsPerAddress(), config.limits().clientAddress());
        try {
            try {
                store.ping();
            } catch (RuntimeException e) {
                if (noPassword(config.requireDatabase(), e)) {
                    throw new IllegalStateException("PostgreSQL asks for a password as " + ChatConfig.describe(
                            config.requireDatabase()) + " and none is set: set PGPASSWORD, a line in ~/.pgpass"
                            + " (PGPASSFILE), or the password in DATABASE_URL", e);
                }
                throw new IllegalStateException(refusedLogin(e)
                        ? "PostgreSQL refused the login as " + ChatConfig.describe(config.requireDatabase()) + " ("
                                + e.getCause().getMessage() + "); check the user, password and database name"
                        : "Cannot reach PostgreSQL as " + ChatConfig.describe(config.requireDatabase()) + " ("
                                + DatabaseUrl.failure(config.requireDatabase(), e) + "); " + ChatConfig.DATABASE_HELP, e);
            }
            int migrations = Migrations.apply(config.requireDatabase());
            if (migrations > 0) {
                LOG.log(Level.INFO, "Applied " + migrations + " database migrations");
            }
            listener.start();
            server = WebServer.builder()
                    .config(HttpEdge.listenerConfig(serverConfig))
                    .host(config.host())
                    .port(config.port())
                    .shutdownHook(false)
                    .maxTcpConnections(maxConnections(serverConfig))
                    .directHandlers(ApiError.directHandlers())
                    .update(listener -> listen(listener, config, edge))
                    .addFeature(ObserveFeature.just(health(store, listener, delivery), MetricsObserver.builder()
                            .metricsConfig(MetricsConfig.create(config.metrics())).build()))
                    .routing(routing -> routing(routing, store, delivery, metrics, edge, stop, config))
                    .build();
            startListening(server, config);
        } catch (Exception e) {
            slowRequests.close();
            listener.close();
            delivery.close();
            metrics.close();
            vertx.close();
            throw e;
        }
        String version = PgChat.class.getPackage().getImplementationVersion();
        LOG.log(Level.INFO, "pgchat " + (version == null ? "dev" : version) + " serving on "
                + (config.tls().isPresent() ? "https://" : "http://") + config.host() + ":" + server.port()
                + (config.tls().isPresent() ? " with HTTP/2" : "") + " (database " + ChatConfig.describe(config.requireDatabase())
                + (config.embedded() ? " embedded" : "")
                + config.listenDatabase().map(l -> ", LISTEN via " + ChatConfig.describe(l)).orElse("")
                + ", pool of " + config.poolSize() + ")");
    }

    /**
     * HTTP/1.1 always, through HttpEdge; with TLS also HTTP/2, chosen by ALPN. Only these: Helidon would
     * otherwise add every protocol on the class path or under server.protocols, HTTP/2 in clear text
     * (h2c) included.
     */
    private static void listen(WebServerConfig.BuilderBase<?, ?> listener, ChatConfig config, HttpEdge edge) {
        listener.protocolsDiscoverServices(false)
                .protocols(List.of())
                .addConnectionSelector(edge);
        config.tls().ifPresent(tls -> listener.tls(tls).addConnectionSelector(Http2Connections.selector(config.http2())));
    }

    /**
     * PostgreSQL answered but would not let us in (SQLSTATE class 28: a wrong password or user; 3D000:
     * no such database): it is reached, and saying "cannot reach" would send the reader after the network.
     */
    private static boolean refusedLogin(RuntimeException e) {
        return e.getCause() instanceof io.vertx.pgclient.PgException pg && pg.getSqlState() != null
                && (pg.getSqlState().startsWith("28") || pg.getSqlState().equals("3D000"));
    }

    /** Vert.x's SCRAM refuses to start with an empty password instead of letting the server refuse it. */
    private static boolean noPassword(PgConnectOptions db, Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof IllegalArgumentException) {
                return db.getPassword().isEmpty();
            }
        }
        return false;
    }

    /** The pool's connections carry a name in pg_stat_activity, as LISTEN's does, unless the URL gives one. */
    private static PgConnectOptions named(PgConnectOptions database) {
        PgConnectOptions options = new PgConnectOptions(database);
        String name = options.getProperties().get("application_name");
        if (name == null || name.equals(PgConnectOptions.DEFAULT_PROPERTIES.get("application_name"))) {
            options.addProperty("application_name", "pgchat");
        }
        return options;
    }

    /**
     * Helidon logs a failed start as a trace of 30 lines and returns a stopped server rather than
     * throwing: its records are held back meanwhile, so that a port that cannot be bound is said in one
     * line, while any other failure is logged as Helidon wrote it.
     */
    private static void startListening(WebServer server, ChatConfig config) {
        java.util.logging.Logger helidon = java.util.logging.Logger.getLogger("io.helidon.webserver.LoomServer");
        List<LogRecord> held = new CopyOnWriteArrayList<>();
        Handler hold = new Handler() {
            @Override
            public void publish(LogRecord record) {
                held.add(record);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        helidon.setUseParentHandlers(false);
        helidon.addHandler(hold);
        try {
            server.start();
        } finally {
            helidon.removeHandler(hold);
            helidon.setUseParentHandlers(true);
        }
        BindException bind = server.isRunning() ? null : held.stream().map(r -> bindFailure(r.getThrown()))
                .filter(java.util.Objects::nonNull).findFirst().orElse(null);
        if (bind == null) {
            held.forEach(helidon::log);
        }
        if (!server.isRunning()) {
            throw new IllegalStateException("Cannot listen on " + config.host() + ":" + config.port()
                    + (bind == null ? " (see above)" : " (" + bind.getMessage() + "): is another server using the port?"
                    + " PORT sets another, SERVER_HOST the address"));
        }
    }

    private static BindException bindFailure(Throwable thrown) {
        for (Throwable cause = thrown; cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException bind) {
                return bind;
            }
        }
        return null;
    }

    public static PgChat start(Config serverConfig, ChatConfig config) throws Exception {
        return new PgChat(serverConfig, config);
    }

    static void routing(HttpRouting.Builder routing, MessageStore store, Delivery delivery, ChatMetrics metrics,
                        HttpEdge edge, GracefulStop stop, ChatConfig config) {
        routing.addFilter(edge); // the first filter: it sees each answer after every other one
        ApiError.register(routing);
        CrossOrigin crossOrigin = new CrossOrigin(config.corsOrigins());
        crossOrigin.cors().ifPresent(cors -> routing.register("/api", cors));
        Access access = new Access(config.auth());
        routing.register("/api/session", new SessionApi(config.auth(), config.limits().clientAddress()))
                // the streams first: RoomsApi answers 404 for every other path under /api
                .register("/api", new EventStream(delivery, access, metrics, config))
                .register("/api", new RoomsApi(store, access, crossOrigin, edge, metrics, config))
                .register("/", StaticContentService.builder("web").welcomeFileName("index.html").build());
        routing.addFilter(new SecurityHeaders());
        routing.addFilter(stop);
        routing.addFilter(new Http2Resets());
    }

    /**
     * Helidon stops accepting for good once the process runs out of file descriptors, so unless
     * configured, connections stop short of the descriptor limit, leaving room for files and PostgreSQL.
     */
    private static int maxConnections(Config serverConfig) {
        return serverConfig.get("max-tcp-connections").asInt().orElseGet(() ->
                ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                        ? (int) Math.max(64, Math.min(Integer.MAX_VALUE, unix.getMaxFileDescriptorCount() - 256))
                        : -1);
    }

    private static HealthObserver health(MessageStore store, NotificationListener listener, Delivery delivery) {
        return HealthObserver.builder()
                .details(true)
                .addCheck(() -> HealthCheckResponse.builder().status(store.reachable()).build(),
                        HealthCheckType.READINESS, "database")
                .addCheck(() -> HealthCheckResponse.builder().status(listener.listening()).build(),
                        HealthCheckType.READINESS, "listen")
                // After LISTEN comes back, streams wait until every followed room is read again.
                .addCheck(() -> HealthCheckResponse.builder().status(delivery.synced()).build(),
                        HealthCheckType.READINESS, "delivery")
                .build();
    }

    public int port() {
        return server.port();
    }

    public int subscribers() {
        return delivery.subscribers();
    }

    /**
     * Steps aside for the other servers on the database, saying each step in the log: new requests
     * are refused (503, so clients go elsewhere), streams end (their clients resume elsewhere from
     * their Last-Event-ID), requests in flight finish within the grace period (a post is answered
     * once committed), and only then do the port and the database connections close.
     */
    @Override
    public void close() {
        LOG.log(Level.INFO, "pgchat stopping: refusing new requests (503) and ending " + delivery.subscribers()
                + " streams, so clients go to another server");
        stop.begin();
        delivery.close();
        try {
            int unfinished = stop.awaitQuiet(shutdownGrace);
            if (unfinished == 0) {
                LOG.log(Level.INFO, "Every request in flight is answered");
            } else {
                LOG.log(Level.WARNING, unfinished + " requests still in flight after " + shutdownGrace.toSeconds()
                        + " s (pgchat.shutdown.grace.seconds); cutting them off");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop();
        LOG.log(Level.INFO, "Stopped accepting connections");
        slowRequests.close();
        listener.close();
        metrics.close();
        pool.close().toCompletionStage().toCompletableFuture().join();
        vertx.close().toCompletionStage().toCompletableFuture().join();
        LOG.log(Level.INFO, "Closed the database connections");
    }
}
