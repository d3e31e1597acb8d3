#!/usr/bin/env bash
# The main job on a fresh machine: `pulumi up` of the `local` stack, which needs no cluster and
# no account. The Kubernetes provider writes every object to rendered/local/ instead of applying
# it, and state lives in a file backend in .pulumi-state/ (override with PULUMI_STATE_DIR).
#
# It provisions Node 24 and the locked npm dependencies, then the Pulumi engine: a `pulumi` on
# PATH at least as new as versions.json's is used as it is (a normal install); otherwise the
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

want="$(sed -n 's/^ *"pulumi": *"\([0-9.]*\)".*/\1/p' versions.json)"
have="$(PULUMI_SKIP_UPDATE_CHECK=true pulumi version 2>/dev/null | head -n 1 | sed 's/^v//' || true)"
newer_or_equal() { node -e 'const [a,b]=process.argv.slice(1).map(v=>v.split(/[.-]/).slice(0,3).map(Number));process.exit(a[0]-b[0]||a[1]-b[1]||a[2]-b[2]<0?1:0)' "$1" "$2"; }
if [ -n "$have" ] && newer_or_equal "$have" "$want"; then
  echo "main: using pulumi v$have from PATH"
  export PULUMI_BACKEND_URL="file://$(cd "$state" && pwd)"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-k8s-platform-local-dev}"
  export PULUMI_SKIP_UPDATE_CHECK=true
else
  # shellcheck source=scripts/engine/env.sh
  source scripts/engine/env.sh "$state"
fi

pulumi login "$PULUMI_BACKEND_URL" >/dev/null
pulumi stack select --create local >/dev/null
pulumi up --yes --stack local
echo "main: manifests in rendered/local/ (state in $state)"
