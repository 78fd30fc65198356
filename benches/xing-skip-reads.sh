#!/usr/bin/env bash
# Benchmark: what a chapter write reads of a 40-minute MP3 whose LAME/Xing header proves its
# length (the walk is skipped: src/container/mp3/proven.rs), against `--verify`, which walks
# every frame as before.
#
# Two 40-minute episodes are encoded once (kept in BENCH_CACHE):
#   cbr   128 kb/s CBR, LAME Info header (benches/make-speechlike.sh: ffmpeg libmp3lame,
#         5 minutes looped by stream copy, so ffmpeg's muxer writes the header)
#   vbr   lame -V 5 of pink noise, Xing header (5 minutes looped the same way)
#
# For each: the bytes read from the audio file by `chapmark write EP NOTES` (a fresh copy,
# counted with strace on the file's descriptors), default and `--verify`; then the time of
# `chapmark write --dry-run` (measure + validate + plan, nothing written; page cache warm),
# default and `--verify`, with hyperfine (medians and their ratio).
#
# Usage: benches/xing-skip-reads.sh
# Environment: CHAPMARK (binary; default cargo build --release), BENCH_CACHE (default
#   ~/.cache/chapmark-bench), OUT (default benches/results-xing-skip.txt), RUNS (hyperfine
#   runs, default 20).
# Needs: ffmpeg (libmp3lame), lame, sox, strace, hyperfine.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cache=${BENCH_CACHE:-$HOME/.cache/chapmark-bench}
out=${OUT:-$here/benches/results-xing-skip.txt}
runs=${RUNS:-20}
if [[ -z "${CHAPMARK:-}" ]]; then
  (cd "$here" && cargo build --release --quiet --bin chapmark)
  CHAPMARK=$here/target/release/chapmark
fi
mkdir -p "$cache"
work=$(mktemp -d /tmp/chapmark-xing.XXXXXX)
trap 'rm -rf "$work"' EXIT

cbr=$cache/speechlike-2400-cbr128.mp3
[[ -s $cbr ]] || "$here/benches/make-speechlike.sh" 2400 "$cbr"
vbr=$cache/pink-2400-v5.mp3
if [[ ! -s $vbr ]]; then
  sox -n -r 44100 -c 2 -t wav - synth 300 pinknoise vol 0.2 2>/dev/null |
    lame --silent -V 5 - "$work/base.mp3"
  ffmpeg -nostdin -loglevel error -y -stream_loop 7 -i "$work/base.mp3" -t 2400 -c copy "$vbr"
fi
printf '00:00 Intro\n05:00 Part one\n20:00 Part two\n35:00 Outro\n' > "$work/notes.txt"

# reads FILE ARGS...: bytes read from FILE by chapmark ARGS.
reads() {
  local f=$1; shift
  strace -f -yy -e trace=read,pread64,readv,preadv -o "$work/strace.log" "$CHAPMARK" "$@" \
    >/dev/null 2>&1
  grep -F "<$(realpath "$f")>" "$work/strace.log" | awk -F'= ' '{s += $NF} END {print s + 0}'
}

{
  echo "# xing-skip-reads.sh $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores"
  echo "# chapmark $("$CHAPMARK" --version 2>/dev/null | head -1), binary $CHAPMARK"
  for kind in cbr vbr; do
    src=${!kind}
    size=$(stat -c %s "$src")
    for mode in default --verify; do
      cp "$src" "$work/ep.mp3"
      flag=(); [[ $mode == --verify ]] && flag=(--verify)
      echo "reads $kind $mode file_bytes=$size read_bytes=$(reads "$work/ep.mp3" write "${flag[@]}" "$work/ep.mp3" "$work/notes.txt")"
    done
    cp "$src" "$work/ep.mp3"
    hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" \
      -n "$kind default" "$CHAPMARK write --dry-run $work/ep.mp3 $work/notes.txt" \
      -n "$kind verify" "$CHAPMARK write --dry-run --verify $work/ep.mp3 $work/notes.txt" >/dev/null 2>&1
    python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
for x in r:
    print(f"time {x['command']} median_ms={x['median'] * 1000:.2f} min_ms={x['min'] * 1000:.2f} max_ms={x['max'] * 1000:.2f}")
print(f"ratio {r[0]['command'].split()[0]} verify/default={r[1]['median'] / r[0]['median']:.2f}x")
PY
  done
} | tee "$out"
