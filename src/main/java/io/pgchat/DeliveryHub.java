package io.pgchat;

import io.vertx.core.Future;

import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Fans committed messages out to this process's subscribers. The listener tells it what was
 * committed (on the event loop, never blocking); it keeps one window per followed room, filled once
 * per announcement, and rings the room's subscribers. Stream threads then pull their next batch from
 * the window, or from the table when they are behind it, so no subscriber can hold up another.
 */
final class DeliveryHub {

    private static final Logger LOG = System.getLogger(DeliveryHub.class.getName());

    /** What a stream writes next: events encoded back to back, ready for one write. */
    record Batch(byte[] bytes, long lastSeq, int count, boolean fromTable) {
        static final Batch EMPTY = new Batch(new byte[0], 0, 0, false);
    }

    private final ConcurrentMap<String, RoomFeed> feeds = new ConcurrentHashMap<>();
    private final MessageStore store;
    private final int windowSize;
    private final int pageSize;
    /**
     * Catch-up reads may use all but two of the pool's connections: a thousand clients resuming at once
     * would otherwise queue a thousand reads ahead of every post, and posting would stall for seconds.
     */
    private final Semaphore catchUps;
    private volatile boolean closed;
    /** Rings quiet streams when a heartbeat is due and cuts off clients that stopped reading. */
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pgchat-stream-ticker").factory());

    DeliveryHub(MessageStore store, int windowSize, int pageSize, Duration heartbeat, Duration slowClientLimit,
            int poolSize) {
        this.store = store;
        this.catchUps = new Semaphore(Math.max(1, poolSize - 2));
        this.windowSize = windowSize;
        this.pageSize = pageSize;
        long limit = slowClientLimit.toNanos();
        long period = Math.max(100, slowClientLimit.toMillis() / 4);
        ticker.scheduleWithFixedDelay(() -> disconnectStuck(limit), period, period, TimeUnit.MILLISECONDS);
        // A heartbeat goes out between one and one and a quarter intervals after a stream's last write.
        long interval = heartbeat.toNanos();
        long tick = Math.clamp(heartbeat.toMillis() / 4, 100, 1000);
        ticker.scheduleWithFixedDelay(() -> ringQuiet(interval), tick, tick, TimeUnit.MILLISECONDS);
    }

    /** Registers a subscriber before it reads any history, so nothing committed meanwhile is missed. */
    Subscriber join(String room) {
        Subscriber[] joined = new Subscriber[1];
        feeds.compute(room, (name, feed) -> {
            RoomFeed f = feed != null ? feed : new RoomFeed(name, windowSize);
            joined[0] = new Subscriber(f);
            f.subscribers.add(joined[0]);
            return f;
        });
        if (closed) {
            // It joined as the server stopped: it ends at once, and its client resumes elsewhere.
            joined[0].close();
        }
        return joined[0];
    }

    void leave(Subscriber subscriber) {
        feeds.computeIfPresent(subscriber.feed.room, (name, feed) -> {
            feed.subscribers.remove(subscriber);
            return feed.subscribers.isEmpty() ? null : feed;
        });
    }

    int subscribers() {
        return feeds.values().stream().mapToInt(f -> f.subscribers.size()).sum();
    }

    /**
     * The listener heard that first..last were committed in room, in order; messages holds them,
     * or is null when some came without their row and must be read.
     */
    void announced(String room, long first, long last, List<Message> messages) {
        RoomFeed feed = feeds.get(room);
        if (feed == null) {
            return;
        }
        feed.updates = feed.updates.transform(previous -> {
            if (last <= feed.last()) {
                return Future.succeededFuture();
            }
            if (messages != null && (feed.isEmpty() || first <= feed.last() + 1)) {
                messages.forEach(feed::append);
                feed.wakeAll();
                return Future.succeededFuture();
            }
            // A gap (announcements lost) or rows too large for the payload: read once for all.
            long after = feed.isEmpty() ? first - 1 : Math.max(feed.last(), last - windowSize);
            return fill(feed, store.readAfter(room, after, windowSize));
        });
    }

    /**
     * After LISTEN (re)starts: announcements sent while it was down are lost for good, so every
     * followed room is read from the table and its subscribers woken to catch up.
     */
    void resync() {
        for (RoomFeed feed : feeds.values()) {
            feed.updates = feed.updates.transform(previous ->
                    fill(feed, store.readLatest(feed.room, Long.MAX_VALUE, windowSize)));
        }
    }

    private Future<Void> fill(RoomFeed feed, Future<List<Message>> rows) {
        return rows.map(messages -> {
            messages.forEach(feed::append);
            feed.wakeAll();
            return (Void) null;
        }).recover(e -> {
            LOG.log(Level.WARNING, "Could not read room " + feed.room + " to fill its window: " + e.getMessage());
            return Future.succeededFuture();
        });
    }

    /** The next events after the cursor: from the shared window, or from the table when behind it. */
    Batch next(Subscriber subscriber, long cursor) {
        Batch batch = subscriber.feed.after(cursor, pageSize);
        return batch != null ? batch : fromTable(subscriber.feed.room, cursor);
    }

    Batch fromTable(String room, long cursor) {
        List<Message> messages;
        catchUps.acquireUninterruptibly();
        try {
            messages = store.after(room, cursor, pageSize);
        } finally {
            catchUps.release();
        }
        if (messages.isEmpty()) {
            return Batch.EMPTY;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(messages.size() * 256);
        messages.forEach(m -> bytes.writeBytes(m.toEvent()));
        return new Batch(bytes.toByteArray(), messages.getLast().seq(), messages.size(), true);
    }

    private void ringQuiet(long intervalNanos) {
        long now = System.nanoTime();
        for (RoomFeed feed : feeds.values()) {
            for (Subscriber subscriber : feed.subscribers) {
                if (subscriber.quietFor(intervalNanos, now)) {
                    subscriber.wake();
                }
            }
        }
    }

    /** A client that stopped reading holds only its own thread: no queue grows, nobody waits for it. */
    private void disconnectStuck(long limitNanos) {
        long now = System.nanoTime();
        for (RoomFeed feed : feeds.values()) {
            for (Subscriber subscriber : feed.subscribers) {
                if (subscriber.disconnectIfStuck(now, limitNanos)) {
                    LOG.log(Level.INFO, "Disconnected a subscriber of room " + feed.room
                            + " that stopped reading; it can resume from its Last-Event-ID");
                }
            }
        }
    }

    /** Ends every stream, so clients reconnect (to this server once it is back, or to another). */
    void close() {
        closed = true;
        ticker.shutdownNow();
        feeds.values().forEach(feed -> feed.subscribers.forEach(Subscriber::close));
    }
}
