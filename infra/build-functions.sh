#!/usr/bin/env bash
# Builds the Lambda binaries (api, steps, cleanup) and the Fargate builder for arm64 with
# cargo-lambda (zig as the cross linker), the way `sam build` does, and prints their sizes.
#
#   infra/build-functions.sh                 # all four, into $CARGO_TARGET_DIR/lambda/<bin>/
#   infra/build-functions.sh steps cleanup   # only these binaries
#
# Tools come from PyPI into a venv (${GANTRY_BUILD_VENV:-$HOME/.cache/gantry/build-venv}),
# pinned below; reinstalled only when the pins change.
set -euo pipefail

CARGO_LAMBDA_VERSION=1.9.2
ZIGLANG_VERSION=0.14.1
TARGET=aarch64-unknown-linux-gnu

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GANTRY_BUILD_VENV:-$HOME/.cache/gantry/build-venv}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gantry/target}"

pins="cargo-lambda==$CARGO_LAMBDA_VERSION ziglang==$ZIGLANG_VERSION"
if [[ ! -x "$venv/bin/cargo-lambda" || "$(cat "$venv/.gantry-pins" 2>/dev/null)" != "$pins" ]]; then
    echo "build: installing $pins into $venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # $pins is two requirement words
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    echo "$pins" >"$venv/.gantry-pins"
fi
# cargo finds `cargo lambda` on PATH; cargo-lambda finds zig through the ziglang package.
export PATH="$venv/bin:$PATH"

if ! rustup target list --installed | grep -qx "$TARGET"; then
    rustup target add "$TARGET"
fi

cd "$root"
package_of() {
    case "$1" in
        api) echo gantry-api-lambda ;;
        steps) echo gantry-steps-lambda ;;
        cleanup) echo gantry-cleanup-lambda ;;
        builder) echo gantry-builder ;;
        *) echo "build: unknown binary $1 (api, steps, cleanup, builder)" >&2; return 1 ;;
    esac
}
bins=("$@")
[[ ${#bins[@]} -gt 0 ]] || bins=(api steps cleanup builder)

# One invocation per package: cargo-lambda puts each binary in target/lambda/<bin>/bootstrap.
# The builder is not a Lambda, but the same cross build gives the binary its image carries.
for bin in "${bins[@]}"; do
    package="$(package_of "$bin")"
    echo "build: $package"
    if [[ "$bin" == builder ]]; then
        cargo lambda build --release --target "$TARGET" --package "$package"
    else
        cargo lambda build --release --arm64 --package "$package"
    fi
done

echo
echo "binary sizes ($TARGET, release, stripped by cargo-lambda):"
for bin in "${bins[@]}"; do
    file="$CARGO_TARGET_DIR/lambda/$bin/bootstrap"
    [[ -f "$file" ]] || file="$CARGO_TARGET_DIR/$TARGET/release/$bin"
    printf '  %-8s %7s KiB  %s\n' "$bin" "$(($(stat -c %s "$file") / 1024))" "${file#"$CARGO_TARGET_DIR"/}"
done
