package io.pgchat.bench;

/**
 * publish: C clients post M messages over K rooms as fast as they are answered. No subscribers, so
 * delivery and its correctness are reported as not measured (null).
 */
final class PublishBench {

    private PublishBench() {
    }

    static Report run(Options o, long start) throws InterruptedException {
        String[] rooms = new String[o.rooms];
        for (int r = 0; r < rooms.length; r++) {
            rooms[r] = o.rooms == 1 ? o.room : o.room + "_" + r;
        }
        Ledger ledger = new Ledger(o.messages, rooms.length);
        Publishers publishers = new Publishers(o, ledger, rooms);
        RateMeter rate = new RateMeter("acks");
        boolean allPosted;
        try (Progress progress = new Progress(o.mode, start, () -> String.format("posted %d/%d acked %d %s",
                publishers.sent(), ledger.count, publishers.acked(), rate.next(publishers.acked())))) {
            publishers.start(start + (long) (o.timeoutSeconds * 1e9));
            allPosted = publishers.await();
        }
        Report report = new Report(o, start);
        if (!allPosted) {
            report.timedOut("publishing");
        }
        Histogram latency = publishers.latency();
        return report.put("rooms", rooms.length)
                .put("posts_sent", publishers.sent()).put("posts_acked", publishers.acked())
                .put("posts_per_s", Report.perSecond(publishers.acked(), publishers.endedAt - publishers.t0))
                .put("latency_ms", Report.latency(latency)).put("post_latency_ms", Report.latency(latency))
                .notMeasured("deliveries", "deliveries_per_s", "missing", "duplicates", "out_of_order", "seq_gaps",
                        "subscribers_with_errors")
                .put("errors", publishers.errors())
                .failIf(!publishers.errors().isEmpty());
    }
}
