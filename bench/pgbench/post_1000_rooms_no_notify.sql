-- (d) like (b) without pg_notify: what NOTIFY costs (PostgreSQL serializes the commits of transactions that notify).
\set r random(1, 1000)
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
SELECT m.seq, m.sent_at FROM m;
