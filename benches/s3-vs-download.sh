#!/usr/bin/env bash
# Object storage: bytes moved and wall time of `chapmark … s3://` against
# download-tag-upload with boto3, on moto_server (see s3_bench.py). Needs ffmpeg and
# `python3 -m pip install 'moto[server]'`. Raw output goes to benches/RESULTS-s3.md.
set -euo pipefail
cd "$(dirname "$0")/.."
# PROFILE=release for a release build; the figures are dominated by the network and the
# server, so the debug build (already there during development) gives the same picture.
profile=${PROFILE:-debug}
if [ "$profile" = release ]; then cargo build --release --quiet --features s3; else cargo build --quiet --features s3; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 benches/s3_bench.py "$PWD/target/$profile/chapmark" "$work" "${1:-200}" "${2:-12}" | tee benches/RESULTS-s3.md
