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
    private final Delivery delivery;
    private final ChatMetrics metrics;
    private final AtomicInteger listens = new AtomicInteger();
    private volatile boolean listening;

    NotificationListener(Vertx vertx, PgConnectOptions options, Delivery delivery, ChatMetrics metrics) {
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
        } else {
            metrics.listenReconnected();
            LOG.log(Level.INFO, "LISTEN restored; catching up every followed room from the table");
        }
        delivery.listening();
    }

    /**
     * A payload lists the messages of one commit in log order, each whole or, when too large to
     * travel, as room, seq and pos only (GroupCommit writes it).
     */
    private void onNotification(String payload) {
        try {
            Map<String, Announced> rooms = new LinkedHashMap<>();
            long lastPos = 0;
            for (JsonNode item : MAPPER.readTree(payload)) {
                String room = item.get("room").asText();
                long seq = item.get("seq").asLong();
                long pos = item.get("pos").asLong();
                Message message = item.has("body")
                        ? new Message(room, seq, pos, item.get("author").asText(), item.get("body").asText(),
                                Instant.ofEpochMilli(item.get("sentAt").asLong()))
                        : null;
                rooms.computeIfAbsent(room, r -> new Announced(seq)).add(seq, message);
                lastPos = Math.max(lastPos, pos);
            }
            List<Delivery.Announcement> announcements = new ArrayList<>(rooms.size());
            rooms.forEach((room, a) -> announcements.add(new Delivery.Announcement(room, a.first, a.last, a.messages)));
            delivery.announced(announcements, lastPos);
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
