#!/usr/bin/env bash
# `chapmark plot` and `chapmark check --snap` against ffmpeg, whole process per run:
#
#  1. plot of a 40-minute MP3: `chapmark plot --no-cache` (decodes everything), `chapmark plot`
#     with its peaks cache, and `ffmpeg -filter_complex showwavespic` (1600×240 PNG);
#  2. snapping 10 chapter starts: `chapmark check --snap` (decodes ±2 s around each start plus
#     8 one-second samples) against `ffmpeg -af silencedetect` over the whole file;
#  3. peak memory (max RSS) of both chapmark commands on 10-minute, 40-minute and 3-hour files.
#
# Prints ratios of hyperfine medians. Targets (issue 18): snap ≥ 20× faster than
# silencedetect; plot faster than showwavespic; RSS independent of length.
#
# Usage:   bash benches/plot-snap-vs-ffmpeg.sh
# Env:     RUNS (hyperfine runs, default 10), KEEP (keep the temp dir), CHAPMARK (binary)
# Needs:   ffmpeg, hyperfine, /usr/bin/time, python3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-10}
if [ -z "${CHAPMARK:-}" ]; then
  (cd "$ROOT" && cargo build --release -q)
  CHAPMARK="$ROOT/target/release/chapmark"
fi
TMP=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; else echo "temp dir: $TMP"; fi

for secs in 600 2400 10800; do
  bash "$ROOT/benches/make-speechlike.sh" "$secs" "$TMP/ep$secs.mp3"
  # 10 chapters spread over the episode, typed on whole seconds.
  python3 - "$secs" > "$TMP/ep$secs.txt" <<'PY'
import sys
secs = int(sys.argv[1])
for k in range(10):
    t = k * secs // 10 + (37 if k else 0)
    print(f"{t // 3600}:{t // 60 % 60:02}:{t % 60:02} Chapter {k + 1}")
PY
done
EP="$TMP/ep2400.mp3"

echo "== 1. plot of a 40-minute MP3"
"$CHAPMARK" plot "$EP" -c "$TMP/ep2400.txt" -o "$TMP/warm.png" -q  # writes the cache
hyperfine -N -w 1 -r "$RUNS" --export-json "$TMP/plot.json" \
  -n "chapmark plot --no-cache" "$CHAPMARK plot $EP -c $TMP/ep2400.txt -o $TMP/a.png --no-cache -q" \
  -n "chapmark plot (cached)" "$CHAPMARK plot $EP -c $TMP/ep2400.txt -o $TMP/b.png -q" \
  -n "ffmpeg showwavespic" "ffmpeg -nostdin -v error -y -i $EP -filter_complex showwavespic=s=1600x240 -frames:v 1 $TMP/c.png"

echo "== 2. snap 10 chapters vs silencedetect over the whole file"
hyperfine -N -w 1 -r "$RUNS" -i --export-json "$TMP/snap.json" \
  -n "chapmark check --snap" "$CHAPMARK check $EP -c $TMP/ep2400.txt --snap --format json" \
  -n "ffmpeg silencedetect" "ffmpeg -nostdin -v info -i $EP -af silencedetect=n=-40dB:d=0.15 -f null -"

echo "== 3. peak RSS (KB) by length"
printf 'length\tplot --no-cache\tcheck --snap\n' > "$TMP/rss.tsv"
for secs in 600 2400 10800; do
  ep="$TMP/ep$secs.mp3"
  p=$( { /usr/bin/time -f %M "$CHAPMARK" plot "$ep" -c "$TMP/ep$secs.txt" -o "$TMP/r.png" --no-cache -q; } 2>&1 | tail -1)
  s=$( { /usr/bin/time -f %M "$CHAPMARK" check "$ep" -c "$TMP/ep$secs.txt" --snap --format json >/dev/null; } 2>&1 | tail -1)
  printf '%s\t%s\t%s\n' "$secs s" "$p" "$s" >> "$TMP/rss.tsv"
done
cat "$TMP/rss.tsv"

python3 - "$TMP/plot.json" "$TMP/snap.json" <<'PY'
import json, sys
def medians(path):
    return {r["command"]: r["median"] for r in json.load(open(path))["results"]}
plot, snap = medians(sys.argv[1]), medians(sys.argv[2])
print("== medians (s)")
for d in (plot, snap):
    for k, v in d.items():
        print(f"  {k:28} {v:.3f}")
pr = plot["ffmpeg showwavespic"] / plot["chapmark plot --no-cache"]
pc = plot["ffmpeg showwavespic"] / plot["chapmark plot (cached)"]
sr = snap["ffmpeg silencedetect"] / snap["chapmark check --snap"]
print(f"plot: showwavespic / chapmark --no-cache = {pr:.2f}x (target > 1); cached {pc:.1f}x")
print(f"snap: silencedetect / chapmark check --snap = {sr:.1f}x (target >= 20)")
PY
