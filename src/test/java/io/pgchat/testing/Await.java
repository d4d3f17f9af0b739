package io.pgchat.testing;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Supplier;

/** Waiting for a condition with a deadline, never for a fixed time; a condition that never holds fails the test. */
public final class Await {

    /** A condition that may read the server or the database to decide. */
    public interface Condition {
        boolean holds() throws Exception;
    }

    private Await() {
    }

    /** Polls the condition until it holds; fails with what the failure describes (read when it fails). */
    public static void until(Duration timeout, Supplier<String> failure, Condition condition) throws Exception {
        until(timeout, Duration.ofMillis(10), failure, condition);
    }

    /** The same, looking every {@code poll}: for a condition that costs its checker (a browser) work. */
    public static void until(Duration timeout, Duration poll, Supplier<String> failure, Condition condition) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(failure.get() + " (waited " + timeout.toMillis() + " ms)");
            }
            Thread.sleep(poll);
        }
    }

    /** Waits until /observe/health answers with the status, and returns that answer. */
    public static HttpResponse<String> health(TestServer server, int status) throws Exception {
        HttpResponse<?>[] last = new HttpResponse<?>[1];
        until(Duration.ofSeconds(20), () -> "health is not " + status + ": " + last[0].body(),
                () -> (last[0] = server.get("/observe/health")).statusCode() == status);
        @SuppressWarnings("unchecked")
        HttpResponse<String> answer = (HttpResponse<String>) last[0];
        return answer;
    }
}
