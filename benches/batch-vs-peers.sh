#!/usr/bin/env bash
# Benchmark: `chapmark batch` (--jobs 1 and --jobs 2) against its peers, writing 4 chapters
# into every episode of a generated archive:
#
#   short   200 two-minute MP3s   (128 kbps CBR stereo, ~1.9 MB each, no ID3 tag: lame output)
#   long    20 forty-minute MP3s  (128 kbps CBR stereo, ~38 MB each, no ID3 tag)
#   tagged  the 200 two-minute MP3s with an ID3v2.3 tag (title, 4 KB padding) already there
#           (optional, SETS="short long tagged"): chapters fit in the padding, so no tool has
#           to rewrite the audio
#
# Tools, each on fresh copies of the archive (copied and `sync`ed before every timed run):
#
#   chapmark-j1 / -j2   chapmark batch DIR --jobs N --report R: validates every episode
#                       against its exact duration, then writes crash-safely (fsync'd temporary
#                       file + rename, or an in-place patch under an fsync'd rollback journal)
#   ffmpeg-loop         a shell loop: ffmpeg -i EP.mp3 -i EP.ffmeta -map_metadata 1
#                       -map_chapters 1 -c copy OUT.mp3 && mv OUT.mp3 EP.mp3
#   mutagen             one python3 process looping mutagen over all files
#                       (benches/mutagen_chapters.py): no validation, length estimated from the
#                       header, file rewritten in place without fsync
#   mutagen+sync        the same followed by `sync`: until its data is on disk, as chapmark's
#                       is when it exits (sync is system-wide: noisy on a shared machine)
#   chapmark-j2-nosync  (if eatmydata is installed) chapmark -j2 with fsync made a no-op: what
#                       crash safety costs on this disk
#   chapmark-check-j2   chapmark batch --check --jobs 2: validation only, nothing written
#
# Wall time is measured around each run; peak memory is GNU time's maximum resident set size
# (for the ffmpeg loop: the largest single ffmpeg). The machine may be shared, so every tool
# runs REPEAT times; the summary gives the best, the median and the worst run, the spread
# ((worst - best) / best) and the ratios of the best times.
#
# Usage: benches/batch-vs-peers.sh
# Environment: REPEAT (default 5), REPEAT_FFMPEG (default 3), SETS (default "short long"),
#   BENCH_DIR (where the archive copies go; default a new folder under $TMPDIR or /tmp,
#   removed at the end), BENCH_CACHE (encoded source MP3s, kept; default
#   ~/.cache/chapmark-bench), CHAPMARK (a chapmark binary; default: cargo build --release).
# Needs: sox, lame, ffmpeg, python3 with mutagen, GNU time (/usr/bin/time; Debian: apt-get
# install time), optionally eatmydata.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
REPEAT=${REPEAT:-5}
REPEAT_FFMPEG=${REPEAT_FFMPEG:-3}
SETS=${SETS:-short long}
BENCH_CACHE=${BENCH_CACHE:-$HOME/.cache/chapmark-bench}
PYTHON=${PYTHON:-python3}

for tool in sox lame ffmpeg "$PYTHON" /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "batch-vs-peers: $tool is missing" >&2; exit 2; }
done
"$PYTHON" -c 'import mutagen' || { echo "batch-vs-peers: $PYTHON has no mutagen" >&2; exit 2; }

if [ -z "${CHAPMARK:-}" ]; then
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    CHAPMARK=$repo/target/release/chapmark
fi
if [ -n "${BENCH_DIR:-}" ]; then
    work=$BENCH_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/chapmark-bench.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$BENCH_CACHE"
results=$work/results.tsv
: >"$results"

# --- sources: one encoded file per length, made once and cached -------------------------
source_mp3() { # MINUTES -> path of a lame-encoded 128 kbps MP3 of pink noise
    local out=$BENCH_CACHE/noise-${1}min-128k.mp3
    if [ ! -s "$out" ]; then
        echo "encoding $1 minutes of noise with lame..." >&2
        sox -D -n -r 44100 -c 2 -b 16 -t wav - synth $(($1 * 60)) pinknoise gain -25 |
            lame --silent --noreplaygain -b 128 - "$out.part"
        mv "$out.part" "$out"
    fi
    echo "$out"
}

# --- archives -----------------------------------------------------------------------------
make_set() { # NAME COUNT MINUTES [tagged]
    local name=$1 count=$2 minutes=$3 tagged=${4:-}
    local dir=$work/$name.pristine src
    src=$(source_mp3 "$minutes")
    rm -rf "$dir"
    mkdir -p "$dir"
    local q=$((minutes * 15)) # a quarter of the episode, in seconds
    local i ep
    for i in $(seq -w 1 "$count"); do
        ep=$dir/ep$i
        cp "$src" "$ep.mp3"
        printf '{"version":"1.2.0","chapters":[{"startTime":0,"title":"Intro"},{"startTime":%d,"title":"Interview with the guest"},{"startTime":%d,"title":"News of the week"},{"startTime":%d,"title":"Listener questions"}]}\n' \
            "$q" $((2 * q)) $((3 * q)) >"$ep.chapters.json"
        {
            echo ';FFMETADATA1'
            local k start end title
            for k in 0 1 2 3; do
                start=$((k * q * 1000)); end=$(((k + 1) * q * 1000))
                case $k in 0) title=Intro ;; 1) title="Interview with the guest" ;;
                    2) title="News of the week" ;; 3) title="Listener questions" ;; esac
                printf '[CHAPTER]\nTIMEBASE=1/1000\nSTART=%d\nEND=%d\ntitle=%s\n' "$start" "$end" "$title"
            done
        } >"$ep.ffmeta"
    done
    if [ -n "$tagged" ]; then
        "$PYTHON" - "$dir" <<'PY'
