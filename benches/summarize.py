#!/usr/bin/env python3
"""Summarises benches/batch-vs-peers.sh results (TSV: set, tool, wall µs, max RSS KiB)."""
import statistics
import sys
from collections import defaultdict

ORDER = ["chapmark-j1", "chapmark-j2", "chapmark-j2-nosync", "chapmark-rerun-j2",
         "chapmark-check-j2", "mutagen", "mutagen+sync", "ffmpeg-loop"]

runs = defaultdict(list)
rss = defaultdict(list)
sets = []
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        s, tool, us, kb = line.rstrip("\n").split("\t")
        if s not in sets:
            sets.append(s)
        runs[s, tool].append(int(us) / 1e6)
        rss[s, tool].append(int(kb))


def best(s, tool):
    return min(runs[s, tool]) if runs.get((s, tool)) else None


for s in sets:
    print(f"\n{s}")
    print(f"  {'tool':<20}{'runs':>5}{'best s':>10}{'median s':>10}{'worst s':>10}"
          f"{'spread':>8}{'peak RSS':>11}")
    tools = sorted({t for (ss, t) in runs if ss == s},
                   key=lambda t: ORDER.index(t) if t in ORDER else 99)
    for t in tools:
        r = runs[s, t]
        lo, med, hi = min(r), statistics.median(r), max(r)
        print(f"  {t:<20}{len(r):>5}{lo:>10.3f}{med:>10.3f}{hi:>10.3f}"
              f"{(hi - lo) / lo * 100:>7.0f}%{max(rss[s, t]) / 1024:>8.1f} MiB")
    j1, j2 = best(s, "chapmark-j1"), best(s, "chapmark-j2")
    ff, mu, ns = best(s, "ffmpeg-loop"), best(s, "mutagen"), best(s, "chapmark-j2-nosync")
    ck = best(s, "chapmark-check-j2")
    print("  ratios of best times:")
    if j1 and j2:
        print(f"    jobs 1 -> 2 speed-up          {j1 / j2:6.2f}x   (target >= 1.7x)")
    if ff and j2:
        print(f"    ffmpeg loop / chapmark -j2    {ff / j2:6.1f}x   (target >= 50x)")
    if mu and j2:
        print(f"    mutagen / chapmark -j2        {mu / j2:6.2f}x   (target > 1x)")
    mus = best(s, "mutagen+sync")
    if mus and j2:
        print(f"    mutagen+sync / chapmark -j2   {mus / j2:6.2f}x   (both durable on disk)")
    if mu and ns:
        print(f"    mutagen / chapmark -j2 nosync {mu / ns:6.2f}x   (fsync made a no-op)")
    if mu and ck:
        print(f"    mutagen / chapmark check -j2  {mu / ck:6.2f}x   (validation only)")
    if j2 and ns:
        print(f"    fsync share of chapmark -j2   {(j2 - ns) / j2 * 100:5.0f}%   (approximate: best vs best)")

cm = [t for t in ORDER if t.startswith("chapmark")]
print("\npeak RSS of chapmark by set (MiB):")
for s in sets:
    vals = [max(rss[s, t]) / 1024 for t in cm if (s, t) in rss]
    print(f"  {s:<8} {max(vals):6.1f}")
