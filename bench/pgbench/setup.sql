-- Scratch tables for bench/pgbench/run, shaped like pgchat's (db/migration/V1, V2): removed by drop.sql.
DROP TABLE IF EXISTS pgbench_chat_messages, pgbench_chat_rooms, pgbench_chat_plain;

CREATE TABLE pgbench_chat_rooms (
    name         text        PRIMARY KEY,
    last_seq     bigint      NOT NULL,
    last_sent_at timestamptz NOT NULL
);

CREATE TABLE pgbench_chat_messages (
    room            text        NOT NULL REFERENCES pgbench_chat_rooms (name),
    seq             bigint      NOT NULL,
    author          text        NOT NULL,
    body            text        NOT NULL,
    sent_at         timestamptz NOT NULL,
    idempotency_key text,
    PRIMARY KEY (room, seq)
);

CREATE UNIQUE INDEX pgbench_chat_messages_idempotency_key ON pgbench_chat_messages (room, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- The floor: the same row without a room lock, a seq of its own or a NOTIFY.
CREATE TABLE pgbench_chat_plain (
    id      bigserial   PRIMARY KEY,
    room    text        NOT NULL,
    author  text        NOT NULL,
    body    text        NOT NULL,
    sent_at timestamptz NOT NULL
);
