package io.pgchat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one LISTEN connection of this process, whatever the number of subscribers. It runs on its
 * Vert.x event loop and never blocks there: it only tells the hub what was committed. A lost
 * connection is retried with backoff forever; each time LISTEN is back, the hub re-reads the table.
 */
final class NotificationListener implements AutoCloseable {

    private static final Logger LOG = System.getLogger(NotificationListener.class.getName());
    private static final ObjectMapper MAPPER = new ObjectMapper();
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final PgSubscriber subscriber;
    private final String database;
    private final DeliveryHub hub;
    private final ChatMetrics metrics;
    private final AtomicInteger listens = new AtomicInteger();
    private volatile boolean listening;

    NotificationListener(Vertx vertx, PgConnectOptions options, DeliveryHub hub, ChatMetrics metrics) {
        this.hub = hub;
        this.metrics = metrics;
        this.database = ChatConfig.describe(options);
        PgConnectOptions listen = new PgConnectOptions(options)
                .addProperty("application_name", "pgchat-listen");
        this.subscriber = PgSubscriber.subscriber(vertx, listen)
                .reconnectPolicy(attempt -> {
                    listening = false;
                    long delay = Math.min(MAX_BACKOFF_MILLIS, 100L << Math.min(attempt, 6));
                    LOG.log(Level.WARNING, "LISTEN connection lost; reconnecting in " + delay + " ms (attempt "
                            + (attempt + 1) + ")");
                    return delay;
                })
                .closeHandler(v -> listening = false);
        subscriber.channel(MessageStore.CHANNEL)
                .handler(this::onNotification)
                .subscribeHandler(v -> onListening());
    }

    /** Connects and waits until LISTEN is in place, so the server accepts no stream before it. */
    void start() throws InterruptedException, TimeoutException {
        try {
            subscriber.connect().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("Cannot open the LISTEN connection as " + database + ": "
                    + e.getCause().getMessage() + " (LISTEN_DATABASE_URL, when set, is used for it)", e);
        }
    }

    boolean listening() {
        return listening && !subscriber.closed();
    }

    private void onListening() {
        listening = true;
        if (listens.getAndIncrement() == 0) {
            LOG.log(Level.INFO, "LISTEN connected: following new messages on channel '" + MessageStore.CHANNEL + "'");
            return;
        }
        metrics.listenReconnected();
        LOG.log(Level.INFO, "LISTEN restored; catching up every followed room from the table");
        hub.resync();
    }

    /**
     * A payload lists the messages of one commit in order, each whole or, when too large to travel,
     * as room and seq only. (A single object is the form of pgchat before group commit: still read,
     * so old and new servers can share a database while one replaces the other.)
     */
    private void onNotification(String payload) {
        try {
            JsonNode json = MAPPER.readTree(payload);
            Map<String, Announced> rooms = new LinkedHashMap<>();
            for (JsonNode item : json.isArray() ? json : List.of(json)) {
                String room = item.path("room").asText();
                long seq = item.path("seq").asLong();
                Message message = item.has("body")
                        ? new Message(room, seq, item.get("author").asText(), item.get("body").asText(),
                                Instant.ofEpochMilli(item.get("sentAt").asLong()))
                        : null;
                rooms.computeIfAbsent(room, r -> new Announced(seq)).add(seq, message);
            }
            rooms.forEach((room, announced) -> hub.announced(room, announced.first, announced.last, announced.messages));
        } catch (Exception e) {
            LOG.log(Level.WARNING, "Ignoring a notification on channel '" + MessageStore.CHANNEL
                    + "' that is not ours (" + payload.length() + " characters): " + e.getMessage());
        }
    }

    /** One room's part of a notification: its seq range, and its messages unless some came without their row. */
    private static final class Announced {
        final long first;
        long last;
        List<Message> messages = new ArrayList<>();

        Announced(long first) {
            this.first = first;
        }

        void add(long seq, Message message) {
            last = seq;
            if (messages != null && message != null) {
                messages.add(message);
            } else {
                messages = null;
            }
        }
    }

    @Override
    public void close() {
        subscriber.close();
    }
}
