package io.pgchat.bench;

/**
 * pgchat-bench: load and correctness for pgchat (and Nchan, to compare). Progress goes to stderr;
 * the last line on stdout is the result as JSON. Exit 0 when everything arrived once and in order,
 * 1 when not (or a subscriber could not connect, or the run timed out), 2 for a bad command line.
 */
public final class Bench {

    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("pgchat-bench: " + e.getMessage());
            System.err.println("usage: java -jar pgchat-bench.jar fanout|rooms|publish|catchup|storm|multiroom [--flag value]...");
            System.exit(2);
            return;
        }
        long start = System.nanoTime();
        Report report = switch (options.mode) {
            case "publish" -> PublishBench.run(options, start);
            case "catchup" -> CatchupBench.run(options, start);
            default -> new LiveBench(options, start).run();
        };
        report.put("elapsed_s", Report.seconds(System.nanoTime() - start));
        System.out.println(report.toJson());
        System.out.flush();
        System.exit(report.exitStatus());
    }
}
