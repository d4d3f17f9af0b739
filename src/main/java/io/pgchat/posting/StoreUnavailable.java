package io.pgchat.posting;

/**
 * PostgreSQL did not answer in time, cannot be reached, or cannot keep up: the client may retry
 * (the HTTP layer answers 503 with Retry-After). A post refused this way was surely not stored unless
 * the message says it may still commit.
 */
public final class StoreUnavailable extends RuntimeException {

    StoreUnavailable(String message) {
        this(message, null);
    }

    /** The cause says at start why PostgreSQL cannot be reached (no password to give, say). */
    StoreUnavailable(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
