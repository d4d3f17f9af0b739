package io.pgchat.bench;

import java.io.IOException;
import java.util.BitSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * catchup: one client resumes B messages behind the end of a room (Last-Event-ID = last seq - B) and
 * reads them all: how fast pgchat replays its table. The room is filled up first if it holds fewer.
 */
final class CatchupBench {

    private static final Pattern SEQ = Pattern.compile("\"seq\":(\\d+)");

    private CatchupBench() {
    }

    static Report run(Options o, long start) throws IOException, InterruptedException {
        long deadline = start + (long) (o.timeoutSeconds * 1e9);
        long last = lastSeq(o);
        if (last < o.behind) {
            int prefill = (int) (o.behind - last);
            System.err.printf("[catchup] room %s holds %d messages; posting %d more%n", o.room, last, prefill);
            Ledger ledger = new Ledger(prefill, 1);
            Publishers publishers = new Publishers(o, ledger, new String[] {o.room});
            RateMeter rate = new RateMeter("acks");
            try (Progress progress = new Progress("catchup prefill", start, () -> String.format("posted %d/%d acked %d %s",
                    publishers.sent(), prefill, publishers.acked(), rate.next(publishers.acked())))) {
                publishers.start(deadline);
                if (!publishers.await()) {
                    return new Report(o, start).timedOut("prefilling the room").put("errors", publishers.errors());
                }
            }
            last = lastSeq(o);
            if (last < o.behind) {
                return new Report(o, start).failIf(true).put("prefill_short_by", o.behind - last)
                        .put("errors", publishers.errors());
            }
        }
        long from = last - o.behind;
        Subscribers subscribers = new Subscribers(o);
        Subscription reader = subscribers.add(0, o.room, null, from);
        RateMeter rate = new RateMeter("msg");
        boolean timedOut = false;
        try (Progress progress = new Progress(o.mode, start, () -> String.format("read %d/%d %s",
                subscribers.delivered(), o.behind, rate.next(subscribers.delivered())))) {
            subscribers.connectAll();
            long lastProgress = System.nanoTime();
            long seen = 0;
            while (subscribers.delivered() < o.behind) {
                long now = System.nanoTime();
                if (subscribers.delivered() != seen || subscribers.failed() > 0) {
                    seen = subscribers.delivered();
                    lastProgress = now;
                }
                if (now > deadline || now - lastProgress > o.drainSeconds * 1e9 || subscribers.failed() > 0) {
                    timedOut = now > deadline;
                    break;
                }
                Thread.sleep(5);
            }
        }
        subscribers.stop();
        BitSet expected = new BitSet();
        expected.set(0, o.behind);
        Subscribers.Tally tally = subscribers.tally(room -> expected);
        Report report = new Report(o, start);
        if (timedOut) {
            report.timedOut("reading");
        }
        return report.put("room_last_seq", last).put("last_event_id", from)
                .put("posts_per_s", null)
                .put("deliveries", tally.deliveries)
                .put("deliveries_per_s", Report.perSecond(tally.deliveries, reader.lastEventAt - reader.firstByteAt))
                .put("first_byte_ms", Math.round((reader.firstByteAt - subscribers.connectStartedAt()) / 1e5) / 10.0)
                .put("latency_ms", null)
                .correctness(tally)
                .put("errors", subscribers.errors())
                .failIf(!subscribers.errors().isEmpty());
    }

    /** The room's last seq from its newest message (0 for a room that does not exist yet). */
    private static long lastSeq(Options o) throws IOException {
        try (HttpConnection c = new HttpConnection(o.host(), o.port())) {
            String host = o.host() + ":" + o.port();
            int status = c.exchange(HttpConnection.request("GET", "/api/rooms/" + o.room + "/messages?limit=1",
                    host, null, null));
            if (status != 200) {
                throw new IOException("history of " + o.room + " answered " + status);
            }
            Matcher m = SEQ.matcher(new String(c.body, java.nio.charset.StandardCharsets.UTF_8));
            long last = 0;
            while (m.find()) {
                last = Math.max(last, Long.parseLong(m.group(1)));
            }
            return last;
        }
    }
}
