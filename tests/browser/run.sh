#!/usr/bin/env bash
# The web chat's browser test: Debian's Chromium driven by playwright-core against `gantry serve`.
# Usage: tests/browser/run.sh [path/to/gantry]   (or set GANTRY_BIN)
set -euo pipefail
cd "$(dirname "$0")"

GANTRY_BIN="${1:-${GANTRY_BIN:-}}"
if [ -z "$GANTRY_BIN" ]; then
  echo "usage: $0 path/to/gantry (or set GANTRY_BIN)" >&2
  exit 2
fi
GANTRY_BIN="$(cd "$(dirname "$GANTRY_BIN")" && pwd)/$(basename "$GANTRY_BIN")"
if [ ! -x "$GANTRY_BIN" ]; then
  echo "gantry binary not found or not executable: $GANTRY_BIN" >&2
  exit 2
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
fi

# Reinstall only when node_modules is missing or the lock changed since the last install.
stamp="node_modules/.package-lock.sha256"
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ ! -d node_modules/playwright-core ] || [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  npm ci --no-audit --no-fund
  echo "$want" >"$stamp"
fi

mkdir -p ../artifacts
GANTRY_BIN="$GANTRY_BIN" node --test --test-concurrency=1 chat.test.mjs collection.test.mjs react.test.mjs
