#!/usr/bin/env bash
# Issue 23 (stitched MP3s): the segment-aware frame walk must not slow the probe of an
# ordinary file. Runs the probe of the branch's base commit and of the working tree side by
# side (hyperfine, whole process per run) on the 40-minute single-segment VBR MP3 of
# probe-vs-peers.sh, and reports the ratio of medians (target: new ≤ 1.10 × base).
#
# Usage:   bash benches/probe-stitched-regression.sh
# Env:     BASE         commit to compare with (default: merge-base of HEAD and main)
#          BENCH_FILE   measure this MP3 (encoded there first when it does not exist)
#          BENCH_SECONDS length of the encoded file (default 2400)
#          RUNS         hyperfine runs per command (default 40)
#          OUT          where to write the raw hyperfine JSON (default: temp dir)
# Needs:   git, cargo, sox, lame, hyperfine, /usr/bin/python3.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BASE=${BASE:-$(git -C "$ROOT" merge-base HEAD main)}
SECS=${BENCH_SECONDS:-2400}
RUNS=${RUNS:-40}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The base is built in a clone with its own target dir, seeded with a copy of the worktree's
# release build so that dependencies are not compiled again. (Sharing one target dir does not
# work: cargo hashes path packages relative to the workspace, so the two builds would
# overwrite each other's artifacts.)
git clone -q --no-checkout "$ROOT" "$TMP/base"
git -C "$TMP/base" checkout -q "$BASE"
(cd "$ROOT" && cargo build --release -q)
cp "$ROOT/target/release/chapmark" "$TMP/chapmark-new"
mkdir -p "$TMP/target"
cp -a "$ROOT/target/release" "$TMP/target/release"
(cd "$TMP/base" && CARGO_TARGET_DIR="$TMP/target" cargo build --release -q)
cp "$TMP/target/release/chapmark" "$TMP/chapmark-base"
rm -rf "$TMP/target"
cmp -s "$TMP/chapmark-base" "$TMP/chapmark-new" && { echo "FAIL: both builds are the same binary"; exit 1; }

if [ -n "${BENCH_FILE:-}" ] && [ -f "$BENCH_FILE" ]; then
  MP3=$BENCH_FILE
else
  MP3=${BENCH_FILE:-$TMP/vbr-noxing-${SECS}s.mp3}
  sox -R -r 44100 -c 2 -n -b 16 -t wav - synth "$SECS" pinknoise vol 0.05 synth "$SECS" sine mix 100-8000 2>/dev/null |
    lame --quiet -V 5 -t - "$MP3"
fi
echo "file: $MP3 ($(stat -c %s "$MP3") bytes); base $(git -C "$ROOT" rev-parse --short "$BASE") vs working tree"
same=$("$TMP/chapmark-base" probe --json "$MP3" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"])')
new=$("$TMP/chapmark-new" probe --json "$MP3" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["samples"])')
echo "samples: base $same, new $new"
[ "$same" = "$new" ] || { echo "FAIL: the length changed"; exit 1; }

# The machine is shared: run the two in alternating blocks (base first, then new first, …)
# so load that comes and goes hits both alike, and compare medians over all blocks.
JSON=${OUT:-$TMP/h.json}
BLOCKS=4
for i in $(seq 1 $BLOCKS); do
  a=(-n base "$TMP/chapmark-base probe --json $MP3"); b=(-n new "$TMP/chapmark-new probe --json $MP3")
  if [ $((i % 2)) = 1 ]; then order=("${a[@]}" "${b[@]}"); else order=("${b[@]}" "${a[@]}"); fi
  hyperfine -N --warmup 3 --runs $((RUNS / BLOCKS)) --style none --export-json "$TMP/h$i.json" "${order[@]}" >/dev/null
done
/usr/bin/python3 - "$JSON" "$TMP" "$BLOCKS" <<'PY'
import json, statistics, sys
out, tmp, blocks = sys.argv[1], sys.argv[2], int(sys.argv[3])
times = {"base": [], "new": []}
for i in range(1, blocks + 1):
    for r in json.load(open(f"{tmp}/h{i}.json"))["results"]:
        times[r["command"]] += r["times"]
json.dump({"blocks": blocks, "times": times}, open(out, "w"), indent=1)
print(f"{'':5} {'median':>8} {'mean':>8} {'± sd':>7} {'min':>7}  (ms, {len(times['base'])} runs each)")
for name, t in times.items():
    print(f"{name:5} {statistics.median(t)*1e3:8.2f} {statistics.mean(t)*1e3:8.2f} "
          f"{statistics.stdev(t)*1e3:7.2f} {min(t)*1e3:7.2f}")
ratio = statistics.median(times["new"]) / statistics.median(times["base"])
print(f"new / base (medians): {ratio:.3f} -> {'PASS' if ratio <= 1.10 else 'FAIL'} (target <= 1.10)")
sys.exit(0 if ratio <= 1.10 else 1)
PY
