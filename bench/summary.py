"""Medians of bench/suite's runs, per scenario and target, and pgchat's ratios to Nchan and pgbench.

Medians are of the runs that passed. A run that failed (non-zero exit: something lost, duplicated or
out of order, a failed post or subscriber, the tool's own timeout) or was killed by the suite's
RUN_TIMEOUT gets a FAILED or TIMEOUT row of its own, with its figures and why, and the summary exits
3 when there is one. Records of suites before the exit status was kept count as failed when they
report a fault. Correctness a run did not measure (publish has no subscribers) shows as "n/m", never 0.
"""
import json
import statistics
import sys
from collections import defaultdict

CHECKS = ("missing", "duplicates", "out_of_order", "seq_gaps")
MULTIROOM_CHECKS = ("pos_out_of_order", "wrong_room")
KILLED = (124, 137)  # timeout(1): the run outlived RUN_TIMEOUT

runs = defaultdict(list)
failures = defaultdict(list)
order = {}  # (scenario, target) in the order of the file
for line in open(sys.argv[1]):
    record = json.loads(line)
    result = record.get("result") or {}
    # Records of older suites have no "target" or "exit" of their own.
    key = (record["scenario"], record.get("target") or result.get("target", "-"))
    order.setdefault(key, len(order))
    status = record.get("exit")
    reported = [result.get(k) for k in CHECKS + MULTIROOM_CHECKS + ("subscribers_with_errors",
                                                                    "subscribers_never_connected")]
    faulty = any(v for v in reported if isinstance(v, (int, float)))
    if status not in (0, None) or not result or "timeout" in result or faulty:
        failures[key].append((record.get("run"), status, result))
    else:
        runs[key].append(result)


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


def faults(results):
    """Lost + duplicated + out of order + gaps over these runs, or n/m when a run did not measure them."""
    if not results:
        return "-"
    total = 0
    caveat = ""
    for r in results:
        values = [r.get(k) for k in CHECKS]
        if r.get("mode") == "publish" or any(v is None for v in values):
            return "n/m"
        total += sum(values) + sum(r.get(k) or 0 for k in MULTIROOM_CHECKS)
        # Before order_checked_by, Nchan's one-room order was checked with one publisher only, gaps never.
        if r.get("target") == "nchan" and r.get("mode") != "multiroom" and "order_checked_by" not in r:
            caveat = " (order and gaps n/m)" if r.get("parameters", {}).get("publishers") != 1 else " (gaps n/m)"
    return f"{total}{caveat}"


def figures(results):
    return (f"{show(median(results, 'deliveries_per_s'))} | {show(median(results, 'posts_per_s'))} "
            f"| {show(median(results, 'latency_ms', 'p50'), 1)} | {show(median(results, 'latency_ms', 'p99'), 1)} "
            f"| {show(median(results, 'latency_ms', 'max'), 1)}")


def failure(status, result):
    if status in KILLED:
        return "TIMEOUT", f"killed by the suite after RUN_TIMEOUT (exit {status})"
    if "timeout" in result:
        return "TIMEOUT", f"the tool's --timeout, while {result['timeout']} (exit {status})"
    if not result:
        return "FAILED", f"exit {status}, no result"
    seen = {k: result[k] for k in CHECKS + MULTIROOM_CHECKS + ("subscribers_never_connected",) if result.get(k)}
    if result.get("errors"):
        seen["errors"] = result["errors"]
    return "FAILED", f"{'exit ' + str(status) if status is not None else 'exit not recorded'}: " \
                     f"{json.dumps(seen) if seen else 'see the raw result'}"


live = [k for k in order if not k[0].startswith("memory_") and k[0] != "pgbench"]
print("| scenario | target | publishers | runs passed | deliveries/s | posts/s | latency p50 ms | p99 ms | max ms "
      "| lost+dup+disorder+gaps |")
print("|---|---|---|---|---|---|---|---|---|---|")
for scenario, target in live:
    results, failed = runs.get((scenario, target), []), failures.get((scenario, target), [])
    every = results + [r for _, _, r in failed if r]
    # catchup posts only to fill its room, before it measures
    publishers = None if all(r.get("mode") == "catchup" for r in every) else median(every, "parameters", "publishers")
    print(f"| {scenario} | {target} | {show(publishers)} | {len(results)} of {len(results) + len(failed)} "
          f"| {figures(results)} | {faults(every)} |")
    for run, status, result in failed:
        verdict, why = failure(status, result)
        print(f"| {scenario} | {target} | | **{verdict}** run {run} | {figures([result])} | {why} |")
    if scenario.startswith("storm") and results:
        print(f"|  | resumed half live again (p50 / p99 / max ms) | | | "
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

# The burst figure depends on how many post at once (pgchat's group commit batches concurrent posts).
for target in ("pgchat", "nchan"):
    four, one = runs.get(("fanout_10k_burst", target)), runs.get(("fanout_10k_burst_1_publisher", target))
    if four and one:
        print(f"burst of 300 to 10,000 streams, {target}: {show(median(four, 'deliveries_per_s'))} deliveries/s "
              f"with 4 publishers, {show(median(one, 'deliveries_per_s'))} with 1")

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

failed_elsewhere = [(k, f) for k, f in failures.items() if k not in live]
if failed_elsewhere:
    print()
    for (scenario, target), failed in failed_elsewhere:
        for run, status, result in failed:
            verdict, why = failure(status, result)
            print(f"{verdict}: {scenario} run {run}, {why}; not in the figures above")

if failures:
    print()
    print(f"{sum(len(f) for f in failures.values())} run(s) FAILED or TIMEOUT: see the rows above")
    sys.exit(3)
