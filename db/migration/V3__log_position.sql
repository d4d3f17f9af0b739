-- A global log position: every message gets the next 'pos' of one counter row, taken in the posting
-- transaction and locked until its commit, so pos order is commit order across all rooms and all
-- server processes. A stream of many rooms resumes from one pos (its Last-Event-ID) with no gap and
-- no duplicate in any room. (NOTIFY already serializes committing posts; this row adds no wait.)
CREATE TABLE log_position (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    last_pos bigint  NOT NULL
);

ALTER TABLE messages ADD COLUMN pos bigint;
-- Messages stored before this have no commit order to recover: time, then room and seq, keeps each
-- room's pos in seq order, which is all a resume needs.
UPDATE messages m SET pos = o.pos
FROM (SELECT room, seq, row_number() OVER (ORDER BY sent_at, room, seq) AS pos FROM messages) o
WHERE m.room = o.room AND m.seq = o.seq;
ALTER TABLE messages ALTER COLUMN pos SET NOT NULL;
CREATE UNIQUE INDEX messages_pos ON messages (pos);

INSERT INTO log_position (last_pos) SELECT coalesce(max(pos), 0) FROM messages;

ALTER TABLE rooms ADD COLUMN last_pos bigint NOT NULL DEFAULT 0;
UPDATE rooms r SET last_pos = coalesce((SELECT max(pos) FROM messages m WHERE m.room = r.name), 0);
