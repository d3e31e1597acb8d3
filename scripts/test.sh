#!/usr/bin/env bash
# The project's test command, for a fresh machine and for CI: provisions Node 24, installs the
# locked dependencies, typechecks, lints, runs the unit suite, and ends with one plain line
# `N passed, M failed` (plus `, K skipped` when tests were skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH="$(bash scripts/node.sh):$PATH"
export PATH
echo "node $(node --version), npm $(npm --version)"

npm ci --no-audit --no-fund --loglevel=error
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check

results="$(mktemp -t vitest-results.XXXXXX.json)"
trap 'rm -f "$results"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" || status=$?
node scripts/test-summary.mjs "$results" || status=1
exit "$status"
