package io.pgchat.access;

import io.pgchat.ApiError;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.helidon.http.Status;

import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * A token bucket (Bucket4j) per key, such as a client address or an author: a burst is allowed, then
 * a steady rate. Full buckets are dropped when many keys are held, so memory follows the clients
 * that are active, not every client ever seen.
 */
public final class RateLimits {

    private static final int SWEEP_ABOVE = 10_000;

    private final String what;
    private final long burst;
    private final long rate;
    private final Duration period;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** At most burst at once, refilled at rate per period; rate 0 turns the limit off. */
    public RateLimits(String what, long burst, long rate, Duration period) {
        this.what = what;
        this.burst = burst;
        this.rate = rate;
        this.period = period;
    }

    /** Takes a token for the key, or refuses with 429 and when to retry. */
    public void take(String key) {
        if (rate <= 0) {
            return;
        }
        if (buckets.size() > SWEEP_ABOVE) {
            buckets.values().removeIf(b -> b.getAvailableTokens() >= burst);
        }
        ConsumptionProbe probe = buckets.computeIfAbsent(key, k -> Bucket.builder()
                        .addLimit(limit -> limit.capacity(burst).refillGreedy(rate, period))
                        .build())
                .tryConsumeAndReturnRemaining(1);
        if (!probe.isConsumed()) {
            long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(probe.getNanosToWaitForRefill() + 999_999_999));
            throw new ApiError(Status.TOO_MANY_REQUESTS_429, "rate_limited",
                    "Too many " + what + "; at most " + rate + " per " + describe(period) + ". Retry in "
                            + seconds + " s.", seconds);
        }
    }

    private static String describe(Duration period) {
        return period.equals(Duration.ofHours(1)) ? "hour" : period.equals(Duration.ofMinutes(1)) ? "minute"
                : period.toSeconds() + " s";
    }
}
