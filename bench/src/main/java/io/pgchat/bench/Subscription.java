package io.pgchat.bench;

import java.nio.channels.SocketChannel;
import java.util.BitSet;

/**
 * One subscriber: its connection (owned by one SubscriberLoop thread, which alone touches it) and
 * its tally of what it received: of one room here, of several in its RoomsTally (multiroom). It may
 * reconnect (a storm, or the server closing the stream) and then resumes with Last-Event-ID = the
 * last id it read (pgchat: the room's seq, or the pos of a multi-room stream), as an EventSource would.
 */
final class Subscription implements SseReader.Listener {

    private static final int MAX_RECONNECTS = 5;

    final int index;
    /** The room of a one-room stream; -1 for a multi-room one. */
    final int room;
    private final String path;
    /** The rooms of a multi-room stream and what it got of each; null for a one-room stream. */
    final RoomsTally rooms;
    final SubscriberLoop loop;
    final SseReader reader;
    private final Target target;
    private final Ledger ledger;
    private final long seqBase;
    private final boolean orderByN;

    SocketChannel channel;
    /** Last-Event-ID of the next connection, -1 for none. */
    long resumeFrom;

    final BitSet received = new BitSet();
    long delivered;
    long duplicates;
    long outOfOrder;
    long seqGaps;
    long foreign;
    long lastSeq = -1;
    private long lastN = -1;
    long firstByteAt;
    long lastEventAt;
    String error;
    private int reconnects;
    boolean live;
    boolean everLive;

    /** Storm: the undisturbed half keeps its connection; the other is dropped and resumes. */
    boolean undisturbed;
    long droppedAt;
    long resumeSentAt;
    long liveAgainAt;

    /**
     * @param ledger the run's messages, or null when counting a room's seqs after seqBase (catchup)
     */
    Subscription(int index, int room, String roomName, SubscriberLoop loop, Target target, Ledger ledger,
            long seqBase, boolean orderByN) {
        this(index, room, target.subscribePath(roomName), null, loop, target, ledger, seqBase, orderByN);
    }

    /** A multi-room stream of these rooms (numbers in names). */
    Subscription(int index, int[] rooms, String[] names, SubscriberLoop loop, Target target, Ledger ledger) {
        this(index, -1, target.multiSubscribePath(String.join(",", java.util.Arrays.stream(rooms)
                        .mapToObj(r -> names[r]).toList())),
                new RoomsTally(rooms, ledger, target.idIsSeq()), loop, target, ledger, 0, true);
    }

    private Subscription(int index, int room, String path, RoomsTally rooms, SubscriberLoop loop, Target target,
            Ledger ledger, long seqBase, boolean orderByN) {
        this.index = index;
        this.room = room;
        this.path = path;
        this.rooms = rooms;
        this.loop = loop;
        this.target = target;
        this.ledger = ledger;
        this.seqBase = seqBase;
        this.orderByN = orderByN;
        this.resumeFrom = ledger == null ? seqBase : -1;
        this.reader = new SseReader(this, target.idIsSeq(), rooms != null && target.idIsSeq());
    }

    String request(String host) {
        String resume = resumeFrom >= 0 ? "Last-Event-ID: " + resumeFrom + "\r\n" : "";
        return "GET " + path + " HTTP/1.1\r\nHost: " + host
                + "\r\nAccept: text/event-stream\r\n" + resume + "\r\n";
    }

    @Override
    public void ready() {
        live = true;
        everLive = true;
        loop.becameLive(this);
    }

    @Override
    public void event(long id, long n, long seq, long room) {
        long now = loop.now;
        lastEventAt = now;
        if (rooms != null) {
            if (rooms.record(id, n, seq, room)) {
                delivered++;
                loop.delivered++;
                loop.recordLatency(this, ledger.startNanos[(int) n], now);
            }
            return;
        }
        int key = key(id, n);
        boolean duplicate = key >= 0 && received.get(key);
        if (target.idIsSeq()) {
            if (lastSeq >= 0 && id != lastSeq + 1 && !duplicate) {
                if (id <= lastSeq) {
                    outOfOrder++;
                } else {
                    seqGaps++;
                }
            }
            lastSeq = Math.max(lastSeq, id);
        } else if (orderByN && !duplicate && n >= 0) {
            if (n < lastN) {
                outOfOrder++;
            }
            lastN = Math.max(lastN, n);
        }
        if (key < 0) {
            foreign++;
            return;
        }
        if (duplicate) {
            duplicates++;
            return;
        }
        received.set(key);
        delivered++;
        loop.delivered++;
        if (ledger != null) {
            long start = ledger.startNanos[(int) n];
            loop.recordLatency(this, start, now);
            // In seq order, the first message published after the resume request means all before it came.
            if (resumeSentAt != 0 && liveAgainAt == 0 && start >= resumeSentAt) {
                liveAgainAt = now;
            }
        }
    }

    /** The bit that stands for this message, or -1 when it is not one this run counts. */
    private int key(long id, long n) {
        if (ledger == null) {
            long k = id - seqBase - 1;
            return id >= 0 && k >= 0 && k < Integer.MAX_VALUE ? (int) k : -1;
        }
        if (n < 0 || n >= ledger.count || ledger.roomOf(n) != room) {
            return -1;
        }
        return ledger.indexInRoom(n);
    }

    @Override
    public void unexpectedEvent(String type) {
        loop.error(this, "event_" + type);
    }

    @Override
    public void refused(String why) {
        loop.error(this, why);
    }

    /** After the connection is gone: resume where it stopped, unless it never got going or failed too often. */
    boolean mayResume() {
        return everLive && reconnects++ < MAX_RECONNECTS;
    }

    void prepareResume() {
        live = false;
        long lastId = rooms != null ? rooms.lastPos() : lastSeq;
        if (target.idIsSeq() && lastId >= 0) {
            resumeFrom = lastId;
        }
        reader.reset();
    }
}
