package io.pgchat.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * fanout, rooms, storm and multiroom: subscribers connect first, then publishers post, and every
 * subscriber must receive every acked message of its rooms once and in order. multiroom: each stream
 * follows --rooms-per-stream rooms drawn at random (seeded) from --rooms, in one connection.
 */
final class LiveBench {

    private final Options o;
    private final long start;
    private final long deadline;
    private final boolean storm;
    private final boolean multiRoom;
    private final String[] rooms;
    private final int perRoom;
    /** multiroom: how many streams follow each room. */
    private final int[] followers;
    private final Ledger ledger;
    private final Subscribers subscribers;
    private final Publishers publishers;

    LiveBench(Options o, long start) throws java.io.IOException {
        this.o = o;
        this.start = start;
        this.deadline = start + (long) (o.timeoutSeconds * 1e9);
        this.storm = o.mode.equals("storm");
        this.multiRoom = o.mode.equals("multiroom");
        boolean manyRooms = o.mode.equals("rooms") || multiRoom;
        this.rooms = new String[manyRooms ? o.rooms : 1];
        for (int r = 0; r < rooms.length; r++) {
            rooms[r] = manyRooms ? o.room + "_" + r : o.room;
        }
        this.perRoom = o.mode.equals("rooms") ? o.subscribersPerRoom : o.subscribers;
        int count = storm || multiRoom ? (int) Math.ceil(o.rate * o.seconds) : o.messages;
        this.ledger = new Ledger(count, rooms.length);
        this.subscribers = new Subscribers(o);
        this.followers = multiRoom ? new int[rooms.length] : null;
        if (multiRoom) {
            java.util.Random random = new java.util.Random(o.seed);
            for (int i = 0; i < o.subscribers; i++) {
                int[] chosen = chooseRooms(random, rooms.length, o.roomsPerStream);
                for (int r : chosen) {
                    followers[r]++;
                }
                subscribers.addMultiRoom(chosen, rooms, ledger);
            }
        } else {
            for (int r = 0; r < rooms.length; r++) {
                for (int i = 0; i < perRoom; i++) {
                    Subscription s = subscribers.add(r, rooms[r], ledger, 0);
                    s.undisturbed = s.index % 2 == 0;
                }
            }
        }
        // multiroom checks each room's order for any number of publishers: one publisher per room.
        this.publishers = new Publishers(o, ledger, rooms, multiRoom);
    }

    /** k distinct rooms of 0..rooms-1, ascending. */
    static int[] chooseRooms(java.util.Random random, int rooms, int k) {
        int[] chosen = new int[k];
        for (int i = 0; i < k; i++) {
            int r;
            do {
                r = random.nextInt(rooms);
            } while (contains(chosen, i, r));
            chosen[i] = r;
        }
        java.util.Arrays.sort(chosen);
        return chosen;
    }

    private static boolean contains(int[] a, int length, int value) {
        for (int i = 0; i < length; i++) {
            if (a[i] == value) {
                return true;
            }
        }
        return false;
    }

    Report run() throws InterruptedException {
        Report report;
        try (Progress progress = new Progress(o.mode, start, this::status)) {
            report = measure();
        }
        return report;
    }

    private Report measure() throws InterruptedException {
        subscribers.connectAll();
        if (!subscribers.awaitConnected(deadline)) {
            subscribers.stop();
            return new Report(o, start).timedOut("connecting subscribers")
                    .put("subscribers_live", subscribers.live()).put("subscribers_failed", subscribers.failed());
        }
        if (subscribers.live() == 0) {
            subscribers.stop();
            return new Report(o, start).failIf(true).put("subscribers_failed", subscribers.failed())
                    .put("errors", subscribers.errors());
        }
        Histogram[][] bySecond = storm ? watchUndisturbed() : null;
        publishers.start(deadline);
        long stormAt = storm ? dropHalfAfter(o.stormAfter) : 0;
        boolean allPosted = publishers.await();
        long drainUntil = Math.min(System.nanoTime() + (long) (o.drainSeconds * 1e9), deadline);
        while (subscribers.delivered() < expected() && System.nanoTime() < drainUntil) {
            Thread.sleep(10);
        }
        subscribers.stop();

        Report report = new Report(o, start);
        if (!allPosted) {
            report.timedOut("publishing");
        }
        Subscribers.Tally tally = subscribers.tally(ledger::ackedBitsOf);
        long lastEvent = subscribers.lastEventAt();
        report.put("subscribers", subscribers.all.size()).put("rooms", rooms.length);
        if (multiRoom) {
            report.put("rooms_per_stream", o.roomsPerStream);
        }
        report
                .put("posts_sent", publishers.sent()).put("posts_acked", publishers.acked())
                .put("posts_per_s", Report.perSecond(publishers.acked(), publishers.endedAt - publishers.t0))
                .put("deliveries", tally.deliveries)
                .put("deliveries_expected", expected())
                .put("deliveries_per_s", Report.perSecond(tally.deliveries, lastEvent - publishers.t0))
                .put("last_event_after_last_ack_ms", Math.round((lastEvent - publishers.endedAt) / 1e5) / 10.0)
                .put("latency_ms", Report.latency(subscribers.latency()))
                .put("post_latency_ms", Report.latency(publishers.latency()))
                .correctness(tally, multiRoom);
        if (storm) {
            stormReport(report, stormAt, bySecond);
        }
        Map<String, Object> errors = new java.util.TreeMap<>(publishers.errors());
        errors.putAll(subscribers.errors());
        return report.put("errors", errors).failIf(!errors.isEmpty() && !storm);
    }

