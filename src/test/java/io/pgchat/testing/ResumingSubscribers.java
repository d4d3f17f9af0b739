package io.pgchat.testing;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** Several resuming subscribers of one room, preferring the first of the servers. */
public final class ResumingSubscribers implements AutoCloseable {
    private final List<ResumingSubscriber> all = new ArrayList<>();

    public ResumingSubscribers(java.net.http.HttpClient http, List<URI> servers, String room, int count) {
        for (int i = 0; i < count; i++) {
            all.add(new ResumingSubscriber(http, servers, room));
        }
    }

    public List<Integer> connections() {
        return all.stream().map(ResumingSubscriber::connections).toList();
    }

    public List<List<Long>> await(int count, Duration timeout) throws InterruptedException {
        List<List<Long>> received = new ArrayList<>();
        for (ResumingSubscriber subscriber : all) {
            received.add(subscriber.awaitSeqs(count, timeout));
        }
        return received;
    }

    @Override
    public void close() {
        all.forEach(ResumingSubscriber::close);
    }
}
