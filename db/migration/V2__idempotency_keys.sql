-- A client may name each message it sends (Idempotency-Key) so that a retry after a lost answer
-- (a timeout, a restart) stores it once: the second insert of a key fails as a whole, seq included.
ALTER TABLE messages ADD COLUMN idempotency_key text;

CREATE UNIQUE INDEX messages_idempotency_key ON messages (room, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