    /** Every acked message times the subscribers of its room that got going. */
    private long expected() {
        long total = 0;
        long deliveries = 0;
        for (int r = 0; r < rooms.length; r++) {
            total += ledger.ackedIn(r);
            deliveries += ledger.ackedIn(r) * (multiRoom ? followers[r] : perRoom);
        }
        int roomsEach = multiRoom ? o.roomsPerStream : 1;
        return deliveries - (long) subscribers.failed() * total * roomsEach / rooms.length;
    }

    private String status() {
        return String.format("subscribers %d/%d (%d failed) posted %d/%d acked %d delivered %d/%d %s",
                subscribers.live(), subscribers.all.size(), subscribers.failed(), publishers.sent(), ledger.count,
                publishers.acked(), subscribers.delivered(), expected(), rate.next(subscribers.delivered()));
    }

    private final RateMeter rate = new RateMeter("deliveries");

    /** Storm: the undisturbed half's latencies by second of publishing, to pick out the storm's window later. */
    private Histogram[][] watchUndisturbed() throws InterruptedException {
        int seconds = (int) Math.ceil(o.seconds) + 2;
        Histogram[][] all = new Histogram[subscribers.loops.size()][];
        long t0 = System.nanoTime();
        java.util.concurrent.CountDownLatch set = new java.util.concurrent.CountDownLatch(all.length);
        for (int i = 0; i < all.length; i++) {
            Histogram[] h = new Histogram[seconds];
            for (int k = 0; k < seconds; k++) {
                h[k] = new Histogram();
            }
            all[i] = h;
            SubscriberLoop loop = subscribers.loops.get(i);
            loop.submit(() -> {
                loop.undisturbedBySecond = h;
                loop.publishT0 = t0;
                set.countDown();
            });
        }
        set.await();
        return all;
    }

    private long dropHalfAfter(double seconds) throws InterruptedException {
        long at = publishers.t0 + (long) (seconds * 1e9);
        while (System.nanoTime() < at) {
            Thread.sleep(Math.max(1, (at - System.nanoTime()) / 1_000_000));
        }
        Map<SubscriberLoop, List<Subscription>> byLoop = new HashMap<>();
        for (Subscription s : subscribers.all) {
            if (!s.undisturbed) {
                byLoop.computeIfAbsent(s.loop, l -> new ArrayList<>()).add(s);
            }
        }
        byLoop.forEach(SubscriberLoop::dropAndResume);
        System.err.printf("[storm] dropped %d subscribers, they resume now%n",
                byLoop.values().stream().mapToInt(List::size).sum());
        return at;
    }

    /** How long the resumed half took to be live again, and the undisturbed half's latency meanwhile. */
    private void stormReport(Report report, long stormAt, Histogram[][] bySecond) {
        Histogram catchUp = new Histogram();
        long notLiveAgain = 0;
        long lastLiveAgain = stormAt;
        for (Subscription s : subscribers.all) {
            if (s.undisturbed) {
                continue;
            }
            if (s.liveAgainAt == 0) {
                notLiveAgain++;
            } else {
                catchUp.recordNanos(s.liveAgainAt - s.droppedAt);
                lastLiveAgain = Math.max(lastLiveAgain, s.liveAgainAt);
            }
        }
        long t0 = subscribers.loops.get(0).publishT0;
        int from = (int) ((stormAt - t0) / 1_000_000_000L);
        int to = (int) Math.max(from + 1, Math.ceil((lastLiveAgain - t0) / 1e9));
        Histogram window = new Histogram();
        for (Histogram[] loop : bySecond) {
            for (int k = from; k < Math.min(to, loop.length); k++) {
                window.add(loop[k]);
            }
        }
        Map<String, Object> stormFields = new java.util.LinkedHashMap<>();
        stormFields.put("resumed", subscribers.all.size() / 2);
        stormFields.put("not_live_again", notLiveAgain);
        stormFields.put("catch_up_ms", Report.latency(catchUp));
        stormFields.put("window_s", List.of(from, to));
        stormFields.put("undisturbed_latency_ms", Report.latency(window));
        report.put("storm", stormFields).failIf(notLiveAgain > 0);
    }
}
