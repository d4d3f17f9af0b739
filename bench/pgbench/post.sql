-- (b), (c) the naive post: pgchat's one-post statement from before group commit, one post per
-- transaction, into a random one of :rooms rooms (pgbench -D rooms=N; with 1, every writer waits on its row lock).
\set r random(1, :rooms)
WITH r AS (
    INSERT INTO pgbench_chat_rooms AS r (name, last_seq, last_sent_at)
    VALUES ('room' || CAST(:r AS text), 1, date_trunc('milliseconds', clock_timestamp()))
    ON CONFLICT (name) DO UPDATE
        SET last_seq = r.last_seq + 1,
            last_sent_at = date_trunc('milliseconds', clock_timestamp())
    RETURNING name, last_seq, last_sent_at
), m AS (
    INSERT INTO pgbench_chat_messages (room, seq, author, body, sent_at, idempotency_key)
    SELECT name, last_seq, 'bench', 'b:0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', last_sent_at, NULL FROM r
    RETURNING room, seq, author, body, sent_at
)
SELECT m.seq, m.sent_at, pg_notify('pgchat_bench',
    CASE WHEN octet_length(p.whole) < 8000 THEN p.whole
         ELSE json_build_object('room', m.room, 'seq', m.seq)::text END)
FROM m, LATERAL (SELECT json_build_object('room', m.room, 'seq', m.seq, 'author', m.author,
        'body', m.body, 'sentAt', (extract(epoch FROM m.sent_at) * 1000)::bigint)::text AS whole) p;
