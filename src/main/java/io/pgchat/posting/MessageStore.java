package io.pgchat.posting;

import io.pgchat.Message;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * Messages in PostgreSQL, the single source of truth: posts go through {@link GroupCommit}, which
 * assigns seq and announces each commit; every read goes through here. The {@code Future} methods are for the listener's event loop;
 * the plain ones block and are for request threads only.
 */
public final class MessageStore {

    /** The pool must keep statements this long prepared: planning the posting one again per batch costs more than running it. */
    public static final int LONGEST_STATEMENT = GroupCommit.STATEMENT_LENGTH;

    private static final String COLUMNS = "room, seq, pos, author, body, sent_at";
    private static final String BETWEEN = "SELECT " + COLUMNS
            + " FROM messages WHERE room = $1 AND seq > $2 AND seq < $3 ORDER BY seq LIMIT $4";
    private static final String LATEST = "SELECT * FROM (SELECT " + COLUMNS
            + " FROM messages WHERE room = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3) newest ORDER BY seq";
    private static final String LOG = "SELECT " + COLUMNS
            + " FROM messages WHERE room = ANY($1) AND pos > $2 AND pos <= $3 ORDER BY pos LIMIT $4";
    /** One statement, so the log's end and every room's last seq come from one snapshot. */
    private static final String POSITIONS = "SELECT (SELECT last_pos FROM log_position), coalesce(r.last_seq, 0)"
            + " FROM unnest($1::text[]) WITH ORDINALITY AS q(name, ord) LEFT JOIN rooms r USING (name) ORDER BY q.ord";
    private static final long TIMEOUT_SWEEP_MILLIS = 250;

    private static final int MAX_KNOWN_ROOMS = 100_000;

    private final Pool pool;
    private final GroupCommit commits;
    private final Duration timeout;
    private final Set<String> knownRooms = ConcurrentHashMap.newKeySet();
    /**
     * Request threads waiting for the database, and when each gives up. One sweep on the event loop
     * fails the late ones: a timed wait per request armed and cancelled a timer on a thread of its
     * own, and waking that thread twice per post cost about a sixth of the server's CPU.
     */
    private final Map<CompletableFuture<?>, Long> deadlines = new ConcurrentHashMap<>();

    public MessageStore(Vertx vertx, Pool pool, Duration timeout) {
        this.pool = pool;
        this.timeout = timeout;
        this.commits = new GroupCommit(pool);
        vertx.setPeriodic(TIMEOUT_SWEEP_MILLIS, id -> failLateWaits());
    }

    /**
     * Whether anyone has posted to the room; remembered once true, since rooms are never deleted, as is
     * every room a post or a read (history, a stream) has seen: only a room this process has
     * never seen costs a read.
     */
    boolean roomExists(String room) {
        if (knownRooms.contains(room)) {
            return true;
        }
        boolean exists = lastSeq(room) > 0;
        if (exists) {
            remember(room);
        }
        return exists;
    }

    private void remember(String room) {
        if (knownRooms.size() >= MAX_KNOWN_ROOMS) {
            knownRooms.clear();
        }
        knownRooms.add(room);
    }

    /** A stored message, and whether it was stored by an earlier request with the same idempotency key. */
    record Posted(Message message, boolean replayed) {
    }

    /** The Idempotency-Key names a different message already stored in this room. */
    public static final class KeyReused extends RuntimeException {
        KeyReused() {
            super("This Idempotency-Key was used for a different message in this room.", null, false, false);
        }
    }

    Posted post(String room, MessageInput input, String idempotencyKey) {
        GroupCommit.Post post = commits.submit(new GroupCommit.Post(room, input.author(), input.body(), idempotencyKey));
        GroupCommit.Stored stored;
        try {
            stored = await(post.stored());
        } catch (StoreUnavailable e) {
            if (post.withdraw()) {
                throw new StoreUnavailable("The database did not store the message in time; it was not stored. Retry.");
            }
            throw e;
        }
        if (stored.duplicateKey()) {
            Message first = stored(room, idempotencyKey);
            if (!first.author().equals(input.author()) || !first.body().equals(input.body())) {
                throw new KeyReused();
            }
            return new Posted(first, true);
        }
        remember(room);
        return new Posted(new Message(room, stored.seq(), stored.pos(), input.author(), input.body(), instant(stored.sentAt())), false);
    }

    private Message stored(String room, String idempotencyKey) {
        return messages(await(pool.preparedQuery("SELECT " + COLUMNS
                + " FROM messages WHERE room = $1 AND idempotency_key = $2").execute(Tuple.of(room, idempotencyKey))))
                .getFirst();
    }

    /** Messages with after < seq < before, ascending, at most limit. */
    Future<List<Message>> readBetween(String room, long after, long before, int limit) {
        return pool.preparedQuery(BETWEEN).execute(Tuple.of(room, after, before, limit)).map(MessageStore::messages);
    }

    public Future<List<Message>> readAfter(String room, long after, int limit) {
        return readBetween(room, after, Long.MAX_VALUE, limit);
    }

