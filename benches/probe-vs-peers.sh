#!/usr/bin/env bash
# chapmark's exact probe against its peers, whole process per run:
#
#  1. exactness: every committed fixture (fixtures/audio/truth.json) through CHAPMARK_CMD;
#  2. a 40-minute VBR MP3 *without* a Xing header (lame -V 5 -t of a sine sweep over pink
#     noise, so frame sizes vary), measured by chapmark, ffprobe, ffprobe -count_packets and
#     mutagen: the duration each reports, its error against the exact length, and the time
#     per process (hyperfine), with the ratios the issue asks for (≥ 10× faster than
#     ffprobe -count_packets, ≥ 2× faster than mutagen);
#  3. peak memory (max RSS) of chapmark on the 40-minute file vs a 1-second one.
#
# Usage:   bash benches/probe-vs-peers.sh
# Env:     CHAPMARK_CMD  command printing one JSON line per file (default: the release
#                        build's `chapmark probe --json`)
#          BENCH_SECONDS length of the long file (default 2400)
#          RUNS          hyperfine runs per command (default 30)
#          KEEP          keep the temp dir (default: removed)
#          BENCH_FILE    measure this MP3 instead of encoding a new one (saves ~1 min)
# Needs:   sox, lame, ffprobe, hyperfine, /usr/bin/python3 with mutagen, /usr/bin/time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
SECS=${BENCH_SECONDS:-2400}
RUNS=${RUNS:-30}
if [ -z "${CHAPMARK_CMD:-}" ]; then
  (cd "$ROOT" && cargo build --release -q)
  CHAPMARK_CMD="$ROOT/target/release/chapmark probe --json"
fi
TMP=$(mktemp -d)
if [ -z "${KEEP:-}" ]; then trap 'rm -rf "$TMP"' EXIT; else echo "temp dir: $TMP"; fi
FIX="$ROOT/fixtures/audio"

echo "== 1. exactness on the committed fixtures ($CHAPMARK_CMD)"
fail=0
while IFS=$'\t' read -r file want kind; do
  if [ "$kind" = error ]; then
    if $CHAPMARK_CMD "$FIX/$file" >/dev/null 2>"$TMP/err"; then
      echo "  FAIL $file: expected an error ($want), got a result"; fail=1
    else
      rc=$?
      [ "$rc" = 3 ] || { echo "  FAIL $file: exit code $rc, want 3"; fail=1; }
    fi
    continue
  fi
  got=$($CHAPMARK_CMD "$FIX/$file" | $PY -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["samples"])') || got="error"
  if [ "$got" != "$want" ]; then echo "  FAIL $file: $got samples, want $want"; fail=1; fi
done < <($PY - "$FIX/truth.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
for r in t["fixtures"]:
    print(f'{r["file"]}\t{r["samples"]}\tok')
for r in t["errors"]:
    print(f'{r["file"]}\t{r["error"]}\terror')
EOF
)
n=$($PY -c "import json; t=json.load(open('$FIX/truth.json')); print(len(t['fixtures']), '+', len(t['errors']))")
[ $fail = 0 ] && echo "  all exact: $n fixtures (+ error cases, exit code 3)" || echo "  NOT all exact"

echo "== 2. a ${SECS} s VBR MP3 without a Xing header"
if [ -n "${BENCH_FILE:-}" ]; then
  MP3=$BENCH_FILE
else
  MP3="$TMP/vbr-noxing-${SECS}s.mp3"
  sox -R -r 44100 -c 2 -n -b 16 -t wav - synth "$SECS" pinknoise vol 0.05 synth "$SECS" sine mix 100-8000 2>/dev/null |
    lame --quiet -V 5 -t - "$MP3"
fi
SHORT="$FIX/pcm16-mono.wav"
frames=$(ffprobe -v error -count_packets -select_streams a:0 -show_entries stream=nb_read_packets -of default=nw=1:nk=1 "$MP3")
echo "  file: $(stat -c %s "$MP3") bytes, $frames frames (ffprobe -count_packets) → exact $frames × 1152 samples"

