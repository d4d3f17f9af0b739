package io.pgchat.bench;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The final result: one JSON object, the last line on stdout, and whether the run passed. */
final class Report {

    final Map<String, Object> fields = new LinkedHashMap<>();
    private final Options options;
    private boolean failed;

    Report(Options options, long startNanos) {
        this.options = options;
        fields.put("mode", options.mode);
        fields.put("target", options.target.label());
        fields.put("url", options.url.toString());
        fields.put("parameters", options.parameters);
        fields.put("elapsed_s", seconds(System.nanoTime() - startNanos));
    }

    Report put(String key, Object value) {
        fields.put(key, value);
        return this;
    }

    /** Marks the run as failed (exit status 1) when the condition holds. */
    Report failIf(boolean condition) {
        failed |= condition;
        return this;
    }

    Report timedOut(String during) {
        fields.put("timeout", during);
        failed = true;
        return this;
    }

    /** Missing, duplicated, out-of-order or gapped messages, or a subscriber that never connected, fail the run. */
    Report correctness(Subscribers.Tally t) {
        return correctness(t, false);
    }

    /** multiRoom: also pos_out_of_order and wrong_room, which only multi-room streams can have. */
    Report correctness(Subscribers.Tally t, boolean multiRoom) {
        put("missing", t.missing).put("duplicates", t.duplicates);
        put("out_of_order", t.outOfOrder).put("seq_gaps", t.seqGaps).put("order_checked_by", orderCheckedBy(multiRoom));
        if (multiRoom) {
            put("pos_out_of_order", t.posOutOfOrder).put("wrong_room", t.wrongRoom);
        }
        put("subscribers_with_errors", t.subscribersWithErrors).put("subscribers_never_connected", t.neverConnected);
        if (t.foreign > 0) {
            put("events_not_of_this_run", t.foreign);
        }
        return failIf(!t.clean());
    }

    /** What out_of_order and seq_gaps stand on, so that a reader knows what a 0 there means. */
    private String orderCheckedBy(boolean multiRoom) {
        boolean pgchat = options.target.idIsSeq();
        if (options.mode.equals("catchup")) {
            return "seq";
        }
        if (multiRoom) {
            return pgchat ? "room, seq, pos" : "room";
        }
        return pgchat ? "seq, publisher" : "publisher";
    }

    /**
     * For a run without subscribers: no message was followed, so nothing can be said of loss or
     * order. null ("not measured"), never a 0 that reads as a clean result.
     */
    Report notMeasured(String... keys) {
        for (String key : keys) {
            put(key, null);
        }
        return this;
    }

    int exitStatus() {
        return failed ? 1 : 0;
    }

    static Map<String, Object> latency(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.count());
        m.put("p50", millis(h.percentile(50)));
        m.put("p90", millis(h.percentile(90)));
        m.put("p99", millis(h.percentile(99)));
        m.put("max", millis(h.max()));
        return m;
    }

    static double seconds(long nanos) {
        return Math.round(nanos / 1e6) / 1e3;
    }

    static double perSecond(long count, long nanos) {
        return nanos <= 0 ? 0 : Math.round(count * 1e10 / nanos) / 10.0;
    }

    private static double millis(long micros) {
        return micros / 1000.0;
    }

    String toJson() {
        StringBuilder out = new StringBuilder();
        write(out, fields);
        return out.toString();
    }

    private static void write(StringBuilder out, Object value) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Map<?, ?> map) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.append(first ? "" : ",");
                first = false;
                write(out, String.valueOf(e.getKey()));
                out.append(':');
                write(out, e.getValue());
            }
            out.append('}');
        } else if (value instanceof Collection<?> list) {
            out.append('[');
            boolean first = true;
            for (Object o : list) {
                out.append(first ? "" : ",");
                first = false;
                write(out, o);
            }
            out.append(']');
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else {
            quote(out, value.toString());
        }
    }

    private static void quote(StringBuilder out, String s) {
        out.append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
