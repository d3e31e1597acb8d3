#!/usr/bin/env bash
# The main job on a fresh machine: `pulumi up` of the `local` stack, which needs no cluster and
# no account. The Kubernetes provider writes every object to rendered/local/ instead of applying
# it, and state lives in a file backend in .pulumi-state/ (override with PULUMI_STATE_DIR).
#
# It provisions Node 24 and the locked npm dependencies, then the Pulumi engine: a `pulumi` on
# PATH at least as new as versions.json's, with its language host beside it, is used as it is (a
# normal install; same rule as scripts/engine/bootstrap.sh); otherwise the
# engine is built from Go modules into ~/.cache/k8s-platform/engine (about 25 minutes on two
# cores the first time, nothing after that; needs Go).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH="$(bash scripts/node.sh):$PATH"
export PATH
npm ci --no-audit --no-fund --loglevel=error

# Render mode must never reach a cluster: a kubeconfig makes the provider contact it.
export KUBECONFIG=""
state="${PULUMI_STATE_DIR:-$PWD/.pulumi-state}"
mkdir -p "$state"

# shellcheck source=scripts/engine/lib.sh
source scripts/engine/lib.sh
# The cache's own build on PATH (env.sh sourced earlier) still goes through env.sh, which installs
# the provider plugin it needs.
own="$(engine_pulumi_bin "$(engine_pulumi_version)" "$(engine_langhost_version)")"
if path_pulumi="$(engine_path_pulumi "$(engine_pulumi_version)" "$own" 2> >(sed 's/^/main: /' >&2))"; then
  echo "main: using $path_pulumi/pulumi from PATH (plugins it lacks are downloaded as usual)"
  export PULUMI_BACKEND_URL="file://$(cd "$state" && pwd)"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-k8s-platform-local-dev}"
  export PULUMI_SKIP_UPDATE_CHECK=true
else
  # shellcheck source=scripts/engine/env.sh
  source scripts/engine/env.sh "$state"
fi

pulumi login "$PULUMI_BACKEND_URL" >/dev/null
npm run --silent stack:init -- --stack local
pulumi up --yes --stack local
echo "main: manifests in rendered/local/ (state in $state)"
