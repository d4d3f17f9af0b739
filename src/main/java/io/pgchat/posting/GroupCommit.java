package io.pgchat.posting;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;

import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Where posts are committed: the posts that arrive while earlier ones are being committed wait, and
 * then go together in one transaction with one NOTIFY. A NOTIFY serializes the commits of every
 * transaction that sends one, so one commit for many posts is what lets posting scale; a lone post
 * on a quiet server waits for nobody.
 *
 * <p>Every promise of a single post holds for each post of a batch: it is answered only after the
 * commit that stored it, and each room's seq stays gap-free in commit order (the rows of rooms
 * serialize batches that share a room, and within a batch a room's posts are numbered in arrival
 * order). A batch that PostgreSQL refuses is retried post by post, so one bad post (say an
 * Idempotency-Key used twice) fails alone.
 */
final class GroupCommit {

    /*
     * The log position's row is locked first and the rooms in name order, so two batches cannot
     * deadlock; that row, held to commit, makes pos order commit order across rooms and servers. The
     * announcement lists the batch's messages in order, in as many notifications as the 8000-byte
     * payload limit needs; a chunk that still does not fit (one very large message) is announced
     * by room and seq only, and the listener reads those rows. Limiting a batch to MAX_BATCH posts
     * keeps even that short form of a whole batch under the limit (a room name is at most 64 bytes).
     */
    private static final String INSERT = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                    WITH ORDINALITY AS i(room, author, body, idempotency_key, ord)
            ), log AS (
                UPDATE log_position SET last_pos = last_pos + (SELECT count(*) FROM input)
                RETURNING last_pos - (SELECT count(*) FROM input) AS before
            ), counts AS (
                SELECT room, count(*) AS n, max(ord) AS last_ord FROM input GROUP BY room
            ), r AS (
                INSERT INTO rooms AS r (name, last_seq, last_pos, last_sent_at)
                SELECT room, n, log.before + last_ord, date_trunc('milliseconds', clock_timestamp())
                FROM counts, log ORDER BY room
                ON CONFLICT (name) DO UPDATE
                    SET last_seq = r.last_seq + excluded.last_seq, last_pos = excluded.last_pos,
                        last_sent_at = excluded.last_sent_at
                RETURNING name, last_seq, last_sent_at
            ), numbered AS (
                SELECT i.ord, i.room, r.last_seq - c.n + row_number() OVER (PARTITION BY i.room ORDER BY i.ord) AS seq,
                       log.before + i.ord AS pos, i.author, i.body, r.last_sent_at AS sent_at, i.idempotency_key
                FROM input i JOIN counts c ON c.room = i.room JOIN r ON r.name = i.room CROSS JOIN log
            ), m AS (
                INSERT INTO messages (room, seq, pos, author, body, sent_at, idempotency_key)
                SELECT room, seq, pos, author, body, sent_at, idempotency_key FROM numbered
            ), items AS (
                SELECT ord, room, seq, pos, %s AS item FROM numbered
            ), chunks AS (
                SELECT *, sum(octet_length(item) + 1) OVER (ORDER BY ord) / 7900 AS chunk FROM items
            ), announced AS (
                SELECT count(pg_notify($5, CASE WHEN octet_length(whole) < 8000 THEN whole ELSE short END)) AS n
                FROM (SELECT chunk, '[' || string_agg(item, ',' ORDER BY ord) || ']' AS whole,
                             json_agg(%s ORDER BY ord)::text AS short
                      FROM chunks GROUP BY chunk ORDER BY chunk) c
            )
            SELECT numbered.ord, numbered.seq, numbered.pos, numbered.sent_at FROM numbered, announced ORDER BY numbered.ord
            """.formatted(Announcements.ITEM_SQL, Announcements.SHORT_ITEM_SQL);
    static final int STATEMENT_LENGTH = INSERT.length();
    static final int MAX_BATCH = 64;
    /*
     * Commits that announce serialize on PostgreSQL's notify lock anyway, so one batch is sent at a
     * time and the next gathers meanwhile: measured, a second batch in flight only split batches
     * (posts per commit 4 -> 2) and cost a third of the throughput.
     */
    private static final int MAX_WAITING = 10_000;
    private static final String UNIQUE_VIOLATION = "23505";
    private static final String IDEMPOTENCY_INDEX = "messages_idempotency_key";

    /** A post waiting for its commit. A request that gave up waiting withdraws it, unless it is already sent. */
    static final class Post {
        private static final int WAITING = 0;
        private static final int SENT = 1;
        private static final int WITHDRAWN = 2;

        final String room;
        final String author;
        final String body;
        final String idempotencyKey;
        private final Promise<Stored> stored = Promise.promise();
        private final AtomicInteger state = new AtomicInteger(WAITING);

        Post(String room, String author, String body, String idempotencyKey) {
            this.room = room;
            this.author = author;
            this.body = body;
            this.idempotencyKey = idempotencyKey;
        }

        Future<Stored> stored() {
            return stored.future();
        }

        /** True when the post will never be sent, so it surely is not stored. */
        boolean withdraw() {
            return state.compareAndSet(WAITING, WITHDRAWN);
        }

        private boolean send() {
            return state.compareAndSet(WAITING, SENT);
        }
    }

    /** The seq and time a post was stored at, or that its Idempotency-Key is stored already. */
    record Stored(long seq, long pos, OffsetDateTime sentAt, boolean duplicateKey) {
    }

    private final Pool pool;
    private final ReentrantLock lock = new ReentrantLock();
    private final ArrayDeque<Post> waiting = new ArrayDeque<>();
    private boolean committing;

    GroupCommit(Pool pool) {
        this.pool = pool;
    }

    /** Queues the post; it is sent at once unless a batch is being committed, else with the next batch. */
    Post submit(Post post) {
        lock.lock();
        try {
            if (waiting.size() >= MAX_WAITING) {
                throw new StoreUnavailable("The database is not keeping up: " + MAX_WAITING
                        + " posts are waiting to be stored; retry.");
            }
            waiting.add(post);
        } finally {
            lock.unlock();
        }
        sendWaiting();
        return post;
    }

    private void sendWaiting() {
        List<Post> batch = new ArrayList<>();
        lock.lock();
        try {
            if (committing) {
                return;
            }
            while (batch.size() < MAX_BATCH && !waiting.isEmpty()) {
                Post post = waiting.poll();
                if (post.send()) {
                    batch.add(post);
                }
            }
            if (batch.isEmpty()) {
                return;
            }
            committing = true;
        } finally {
            lock.unlock();
        }
        commit(batch).onComplete(done -> {
            lock.lock();
            try {
                committing = false;
            } finally {
                lock.unlock();
            }
            sendWaiting();
        });
    }

    private Future<Void> commit(List<Post> batch) {
        int size = batch.size();
        String[] rooms = new String[size];
        String[] authors = new String[size];
        String[] bodies = new String[size];
        String[] keys = new String[size];
        for (int i = 0; i < size; i++) {
            Post post = batch.get(i);
            rooms[i] = post.room;
            authors[i] = post.author;
            bodies[i] = post.body;
            keys[i] = post.idempotencyKey;
        }
        return pool.preparedQuery(INSERT).execute(Tuple.of(rooms, authors, bodies, keys, Announcements.CHANNEL))
                .transform(result -> {
                    if (result.succeeded()) {
                        complete(batch, result.result());
                        return Future.succeededFuture();
                    }
                    Throwable failure = result.cause();
                    if (failure instanceof PgException && size > 1) {
                        // Rolled back as a whole: nothing of it is stored, so each post may go again alone.
                        return one(batch, 0);
                    }
                    if (failure instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())
                            && IDEMPOTENCY_INDEX.equals(pg.getConstraint())) {
                        batch.getFirst().stored.complete(new Stored(0, 0, null, true));
                    } else {
                        batch.forEach(post -> post.stored.fail(failure));
                    }
                    return Future.succeededFuture();
                });
    }

    private Future<Void> one(List<Post> batch, int index) {
        if (index == batch.size()) {
            return Future.succeededFuture();
        }
        return commit(List.of(batch.get(index))).compose(v -> one(batch, index + 1));
    }

    private static void complete(List<Post> batch, RowSet<Row> rows) {
        for (Row row : rows) {
            batch.get(row.getLong("ord").intValue() - 1).stored.complete(
                    new Stored(row.getLong("seq"), row.getLong("pos"), row.getOffsetDateTime("sent_at"), false));
        }
    }
}
