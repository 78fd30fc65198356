# syntax=docker/dockerfile:1
# chapmark as a small container image: one static binary on Alpine, no ffmpeg (chapmark needs none).
#
#   docker build -t chapmark --build-arg CHAPMARK_COMMIT="$(git rev-parse HEAD)" .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/work" chapmark check ep.mp3 --chapters ep.txt
#
# The build context has no .git (.dockerignore), so the commit for `chapmark --version` comes in
# as a build argument; without it the version is printed alone.

# Matches `rust-version` in Cargo.toml: the image build doubles as the MSRV build.
ARG RUST_VERSION=1.88

FROM rust:${RUST_VERSION}-alpine3.22 AS build
# musl-dev: the C runtime objects for the static link (Alpine's Rust targets musl natively, and
# musl targets link statically by default). Unpinned: Alpine keeps one version per release.
# hadolint ignore=DL3018
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY . .
ARG CHAPMARK_COMMIT=""
ENV CHAPMARK_COMMIT=${CHAPMARK_COMMIT}
# Cache mounts keep the registry and the build between image builds; the binary is copied out
# because the cache mount is not part of the layer. Debug info is stripped (the release profile
# keeps it for profiling), and the binary must run as built: a smoke test of the static link.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin chapmark \
      --config profile.release.debug=0 --config 'profile.release.strip="debuginfo"' \
    && cp target/release/chapmark /usr/local/bin/chapmark \
    && /usr/local/bin/chapmark --version

# Alpine rather than scratch, for a shell: a Kubernetes indexed Job computes its shard as
# `$((JOB_COMPLETION_INDEX + 1))`, and CI runners (GitLab, GitHub `container:`) run scripts in
# the job's image. The binary itself needs nothing from it.
FROM alpine:3.22
COPY --from=build /usr/local/bin/chapmark /usr/local/bin/chapmark
# An unprivileged user (the distroless "nonroot" id): pass `--user "$(id -u):$(id -g)"` to write
# into a mounted folder owned by someone else.
USER 65532:65532
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/chapmark"]
CMD ["--help"]
