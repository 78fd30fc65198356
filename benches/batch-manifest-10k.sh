#!/usr/bin/env bash
# Benchmark: `chapmark batch` over a manifest of many tiny episodes: peak memory must not grow
# with the number of episodes (nothing per episode is kept once its report line is written),
# and throughput is reported in episodes per second.
#
# For each COUNT (default "1000 10000") the script generates COUNT copies of one small MP3
# fixture (fixtures/mp3/notag.mp3, 3 s, 12 KB) in a fresh folder, all sharing one show-notes
# file, lists them in a CSV manifest, and runs:
#
#   check   chapmark batch MANIFEST --check --report R   (validation only; REPEAT runs)
#   write   chapmark batch MANIFEST --report R           (first write into fresh copies: every
#                                                         episode written crash-safely, with its
#                                                         fsyncs; one run, the copies are made
#                                                         and synced before it)
#
# Peak memory is GNU time's maximum resident set size; wall time is GNU time's elapsed time.
# The raw lines go to OUT (default benches/results-manifest-10k.txt), a summary to stdout.
#
# Usage: benches/batch-manifest-10k.sh
# Environment: COUNTS (default "1000 10000"), REPEAT (check runs per count, default 3), JOBS
#   (--jobs, default 2), BENCH_DIR (default a new folder under /tmp, removed at the end),
#   CHAPMARK (a chapmark binary; default: cargo build --release), OUT.
# Needs: GNU time (/usr/bin/time).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
counts=${COUNTS:-"1000 10000"}
repeat=${REPEAT:-3}
jobs=${JOBS:-2}
out=${OUT:-$here/benches/results-manifest-10k.txt}
if [[ -z "${CHAPMARK:-}" ]]; then
  (cd "$here" && cargo build --release --quiet --bin chapmark)
  CHAPMARK=$here/target/release/chapmark
fi
base=${BENCH_DIR:-$(mktemp -d /tmp/chapmark-10k.XXXXXX)}
trap 'rm -rf "$base"' EXIT
src=$here/fixtures/mp3/notag.mp3

# make COUNT DIR: COUNT episodes, one notes file, a manifest.
make() {
  local n=$1 dir=$2
  rm -rf "$dir"
  mkdir -p "$dir/eps"
  printf '00:00 Intro\n00:01 Main topic\n00:02 Goodbye\n' > "$dir/notes.txt"
  echo "audio,chapters" > "$dir/episodes.csv"
  for ((i = 0; i < n; i++)); do
    cp "$src" "$dir/eps/ep$i.mp3"
    echo "eps/ep$i.mp3,notes.txt" >> "$dir/episodes.csv"
  done
  sync
}

# run LABEL COUNT ARGS...: one timed run; appends "label count seconds max_rss_kb records".
run() {
  local label=$1 n=$2; shift 2
  local t=$base/time.txt
  /usr/bin/time -v -o "$t" "$CHAPMARK" batch "$@" --jobs "$jobs" -q --report "$base/report.jsonl" \
    >/dev/null 2>&1 || true
  local wall rss recs
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s}' "$t")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$t")
  recs=$(wc -l < "$base/report.jsonl")
  echo "$label $n $wall $rss $recs" | tee -a "$out.tmp"
}

: > "$out.tmp"
{
  echo "# batch-manifest-10k.sh $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores, jobs=$jobs"
  echo "# chapmark $("$CHAPMARK" --version 2>/dev/null | head -1), binary $CHAPMARK"
  echo "# mode count wall_s max_rss_kb report_lines"
} > "$out.tmp.head"
for n in $counts; do
  dir=$base/n$n
  make "$n" "$dir"
  for ((r = 0; r < repeat; r++)); do
    run check "$n" "$dir/episodes.csv" --check
  done
  run write "$n" "$dir/episodes.csv"
  rm -rf "$dir"
done
cat "$out.tmp.head" "$out.tmp" > "$out"
rm -f "$out.tmp" "$out.tmp.head"

# Summary: medians per mode and count, episodes/s, and RSS growth from the smallest count.
python3 - "$out" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
by = {}
for mode, n, wall, rss, recs in rows:
    by.setdefault((mode, int(n)), []).append((float(wall), int(rss), int(recs)))
print(f"{'mode':6} {'episodes':>9} {'median s':>9} {'eps/s':>8} {'max RSS MB':>11} {'reported':>9}")
for (mode, n), v in sorted(by.items()):
    wall = statistics.median(w for w, _, _ in v)
    rss = max(r for _, r, _ in v) / 1024
    print(f"{mode:6} {n:9} {wall:9.2f} {n / wall:8.0f} {rss:11.1f} {min(c for _, _, c in v):9}")
for mode in ("check", "write"):
    ns = sorted(n for m, n in by if m == mode)
    if len(ns) >= 2:
        lo, hi = (max(r for _, r, _ in by[(mode, n)]) for n in (ns[0], ns[-1]))
        print(f"{mode}: peak RSS {ns[-1]} vs {ns[0]} episodes: {hi / lo:.2f}x")
PY
