package io.pgchat.bench;

/** publish: C clients post M messages over K rooms as fast as they are answered; no subscribers. */
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
                .put("deliveries", 0).put("deliveries_per_s", 0)
                .put("latency_ms", Report.latency(latency)).put("post_latency_ms", Report.latency(latency))
                .put("missing", 0).put("duplicates", 0).put("out_of_order", 0).put("subscribers_with_errors", 0)
                .put("errors", publishers.errors())
                .failIf(!publishers.errors().isEmpty());
    }
}
