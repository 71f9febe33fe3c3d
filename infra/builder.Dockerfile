# syntax=docker/dockerfile:1.7
# The Fargate builder image: the `builder` binary (package gantry-builder, functions/builder)
# and the tools audit commands run with: sh and coreutils, node with the curated node set,
# python3. Build it from the repository root for ARM64, the task definition's RuntimePlatform:
#
#   docker buildx build --platform linux/arm64 -f infra/builder.Dockerfile -t gantry-builder .
#
# The build stage runs on the build host's own platform and cross-compiles (no emulation); the
# runtime stage is the target platform's image. Both are Debian bookworm, so the binary's glibc
# matches the one it runs on.

ARG RUST_VERSION=1.95
ARG NODE_MAJOR=22

FROM --platform=$BUILDPLATFORM rust:${RUST_VERSION}-slim-bookworm AS build
ARG TARGETARCH
# A C cross compiler for crates with C parts (ring, aws-lc); nothing when host and target match.
# ($cross is two package names, split on purpose; Debian's current packages, unpinned.)
# hadolint ignore=DL3008,SC2086
RUN set -eux; \
    case "$TARGETARCH" in \
        arm64) triple=aarch64-unknown-linux-gnu; cross="gcc-aarch64-linux-gnu libc6-dev-arm64-cross" ;; \
        amd64) triple=x86_64-unknown-linux-gnu; cross="gcc-x86-64-linux-gnu libc6-dev-amd64-cross" ;; \
        *) echo "unsupported TARGETARCH=$TARGETARCH" >&2; exit 1 ;; \
    esac; \
    if [ "$(dpkg --print-architecture)" != "$TARGETARCH" ]; then \
        apt-get update; \
        apt-get install -y --no-install-recommends $cross; \
        rm -rf /var/lib/apt/lists/*; \
    fi; \
    rustup target add "$triple"; \
    echo "$triple" >/rust-target
ENV CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_LINKER=x86_64-linux-gnu-gcc \
    CC_x86_64_unknown_linux_gnu=x86_64-linux-gnu-gcc
WORKDIR /src
# The whole workspace (cargo loads every member's manifest); see builder.Dockerfile.dockerignore.
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    set -eux; \
    triple="$(cat /rust-target)"; \
    cargo build --release --locked --package gantry-builder --target "$triple"; \
    install -D -m 0755 "target/$triple/release/builder" /out/builder

FROM node:${NODE_MAJOR}-bookworm-slim AS runtime
# python3 for python audits; ca-certificates for the HTTPS presigned URLs.
# hadolint ignore=DL3008
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin builder
COPY --from=build /out/builder /usr/local/bin/builder
# The curated node dependency set, installed once, here: node builds link it read-only and never
# download. The layout `gantry deps fetch` makes: <root>/<set id>/node_modules, then .complete,
# where the set id is the first 16 hex digits of the sha256 of its lock.
COPY shared/node-deps/package.json shared/node-deps/package-lock.json /opt/gantry/node-deps/incoming/
# hadolint ignore=DL3003
RUN set -eux; \
    cd /opt/gantry/node-deps; \
    sum="$(sha256sum incoming/package-lock.json)"; \
    id="$(printf %.16s "$sum")"; \
    mv incoming "$id"; \
    cd "$id"; \
    npm ci --ignore-scripts --no-audit --no-fund; \
    npm cache clean --force; \
    chmod -R a-w node_modules; \
    echo "$id" >.complete
ENV GANTRY_NODE_DEPS=/opt/gantry/node-deps
USER 10001:10001
WORKDIR /home/builder
# Where the builder materialises each job's files (a directory it creates and owns).
ENV GANTRY_BUILD_WORK_ROOT=/home/builder/work
ENTRYPOINT ["/usr/local/bin/builder"]
