#!/usr/bin/env bash
# Writing 4 chapters into a 40-minute Opus and a 40-minute FLAC file: chapmark against ffmpeg
# doing the same (`-map_metadata 1 -map_chapters 1 -c copy` from an ffmetadata file).
#
#   Opus, 96 kbps, made by opusenc (512 bytes of padding after the comments): chapmark writes
#     in place; the same audio remuxed by ffmpeg (no padding): chapmark grows the comment
#     pages by an insert at the start (ext4/XFS), elsewhere by a rebuild copying the pages.
#   FLAC, 16-bit stereo noise, made by flac (8 KiB PADDING): in place; the same with
#     --no-padding: grows by an insert (or rebuild).
#   Each also "second write": other titles into the result of the first (always in place).
#
# Every timed run starts from a fresh copy, synced to disk (hyperfine --prepare): chapmark
# fsyncs what it wrote, which would otherwise also wait for the copy's dirty pages. Reported: time per process
# (hyperfine, warmup), the ratio of ffmpeg's median to chapmark's, and peak memory
# (/usr/bin/time -v, median of 3) with bytes written, through benches/peers.py measure.
# A 10-minute FLAC is measured too, to show chapmark's memory does not follow the file size.
#
# Needs: ffmpeg, sox, opusenc, flac/metaflac, hyperfine, /usr/bin/time, cargo.
# Usage: benches/ogg-flac-write-vs-ffmpeg.sh [OUTPUT_DIR]  (default: a temp dir, deleted).
# Environment: RUNS (default 10), WARMUP (default 2), SKIP_BUILD=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
peers="$root/benches/peers.py"
runs=${RUNS:-10}
warmup=${WARMUP:-2}
for tool in ffmpeg sox opusenc flac hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build --release --quiet --bin chapmark)
fi
chapmark="$root/target/release/chapmark"
if [ $# -ge 1 ]; then
  work=$(mkdir -p "$1" && cd "$1" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"
ff() { ffmpeg -hide_banner -nostdin -v error -y "$@"; }

echo "== making inputs in $work" >&2
# Inputs already in OUTPUT_DIR (from an earlier run) are reused: making them takes minutes.
if [ ! -s ep10.flac ]; then
  sox -n -r 48000 -c 2 -b 16 -t wav - synth 2400 pinknoise vol 0.1 2>/dev/null |
    opusenc --quiet --comp 0 --bitrate 96 --comment "TITLE=Episode" - ep40.opus
  ff -i ep40.opus -map 0:a -c copy ep40-ffmpeg.opus
  sox -n -r 44100 -c 2 -b 16 -t wav - synth 2400 pinknoise vol 0.05 2>/dev/null |
    flac --silent -5 2>/dev/null -T "TITLE=Episode" -o ep40.flac -
  sox -n -r 44100 -c 2 -b 16 -t wav - synth 600 pinknoise vol 0.05 2>/dev/null |
    flac --silent -5 2>/dev/null -T "TITLE=Episode" -o ep10.flac -
  cp ep40.flac ep40-nopad.flac
  metaflac --remove --block-type=PADDING --dont-use-padding ep40-nopad.flac
fi
cat > chapters.txt <<'TXT'
0:00 Intro
4:10 The news of the week
17:45 Interview: building a podcast app
35:20 Listener questions
TXT
# The 10-minute file gets the same chapters at a quarter of the times.
sed -e 's/^4:10/1:02/' -e 's/^17:45/4:26/' -e 's/^35:20/8:50/' chapters.txt > chapters-ep10.txt
for c in chapters chapters-ep10; do
  sed -e 's/Intro/Cold open/' -e 's/news of the week/news roundup/' $c.txt > $c-2.txt
done
ffmeta() { # END_MS STARTS...: an ffmetadata file with the four titles
  local end=$1
  shift
  local starts=("$@" "$end")
  local titles=("Intro" "The news of the week" "Interview: building a podcast app" "Listener questions")
  echo ';FFMETADATA1'
  for i in 0 1 2 3; do
    printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%s\nEND=%s\ntitle=%s\n' \
      "${starts[$i]}" "${starts[$((i + 1))]}" "${titles[$i]}"
  done
}
ffmeta 2400000 0 250000 1065000 2120000 > chapters.ffmeta
ffmeta 600000 0 62000 266000 530000 > chapters-ep10.ffmeta
chapters_for() { if [ "$1" = ep10.flac ]; then echo chapters-ep10; else echo chapters; fi; }
for f in ep40.opus ep40-ffmpeg.opus ep40.flac ep40-nopad.flac ep10.flac; do
  cp "$f" "tagged-$f"
  "$chapmark" -q write "tagged-$f" -c "$(chapters_for "$f").txt"
done
ls -l ./*.opus ./*.flac >&2

: > report.md
bench() { # TITLE INPUT
  local title=$1 in=$2 ext=${2##*.}
  local ch
  ch=$(chapters_for "$in")
  local fresh="cp $in work.$ext && sync work.$ext && rm -f out.$ext"
  local again="cp tagged-$in work.$ext && sync work.$ext"
  local ffcmd="ffmpeg -nostdin -v error -y -i work.$ext -i $ch.ffmeta -map_metadata 1 -map_chapters 1 -c copy out.$ext"
  echo "== $title" >&2
  # What chapmark does to this file (in place / grown in place / rewritten).
  cp "$in" work.$ext
  local how
  how=$("$chapmark" write work.$ext -c $ch.txt 2>&1 | sed -n 's/.*(\(.*\), .*/\1/p')
  hyperfine --style basic --warmup "$warmup" --runs "$runs" --export-json "hf-$in.json" \
    -n "chapmark first write ($how)" --prepare "$fresh" "$chapmark -q write work.$ext -c $ch.txt" \
    -n "chapmark second write (in place)" --prepare "$again" "$chapmark -q write work.$ext -c $ch-2.txt" \
    -n "ffmpeg -c copy" --prepare "$fresh" "$ffcmd" >&2
  : > results.jsonl
  "$py" "$peers" measure "chapmark first write ($how)" "$fresh" -- $chapmark -q write "work.$ext" -c $ch.txt >> results.jsonl
  "$py" "$peers" measure "chapmark second write (in place)" "$again" -- $chapmark -q write "work.$ext" -c $ch-2.txt >> results.jsonl
  # shellcheck disable=SC2086
  "$py" "$peers" measure "ffmpeg -c copy" "$fresh" -- $ffcmd >> results.jsonl
  cp results.jsonl "rss-$in.jsonl"
  {
    echo
    echo "### $title ($(stat -c %s "$in") bytes)"
    echo
    "$py" "$peers" table results.jsonl "hf-$in.json"
    echo
    "$py" - "hf-$in.json" <<'PY'
import json, sys
r = {x["command"]: x["median"] for x in json.load(open(sys.argv[1]))["results"]}
ff = r["ffmpeg -c copy"]
for name, med in r.items():
    if name.startswith("chapmark"):
        print("- ffmpeg median / %s median: **%.0f×** (%.1f ms vs %.1f ms)" % (name, ff / med, ff * 1000, med * 1000))
PY
  } >> report.md
}
bench "Opus, 40 min 96 kbps, opusenc (512 B padding)" ep40.opus
bench "Opus, 40 min 96 kbps, remuxed by ffmpeg (no padding)" ep40-ffmpeg.opus
bench "FLAC, 40 min 44.1 kHz stereo, flac (8 KiB padding)" ep40.flac
bench "FLAC, 40 min 44.1 kHz stereo, --no-padding" ep40-nopad.flac
bench "FLAC, 10 min 44.1 kHz stereo, flac (8 KiB padding)" ep10.flac
cat report.md
