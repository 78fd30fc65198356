#!/usr/bin/env bash
# Release archives, as .github/workflows/release.yml builds them (and .ci/run checks them).
#
#   scripts/dist.sh extras BIN DIR
#       Shell completions (DIR/complete/) and man pages (DIR/man/) from a chapmark binary that
#       runs on this host; they are the same for every target.
#   scripts/dist.sh archive TARGET BIN EXTRAS OUT
#       OUT/chapmark-vVERSION-TARGET.tar.gz (.zip for Windows) plus its .sha256: one folder
#       chapmark-vVERSION-TARGET/ holding the binary, README.md, CHANGELOG.md, licence files and
#       EXTRAS. The names are the ones [package.metadata.binstall] in Cargo.toml expects.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

die() { echo "dist.sh: $*" >&2; exit 1; }

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

extras() {
  local bin=$1 dir=$2
  mkdir -p "$dir/complete" "$dir/man"
  "$bin" completions bash > "$dir/complete/chapmark.bash"
  "$bin" completions zsh > "$dir/complete/_chapmark"
  "$bin" completions fish > "$dir/complete/chapmark.fish"
  "$bin" completions powershell > "$dir/complete/_chapmark.ps1"
  "$bin" completions elvish > "$dir/complete/chapmark.elv"
  "$bin" man --out-dir "$dir/man"
  [ -s "$dir/man/chapmark.1" ] || die "no man page chapmark.1 in $dir/man"
}

archive() {
  local target=$1 bin=$2 extras=$3 out=$4 version name stage exe=""
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$root/Cargo.toml" | head -n 1)
  [ -n "$version" ] || die "no version in Cargo.toml"
  case $target in *windows*) exe=.exe ;; esac
  [ -f "$bin$exe" ] && bin=$bin$exe
  [ -f "$bin" ] || die "$bin: no such binary"
  [ -s "$extras/man/chapmark.1" ] || die "$extras: no man page (run: scripts/dist.sh extras)"
  name="chapmark-v$version-$target"
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  stage=$(mktemp -d)
  trap 'rm -rf "$stage"' RETURN
  mkdir "$stage/$name"
  cp "$bin" "$stage/$name/chapmark$exe"
  cp "$root/README.md" "$root/CHANGELOG.md" "$stage/$name/"
  for f in "$root"/LICENSE*; do [ -f "$f" ] && cp "$f" "$stage/$name/"; done
  cp -R "$extras/complete" "$extras/man" "$stage/$name/"
  (
    cd "$stage"
    if [ -n "$exe" ]; then
      if command -v 7z >/dev/null 2>&1; then 7z a -tzip -bso0 "$out/$name.zip" "$name"; else zip -qr "$out/$name.zip" "$name"; fi
      file="$name.zip"
    else
      tar -czf "$out/$name.tar.gz" "$name"
      file="$name.tar.gz"
    fi
    cd "$out" && sha256 "$file" > "$file.sha256"
    echo "$out/$file"
  )
}

case ${1:-} in
  extras) [ $# -eq 3 ] || die "usage: dist.sh extras BIN DIR"; extras "$2" "$3" ;;
  archive) [ $# -eq 5 ] || die "usage: dist.sh archive TARGET BIN EXTRAS OUT"; archive "$2" "$3" "$4" "$5" ;;
  *) die "usage: dist.sh extras BIN DIR | archive TARGET BIN EXTRAS OUT" ;;
esac