# What each tool reports.
cm_json=$($CHAPMARK_CMD "$MP3")
cm=$(echo "$cm_json" | $PY -c 'import json,sys; d=json.loads(sys.stdin.readline()); print(d["samples"]/d["sample_rate"], d["frames"])')
ffp=$(ffprobe -v error -show_entries format=duration -of default=nw=1:nk=1 "$MP3")
ffc=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets,duration -of default=nw=1:nk=1 "$MP3" | tr '\n' ' ')
mut=$($PY -c 'import sys, mutagen.mp3; print(mutagen.mp3.MP3(sys.argv[1]).info.length)' "$MP3")

CM_CMD="$CHAPMARK_CMD $MP3"
FFP_CMD="ffprobe -v error -show_entries format=duration -of csv=p=0 $MP3"
FFC_CMD="ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 $MP3"
MUT_CMD="$PY -c 'import sys, mutagen.mp3; print(mutagen.mp3.MP3(sys.argv[1]).info.length)' $MP3"
hyperfine -N --warmup 3 --runs "$RUNS" --style none --export-json "$TMP/h.json" \
  -n chapmark "$CM_CMD" -n ffprobe "$FFP_CMD" -n "ffprobe -count_packets" "$FFC_CMD" -n mutagen "$MUT_CMD" >/dev/null

echo "== 3. peak memory"
rss_long=$( { /usr/bin/time -f %M $CHAPMARK_CMD "$MP3" >/dev/null; } 2>&1 | tail -n1)
rss_short=$( { /usr/bin/time -f %M $CHAPMARK_CMD "$SHORT" >/dev/null; } 2>&1 | tail -n1)
echo "  chapmark max RSS: ${rss_long} KiB on the ${SECS} s file, ${rss_short} KiB on a 1 s wav"

$PY - "$TMP/h.json" "$frames" "$cm" "$ffp" "$ffc" "$mut" <<'EOF'
import json, sys
h = json.load(open(sys.argv[1]))
frames = int(sys.argv[2])
exact = frames * 1152 / 44100
cm_secs, cm_frames = sys.argv[3].split()
ffc = sys.argv[5].split()
reported = {
    "chapmark": float(cm_secs),
    "ffprobe": float(sys.argv[4]),
    "ffprobe -count_packets": int(ffc[-1]) * 1152 / 44100,
    "mutagen": float(sys.argv[6]),
}
notes = {
    "chapmark": f"{cm_frames} frames walked",
    "ffprobe": "estimate from the first frames",
    "ffprobe -count_packets": f"{ffc[-1]} packets x 1152 (its duration field says {ffc[0]} s)",
    "mutagen": "estimate",
}
t = {r["command"]: r for r in h["results"]}
# Ratios on medians: the machine is shared, and a few runs hit by other processes move the
# mean far more than the median.
base = t["chapmark"]["median"]
print(f"== results (exact: {exact:.3f} s; {len(t['chapmark']['times'])} runs each, whole process, ms)")
print(f"  {'tool':24} {'reports (s)':>12} {'error (s)':>10} {'median':>7} {'mean':>7} {'± sd':>6} {'min':>6} {'x chapmark':>10}")
for name in ["chapmark", "ffprobe", "ffprobe -count_packets", "mutagen"]:
    r = t[name]
    d = reported[name]
    print(f"  {name:24} {d:12.3f} {d - exact:10.3f} {r['median']*1e3:7.1f} {r['mean']*1e3:7.1f} "
          f"{r['stddev']*1e3:6.1f} {r['min']*1e3:6.1f} {r['median']/base:9.1f}x   {notes[name]}")
ok_exact = int(cm_frames) == frames
ok_ffc = t["ffprobe -count_packets"]["median"] / base >= 10
ok_mut = t["mutagen"]["median"] / base >= 2
print(f"  exact frame count: {'PASS' if ok_exact else 'FAIL'}; "
      f">=10x faster than ffprobe -count_packets: {'PASS' if ok_ffc else 'FAIL'}; "
      f">=2x faster than mutagen: {'PASS' if ok_mut else 'FAIL'}")
sys.exit(0 if ok_exact else 1)
EOF
exit $fail
