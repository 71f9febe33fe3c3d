#!/usr/bin/env bash
# Times the node path (not a test: timings vary with the machine). Prints, per run of the fixture
# React + Vite + TypeScript app (tests/fixtures/react-app) through `gantry build`: the install
# (the curated set linked), Vite's build, Vitest's run and the whole audit, then the medians.
# With --cold-fetch it first times `gantry deps fetch` into a temp dir with an empty npm cache
# (that part needs the npm registry).
#
# Usage: tests/bench/node-path.sh path/to/gantry [runs] [--cold-fetch]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
runs="${2:-5}"
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

if [ "${3:-}" = "--cold-fetch" ]; then
  start=$(date +%s.%N)
  npm_config_cache="$work/npm-cache" GANTRY_NODE_DEPS="$work/deps" "$bin" deps fetch
  echo "cold fetch: $(echo "$(date +%s.%N) - $start" | bc) s"
fi

export GANTRY_NODE_DEPS="${GANTRY_NODE_DEPS:-$HOME/.cache/gantry/node-deps}"
"$bin" deps status >/dev/null || { echo "fetch the set first: $bin deps fetch" >&2; exit 2; }
python3 - "$work/manifest.json" <<'PY'
import json, os, sys
root = "tests/fixtures/react-app"
files = [{"path": os.path.relpath(os.path.join(d, f), root), "content": open(os.path.join(d, f)).read()}
         for d, _, names in os.walk(root) for f in names]
json.dump({"project_name": "tally", "stack": "node", "files": files,
           "audit_command": "npm run build && npm test", "output_dir": "dist"}, open(sys.argv[1], "w"))
PY
for run in $(seq "$runs"); do
  data="$work/data-$run"
  "$bin" --data-dir "$data" build --manifest "$work/manifest.json" --no-publish --no-deploy --json >"$work/status.json"
  id="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["mission_id"])' "$work/status.json")"
  cat "$data/evidence/evidence/$id/artifacts/build-1.log" >"$work/log-$run"
done
python3 - "$work" "$runs" <<'PY'
import json, glob, re, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
rows = []
for run in range(1, runs + 1):
    log = open(f"{work}/log-{run}").read()
    install = re.search(r"in (\d+) ms\n", log)
    vite = re.search(r"built in ([\d.]+)(ms|s)", log)
    vitest = re.search(r"Duration\s+([\d.]+)(ms|s)", log)
    report = json.load(open(glob.glob(f"{work}/data-{run}/objects/missions/*/build-1/report.json")[0]))
    ms = lambda m: float(m.group(1)) * (1 if m.group(2) == "ms" else 1000)
    rows.append((int(install.group(1)), ms(vite), ms(vitest), report["duration_ms"]))
    print(f"run {run}: install {rows[-1][0]} ms, vite build {rows[-1][1]:.0f} ms, vitest {rows[-1][2]:.0f} ms, whole audit {rows[-1][3]} ms")
med = [statistics.median(c) for c in zip(*rows)]
print(f"median: install {med[0]:.0f} ms, vite build {med[1]:.0f} ms, vitest {med[2]:.0f} ms, whole audit {med[3]:.0f} ms")
PY
