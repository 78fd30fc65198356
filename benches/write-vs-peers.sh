#!/usr/bin/env bash
# Writing 4 chapters into a podcast episode: chapmark against the usual alternatives.
#
#   MP3 (40 min, 128 kbps CBR, ID3v2.3 with a ~312 KB APIC cover and no padding; and the same
#   audio with no ID3 tag at all):
#     chapmark write (first write: the tag must grow; on ext4/XFS the space is inserted at the
#     start in place with fallocate(FALLOC_FL_INSERT_RANGE), elsewhere the file is rebuilt)
#     chapmark write again with other titles (fits the padding left by the first: in place)
#     ffmpeg -i in.mp3 -i chapters.ffmeta -map_metadata 1 -map_chapters 1 -c copy out.mp3
#     python mutagen writing CHAP/CTOC in place (benches/peers.py mutagen-chapters)
#   M4A (40 min and 3 h faststart AAC 128 kbps with a covr cover, no free space):
#     chapmark write (first: rebuild; second with other titles: in place)
#     ffmpeg -i in.m4a -i chapters.ffmeta -map_metadata 1 -map_chapters 1 -c copy out.m4a
#     mp4ameta 0.13 (examples/mp4ameta_chapters.rs: chapter list + chapter track, whole-file
#     rewrite in place; mutagen cannot write MP4 chapters)
#
# Every timed run starts from a fresh copy of the input (hyperfine --prepare). Reported: time
# per process (hyperfine, with warmup), bytes written (write(2) bytes, and bytes dirtied to
# storage, which also counts mmap writes such as mutagen's), and peak memory
# (/usr/bin/time -v "Maximum resident set size", median of 3).
#
# Needs: ffmpeg, hyperfine, /usr/bin/time (apt-get install time), Debian's python3 with
# mutagen, cargo. Usage: benches/write-vs-peers.sh [OUTPUT_DIR]  (default: a temp dir,
# deleted afterwards; the tables are printed and, with OUTPUT_DIR, kept there).
# Environment: RUNS (timed runs per command, default 20), WARMUP (default 3),
# SKIP_BUILD=1 to use the existing target/release binaries, ONLY=mp3 (or m4a) for one
# container.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
peers="$root/benches/peers.py"
runs=${RUNS:-20}
warmup=${WARMUP:-3}

for tool in ffmpeg hyperfine /usr/bin/time "$py"; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
"$py" -c 'import mutagen' || { echo "$py has no mutagen" >&2; exit 1; }

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  (cd "$root" && cargo build --release --quiet --bin chapmark --example mp4ameta_chapters)
fi
chapmark="$root/target/release/chapmark"
mp4ameta="$root/target/release/examples/mp4ameta_chapters"

