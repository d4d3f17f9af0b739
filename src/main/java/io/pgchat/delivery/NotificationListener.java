package io.pgchat.delivery;

import io.pgchat.ChatConfig;
import io.pgchat.ops.ChatMetrics;
import io.pgchat.posting.Announcements;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one LISTEN connection of this process, whatever the number of subscribers. It runs on its
 * Vert.x event loop and never blocks there: it only tells delivery what was committed. A lost
 * connection is retried with backoff forever; each time LISTEN is back, delivery re-reads the table.
 */
public final class NotificationListener implements AutoCloseable {

    private static final Logger LOG = System.getLogger(NotificationListener.class.getName());
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final PgSubscriber subscriber;
    private final String database;
    private final Delivery delivery;
    private final ChatMetrics metrics;
    private final AtomicInteger listens = new AtomicInteger();
    private volatile boolean listening;

    public NotificationListener(Vertx vertx, PgConnectOptions options, Delivery delivery, ChatMetrics metrics) {
        this.delivery = delivery;
        this.metrics = metrics;
        this.database = ChatConfig.describe(options);
        PgConnectOptions listen = new PgConnectOptions(options)
                .addProperty("application_name", "pgchat-listen");
        this.subscriber = PgSubscriber.subscriber(vertx, listen)
                .reconnectPolicy(attempt -> {
                    listening = false;
                    delivery.listenLost();
                    long delay = Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(attempt, 6));
                    LOG.log(Level.WARNING, "LISTEN connection lost; reconnecting in " + delay + " ms (attempt "
                            + (attempt + 1) + ")");
                    return delay;
                })
                .closeHandler(v -> {
                    listening = false;
                    delivery.listenLost();
                });
        subscriber.channel(Announcements.CHANNEL)
                .handler(this::onNotification)
                .subscribeHandler(v -> onListening());
    }

    /** Connects and waits until LISTEN is in place, so the server accepts no stream before it. */
    public void start() throws InterruptedException, TimeoutException {
        try {
            subscriber.connect().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Cannot open the LISTEN connection as " + database + ": "
                    + e.getCause().getMessage() + " (LISTEN_DATABASE_URL, when set, is used for it)", e);
        }
    }

    public boolean listening() {
        return listening && !subscriber.closed();
    }

    private void onListening() {
        listening = true;
        // Without a handler, Vert.x prints a connection's error to standard error, past the log's format.
        subscriber.actualConnection().exceptionHandler(e ->
                LOG.log(Level.WARNING, "LISTEN connection failed: " + e.getMessage()));
        if (listens.getAndIncrement() == 0) {
            LOG.log(Level.INFO, "LISTEN connected: following new messages on channel '" + Announcements.CHANNEL + "'");
        } else {
            metrics.listenReconnected();
            LOG.log(Level.INFO, "LISTEN restored; catching up every followed room from the table");
        }
        delivery.listening();
    }

    private void onNotification(String payload) {
        Announcements.Commit commit;
        try {
            commit = Announcements.parse(payload);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "Ignoring a notification on channel '" + Announcements.CHANNEL
                    + "' that is not ours (" + payload.length() + " characters): " + e.getMessage());
            return;
        }
        delivery.announced(commit.rooms(), commit.lastPos());
    }

    @Override
    public void close() {
        subscriber.close();
    }
}
