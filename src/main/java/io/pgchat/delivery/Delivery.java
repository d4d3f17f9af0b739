package io.pgchat.delivery;

import io.pgchat.Message;
import io.pgchat.posting.Announcements;
import io.pgchat.posting.MessageStore;

import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The one owner of delivery: gets every committed message of the rooms a stream follows to that
 * stream, once, each room in seq order and all rooms in log (commit) order.
 *
 * <p>Contract: a stream opens a {@link Subscription} on its own thread with {@link #open}, which
 * registers it before it reads where each room ends, so nothing committed meanwhile is missed; then
 * calls {@link Subscription#next} on that thread until it returns null. The subscription first
 * replays from the table what the client missed, then follows live.
 *
 * <p>How: the listener reports each commit's messages ({@link #announced}, on its event loop, never
 * blocking). Delivery keeps a {@link RoomWindow} of recent events per followed room, updated in the
 * order announced, and a watermark, {@link #position()}: the log position up to which every window
 * is complete. Streams take events only up to it, so a room whose window is still being read from
 * the table is never overtaken by a later commit of another room. A window marks the news of its
 * room in its followers before the watermark moves past it, and wakes them after: a woken stream
 * looks only at its rooms with news, and finds among them every room with events up to the
 * watermark it read before taking them. Each time LISTEN is (re)connected, the announcements it
 * missed are lost for good: every window is re-read from the table, and the watermark stays put
 * until that succeeds (retried until it does; health says not ready meanwhile).
 */
public final class Delivery {

    private static final Logger LOG = System.getLogger(Delivery.class.getName());
    private static final long RETRY_MILLIS = 1000;

    private final ConcurrentMap<String, RoomWindow> windows = new ConcurrentHashMap<>();
    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();
    private final Vertx vertx;
    private final MessageStore store;
    private final int windowSize;
    private final int pageSize;
    private final long heartbeatNanos;
    /**
     * Catch-up reads may use all but two of the pool's connections: a thousand clients resuming at once
     * would otherwise queue a thousand reads ahead of every post, and posting would stall for seconds.
     */
    private final Semaphore catchUps;
    /** Rings quiet streams when a heartbeat is due and cuts off clients that stopped reading. */
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("pgchat-stream-ticker").factory());
    /** Window updates, chained on the event loop so that they apply one after another in the order announced. */
    private Future<Void> updates = Future.succeededFuture();
    private volatile long position;
    private volatile boolean synced;
    private volatile boolean closed;

    public Delivery(Vertx vertx, MessageStore store, int windowSize, int pageSize, Duration heartbeat, Duration slowClientLimit,
            int poolSize) {
        this.vertx = vertx;
        this.store = store;
        this.windowSize = windowSize;
        this.pageSize = pageSize;
        this.heartbeatNanos = heartbeat.toNanos();
        this.catchUps = new Semaphore(Math.max(1, poolSize - 2));
        // A heartbeat goes out between one and one and a quarter intervals after a stream's last write.
        long tick = Math.clamp(Math.min(heartbeat.toMillis(), slowClientLimit.toMillis()) / 4, 100, 1000);
        long limit = slowClientLimit.toNanos();
        ticker.scheduleWithFixedDelay(() -> tick(limit), tick, tick, TimeUnit.MILLISECONDS);
    }

    /**
     * Opens a subscription to the rooms on the calling thread, which must be the stream's own: it is
     * registered first, then where each room ends is read, then it starts after the client's last
     * event id, else the last tail messages, else live.
     */
    Subscription open(List<String> rooms, EventIds ids, OptionalLong after, OptionalLong tail) {
        Subscription subscription = new Subscription(this, rooms.size(), ids);
        for (int i = 0; i < rooms.size(); i++) {
            int index = i;
            subscription.windows[i] = windows.compute(rooms.get(i), (name, window) -> {
                RoomWindow w = window != null ? window : new RoomWindow(name, windowSize);
                subscription.slots[index] = w.follow(subscription, index);
                return w;
            });
        }
        subscriptions.add(subscription);
        if (closed) {
            // It opened as the server stopped: it ends at once, and its client resumes elsewhere.
            subscription.end();
        }
        try {
            subscription.start(store.positions(rooms), after, tail);
        } catch (RuntimeException e) {
            subscription.close();
            throw e;
        }
        return subscription;
    }

    void leave(Subscription subscription) {
        subscriptions.remove(subscription);
        for (int i = 0; i < subscription.windows.length; i++) {
            int slot = subscription.slots[i];
            windows.computeIfPresent(subscription.windows[i].room,
                    (name, window) -> window.unfollow(slot) ? null : window);
        }
    }

    public int subscribers() {
        return subscriptions.size();
    }

    /** The log position up to which every window holds every event of its room (or knows it cannot answer). */
    long position() {
        return position;
    }

    long heartbeatNanos() {
        return heartbeatNanos;
    }

    int pageSize() {
        return pageSize;
    }

    /** Whether the windows are known to be complete: false from a LISTEN loss until the catch-up after it. */
    public boolean synced() {
        return synced;
    }

    /** The listener heard a commit: these rooms' messages, the last of which has log position lastPos. */
    void announced(List<Announcements.Room> rooms, long lastPos) {
        updates = updates.transform(previous -> {
            List<Future<Void>> fills = new ArrayList<>();
            List<RoomWindow> touched = new ArrayList<>();
            for (Announcements.Room announcement : rooms) {
                RoomWindow window = windows.get(announcement.room());
                if (window != null) {
                    touched.add(window);
                    fills.add(update(window, announcement));
                }
            }
            return Future.join(fills).transform(done -> {
                if (synced) {
                    // The news before the watermark moves, the ring after: a stream that reads the new
                    // watermark finds these rooms among its news, so it never takes a later event of
                    // another room first, and one that looked before is woken to look again.
                    touched.forEach(RoomWindow::markNews);
                    advance(lastPos);
                    touched.forEach(RoomWindow::ring);
                }
                return Future.<Void>succeededFuture();
            });
        });
    }

    private Future<Void> update(RoomWindow window, Announcements.Room announced) {
        if (!window.stale() && announced.last() <= window.last()) {
            return Future.succeededFuture();
        }
        if (announced.messages() != null && (window.stale() || window.isEmpty() || announced.first() <= window.last() + 1)) {
            announced.messages().forEach(window::append);
            return Future.succeededFuture();
        }
        // A gap (announcements lost) or rows too large for the payload: read once for all.
        long after = window.isEmpty() || window.stale()
                ? announced.first() - 1 : Math.max(window.last(), announced.last() - windowSize);
        return store.readAfter(window.room, after, windowSize).map(messages -> {
            messages.forEach(window::append);
            return (Void) null;
        }).recover(e -> {
            LOG.log(Level.WARNING, "Could not read room " + window.room + " to fill its window (" + e.getMessage()
                    + "); its streams read the table instead");
            window.markStale();
            return Future.succeededFuture();
        });
    }

    /** LISTEN is lost: announcements may be lost from now until the catch-up after it is back. */
    void listenLost() {
        synced = false;
    }

    /**
     * LISTEN is in place (at start, or back after a loss): read where the log ends and every window
     * from the table, then let streams go up to that end. Retried until it succeeds.
     */
    void listening() {
        synced = false;
        updates = updates.transform(previous -> catchUp(1));
    }

    private Future<Void> catchUp(int attempt) {
        return store.readLogEnd().compose(end -> {
            List<Future<Void>> reads = new ArrayList<>();
            for (RoomWindow window : windows.values()) {
                reads.add(store.readLatest(window.room, Long.MAX_VALUE, windowSize).map(messages -> {
                    messages.forEach(window::append);
                    return (Void) null;
                }));
            }
            return Future.all(reads).map(end);
        }).transform(result -> {
            if (result.failed()) {
                LOG.log(Level.WARNING, "Could not catch up the followed rooms from the table after LISTEN connected ("
                        + result.cause().getMessage() + "); retrying in " + RETRY_MILLIS + " ms (attempt " + attempt + ")");
                return vertx.timer(RETRY_MILLIS, TimeUnit.MILLISECONDS).compose(v -> catchUp(attempt + 1));
            }
            windows.values().forEach(RoomWindow::markNews);
            advance(result.result());
            synced = true;
            windows.values().forEach(RoomWindow::ring);
            return Future.succeededFuture();
        });
    }

    private void advance(long to) {
        if (to > position) {
            position = to;
        }
    }

    /** One room's messages after seq after up to upTo, from the table, for a stream's replay. */
    List<Message> readRoom(String room, long after, long upTo) {
        return throttled(() -> store.between(room, after, upTo + 1, pageSize));
    }

    /** The rooms' messages with after < pos <= upTo, from the table, for a stream's replay. */
    List<Message> readLog(List<String> rooms, long after, long upTo) {
        return throttled(() -> store.log(rooms, after, upTo, pageSize));
    }

    /** A page of one room's messages after seq after, for a stream behind its window. */
    List<Message> readAfter(String room, long after) {
        return throttled(() -> store.after(room, after, pageSize));
    }

    private List<Message> throttled(Supplier<List<Message>> read) {
        catchUps.acquireUninterruptibly();
        try {
            return read.get();
        } finally {
            catchUps.release();
        }
    }

    /** A client that stopped reading holds only its own thread: no queue grows, nobody waits for it. */
    private void tick(long limitNanos) {
        long now = System.nanoTime();
        for (Subscription subscription : subscriptions) {
            if (subscription.cutIfStuck(now, limitNanos)) {
                LOG.log(Level.INFO, "Disconnected a stream of " + (subscription.windows.length == 1
                        ? "room " + subscription.windows[0].room : subscription.windows.length + " rooms")
                        + " that stopped reading; it can resume from its Last-Event-ID");
            } else if (subscription.quietFor(heartbeatNanos, now)) {
                subscription.wake();
            }
        }
    }

    /** Ends every stream, so clients reconnect (to this server once it is back, or to another). */
    public void close() {
        closed = true;
        ticker.shutdownNow();
        subscriptions.forEach(Subscription::end);
    }
}
