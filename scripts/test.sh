#!/usr/bin/env bash
# The project's test command, for a fresh machine and for CI. Provisions Node 24, installs the
# locked dependencies, typechecks, lints, checks formatting, then runs three tiers:
#   unit     vitest: pure units, components and every stack under Pulumi mocks (seconds)
#   engine   the real Pulumi engine built from Go modules: preview/up/destroy in render mode
#   cluster  a local control plane (etcd, apiserver, controllers, scheduler, kwok nodes)
# and ends with one plain line `N passed, M failed[, K skipped]` summed over the tiers.
#
# The engine and cluster are built from Go modules into ~/.cache/k8s-platform the first time
# (about 25 and 20 minutes on two cores). A tier whose cold build would not fit the time budget
# (TEST_BUDGET_MINUTES, default 55) is skipped, loudly, and its tests are counted as skipped.
# SKIP_SLOW_TIERS=1 runs the unit tier only.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH="$(bash scripts/node.sh):$PATH"
export PATH
echo "node $(node --version), npm $(npm --version)"

npm ci --no-audit --no-fund --loglevel=error
# The workflow linters the unit tier runs (actionlint with shellcheck, zizmor), pinned in
# versions.json; about a minute the first time, cached after that.
bash scripts/ci/workflow-linters.sh >/dev/null
npm run --silent typecheck
npm run --silent lint
npm run --silent format:check

work="$(mktemp -d -t platform-tests.XXXXXX)"
trap 'rm -rf "$work"' EXIT
status=0
reports=()
budget=$(( ${TEST_BUDGET_MINUTES:-55} * 60 ))

# run_tier NAME CONFIG: one vitest run with its JSON report collected for the closing line.
run_tier() {
  local report="$work/$1.json"
  echo
  echo "=== tier: $1 ==="
  npx vitest run -c "$2" --reporter=default --reporter=json --outputFile.json="$report" || status=1
  reports+=("$report")
}

# fits MINUTES: whether a cold build of that length still fits the budget.
fits() { [ $(( SECONDS + $1 * 60 )) -le "$budget" ]; }

loud_skip() {
  echo
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
  echo "!!! SKIPPING THE $1 TIER: $2"
  echo "!!! Its tests are counted as skipped. Build it with: $3"
  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

run_tier unit vitest.config.mts

if [ "${SKIP_SLOW_TIERS:-}" = "1" ]; then
  echo "SKIP_SLOW_TIERS=1: the engine and cluster tiers were not run"
else
  # Engine tier: the real Pulumi CLI, language host and Kubernetes provider. Its PostgreSQL
  # backend test needs Debian's postgresql (initdb, pg_ctl, psql); it skips, loudly, without.
  if ! command -v psql >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; } ||
      echo "note: could not install postgresql; tests/e2e/postgres-backend will skip"
  fi
  if bash scripts/engine/bootstrap.sh --check >/dev/null 2>&1 ||
    { fits 30 && bash scripts/engine/bootstrap.sh >/dev/null; }; then
    run_tier engine vitest.e2e.config.mts
  else
    loud_skip ENGINE "the engine is not built and a cold build (~25 min) does not fit the budget, or failed" \
      "bash scripts/engine/bootstrap.sh"
    E2E_SKIP_COLD=1 run_tier engine vitest.e2e.config.mts
  fi

  # Cluster tier: a local control plane with kwok nodes.
  command -v jq >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq jq >/dev/null; } || true
  if bash scripts/cluster/build.sh --check >/dev/null 2>&1 ||
    { fits 25 && bash scripts/cluster/build.sh >/dev/null; }; then
    run_tier cluster vitest.cluster.config.mts
  else
    loud_skip CLUSTER "the control plane is not built and a cold build (~20 min) does not fit the budget, or failed" \
      "bash scripts/cluster/build.sh"
    run_tier cluster vitest.cluster.config.mts
  fi
fi

echo
echo "=== all tiers (${SECONDS}s) ==="
node scripts/test-summary.mjs "${reports[@]}" || status=1
exit "$status"
