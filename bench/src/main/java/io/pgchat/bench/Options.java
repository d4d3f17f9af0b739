package io.pgchat.bench;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The command line: a mode, then `--flag value` pairs. Every flag, its default and meaning is in README.md. */
final class Options {

    private static final Map<String, String> DEFAULTS = new LinkedHashMap<>();
    /** multiroom's own defaults: the scenario, 10,000 streams of 20 of 1,000 rooms at 1,000 msg/s. */
    private static final Map<String, String> MULTIROOM_DEFAULTS = new LinkedHashMap<>();

    static {
        DEFAULTS.put("target", "pgchat");
        DEFAULTS.put("url", "");
        DEFAULTS.put("subscribers", "1000");
        DEFAULTS.put("messages", "300");
        DEFAULTS.put("rate", "0");
        DEFAULTS.put("publishers", "16");
        DEFAULTS.put("rooms", "1");
        DEFAULTS.put("subscribers-per-room", "10");
        DEFAULTS.put("size", "64");
        DEFAULTS.put("room", "");
        DEFAULTS.put("behind", "100000");
        DEFAULTS.put("seconds", "20");
        DEFAULTS.put("storm-after", "5");
        DEFAULTS.put("drain-seconds", "10");
        DEFAULTS.put("timeout", "300");
        DEFAULTS.put("connects-in-flight", "500");
        DEFAULTS.put("io-threads", "1");
        DEFAULTS.put("rooms-per-stream", "20");
        DEFAULTS.put("seed", "1");
        MULTIROOM_DEFAULTS.put("subscribers", "10000");
        MULTIROOM_DEFAULTS.put("rooms", "1000");
        MULTIROOM_DEFAULTS.put("rate", "1000");
    }

    static final Set<String> MODES = Set.of("fanout", "rooms", "publish", "catchup", "storm", "multiroom");

    final String mode;
    final Target target;
    final URI url;
    final int subscribers;
    final int messages;
    final double rate;
    final int publishers;
    final int rooms;
    final int subscribersPerRoom;
    final int size;
    final String room;
    final int behind;
    final double seconds;
    final double stormAfter;
    final double drainSeconds;
    final double timeoutSeconds;
    final int connectsInFlight;
    final int ioThreads;
    final int roomsPerStream;
    final long seed;
    /** The flags as given or defaulted, for the report. */
    final Map<String, Object> parameters = new LinkedHashMap<>();

    private Options(String mode, Map<String, String> given) {
        this.mode = mode;
        Map<String, String> v = new LinkedHashMap<>(DEFAULTS);
        if (mode.equals("multiroom")) {
            v.putAll(MULTIROOM_DEFAULTS);
        }
        v.putAll(given);
        target = Target.parse(v.get("target"));
        String defaultUrl = target == Target.PGCHAT ? "http://127.0.0.1:8080" : "http://127.0.0.1:8090";
        url = URI.create(v.get("url").isEmpty() ? defaultUrl : v.get("url"));
        subscribers = positive(v, "subscribers");
        messages = positive(v, "messages");
        rate = Double.parseDouble(v.get("rate"));
        publishers = positive(v, "publishers");
        rooms = positive(v, "rooms");
        subscribersPerRoom = positive(v, "subscribers-per-room");
        size = positive(v, "size");
        behind = positive(v, "behind");
        seconds = Double.parseDouble(v.get("seconds"));
        stormAfter = Double.parseDouble(v.get("storm-after"));
        drainSeconds = Double.parseDouble(v.get("drain-seconds"));
        timeoutSeconds = Double.parseDouble(v.get("timeout"));
        connectsInFlight = positive(v, "connects-in-flight");
        ioThreads = positive(v, "io-threads");
        roomsPerStream = positive(v, "rooms-per-stream");
        seed = Long.parseLong(v.get("seed"));
        // A fresh room per run, so a new subscriber's stream starts empty and nothing of earlier runs
        // is counted; catchup reuses one room, so its prefill is paid once.
        String defaultRoom = mode.equals("catchup") ? "bench_catchup" : "bench" + System.currentTimeMillis();
        room = v.get("room").isEmpty() ? defaultRoom : v.get("room");
        if (!room.matches("[A-Za-z0-9_-]{1,48}")) {
            throw new IllegalArgumentException("--room must be 1-48 of A-Z a-z 0-9 _ -");
        }
        if ((mode.equals("storm") || mode.equals("multiroom")) && rate <= 0) {
            throw new IllegalArgumentException(mode + " publishes continuously: give --rate > 0");
        }
        if (mode.equals("multiroom") && roomsPerStream > rooms) {
            throw new IllegalArgumentException("--rooms-per-stream must be at most --rooms");
        }
        if (mode.equals("catchup") && target == Target.NCHAN) {
            throw new IllegalArgumentException("catchup measures resuming from pgchat's table with Last-Event-ID;"
                    + " Nchan keeps only a bounded in-memory buffer with ids of its own, so it is pgchat only");
        }
        v.forEach((k, value) -> parameters.put(k, number(value)));
        parameters.put("url", url.toString());
        parameters.put("room", room);
    }

    static Options parse(String[] args) {
        if (args.length == 0 || !MODES.contains(args[0])) {
            throw new IllegalArgumentException("first argument: one of " + MODES + " (see bench/README.md)");
        }
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 1; i < args.length; i++) {
            String flag = args[i];
            if (!flag.startsWith("--") || !DEFAULTS.containsKey(flag.substring(2))) {
                throw new IllegalArgumentException("unknown flag " + flag + "; flags: " + DEFAULTS.keySet());
            }
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(flag + " needs a value");
            }
            given.put(flag.substring(2), args[++i]);
        }
        return new Options(args[0], given);
    }

    /** Numbers as JSON numbers in the report's parameters. */
    private static Object number(String value) {
        if (value.matches("-?\\d{1,18}")) {
            return Long.valueOf(value);
        }
        return value.matches("-?\\d+\\.\\d+") ? Double.valueOf(value) : value;
    }

    private static int positive(Map<String, String> v, String key) {
        int n = Integer.parseInt(v.get(key));
        if (n <= 0) {
            throw new IllegalArgumentException("--" + key + " must be > 0");
        }
        return n;
    }

    String host() {
        return url.getHost();
    }

    int port() {
        return url.getPort() > 0 ? url.getPort() : 80;
    }
}
