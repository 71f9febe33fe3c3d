#!/usr/bin/env bash
# Installs the moto AWS emulator that every AWS adapter test runs against, into a venv outside
# the work tree. Idempotent: a venv that already has exactly these requirements is left alone.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${GANTRY_MOTO_VENV:-$HOME/.cache/gantry/moto-venv}"
requirements="$here/requirements.txt"
stamp="$venv/.gantry-requirements"

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && cmp -s "$requirements" "$stamp"; then
    exit 0
fi

mkdir -p "$(dirname "$venv")"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
"$venv/bin/python" -c "import moto.server" >/dev/null
cp "$requirements" "$stamp"
echo "moto is ready in $venv"