if [ $# -ge 1 ]; then
  work=$(mkdir -p "$1" && cd "$1" && pwd)
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
cd "$work"
ff() { ffmpeg -hide_banner -nostdin -v error -y "$@"; }

echo "== making inputs in $work" >&2
# A ~312 KB JPEG cover (noise does not compress).
ff -f lavfi -i "nullsrc=s=700x700,geq=lum='random(1)*255':cb=128:cr=128" -frames:v 1 -q:v 3 cover.jpg
# One minute of a tone, looped without re-encoding.
ff -f lavfi -i "sine=f=440:r=44100:d=60" -ac 2 -c:a libmp3lame -b:a 128k min.mp3
ff -stream_loop 39 -i min.mp3 -c copy -t 2400 ep40.mp3
cp ep40.mp3 ep40-notag.mp3
"$py" "$peers" tag-mp3 ep40.mp3 cover.jpg
ff -f lavfi -i "sine=f=440:r=44100:d=60" -ac 2 -c:a aac -b:a 128k min.m4a
ff -stream_loop 39 -i min.m4a -c copy -t 2400 -movflags +faststart ep40.m4a
ff -stream_loop 179 -i min.m4a -c copy -t 10800 -movflags +faststart ep180.m4a
"$py" "$peers" tag-m4a ep40.m4a cover.jpg
"$py" "$peers" tag-m4a ep180.m4a cover.jpg

cat > chapters.txt <<'EOF'
0:00 Intro
4:10 The news of the week
17:45 Interview: building a podcast app
35:20 Listener questions
EOF
cat > chapters2.txt <<'EOF'
0:00 Cold open
4:10 News roundup
17:45 Interview with the team behind the app
35:20 Your questions answered
EOF
{
  echo ';FFMETADATA1'
  starts=(0 250000 1065000 2120000 2400000)
  titles=("Intro" "The news of the week" "Interview: building a podcast app" "Listener questions")
  for i in 0 1 2 3; do
    printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%s\nEND=%s\ntitle=%s\n' \
      "${starts[$i]}" "${starts[$((i + 1))]}" "${titles[$i]}"
  done
} > chapters.ffmeta

# Inputs for the second (in-place) chapmark write: the result of the first.
for f in ep40.mp3 ep40-notag.mp3 ep40.m4a ep180.m4a; do
  cp "$f" "tagged-$f"
  "$chapmark" -q write "tagged-$f" -c chapters.txt
done
ls -l cover.jpg ep40.mp3 ep40.m4a ep180.m4a >&2

results=results.jsonl
: > "$results"
measure() { # NAME PREPARE CMD...
  local name=$1 prep=$2
  shift 2
  "$py" "$peers" measure "$name" "$prep" -- "$@" >> "$results"
}

bench() { # TITLE EXT INPUT: one hyperfine run over every command for that input
  local title=$1 ext=$2 in=$3
  local fresh="cp $in work.$ext && rm -f out.$ext"
  local again="cp tagged-$in work.$ext"
  local ffcmd="ffmpeg -nostdin -v error -y -i work.$ext -i chapters.ffmeta -map_metadata 1 -map_chapters 1 -c copy out.$ext"
  local peer_name peer_cmd first_name="chapmark first write (rebuild)"
  if [ "${ONLY:-$ext}" != "$ext" ]; then return; fi
  if [ "$ext" = mp3 ]; then
    first_name="chapmark first write (insert)"
    peer_name="mutagen CHAP/CTOC in place"
    peer_cmd="$py $peers mutagen-chapters work.mp3 chapters.txt"
  else
    peer_name="mp4ameta 0.13 rewrite"
    peer_cmd="$mp4ameta work.m4a chapters.txt"
  fi
  echo "== $title" >&2
  hyperfine --style basic --warmup "$warmup" --runs "$runs" \
    --export-json "hf-$in.json" \
    -n "$first_name" --prepare "$fresh" "$chapmark -q write work.$ext -c chapters.txt" \
    -n "chapmark second write (in place)" --prepare "$again" "$chapmark -q write work.$ext -c chapters2.txt" \
    -n "ffmpeg -c copy" --prepare "$fresh" "$ffcmd" \
    -n "$peer_name" --prepare "$fresh" "$peer_cmd" >&2
  measure "$first_name" "$fresh" $chapmark -q write "work.$ext" -c chapters.txt
  measure "chapmark second write (in place)" "$again" $chapmark -q write "work.$ext" -c chapters2.txt
  # shellcheck disable=SC2086
  measure "ffmpeg -c copy" "$fresh" $ffcmd
  # shellcheck disable=SC2086
  measure "$peer_name" "$fresh" $peer_cmd
  {
    echo
    echo "### $title ($(stat -c %s "$in") bytes)"
    echo
    "$py" "$peers" table "$results" "hf-$in.json"
  } >> report.md
  : > "$results"
}

: > report.md
bench "MP3, 40 min 128 kbps, 312 KB cover" mp3 ep40.mp3
bench "MP3, 40 min 128 kbps, no ID3 tag" mp3 ep40-notag.mp3
bench "M4A, 40 min faststart AAC 128 kbps, cover" m4a ep40.m4a
bench "M4A, 3 h faststart AAC 128 kbps, cover" m4a ep180.m4a
cat report.md
