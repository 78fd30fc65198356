#!/bin/sh
# Builds the seed corpora of the fuzz targets from the test fixtures, into DIR/<target>
# (default: fuzz/seeds, not committed). The committed, minimised corpus is fuzz/corpus.
# Usage: fuzz/seed.sh [DIR]
set -eu
cd "$(dirname "$0")/.."
out=${1:-fuzz/seeds}
mkdir -p "$out/notes" "$out/chapter_formats" "$out/mp3" "$out/mp4" "$out/structured"
for f in fixtures/notes/*.txt fixtures/check/*.txt fixtures/formats/*.txt fixtures/formats/*.rss; do
  cp "$f" "$out/notes/$(basename "$f")"
done
# chapter_formats: the first byte picks the reader (index into Format::ALL).
i=0
for ext in json psc vtt ffmetadata chapters.txt cue txt; do
  for f in fixtures/formats/*."$ext" fixtures/formats/bad/*."$ext"; do
    [ -f "$f" ] || continue
    { printf "\\$(printf %o $i)"; cat "$f"; } > "$out/chapter_formats/$i-$(basename "$f")"
  done
  i=$((i + 1))
done
for f in fixtures/audio/*.mp3 fixtures/mp3/*.mp3 fixtures/audio/*.flac fixtures/audio/*.ogg \
         fixtures/audio/*.opus fixtures/audio/*.wav; do
  cp "$f" "$out/mp3/$(basename "$f")"
done
for f in fixtures/audio/*.m4a fixtures/m4a/*.m4a; do
  cp "$f" "$out/mp4/$(basename "$f")"
done
# structured: arbitrary bytes; a few zero/one-filled inputs pick each template.
for t in 0 1 2 3 4 5; do
  head -c 64 /dev/zero | tr '\0' "\\$(printf %o $t)" > "$out/structured/t$t"
done
