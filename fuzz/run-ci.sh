#!/bin/bash
# CI fuzzing: replays every regression input, then runs each target for FUZZ_SECS seconds
# (default 25; six targets, about two and a half minutes) from the committed corpus. Any crash fails.
# Installs cargo-fuzz when missing (~1.5 min to build). Needs nightly features, which
# RUSTC_BOOTSTRAP enables on the stable toolchain; `-s none` means no sanitizer.
set -euo pipefail
cd "$(dirname "$0")"
secs=${FUZZ_SECS:-25}
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
for t in $(cargo fuzz list); do
  if [ -d "regressions/$t" ]; then
    cargo fuzz run "$t" -s none "regressions/$t" -- -runs=0
  fi
  work=$(mktemp -d)
  if [ -d "corpus/$t" ]; then cp corpus/"$t"/* "$work"/; fi
  case $t in mp3|mp4) len=65536 ;; *) len=4096 ;; esac
  echo "fuzz: $t for ${secs}s"
  log="$work.log"
  rc=0
  cargo fuzz run "$t" -s none "$work" -- -max_total_time="$secs" -max_len="$len" \
    -timeout=10 -print_final_stats=1 >"$log" 2>&1 || rc=$?
  grep -E "stat::number_of_executed_units|^Done" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz: $t failed; the input is in fuzz/artifacts/$t" >&2
    exit 1
  fi
  rm -rf "$work" "$log"
done
# The path-taking targets' scratch files (one per process, in /dev/shm or the temp dir).
rm -f /dev/shm/chapmark-fuzz-* "${TMPDIR:-/tmp}"/chapmark-fuzz-*
