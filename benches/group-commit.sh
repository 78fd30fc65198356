#!/usr/bin/env bash
# Benchmark of `chapmark batch`'s group commit (issue 16), side by side in one run with
# hyperfine, fresh copies of the archive before every timed run (copied, then `sync`ed):
#
#   short  200 two-minute MP3s (128 kbps CBR stereo, lame output, no ID3 tag), 4 chapters each
#          chapmark   chapmark batch DIR --jobs 2 (validates against the exact duration, writes
#                     crash-safely: every journal, file and rename synced)
#          before     the same with CHAPMARK_BEFORE (a binary without group commit), if given
#          mutagen    one python3 process writing the same CHAP/CTOC frames with mutagen
#                     (benches/mutagen_chapters.py: no validation, no sync)
#          plus one `strace -c -f` run of each chapmark: the count of fsync/fdatasync/syncfs
#   long   20 forty-minute MP3s: chapmark --jobs 1 against --jobs 2 (and the before binary)
#   long-verify  the same with --verify (every frame walked): --jobs 1 against --jobs 2
#   rerun  the 20 forty-minute MP3s just written: `chapmark batch` again (everything
#          unchanged) right after the write, against the same rerun with the files read into
#          the page cache first (what a rerun before the write found)
#
# Summary: medians and ratios of medians (hyperfine's JSON, summarised by python3), written
# to benches/results-group-commit/ with the raw JSON and strace outputs.
#
# Usage: benches/group-commit.sh
# Environment: RUNS (hyperfine runs per command, default 7), RUNS_LONG (default 3), SETS
#   (default "short long rerun"), CHAPMARK (default: cargo build --release), CHAPMARK_BEFORE
#   (optional: e.g. a release build of the commit before group commit), BENCH_DIR (default a
#   new folder under $TMPDIR or /tmp, removed at the end), BENCH_CACHE (encoded sources, kept;
#   default ~/.cache/chapmark-bench), OUT (default benches/results-group-commit).
# Needs: hyperfine, strace, sox, lame, python3 with mutagen.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
RUNS=${RUNS:-7}
RUNS_LONG=${RUNS_LONG:-3}
SETS=${SETS:-short long long-verify rerun}
BENCH_CACHE=${BENCH_CACHE:-$HOME/.cache/chapmark-bench}
OUT=${OUT:-$here/results-group-commit}
PYTHON=${PYTHON:-python3}

for tool in hyperfine strace sox lame "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "group-commit: $tool is missing" >&2; exit 2; }
done
"$PYTHON" -c 'import mutagen' || { echo "group-commit: $PYTHON has no mutagen" >&2; exit 2; }
if [ -z "${CHAPMARK:-}" ]; then
    cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
    CHAPMARK=$repo/target/release/chapmark
fi
if [ -n "${BENCH_DIR:-}" ]; then
    work=$BENCH_DIR
    mkdir -p "$work"
else
    work=$(mktemp -d "${TMPDIR:-/tmp}/chapmark-group.XXXXXX")
    trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$BENCH_CACHE" "$OUT"
export CHAPMARK CHAPMARK_BEFORE work here PYTHON

source_mp3() { # MINUTES -> a lame-encoded 128 kbps MP3 of pink noise (cached)
    local out=$BENCH_CACHE/noise-${1}min-128k.mp3
    if [ ! -s "$out" ]; then
        echo "encoding $1 minutes of noise with lame..." >&2
        sox -D -n -r 44100 -c 2 -b 16 -t wav - synth $(($1 * 60)) pinknoise gain -25 |
            lame --silent --noreplaygain -b 128 - "$out.part"
        mv "$out.part" "$out"
    fi
    echo "$out"
}

make_set() { # NAME COUNT MINUTES -> pristine folder
    local dir=$work/$1.pristine src q i
    src=$(source_mp3 "$3")
    rm -rf "$dir"
    mkdir -p "$dir"
    q=$(($3 * 15))
    for i in $(seq -w 1 "$2"); do
        cp "$src" "$dir/ep$i.mp3"
        printf '{"version":"1.2.0","chapters":[{"startTime":0,"title":"Intro"},{"startTime":%d,"title":"Interview with the guest"},{"startTime":%d,"title":"News of the week"},{"startTime":%d,"title":"Listener questions"}]}\n' \
            "$q" $((2 * q)) $((3 * q)) >"$dir/ep$i.chapters.json"
    done
    echo "$dir"
}

# hyperfine NAME PRISTINE RUNS -- name=command...: one comparison, fresh copy before each run
compare() {
    local name=$1 pristine=$2 runs=$3 args=() pair
    shift 4
    for pair in "$@"; do
        args+=(-n "${pair%%=*}" "${pair#*=}")
    done
    hyperfine --runs "$runs" --style basic \
        --prepare "rm -rf '$work/run' && cp -a '$pristine' '$work/run' && sync" \
        --export-json "$OUT/$name.json" "${args[@]}" 2>&1 | tee "$OUT/$name.txt" >&2
}