    /** The newest messages with seq < before, ascending, at most limit. */
    public Future<List<Message>> readLatest(String room, long before, int limit) {
        return pool.preparedQuery(LATEST).execute(Tuple.of(room, before, limit)).map(MessageStore::messages);
    }

    /** The messages of these rooms with after < pos <= upTo, in pos order, at most limit. */
    public List<Message> log(List<String> rooms, long after, long upTo, int limit) {
        return messages(await(pool.preparedQuery(LOG).execute(
                Tuple.of(rooms.toArray(String[]::new), after, upTo, limit))));
    }

    public List<Message> after(String room, long after, int limit) {
        return await(readAfter(room, after, limit));
    }

    public List<Message> between(String room, long after, long before, int limit) {
        return seen(room, await(readBetween(room, after, before, limit)));
    }

    List<Message> latest(String room, long before, int limit) {
        return seen(room, await(readLatest(room, before, limit)));
    }

    /** A read that found messages showed the room exists: a post to it then needs no read to know. */
    private List<Message> seen(String room, List<Message> messages) {
        if (!messages.isEmpty()) {
            remember(room);
        }
        return messages;
    }

    /** The room's last seq, 0 for a room nobody has posted to yet. */
    long lastSeq(String room) {
        RowSet<Row> rows = await(pool.preparedQuery("SELECT last_seq FROM rooms WHERE name = $1")
                .execute(Tuple.of(room)));
        return rows.size() == 0 ? 0 : rows.iterator().next().getLong(0);
    }

    /** Where the log ends, and each room's last seq, at one instant. */
    public record Positions(long logEnd, long[] lastSeqs) {
    }

    /** Positions of these rooms, 0 for a room nobody has posted to yet. */
    public Positions positions(List<String> rooms) {
        Positions positions = positions(await(pool.preparedQuery(POSITIONS)
                .execute(Tuple.of((Object) rooms.toArray(String[]::new)))));
        for (int i = 0; i < rooms.size(); i++) {
            if (positions.lastSeqs()[i] > 0) {
                remember(rooms.get(i));
            }
        }
        return positions;
    }

    /** The log's end, read on the event loop. */
    public Future<Long> readLogEnd() {
        return pool.query("SELECT last_pos FROM log_position").execute().map(rows -> rows.iterator().next().getLong(0));
    }

    private static Positions positions(RowSet<Row> rows) {
        long[] lastSeqs = new long[rows.size()];
        long logEnd = 0;
        int i = 0;
        for (Row row : rows) {
            logEnd = row.getLong(0);
            lastSeqs[i++] = row.getLong(1);
        }
        return new Positions(logEnd, lastSeqs);
    }

    List<RoomSummary> rooms() {
        List<RoomSummary> rooms = new ArrayList<>();
        for (Row row : await(pool.query(
                "SELECT name, last_seq, last_pos, last_sent_at FROM rooms ORDER BY last_sent_at DESC, name").execute())) {
            rooms.add(new RoomSummary(row.getString(0), row.getLong(1), row.getLong(2), instant(row.getOffsetDateTime(3))));
        }
        return rooms;
    }

    /** Throws, saying why, when PostgreSQL does not answer. */
    public void ping() {
        await(pool.query("SELECT 1").execute());
    }

    public boolean reachable() {
        try {
            ping();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    record RoomSummary(String room, long lastSeq, long lastPos, Instant lastSentAt) {
    }

    private static List<Message> messages(RowSet<Row> rows) {
        List<Message> messages = new ArrayList<>(rows.size());
        for (Row row : rows) {
            messages.add(new Message(row.getString(0), row.getLong(1), row.getLong(2), row.getString(3),
                    row.getString(4), instant(row.getOffsetDateTime(5))));
        }
        return messages;
    }

    private static Instant instant(OffsetDateTime time) {
        return time.toInstant();
    }

    /**
     * Waits on a request thread. An error PostgreSQL reported is a bug of ours (500, logged where it
     * is answered); not reaching PostgreSQL at all is an outage the client may retry (503).
     */
    private <T> T await(Future<T> future) {
        CompletableFuture<T> result = future.toCompletionStage().toCompletableFuture();
        deadlines.put(result, System.nanoTime() + timeout.toNanos());
        try {
            return result.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof PgException pg) {
                throw new IllegalStateException("PostgreSQL refused a query: " + pg.getMessage(), pg);
            }
            if (e.getCause() instanceof TimeoutException) {
                throw new StoreUnavailable("The database did not answer in " + timeout.toSeconds() + " s; retry.");
            }
            throw new StoreUnavailable("The database is unavailable (" + e.getCause().getMessage() + "); retry.",
                    e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StoreUnavailable("Interrupted while waiting for the database.");
        } finally {
            deadlines.remove(result);
        }
    }

    private void failLateWaits() {
        long now = System.nanoTime();
        deadlines.forEach((wait, deadline) -> {
            if (now - deadline >= 0) {
                wait.completeExceptionally(new TimeoutException());
            }
        });
    }
}
