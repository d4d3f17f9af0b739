package io.pgchat.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * One thread and one Selector holding many subscriber sockets (never a thread per stream). It opens
 * connections at a bounded pace: at most maxConnecting between connect() and the stream's first line,
 * so 10,000 subscribers do not hit the server's accept queue at once. Other threads talk to it only
 * through submit(); everything else here belongs to the loop's thread.
 */
final class SubscriberLoop implements Runnable {

    private final Selector selector;
    private final InetSocketAddress address;
    private final String host;
    private final int maxConnecting;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final ArrayDeque<Subscription> waiting = new ArrayDeque<>();
    private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
    private final Thread thread;
    private volatile boolean stopping;
    private int connecting;

    /** The time of the current read: every event in one read arrived together. */
    long now;
    long delivered;
    final Histogram latency = new Histogram();
    /** Storm: latencies of the undisturbed half, by second of publish time since publishT0. */
    Histogram[] undisturbedBySecond;
    long publishT0;
    final Map<String, Long> errors = new HashMap<>();

    volatile long deliveredSeen;
    volatile int liveCount;
    volatile int failedCount;

    SubscriberLoop(String name, InetSocketAddress address, int maxConnecting) throws IOException {
        this.selector = Selector.open();
        this.address = address;
        this.host = address.getHostString() + ":" + address.getPort();
        this.maxConnecting = maxConnecting;
        this.thread = new Thread(this, name);
        thread.setDaemon(true);
        thread.start();
    }

    void submit(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    void connect(Subscription s) {
        submit(() -> waiting.add(s));
    }

    /** Storm: close these connections at once, then reconnect each with its Last-Event-ID. */
    void dropAndResume(List<Subscription> subscriptions) {
        submit(() -> {
            long at = System.nanoTime();
            for (Subscription s : subscriptions) {
                close(s);
                s.droppedAt = at;
                s.prepareResume();
                waiting.add(s);
            }
        });
    }

    void stop() throws InterruptedException {
        stopping = true;
        selector.wakeup();
        thread.join();
    }

    @Override
    public void run() {
        try {
            while (!stopping) {
                for (Runnable task; (task = tasks.poll()) != null; ) {
                    task.run();
                }
                while (connecting < maxConnecting && !waiting.isEmpty()) {
                    open(waiting.poll());
                }
                selector.select(this::ready, 100);
                deliveredSeen = delivered;
            }
            for (SelectionKey key : selector.keys()) {
                key.channel().close();
            }
            selector.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void open(Subscription s) {
        connecting++;
        try {
            SocketChannel channel = SocketChannel.open();
            s.channel = channel;
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            if (channel.connect(address)) {
                now = System.nanoTime();
                sendRequest(s, channel.register(selector, SelectionKey.OP_READ, s));
            } else {
                channel.register(selector, SelectionKey.OP_CONNECT, s);
            }
        } catch (IOException e) {
            lost(s, "connect: " + e.getMessage());
        }
    }

    private void ready(SelectionKey key) {
        Subscription s = (Subscription) key.attachment();
        now = System.nanoTime();
        try {
            if (key.isConnectable()) {
                s.channel.finishConnect();
                key.interestOps(SelectionKey.OP_READ);
                sendRequest(s, key);
            } else if (key.isReadable()) {
                read(s);
            }
        } catch (IOException e) {
            lost(s, (s.everLive ? "read: " : "connect: ") + e.getMessage());
        }
    }

    private void sendRequest(Subscription s, SelectionKey key) throws IOException {
        ByteBuffer request = ByteBuffer.wrap(s.request(host).getBytes(StandardCharsets.ISO_8859_1));
        // A few hundred bytes on a fresh socket: the send buffer takes them at once.
        while (request.hasRemaining()) {
            if (s.channel.write(request) == 0) {
                throw new IOException("request not accepted by the socket");
            }
        }
        if (s.droppedAt != 0 && s.resumeSentAt == 0) {
            s.resumeSentAt = now;
        }
    }

    private void read(Subscription s) throws IOException {
        buffer.clear();
        int n = s.channel.read(buffer);
        if (n < 0) {
            lost(s, s.everLive ? "closed_by_server" : "closed_before_headers");
            return;
        }
        if (s.firstByteAt == 0) {
            s.firstByteAt = now;
        }
        if (!s.reader.feed(buffer.array(), 0, n)) {
            lost(s, null);
        }
    }

    /** The connection is gone (why is null when the reader already said why): resume, or count a failure. */
    private void lost(Subscription s, String why) {
        if (why != null) {
            error(s, why);
        }
        boolean wasConnecting = !s.live;
        close(s);
        if (wasConnecting) {
            connecting--;
        }
        if (!stopping && s.mayResume()) {
            s.prepareResume();
            waiting.add(s);
        } else if (!s.everLive) {
            failedCount++;
        }
    }

    private void close(Subscription s) {
        if (s.live) {
            liveCount--;
            s.live = false;
        }
        if (s.channel == null) {
            return;
        }
        try {
            s.channel.close();
        } catch (IOException ignored) {
            // closing is all we wanted
        }
    }

    void becameLive(Subscription s) {
        connecting--;
        liveCount++;
    }

    void error(Subscription s, String what) {
        if (s.error == null) {
            s.error = what;
        }
        errors.merge(what, 1L, Long::sum);
    }

    void recordLatency(Subscription s, long publishStart, long now) {
        latency.recordNanos(now - publishStart);
        if (undisturbedBySecond != null && s.undisturbed) {
            int second = (int) Math.max(0, (publishStart - publishT0) / 1_000_000_000L);
            undisturbedBySecond[Math.min(second, undisturbedBySecond.length - 1)].recordNanos(now - publishStart);
        }
    }
}
