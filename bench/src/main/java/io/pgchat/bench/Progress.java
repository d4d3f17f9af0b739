package io.pgchat.bench;

import java.util.function.Supplier;

/** One status line on stderr per second, so a long run shows where it is. */
final class Progress implements AutoCloseable {

    private final Thread thread;

    Progress(String mode, long startNanos, Supplier<String> status) {
        thread = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(1000);
                    double elapsed = (System.nanoTime() - startNanos) / 1e9;
                    System.err.printf("[%s %6.1fs] %s%n", mode, elapsed, status.get());
                }
            } catch (InterruptedException stopped) {
                // the run is over
            }
        }, "progress");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
