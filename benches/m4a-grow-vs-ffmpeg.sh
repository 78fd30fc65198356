#!/usr/bin/env bash
# First chapter write into a 4.5 GiB faststart M4A whose moov must grow: chapmark (blocks
# inserted at the start with FALLOC_FL_INSERT_RANGE, moov rewritten, chunk offsets shifted)
# against ffmpeg's full copy, in the same run:
#
#   chapmark write big.m4a four.txt                               (in place)
#   chapmark write big.m4a four.txt -o out.m4a                    (the rebuild, as before)
#   ffmpeg -i big.m4a -i four.ffmeta -map 0 -map_chapters 1 -c copy out.m4a
#
# The input is sparse (benches/make-big-m4a.py: a real 1.2 MB moov describing 294,912
# 16 KiB samples, the mdat payload a hole), recreated before every timed run
# (hyperfine --prepare) and deleted at the end. Bytes written: wchar (write(2) and
# copy_file_range bytes) and write_bytes (bytes dirtied to storage), from /proc/$$/io of a
# shell that ran only the command (a reaped child's counts add to its parent's).
#
# Needs: ffmpeg, hyperfine, python3, cargo, ext4 or XFS for the insertion (elsewhere chapmark
# falls back to the rebuild). About 10 GB of free space for the two copies.
# Usage: benches/m4a-grow-vs-ffmpeg.sh [OUTPUT_DIR]   (default benches/results-m4a-grow)
# Environment: RUNS (chapmark in place, default 10), COPY_RUNS (the full copies, default 2),
# SKIP_BUILD=1 to use the existing target/release binary, WORK (scratch dir, default a temp
# dir next to the repository, so on the same file system).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/benches/results-m4a-grow}
runs=${RUNS:-10}
copy_runs=${COPY_RUNS:-2}
mkdir -p "$out"
if [[ -z ${SKIP_BUILD:-} ]]; then
    cargo build --release --manifest-path "$root/Cargo.toml" >&2
fi
bin=$root/target/release/chapmark
work=${WORK:-$(mktemp -d "$root/target/m4a-grow.XXXXXX")}
trap 'rm -rf "$work"' EXIT
cd "$work"

make="python3 $root/benches/make-big-m4a.py $root/fixtures/m4a/faststart.m4a big.m4a 4.5"
$make | tee "$out/input.txt"
printf '00:00:00 Intro\n00:30:00 Part one\n01:30:00 Part two\n03:00:00 Outro\n' >four.txt
cat >four.ffmeta <<'EOF'
;FFMETADATA1
[CHAPTER]
TIMEBASE=1/1000
START=0
END=1800000
title=Intro
[CHAPTER]
TIMEBASE=1/1000
START=1800000
END=5400000
title=Part one
[CHAPTER]
TIMEBASE=1/1000
START=5400000
END=10800000
title=Part two
[CHAPTER]
TIMEBASE=1/1000
START=10800000
END=13695640
title=Outro
EOF

inplace="$bin write big.m4a four.txt"
rebuild="$bin write big.m4a four.txt -o out.m4a"
ffmpeg="ffmpeg -nostdin -v error -y -i big.m4a -i four.ffmeta -map 0 -map_chapters 1 -c copy out.m4a"

# Bytes written, and what became of the file, once each.
{
    printf 'command\twchar\twrite_bytes\tallocated_after\n'
    for c in "$inplace" "$rebuild" "$ffmpeg"; do
        $make >/dev/null
        rm -f out.m4a
        io=$(sh -c "$c >/dev/null 2>&1; cat /proc/\$\$/io")
        target=big.m4a
        [[ -e out.m4a ]] && target=out.m4a
        printf '%s\t%s\t%s\t%s\n' "$c" \
            "$(awk '/^wchar/ {print $2}' <<<"$io")" \
            "$(awk '/^write_bytes/ {print $2}' <<<"$io")" \
            "$(($(stat -c %b "$target") * 512))"
    done
} | tee "$out/bytes.tsv"
rm -f out.m4a
$make >/dev/null
$inplace 2>/dev/null
ffprobe -v error -show_chapters -of csv big.m4a | tee "$out/ffprobe-chapters.csv"

hyperfine --style basic --export-json "$out/hyperfine-inplace.json" --runs "$runs" \
    --prepare "$make >/dev/null" -n "chapmark in place" "$inplace"
hyperfine --style basic --export-json "$out/hyperfine-copies.json" --runs "$copy_runs" \
    --prepare "$make >/dev/null; rm -f out.m4a" \
    -n "chapmark -o (rebuild)" "$rebuild" -n "ffmpeg full copy" "$ffmpeg"

python3 - "$out" <<'EOF' | tee "$out/summary.txt"
import json, statistics, sys
out = sys.argv[1]
rows = []
for f in ("hyperfine-inplace.json", "hyperfine-copies.json"):
    for r in json.load(open(f"{out}/{f}"))["results"]:
        rows.append((r["command"], statistics.median(r["times"]), min(r["times"]), len(r["times"])))
base = rows[0][1]
print(f"{'command':<24}{'median s':>10}{'min s':>10}{'runs':>6}{'x chapmark':>12}")
for name, med, mn, n in rows:
    print(f"{name:<24}{med:>10.3f}{mn:>10.3f}{n:>6}{med / base:>12.1f}")
EOF
