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
    /** Each publisher's order in the room; null when counting seqs only (catchup) or for a multi-room stream. */
    private final PublisherOrder publisherOrder;

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
     * @param publishers how many publishers post the run's messages (ignored without a ledger)
     */
    Subscription(int index, int room, String roomName, SubscriberLoop loop, Target target, Ledger ledger,
            long seqBase, int publishers) {
        this(index, room, target.subscribePath(roomName), null, loop, target, ledger, seqBase,
                ledger == null ? null : new PublisherOrder(publishers));
    }

    /** A multi-room stream of these rooms (numbers in names). */
    Subscription(int index, int[] rooms, String[] names, SubscriberLoop loop, Target target, Ledger ledger) {
        this(index, -1, target.multiSubscribePath(String.join(",", java.util.Arrays.stream(rooms)
                        .mapToObj(r -> names[r]).toList())),
                new RoomsTally(rooms, ledger, target.idIsSeq()), loop, target, ledger, 0, null);
    }

    private Subscription(int index, int room, String path, RoomsTally rooms, SubscriberLoop loop, Target target,
            Ledger ledger, long seqBase, PublisherOrder publisherOrder) {
        this.index = index;
        this.room = room;
        this.path = path;
        this.rooms = rooms;
        this.loop = loop;
        this.target = target;
        this.ledger = ledger;
        this.seqBase = seqBase;
        this.publisherOrder = publisherOrder;
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

    /**
     * pgchat: the seq (the id) must rise by one over the stream. Both servers: each publisher's
     * messages must come in its order (PublisherOrder). An event failing either counts once, as out
     * of order, else as a gap.
     */
    @Override
    public void event(long id, long n, int publisher, long k, long seq, long room) {
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
        if (key >= 0 && received.get(key)) {
            duplicates++;
            return;
        }
        boolean disorder = false;
        boolean gap = false;
        if (target.idIsSeq()) {
            disorder = lastSeq >= 0 && id <= lastSeq;
            gap = lastSeq >= 0 && id > lastSeq + 1;
            lastSeq = Math.max(lastSeq, id);
        }
        if (key >= 0 && publisherOrder != null) {
            PublisherOrder.Verdict verdict = publisherOrder.next(publisher, k);
            disorder |= verdict == PublisherOrder.Verdict.OUT_OF_ORDER;
            gap |= verdict == PublisherOrder.Verdict.GAP;
        }
        if (disorder) {
            outOfOrder++;
        } else if (gap) {
            seqGaps++;
        }
        if (key < 0) {
            foreign++;
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