import glob, sys
from mutagen.id3 import ID3, TIT2
for p in glob.glob(sys.argv[1] + "/*.mp3"):
    t = ID3()
    t.add(TIT2(encoding=3, text=["An episode"]))
    t.save(p, v2_version=3, padding=lambda info: 4096)
PY
    fi
    echo "$dir"
}

fresh() { # PRISTINE -> a fresh copy at $work/run, flushed to disk
    rm -rf "$work/run"
    cp -a "$1" "$work/run"
    sync
}

# run SET TOOL EXPECTED_COUNT -- COMMAND...: one timed run, appended to results.tsv
run() {
    local set=$1 tool=$2; shift 3
    local rss=$work/rss.txt t0 t1
    t0=$(date +%s%N)
    /usr/bin/time -f '%M' -o "$rss" "$@" >"$work/out.txt" 2>&1 || {
        echo "batch-vs-peers: $tool failed on $set:" >&2
        tail -5 "$work/out.txt" >&2
        exit 1
    }
    t1=$(date +%s%N)
    printf '%s\t%s\t%s\t%s\n' "$set" "$tool" "$(((t1 - t0) / 1000))" "$(tail -1 "$rss")" >>"$results"
}

check_written() { # REPORT COUNT STATUS: every record has this status
    local n
    n=$(grep -c "\"status\":\"$3\"" "$1" || true)
    [ "$n" = "$2" ] || { echo "batch-vs-peers: expected $2 $3 records, got $n" >&2; exit 1; }
}

ffmpeg_loop() { # DIR
    local f b
    for f in "$1"/*.mp3; do
        b=${f%.mp3}
        ffmpeg -nostdin -v error -y -i "$f" -i "$b.ffmeta" -map_metadata 1 -map_chapters 1 \
            -c copy "$b.out.mp3"
        mv "$b.out.mp3" "$f"
    done
}
export -f ffmpeg_loop

nosync=()
command -v eatmydata >/dev/null && nosync=(eatmydata)

bench_set() { # NAME COUNT MINUTES [tagged]
    local name=$1 count=$2 pristine r
    pristine=$(make_set "$@")
    echo "== $name: $count x $3 min ($(du -sh "$pristine" | cut -f1))" >&2
    for r in $(seq "$REPEAT"); do
        for jobs in 1 2; do
            fresh "$pristine"
            run "$name" "chapmark-j$jobs" "$count" \
                "$CHAPMARK" -q batch "$work/run" --jobs "$jobs" --report "$work/report.jsonl"
            check_written "$work/report.jsonl" "$count" written
        done
        # The run just done, again: everything is already there.
        run "$name" chapmark-rerun-j2 "$count" \
            "$CHAPMARK" -q batch "$work/run" --jobs 2 --report "$work/report.jsonl"
        check_written "$work/report.jsonl" "$count" unchanged
        run "$name" chapmark-check-j2 "$count" \
            "$CHAPMARK" -q batch "$work/run" --check --jobs 2 --report "$work/report.jsonl"
        check_written "$work/report.jsonl" "$count" ok
        if [ ${#nosync[@]} -gt 0 ]; then
            fresh "$pristine"
            run "$name" chapmark-j2-nosync "$count" "${nosync[@]}" \
                "$CHAPMARK" -q batch "$work/run" --jobs 2 --report "$work/report.jsonl"
            check_written "$work/report.jsonl" "$count" written
        fi
        fresh "$pristine"
        run "$name" mutagen "$count" "$PYTHON" "$here/mutagen_chapters.py" "$work"/run/*.mp3
        # The same, until its writes are on disk (chapmark's are when it exits). `sync` is
        # system-wide, so on a busy machine this also waits for other processes' data.
        fresh "$pristine"
        run "$name" mutagen+sync "$count" bash -c '"$@" && sync' _ \
            "$PYTHON" "$here/mutagen_chapters.py" "$work"/run/*.mp3
        if [ "$r" -le "$REPEAT_FFMPEG" ]; then
            fresh "$pristine"
            run "$name" ffmpeg-loop "$count" bash -c 'ffmpeg_loop "$1"' _ "$work/run"
        fi
        echo "   round $r/$REPEAT done" >&2
    done
    rm -rf "$work/run" "$pristine"
}

for set in $SETS; do
    case $set in
    short) bench_set short 200 2 ;;
    long) bench_set long 20 40 ;;
    tagged) bench_set tagged 200 2 tagged ;;
    *) echo "batch-vs-peers: unknown set $set" >&2; exit 2 ;;
    esac
done

echo
echo "machine: $(nproc) cores, $(uname -r), $(df -T "$work" | awk 'NR==2 {print $2 " on " $1}')"
"$PYTHON" "$here/summarize.py" "$results"
cp "$results" "${RESULTS_OUT:-/dev/null}" 2>/dev/null || true
