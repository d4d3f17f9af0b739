-- (a) One durable single-row INSERT per transaction: what the disk's commit rate allows.
\set r random(1, 1000)
INSERT INTO pgbench_chat_plain (room, author, body, sent_at)
VALUES ('room' || CAST(:r AS text), 'bench', 'b:0 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', clock_timestamp());
