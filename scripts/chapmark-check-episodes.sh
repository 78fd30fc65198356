#!/usr/bin/env bash
# Runs `chapmark check` on episodes: each show-notes file against the audio next to it with the
# same name, e.g. episodes/042.txt against episodes/042.mp3. Used by the pre-commit hook
# (.pre-commit-hooks.yaml) and usable from CI with the output of `git diff --name-only`.
#
#   chapmark-check-episodes.sh [CHECK-OPTION...] [--] FILE...
#
# FILE is a notes file (.txt, .md) or an audio file (.mp3, .m4a, .m4b, .opus, .ogg, .oga,
# .flac): whichever half of an
# episode changed, the episode is checked, once. Other files are ignored. Options before the
# files go to every `chapmark check` (--profile youtube, --format github, --deny-warnings …);
# use `--` before file names that start with `-`.
#
# A notes file without audio next to it is skipped with a notice (notes are often written
# before the final edit exists); set CHAPMARK_REQUIRE_AUDIO=1 to fail instead. An audio file
# without notes next to it is skipped too. CHAPMARK names the binary (default: chapmark on PATH).
#
# Exit status: 0 when every episode passes, else the worst `chapmark check` status
# (3 unreadable input, 1 invalid chapters); 2 for a usage error; 127 when chapmark is missing.
# Written for bash 3.2 too (macOS).
set -u

me=${0##*/}
chapmark=${CHAPMARK:-chapmark}
if ! command -v "$chapmark" >/dev/null 2>&1; then
  echo "$me: '$chapmark' not found; install it (see the README's Install section: cargo install --locked --git URL chapmark) or set CHAPMARK" >&2
  exit 127
fi

opts=()
files=()
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; files+=("$@"); break ;;
    -c | --chapters | --chapters=* | --duration | --duration=*)
      echo "$me: $1: the chapters and audio are paired per episode by this script" >&2
      exit 2 ;;
    --profile | --format | --color)
      if [ $# -lt 2 ]; then echo "$me: $1 needs a value" >&2; exit 2; fi
      opts+=("$1" "$2"); shift 2 ;;
    -*) opts+=("$1"); shift ;;
    *) files+=("$1"); shift ;;
  esac
done

# The first existing "$1.EXT" for the extensions that follow, or nothing.
first_existing() {
  local stem=$1 ext
  shift
  for ext in "$@"; do
    if [ -f "$stem.$ext" ]; then printf '%s\n' "$stem.$ext"; return; fi
  done
}

worst=0
done_stems=$'\n'
for f in ${files[@]+"${files[@]}"}; do
  stem=${f%.*}
  case $f in
    *.[tT][xX][tT] | *.[mM][dD]) notes=$f ;;
    *.[mM][pP]3 | *.[mM]4[aA] | *.[mM]4[bB] | *.[oO][pP][uU][sS] | *.[oO][gG][gG] | *.[oO][gG][aA] | *.[fF][lL][aA][cC])
      notes=$(first_existing "$stem" txt md) ;;
    *) continue ;;
  esac
  case $done_stems in *$'\n'"$stem"$'\n'*) continue ;; esac
  done_stems+="$stem"$'\n'

  if [ -z "$notes" ]; then
    echo "$me: $f: no notes next to it (.txt or .md); skipped" >&2
    continue
  fi
  audio=$(first_existing "$stem" mp3 m4a m4b opus ogg oga flac)
  if [ -z "$audio" ]; then
    if [ "${CHAPMARK_REQUIRE_AUDIO:-0}" = 1 ]; then
      echo "$me: $notes: no audio next to it (.mp3, .m4a, .m4b, .opus, .ogg, .oga or .flac)" >&2
      worst=3
    else
      echo "$me: $notes: no audio next to it (.mp3, .m4a, .m4b, .opus, .ogg, .oga or .flac); skipped" >&2
    fi
    continue
  fi

  "$chapmark" check "$audio" --chapters "$notes" ${opts[@]+"${opts[@]}"}
  status=$?
  case $status in
    0) ;;
    2) exit 2 ;; # the options are wrong for every episode
    3) worst=3 ;;
    *) if [ "$worst" -eq 0 ]; then worst=$status; fi ;;
  esac
done
exit "$worst"
