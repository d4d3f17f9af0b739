package io.pgchat.delivery;

import io.pgchat.Message;
import io.pgchat.posting.MessageStore;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One open event stream as {@link Delivery} sees it: the rooms it follows, where it is in each, what
 * the table still owes it, and its doorbell. It lives on the stream's own (virtual) thread, the one
 * that opened it and the only one that calls {@link #next()}; Delivery rings it from the listener's
 * event loop, and its ticker rings it when a heartbeat is due.
 *
 * <p>The wait has no timeout: a timed park arms and cancels a timer on every wake-up, which cost a
 * timer thread's wake-up per delivery. A ring says which rooms have news, so a stream of twenty rooms
 * woken by one looks at that one, not at all twenty.
 */
final class Subscription implements AutoCloseable {

    /** What a stream writes next: events encoded back to back, ready for one write. */
    record Batch(byte[] bytes, int count, int fromTable) {
        static final Batch HEARTBEAT = new Batch(":\n\n".getBytes(StandardCharsets.US_ASCII), 0, 0);
    }

    private static final RoomWindow.Event[] NONE = new RoomWindow.Event[0];
    private static final VarHandle WORD = MethodHandles.arrayElementVarHandle(long[].class);

    /** The rooms followed, by index; each window's name is the one every stream of that room shares. */
    final RoomWindow[] windows;
    /** Per room, this stream's slot among the room's followers. */
    final int[] slots;
    private final Delivery delivery;
    private final EventIds ids;
    /** Per room, the last seq written; valid once the replay is done. */
    private final long[] seqs;
    /** One bit per room index: rooms whose window got events since the stream last looked. Set by Delivery. */
    private final long[] news;
    /**
     * One bit per room index, the stream's own: rooms that may hold events after its cursor. Every
     * room with such events up to the watermark is here or in news: Delivery marks the news before
     * it moves the watermark, and the stream reads the watermark before it takes the news.
     */
    private final long[] looking;
    /** The table still owes what lies after replayAfter up to replayTo (seqs or log positions, as ids count). */
    private long replayAfter;
    private long replayTo;
    private byte[] reset;

    private final Thread thread = Thread.currentThread();
    /** Rung since the stream last looked: cleared before the stream reads the windows, so no news is missed. */
    private volatile boolean rung;
    private volatile boolean ended;
    private volatile long writingSince;
    private volatile long lastWrite = System.nanoTime();

    Subscription(Delivery delivery, int rooms, EventIds ids) {
        this.delivery = delivery;
        this.ids = ids;
        this.windows = new RoomWindow[rooms];
        this.slots = new int[rooms];
        this.seqs = new long[rooms];
        this.news = new long[(rooms + 63) / 64];
        this.looking = new long[news.length];
        // Where the replay ends, every room may have news.
        for (int i = 0; i < rooms; i++) {
            looking[i >>> 6] |= 1L << i;
        }
    }

    /**
     * Sets where the stream starts, from positions read after it was registered: after the client's
     * last event id, else the last tail messages (one room only), else live from now. An id beyond
     * the end is answered with a reset event, and the stream goes on from the end.
     */
    void start(MessageStore.Positions now, OptionalLong after, OptionalLong tail) {
        long end = ids == EventIds.ROOM_SEQ ? now.lastSeqs()[0] : now.logEnd();
        long cursor = after.orElse(tail.isPresent() ? Math.max(0, end - tail.getAsLong()) : end);
        if (cursor > end) {
            reset = resetEvent(cursor, end);
            cursor = end;
        }
        replayAfter = cursor;
        replayTo = end;
        System.arraycopy(now.lastSeqs(), 0, seqs, 0, seqs.length);
    }

    /** The event telling a client that its id is beyond the end (the database was recreated, or the id is not ours). */
    private byte[] resetEvent(long asked, long end) {
        String data = ids == EventIds.ROOM_SEQ
                ? "{\"room\":\"" + windows[0].room + "\",\"lastSeq\":" + end + ",\"requested\":" + asked + "}"
                : "{\"lastPos\":" + end + ",\"requested\":" + asked + "}";
        return ("id: " + end + "\nevent: reset\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    List<String> rooms() {
        return Arrays.stream(windows).map(window -> window.room).toList();
    }

    /** The reset event to write first, if the client asked to resume beyond the end; else null. */
    byte[] reset() {
        return reset;
    }

    /**
     * The next bytes to write: what the table owes, then live events, or a heartbeat when one is due;
     * null once the stream is to end. Blocks until one of them.
     */
    Batch next() throws InterruptedException {
        while (!ended) {
            Batch batch = replayAfter < replayTo ? replay() : live();
            if (batch != null) {
                return batch;
            }
            if (quietFor(delivery.heartbeatNanos(), System.nanoTime())) {
                return Batch.HEARTBEAT;
            }
            await();
        }
        return null;
    }

    private Batch replay() {
        List<Message> page = ids == EventIds.ROOM_SEQ
                ? delivery.readRoom(windows[0].room, replayAfter, replayTo)
                : delivery.readLog(rooms(), replayAfter, replayTo);
        if (page.isEmpty()) {
            replayAfter = replayTo;
            return null;
        }
        RoomWindow.Event[] events = page.stream().map(Subscription::event).toArray(RoomWindow.Event[]::new);
        RoomWindow.Event last = events[events.length - 1];
        replayAfter = last.id(ids);
        return new Batch(RoomWindow.encode(events, events.length, ids), events.length, events.length);
    }

    /**
     * Every event of the followed rooms after their cursors, up to the log position up to which
     * Delivery vouches that every window is complete, in log order. Only rooms with news are looked
     * at. A room whose window cannot answer is read from the table; a page cut short by its size
     * lowers that bound to its last event, so no room is overtaken.
     */
    private Batch live() {
        long bound = delivery.position();
        int pageSize = delivery.pageSize();
        int only = -1;
        int count = 0;
        boolean merge = false;
        for (int w = 0; w < looking.length; w++) {
            looking[w] |= (long) WORD.getAndSet(news, w, 0L);
            for (long bits = looking[w]; bits != 0; bits &= bits - 1) {
                int i = w * 64 + Long.numberOfTrailingZeros(bits);
                if (!windows[i].hasAfter(seqs[i])) {
                    looking[w] &= ~(1L << i);
                    continue;
                }
                int n = windows[i].count(seqs[i], bound, pageSize);
                if (n < 0 || (n > 0 && only >= 0)) {
                    merge = true;
                } else if (n > 0) {
                    only = i;
                    count = n;
                }
            }
        }
        if (merge) {
            return merged(bound);
        }
        if (only < 0) {
            return null;
        }
        // News in one room only, the usual case: its batch is shared with every stream at the same place.
        byte[] bytes = windows[only].encoded(seqs[only], count, ids);
        if (bytes == null) {
            return merged(bound);
        }
        seqs[only] += count;
        return new Batch(bytes, count, 0);
    }

    /** News in several rooms, or from the table: merged in log order up to what every room is complete to. */
    private Batch merged(long bound) {
        int pageSize = delivery.pageSize();
        RoomWindow.Event[][] found = new RoomWindow.Event[windows.length][];
        long complete = bound;
        int fromTable = 0;
        int total = 0;
        for (int i = 0; i < windows.length; i++) {
            if ((looking[i >>> 6] & 1L << i) == 0) {
                found[i] = NONE;
                continue;
            }
            int count = windows[i].count(seqs[i], bound, pageSize);
            RoomWindow.Event[] events = count == 0 ? NONE : count > 0 ? windows[i].events(seqs[i], count) : null;
            if (events == null) {
                events = fromTable(i, bound);
                fromTable += events.length;
            }
            if (events.length == pageSize) {
                complete = Math.min(complete, events[events.length - 1].pos());
            }
            found[i] = events;
            total += events.length;
        }
        if (total == 0) {
            return null;
        }
        List<RoomWindow.Event> due = new ArrayList<>(total);
        for (int i = 0; i < found.length; i++) {
            for (RoomWindow.Event event : found[i]) {
                if (event.pos() > complete) {
                    break;
                }
                due.add(event);
                seqs[i] = event.seq();
            }
        }
        due.sort(Comparator.comparingLong(RoomWindow.Event::pos));
        RoomWindow.Event[] events = due.toArray(RoomWindow.Event[]::new);
        return new Batch(RoomWindow.encode(events, events.length, ids), events.length, Math.min(fromTable, events.length));
    }

    /** The room's events after its cursor up to the bound, from the table: this stream is behind the window. */
    private RoomWindow.Event[] fromTable(int room, long bound) {
        List<Message> page = delivery.readAfter(windows[room].room, seqs[room]);
        RoomWindow.Event[] events = page.stream().map(Subscription::event).toArray(RoomWindow.Event[]::new);
        int due = 0;
        while (due < events.length && events[due].pos() <= bound) {
            due++;
        }
        // A full page is complete only up to its last event (merged lowers the bound to it); a page
        // with events beyond the bound is complete up to the bound.
        return due == events.length ? events : Arrays.copyOf(events, due);
    }

    private static RoomWindow.Event event(Message message) {
        return new RoomWindow.Event(message.seq(), message.pos(), message.toJson());
    }

    /** Writes to the client, marking the stream as blocked in a write meanwhile. */
    void write(OutputStream out, byte[] bytes) throws IOException {
        writingSince = System.nanoTime();
        try {
            out.write(bytes);
            out.flush();
        } finally {
            writingSince = 0;
            lastWrite = System.nanoTime();
        }
    }

    /** True when the stream has written nothing to its client for the interval, nor is writing now. */
    boolean quietFor(long intervalNanos, long now) {
        return writingSince == 0 && now - lastWrite >= intervalNanos;
    }

    /**
     * Cuts off a client whose write has not completed within the limit: it is not reading. An
     * interrupt closes a socket a virtual thread is blocked on, which ends the stream; the client
     * resumes from its Last-Event-ID whenever it reads again, and loses nothing.
     */
    boolean cutIfStuck(long now, long limitNanos) {
        long since = writingSince;
        if (ended || since == 0 || now - since < limitNanos) {
            return false;
        }
        ended = true;
        thread.interrupt();
        return true;
    }

    /** The room at this index has news; Delivery calls it before it moves the watermark past them. */
    void news(int room) {
        WORD.getAndBitwiseOr(news, room >>> 6, 1L << room);
    }

    void wake() {
        if (!rung) {
            rung = true;
            LockSupport.unpark(thread);
        }
    }

    private void await() throws InterruptedException {
        while (!rung) {
            LockSupport.park(this);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
        rung = false;
    }

    /** Ends the stream from outside: a waiting one wakes and finishes, one stuck writing is cut off. */
    void end() {
        ended = true;
        wake();
        if (writingSince != 0) {
            thread.interrupt();
        }
    }

    /** Leaves delivery; the stream's thread calls it when the stream is over. */
    @Override
    public void close() {
        delivery.leave(this);
    }
}
