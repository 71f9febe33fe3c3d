#!/usr/bin/env bash
# Every test of Gantry, on a fresh machine: installs what the tests need, then runs them.
# Usage: ./tests/run.sh        (CI runs exactly this through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

# Build outputs and tool venvs live outside the clone, so repeated runs (and fresh clones) reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gantry/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export GANTRY_MOTO_VENV="${GANTRY_MOTO_VENV:-$HOME/.cache/gantry/moto-venv}"
export GANTRY_INFRA_VENV="${GANTRY_INFRA_VENV:-$HOME/.cache/gantry/infra-venv}"

started=$SECONDS
phase() { echo "== $1 (at $((SECONDS - started)) s)"; }

# System tools the tests use: bubblewrap (the build sandbox), git (the local publisher),
# python3 (the offline architect's audits, moto, the template linters), node and npm
# (asl-validator, the browser test) and Debian's Chromium (the browser test).
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
# Debian's python3 makes venvs only with python3-venv (ensurepip); the moto and linter venvs need it.
python3 -c 'import ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  phase "installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

phase "format"
cargo fmt --all -- --check
phase "clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

phase "moto (AWS emulator for the adapter tests)"
bash tests/moto/setup.sh

phase "infra: SAM template (samtranslator + cfn-lint) and ASL (asl-validator)"
bash tests/infra/run.sh

phase "node dependency set (fetched once from the npm registry, then offline for every build)"
# The tests' node builds use this copy; `gantry deps fetch` does nothing when it is already whole.
export GANTRY_NODE_DEPS="${GANTRY_NODE_DEPS:-$HOME/.cache/gantry/node-deps}"
cargo build --locked -p gantry --bin gantry
"$CARGO_TARGET_DIR/debug/gantry" deps fetch

phase "tests: unit, handler, sandbox, pipeline, AWS adapters (moto), Lambda entry points, end-to-end"
cargo test --workspace --locked

phase "browser: the web chat in headless Chromium"
bash tests/browser/run.sh "$CARGO_TARGET_DIR/debug/gantry"

phase "all tests passed"
