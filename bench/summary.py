"""Medians of bench/suite's runs, per scenario and target, and pgchat's ratios to Nchan and pgbench."""
import json
import statistics
import sys
from collections import defaultdict

runs = defaultdict(list)
for line in open(sys.argv[1]):
    record = json.loads(line)
    result = record["result"]
    runs[(record["scenario"], result.get("target", "-"))].append(result)


def median(results, *path):
    values = []
    for r in results:
        for key in path:
            r = r.get(key) if isinstance(r, dict) else None
        if isinstance(r, (int, float)):
            values.append(r)
    return statistics.median(values) if values else None


def show(value, digits=0):
    return "-" if value is None else f"{value:,.{digits}f}"


print("| scenario | target | runs | deliveries/s | posts/s | latency p50 ms | p99 ms | max ms | lost+dup+disorder |")
print("|---|---|---|---|---|---|---|---|---|")
for (scenario, target), results in runs.items():
    if scenario.startswith("memory_") or scenario == "pgbench":
        continue
    faults = sum(sum(r.get(k) or 0 for k in ("missing", "duplicates", "out_of_order", "seq_gaps",
                                              "pos_out_of_order", "wrong_room")) for r in results)
    print(f"| {scenario} | {target} | {len(results)} | {show(median(results, 'deliveries_per_s'))} "
          f"| {show(median(results, 'posts_per_s'))} | {show(median(results, 'latency_ms', 'p50'), 1)} "
          f"| {show(median(results, 'latency_ms', 'p99'), 1)} | {show(median(results, 'latency_ms', 'max'), 1)} "
          f"| {faults} |")
    if scenario.startswith("storm"):
        print(f"|  | resumed half live again (p50 / p99 / max ms) | | "
              f"{show(median(results, 'storm', 'catch_up_ms', 'p50'))} / "
              f"{show(median(results, 'storm', 'catch_up_ms', 'p99'))} / "
              f"{show(median(results, 'storm', 'catch_up_ms', 'max'))} | | "
              f"undisturbed p99 {show(median(results, 'storm', 'undisturbed_latency_ms', 'p99'), 1)} | | | |")

print()
for scenario in sorted({s for s, _ in runs}):
    pg, nchan = runs.get((scenario, "pgchat")), runs.get((scenario, "nchan"))
    if pg and nchan:
        d = (median(pg, "deliveries_per_s") or 0) / (median(nchan, "deliveries_per_s") or float("nan"))
        p99 = (median(pg, "latency_ms", "p99") or 0) / (median(nchan, "latency_ms", "p99") or float("nan"))
        print(f"{scenario}: pgchat/Nchan deliveries/s x{d:.2f}, p99 latency x{p99:.2f} (below 1: pgchat faster)")

ceilings = runs.get(("pgbench", "-"))
if ceilings:
    print()
    names = ("plain_insert", "post_1000_rooms", "post_one_room", "post_1000_rooms_no_notify")
    values = {name: median(ceilings, name, "tps") for name in names}
    print("pgbench (16 clients, medians, tps): " + ", ".join(f"{n} {show(v)}" for n, v in values.items()))
    for scenario, ceiling in (("publish_1000_rooms", "post_1000_rooms"), ("publish_one_room", "post_one_room")):
        posts = median(runs.get((scenario, "pgchat"), []), "posts_per_s")
        if posts and values["plain_insert"]:
            print(f"{scenario}: {show(posts)} posts/s = {posts / values['plain_insert']:.0%} of plain INSERT, "
                  f"x{posts / values[ceiling]:.1f} the naive post transaction ({ceiling})")

per_stream = {}
for scenario, label in (("memory_10k", "one room each"), ("memory_multiroom_10k", "20 of 1,000 rooms each")):
    memory = runs.get((scenario, "-"))
    if memory:
        m = memory[0]
        heap = (m["at_10k"]["heap_kib"] - m["before"]["heap_kib"]) / 10000
        rss = (m["at_10k"]["rss_kib"] - m["before"]["rss_kib"]) / 10000
        per_stream[scenario] = (heap, rss)
        print()
        print(f"memory per stream at 10,000 streams of {label}: heap {heap:.1f} KiB, RSS {rss:.1f} KiB; "
              f"PostgreSQL connections {m['pg_connections']} (pool {m['pool']} + LISTEN 1)")
if len(per_stream) == 2:
    (h1, r1), (hm, rm) = per_stream["memory_10k"], per_stream["memory_multiroom_10k"]
    print(f"multi-room stream / one-room stream: heap x{hm / h1:.2f}, RSS x{rm / r1:.2f}")
