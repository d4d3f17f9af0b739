package io.pgchat.ops;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.Metrics;

import java.util.List;
import java.util.function.Supplier;

/** What /observe/metrics shows about chat traffic, in Helidon's (Prometheus-format) registry. */
public final class ChatMetrics {

    private final MeterRegistry registry = Metrics.globalRegistry();
    private final Counter posted = counter("pgchat.messages.posted", "Messages stored and acknowledged");
    private final Counter delivered = counter("pgchat.messages.delivered", "Events written to subscribers");
    private final Counter replayed = counter("pgchat.messages.replayed",
            "Events a subscriber read from the table (resume, or behind the window)");
    private final Counter reconnects = counter("pgchat.listen.reconnects", "Times LISTEN was restored");
    private final Gauge<Integer> subscribers;

    public ChatMetrics(Supplier<Integer> subscribers) {
        // The registry is global to the JVM: a gauge left by an earlier server here would read its delivery.
        registry.gauge("pgchat.subscribers", List.of()).ifPresent(registry::remove);
        this.subscribers = registry.getOrCreate(Gauge.builder("pgchat.subscribers", subscribers)
                .description("Open event streams"));
    }

    public void posted() {
        posted.increment();
    }

    public void delivered(int events, int fromTable) {
        delivered.increment(events);
        if (fromTable > 0) {
            replayed.increment(fromTable);
        }
    }

    public void listenReconnected() {
        reconnects.increment();
    }

    /** Frees the gauge, which would otherwise keep this server's delivery alive after it stopped. */
    public void close() {
        registry.gauge("pgchat.subscribers", List.of()).filter(g -> g == subscribers).ifPresent(registry::remove);
    }

    private Counter counter(String name, String description) {
        return registry.getOrCreate(Counter.builder(name).description(description));
    }
}