syscalls() { # NAME PRISTINE COMMAND...: fsync-family counts of one run under strace -c -f
    local name=$1 pristine=$2
    shift 2
    rm -rf "$work/run" && cp -a "$pristine" "$work/run" && sync
    strace -c -f -o "$OUT/strace-$name.txt" "$@" >/dev/null 2>&1
    echo "-- $name: $(grep -E ' (fsync|fdatasync|syncfs|sync_file_range|rename|unlink)$' \
        "$OUT/strace-$name.txt" | awk '{printf "%s %s  ", $NF, $4}')" >&2
}

cm() { echo "$1 -q batch $work/run --report $work/report.jsonl ${2:-}"; }

for set in $SETS; do
    case $set in
    short)
        p=$(make_set short 200 2)
        cmds=("chapmark=$(cm "$CHAPMARK" '--jobs 2')")
        [ -n "${CHAPMARK_BEFORE:-}" ] && cmds+=("before=$(cm "$CHAPMARK_BEFORE" '--jobs 2')")
        cmds+=("mutagen=$PYTHON $here/mutagen_chapters.py $work/run/*.mp3")
        compare short "$p" "$RUNS" -- "${cmds[@]}"
        syscalls short-chapmark "$p" $(cm "$CHAPMARK" '--jobs 2')
        [ -n "${CHAPMARK_BEFORE:-}" ] && syscalls short-before "$p" $(cm "$CHAPMARK_BEFORE" '--jobs 2')
        rm -rf "$p"
        ;;
    long)
        p=$(make_set long 20 40)
        cmds=("j1=$(cm "$CHAPMARK" '--jobs 1')" "j2=$(cm "$CHAPMARK" '--jobs 2')")
        [ -n "${CHAPMARK_BEFORE:-}" ] &&
            cmds+=("before-j1=$(cm "$CHAPMARK_BEFORE" '--jobs 1')" "before-j2=$(cm "$CHAPMARK_BEFORE" '--jobs 2')")
        compare long "$p" "$RUNS_LONG" -- "${cmds[@]}"
        rm -rf "$p"
        ;;
    long-verify)
        # The same with --verify: every frame walked (what files without a Xing/LAME header
        # that proves their length cost), so the workers have CPU work to share.
        p=$(make_set long 20 40)
        compare long-verify "$p" "$RUNS_LONG" -- \
            "j1=$(cm "$CHAPMARK" '--jobs 1 --verify')" "j2=$(cm "$CHAPMARK" '--jobs 2 --verify')"
        rm -rf "$p"
        ;;
    rerun)
        p=$(make_set long 20 40)
        # Written once (outside the timing), then the rerun: right after the write, or after
        # reading every file into the page cache (the state a rerun before the write saw).
        for bin in "$CHAPMARK" ${CHAPMARK_BEFORE:+"$CHAPMARK_BEFORE"}; do
            tag=$([ "$bin" = "$CHAPMARK" ] && echo chapmark || echo before)
            hyperfine --runs "$RUNS_LONG" --style basic \
                --prepare "rm -rf '$work/run' && cp -a '$p' '$work/run' && sync && $(cm "$bin")" \
                -n "$tag-rerun-after-write" "$(cm "$bin")" \
                --prepare "rm -rf '$work/run' && cp -a '$p' '$work/run' && sync && $(cm "$bin") && cat $work/run/*.mp3 >/dev/null" \
                -n "$tag-rerun-cached" "$(cm "$bin")" \
                --export-json "$OUT/rerun-$tag.json" 2>&1 | tee "$OUT/rerun-$tag.txt" >&2
        done
        rm -rf "$p"
        ;;
    esac
done

"$PYTHON" - "$OUT" <<'PY' | tee "$OUT/summary.txt"
import json, pathlib, statistics, sys
out = pathlib.Path(sys.argv[1])
for f in sorted(out.glob("*.json")):
    res = json.loads(f.read_text())["results"]
    med = {r["command"]: statistics.median(r["times"]) for r in res}
    print(f"== {f.stem}")
    base = min(med.values())
    for name, m in med.items():
        print(f"  {name:<28} median {m * 1000:8.1f} ms   {m / base:5.2f}x the fastest")
    for a, b in [("mutagen", "chapmark"), ("before", "chapmark"), ("j1", "j2"),
                 ("before-j1", "before-j2"), ("chapmark-rerun-after-write", "chapmark-rerun-cached"),
                 ("before-rerun-after-write", "before-rerun-cached")]:
        if a in med and b in med:
            print(f"  ratio {a} / {b}: {med[a] / med[b]:.2f}")
PY
