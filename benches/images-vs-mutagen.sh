#!/usr/bin/env bash
# Writing 10 chapters with a ~300 KiB JPEG each (≈3 MiB of images) into a 40-min episode.
#
#   MP3 (40 min, 128 kbps CBR, no tag):
#     chapmark write -c chapters.json      (APIC inside each CHAP, ID3v2.3)
#     mutagen: the same CHAP/CTOC/APIC frames (benches/peers.py mutagen-chapter-images)
#   M4A (40 min faststart AAC 128 kbps, with a covr cover):
#     chapmark write -c chapters.json      (text chapter track + chapter-image track, rebuild)
#     no peer: ffmpeg cannot write chapter images at all (its muxers take chapter titles only),
#     mutagen cannot write MP4 chapters, mp4ameta writes no chapter images.
#
# Every timed run starts from a fresh copy (hyperfine --prepare). Reported: time (hyperfine),
# bytes written and peak RSS (benches/peers.py measure, median of 3), and the ratio of the
# medians chapmark/mutagen for the MP3. Peak memory must follow the images (≈3 MiB), not the
# audio (≈37 MiB MP3).
#
# Needs: ffmpeg, hyperfine, /usr/bin/time, Debian's python3 with mutagen, cargo.
# Usage: benches/images-vs-mutagen.sh [OUTPUT_DIR]. Environment: RUNS (default 10), WARMUP
# (default 2), CHAPMARK (a chapmark binary; default: cargo build --release).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
peers="$root/benches/peers.py"
runs=${RUNS:-10}
warmup=${WARMUP:-2}

if [ -z "${CHAPMARK:-}" ]; then
  (cd "$root" && cargo build --release --quiet --bin chapmark)
  CHAPMARK="$root/target/release/chapmark"
fi
chapmark=$CHAPMARK

if [ $# -ge 1 ]; then
  work=$(mkdir -p "$1" && cd "$1" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"
ff() { ffmpeg -hide_banner -nostdin -v error -y "$@"; }

echo "== making inputs in $work" >&2
# Ten different ~300 KiB noise JPEGs (noise does not compress).
for i in $(seq 0 9); do
  ff -f lavfi -i "nullsrc=s=700x700,geq=lum='random($i+1)*255':cb=128:cr=128" -frames:v 1 -q:v 3 "img$i.jpg"
done
ff -f lavfi -i "sine=f=440:r=44100:d=60" -ac 2 -c:a libmp3lame -b:a 128k min.mp3
ff -stream_loop 39 -i min.mp3 -c copy -t 2400 ep40.mp3
ff -f lavfi -i "sine=f=440:r=44100:d=60" -ac 2 -c:a aac -b:a 128k min.m4a
ff -stream_loop 39 -i min.m4a -c copy -t 2400 -movflags +faststart ep40.m4a
"$py" "$peers" tag-m4a ep40.m4a img0.jpg
{
  echo '{"version": "1.2.0", "chapters": ['
  for i in $(seq 0 9); do
    sep=$([ "$i" -lt 9 ] && echo , || true)
    echo "  {\"startTime\": $((i * 240)), \"title\": \"Chapter $((i + 1))\", \"img\": \"img$i.jpg\"}$sep"
  done
  echo ']}'
} > chapters.json
du -cb img*.jpg | tail -1 | awk '{print "images: " $1 " bytes"}' >&2

cmds=(
  "chapmark-mp3|cp ep40.mp3 run.mp3|$chapmark -q write run.mp3 -c chapters.json"
  "mutagen-mp3|cp ep40.mp3 run.mp3|$py $peers mutagen-chapter-images run.mp3 chapters.json"
  "chapmark-m4a|cp ep40.m4a run.m4a|$chapmark -q write run.m4a -c chapters.json"
)
: > results.jsonl
hf=()
for c in "${cmds[@]}"; do
  IFS='|' read -r name prep cmd <<< "$c"
  read -r -a argv <<< "$cmd"
  "$py" "$peers" measure "$name" "$prep" -- "${argv[@]}" >> results.jsonl
  hyperfine -N --style none --runs "$runs" --warmup "$warmup" --prepare "$prep" \
    --command-name "$name" --export-json "hf-$name.json" "$cmd" >/dev/null
  hf+=("hf-$name.json")
done
# Check the outputs once: every chapter lists in ffprobe and carries its image.
cp ep40.mp3 run.mp3 && $chapmark -q write run.mp3 -c chapters.json
cp ep40.m4a run.m4a && $chapmark -q write run.m4a -c chapters.json
echo "ffprobe chapters: mp3 $(ffprobe -v error -show_chapters -of csv run.mp3 | wc -l)," \
  "m4a $(ffprobe -v error -show_chapters -of csv run.m4a | wc -l)" >&2

"$py" "$peers" table results.jsonl "${hf[@]}" | tee table.md
"$py" - "$work" <<'PY'
import json, sys, statistics
d = sys.argv[1]
med = {n: statistics.median(json.load(open(f"{d}/hf-{n}.json"))["results"][0]["times"])
       for n in ("chapmark-mp3", "mutagen-mp3", "chapmark-m4a")}
rss = {json.loads(l)["name"]: json.loads(l)["max_rss_kib"] for l in open(f"{d}/results.jsonl")}
print(f"\nmedian time chapmark/mutagen (mp3): {med['chapmark-mp3'] / med['mutagen-mp3']:.2f}")
print(f"peak RSS chapmark/mutagen (mp3): {rss['chapmark-mp3'] / rss['mutagen-mp3']:.2f}")
PY
