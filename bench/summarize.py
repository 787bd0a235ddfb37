#!/usr/bin/env python3
"""Reads the rows bench/compare.sh printed and prints the medians over its rounds, then the
ratios against PostGraphile in two processes: requests/s (higher is better for hiregraph) and
p99 (lower is better)."""
import statistics
import sys
from collections import defaultdict

COLUMNS = ["req/s", "p50 ms", "p99 ms", "server µs/req", "Postgres µs/req", "driver µs/req", "RSS MiB", "errors"]
runs = defaultdict(list)
order = []
for line in open(sys.argv[1], encoding="utf-8"):
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 2 + len(COLUMNS):
        continue
    key = (cells[0], cells[1])
    if key not in runs:
        order.append(key)
    runs[key].append([float(c) for c in cells[2:]])


def median(key, column):
    values = [r[COLUMNS.index(column)] for r in runs.get(key, [])]
    if not values:
        return None
    if column in ("RSS MiB", "errors"):
        return max(values) if column == "RSS MiB" else sum(values)
    return statistics.median(values)


def cell(value, digits=0):
    return "–" if value is None else f"{value:,.{digits}f}"


rounds = max((len(v) for v in runs.values()), default=0)
print(f"\nMedians of {rounds} rounds (RSS: the largest; errors: all rounds):\n")
print("| server | query | " + " | ".join(COLUMNS) + " |")
print("| --- | --- |" + " --- |" * len(COLUMNS))
for key in order:
    digits = {"p50 ms": 2, "p99 ms": 2}
    print(f"| {key[0]} | {key[1]} | " + " | ".join(cell(median(key, c), digits.get(c, 0)) for c in COLUMNS) + " |")

queries = list(dict.fromkeys(q for _, q in order))
peer = "PostGraphile ×2"
print(f"\nhiregraph ÷ {peer}, same sitting:\n")
print("| query | req/s, cache off | req/s, cache on | p99, cache off | p99, cache on | server CPU/req, cache off |")
print("| --- | --- | --- | --- | --- | --- |")
for q in queries:
    def ratio(label, column, invert=False):
        ours, theirs = median((label, q), column), median((peer, q), column)
        if not ours or not theirs:
            return "–"
        return f"{(theirs / ours if invert else ours / theirs):.2f}"
    print(f"| {q} | {ratio('hiregraph cache off', 'req/s')} | {ratio('hiregraph cache on', 'req/s')} | "
          f"{ratio('hiregraph cache off', 'p99 ms')} | {ratio('hiregraph cache on', 'p99 ms')} | "
          f"{ratio('hiregraph cache off', 'server µs/req')} |")
