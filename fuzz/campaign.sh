#!/bin/bash
# A longer fuzzing campaign: runs each target in turn for SECONDS (default 600), restarting it
# after a crash (the crash is kept in fuzz/artifacts/TARGET), and prints executions per target.
# Work corpora live in WORK (default /tmp/chapmark-fuzz), seeded from fixtures and from the
# committed corpus. Usage: fuzz/campaign.sh [SECONDS] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")"
secs=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(notes chapter_formats mp3 mp4 structured)
work=${WORK:-/tmp/chapmark-fuzz}
./seed.sh "$work" >/dev/null
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none >/dev/null 2>&1
for t in "${targets[@]}"; do
  [ -d "corpus/$t" ] && cp -n corpus/"$t"/* "$work/$t/" 2>/dev/null
  case $t in mp3|mp4) len=65536 ;; *) len=4096 ;; esac
  start=$(date +%s); execs=0; crashes=0
  while :; do
    left=$((secs - ($(date +%s) - start)))
    [ "$left" -gt 5 ] || break
    log=$(mktemp)
    nice -n 10 cargo fuzz run "$t" -s none "$work/$t" -- -max_total_time="$left" \
      -max_len=$len -timeout=10 -print_final_stats=1 >"$log" 2>&1
    rc=$?
    n=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    [ -n "$n" ] || n=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    execs=$((execs + ${n:-0}))
    if [ $rc -ne 0 ]; then
      crashes=$((crashes + 1))
      grep -E "panicked|ERROR|Test unit written" "$log" | head -3
    fi
    rm -f "$log"
  done
  el=$(($(date +%s) - start))
  echo "$t: $execs executions in $el s ($((execs / (el > 0 ? el : 1))) exec/s), $crashes crash(es), corpus $(ls "$work/$t" | wc -l) files"
done
