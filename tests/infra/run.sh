#!/usr/bin/env bash
# Lints the SAM application and the state machine, then proves the linters bite:
#   1. infra/template.yaml translated offline by aws-sam-translator, and cfn-lint on the result
#      and on the SAM template itself (any error, warning or informational finding fails);
#   2. asl-validator on statemachine/*.asl.json;
#   3. hadolint on infra/builder.Dockerfile;
#   4. broken copies (tests/infra/fixtures/make.py, one mistake each) must each FAIL.
# Idempotent and fast on re-run: the venv and node_modules are reinstalled only when
# requirements.txt or package-lock.json change.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="${GANTRY_INFRA_VENV:-$HOME/.cache/gantry/infra-venv}"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- tools ------------------------------------------------------------------------------------
want="$(sha "$here/requirements.txt")"
if [[ ! -x "$venv/bin/cfn-lint" || ! -x "$venv/bin/hadolint" || "$(cat "$venv/.gantry-requirements" 2>/dev/null)" != "$want" ]]; then
    echo "infra: installing cfn-lint, aws-sam-translator and hadolint into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    echo "$want" >"$venv/.gantry-requirements"
fi
want="$(sha "$here/package-lock.json")"
if [[ ! -x "$here/node_modules/.bin/asl-validator" ||
    "$(cat "$here/node_modules/.gantry-lock" 2>/dev/null)" != "$want" ]]; then
    echo "infra: installing asl-validator (npm ci)"
    (cd "$here" && npm ci --no-audit --no-fund --silent)
    echo "$want" >"$here/node_modules/.gantry-lock"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# check_template TEMPLATE LOG: translate, lint the translation, lint the SAM source.
check_template() {
    local template="$1" log="$2" translated
    translated="$out/$(basename "$template" .yaml).json"
    "$venv/bin/python" "$here/translate.py" --relative-to "$root/infra" "$template" "$translated" >"$log" 2>&1 &&
        "$venv/bin/cfn-lint" --non-zero-exit-code informational -- "$translated" >>"$log" 2>&1 &&
        "$venv/bin/cfn-lint" --non-zero-exit-code informational -- "$template" >>"$log" 2>&1
}

check_asl() {
    "$here/node_modules/.bin/asl-validator" --json-path "$1" >"$2" 2>&1
}

check_dockerfile() {
    "$venv/bin/hadolint" --no-color "$1" >"$2" 2>&1
}

# --- the real files ---------------------------------------------------------------------------
if check_template "$root/infra/template.yaml" "$out/template.log"; then
    pass "infra/template.yaml: translates; cfn-lint clean on SAM and CloudFormation"
else
    cat "$out/template.log"
    fail "infra/template.yaml"
fi
for asl in "$root"/statemachine/*.asl.json; do
    if check_asl "$asl" "$out/asl.log"; then
        pass "${asl#"$root"/}: asl-validator clean"
    else
        cat "$out/asl.log"
        fail "${asl#"$root"/}"
    fi
done

if check_dockerfile "$root/infra/builder.Dockerfile" "$out/dockerfile.log"; then
    pass "infra/builder.Dockerfile: hadolint clean"
else
    cat "$out/dockerfile.log"
    fail "infra/builder.Dockerfile"
fi

# --- the linters catch each intentional mistake -----------------------------------------------
fixtures="$out/fixtures.tsv"
"$venv/bin/python" "$here/fixtures/make.py" >"$fixtures"
while IFS=$'\t' read -r kind name path; do
    log="$out/fixture-$name.log"
    case "$kind" in
        template) check=check_template ;;
        asl) check=check_asl ;;
        dockerfile) check=check_dockerfile ;;
        *) echo "unknown fixture kind $kind" >&2; exit 1 ;;
    esac
    if "$check" "$path" "$log"; then
        fail "fixture $kind/$name was NOT refused"
    else
        # First line of the linter's complaint, to show it failed for the planted reason.
        pass "fixture $kind/$name refused: $(grep -m1 -E '^(E|W|I)[0-9]+ |^translate:|^ ?[A-Z_]+: | (DL|SC)[0-9]+ ' "$log" | cut -c1-110)"
    fi
done <"$fixtures"

echo "infra: $passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
