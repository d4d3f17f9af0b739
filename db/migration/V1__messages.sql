-- A room exists once a message is posted to it. Its row is also the per-room lock that hands out
-- seq: writers to one room serialize on it, so seq order is commit order and has no gaps.
CREATE TABLE rooms (
    name         text        PRIMARY KEY,
    last_seq     bigint      NOT NULL,
    last_sent_at timestamptz NOT NULL
);

CREATE TABLE messages (
    room    text        NOT NULL REFERENCES rooms (name),
    seq     bigint      NOT NULL,
    author  text        NOT NULL,
    body    text        NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (room, seq)
);
