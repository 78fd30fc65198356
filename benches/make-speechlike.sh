#!/usr/bin/env bash
# Encodes a speech-like MP3 of SECONDS seconds to OUT: noise in bursts (syllables, phrases)
# with short silences, 44.1 kHz mono 128 kb/s CBR (ffmpeg aevalsrc + libmp3lame). Five
# minutes are synthesised and looped (stream copy) to the length: aevalsrc is slow.
# Usage: make-speechlike.sh SECONDS OUT.mp3
set -euo pipefail
secs=$1
out=$2
base="$out.base.mp3"
# Three sines gate the noise: bursts of a few hundred ms, a pause of ~0.3-0.6 s every few
# seconds when all are low.
ffmpeg -nostdin -loglevel error -y -f lavfi \
  -i "aevalsrc=exprs='0.35*(random(0)-0.5)*gt(sin(2*PI*t*0.37)+sin(2*PI*t*2.9)+0.7*sin(2*PI*t*7.1)\,-1.3)':s=44100:d=300" \
  -c:a libmp3lame -b:a 128k "$base"
ffmpeg -nostdin -loglevel error -y -stream_loop -1 -i "$base" -t "$secs" -c copy "$out"
rm -f "$base"
