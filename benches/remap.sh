#!/usr/bin/env bash
# remap vs the obvious peer (decoding both files with ffmpeg), on a 40-min old and a 41-min
# new episode: old MP3 44.1 kHz; new = old with 60 s inserted at 10:00 and 20 s cut at
# 25:00, re-encoded to AAC 48 kHz stereo, 3 dB quieter. Content: pink noise with a random
# level every 1024 samples (non-repeating, so the alignment is real work).
# Also peak RSS of remap on a 10-min and the 40-min pair (should not grow with length).
# Usage: benches/remap.sh [WORKDIR]   (needs ffmpeg, hyperfine, GNU time; builds --release)
# RUNS=N sets hyperfine's runs per command (default 5).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
cd "$here"
cargo build --release --quiet
bin=$here/target/release/chapmark

make_pair() { # LEN_S TAG
  local len=$1 tag=$2
  local old=$work/old$tag.mp3 new=$work/new$tag.m4a
  [[ -f $new ]] && return
  ffmpeg -v error -y -f lavfi -i "anoisesrc=d=$len:c=pink:r=44100:s=7" \
    -af "volume='pow(10,(random(0)*30-30)/20)':eval=frame" -c:a libmp3lame -b:a 96k "$old"
  local a=$((len / 4)) b=$((len * 5 / 8))
  ffmpeg -v error -y -i "$old" -f lavfi -i "anoisesrc=d=60:c=white:r=44100:s=9" -filter_complex \
    "[0]atrim=0:$a,asetpts=N/SR/TB[p];[1]volume='pow(10,(random(0)*30-30)/20)':eval=frame[i];[0]atrim=$a:$b,asetpts=N/SR/TB[q];[0]atrim=$((b + 20)),asetpts=N/SR/TB[r];[p][i][q][r]concat=n=4:v=0:a=1,volume=-3dB,aresample=48000,aformat=channel_layouts=stereo" \
    -c:a aac -b:a 96k "$new"
  local step=$((len / 8))
  {
    echo '{"version":"1.2.0","chapters":['
    for i in 0 1 2 3 4 5 6; do
      echo "{\"startTime\":$((i * step + 7)),\"title\":\"Chapter $i\"},"
    done
    echo "{\"startTime\":$((7 * step + 7)),\"title\":\"Chapter 7\"}]}"
  } > "$work/ch$tag.json"
}

make_pair 2400 40
make_pair 600 10

echo "== remap result (40 min)"
"$bin" remap "$work/old40.mp3" "$work/new40.m4a" -c "$work/ch40.json" --to mp4chaps

echo "== timing"
hyperfine --warmup 1 --runs ${RUNS:-5} --export-json "$here/benches/remap-results.json" \
  -n chapmark-remap "$bin -q remap $work/old40.mp3 $work/new40.m4a -c $work/ch40.json" \
  -n ffmpeg-decode-both "ffmpeg -v error -i $work/old40.mp3 -f null - && ffmpeg -v error -i $work/new40.m4a -f null -"
python3 - "$here/benches/remap-results.json" <<'PY'
import json, statistics, sys
r = {x["command"]: statistics.median(x["times"]) for x in json.load(open(sys.argv[1]))["results"]}
c, f = r["chapmark-remap"], r["ffmpeg-decode-both"]
print(f"median: remap {c:.3f} s, ffmpeg decode of both {f:.3f} s, ratio remap/ffmpeg {c / f:.2f}")
# On a shared machine the wall clock follows the load; CPU time (user+sys, mean) does less.
u = {x["command"]: x["user"] + x["system"] for x in json.load(open(sys.argv[1]))["results"]}
c, f = u["chapmark-remap"], u["ffmpeg-decode-both"]
print(f"cpu (mean user+sys): remap {c:.3f} s, ffmpeg {f:.3f} s, ratio remap/ffmpeg {c / f:.2f}")
PY

echo "== peak RSS"
for t in 10 40; do
  /usr/bin/time -f "remap $t min: peak RSS %M KiB, %e s" \
    "$bin" -q remap "$work/old$t.mp3" "$work/new$t.m4a" -c "$work/ch$t.json" > /dev/null
done
