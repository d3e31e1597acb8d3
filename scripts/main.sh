#!/usr/bin/env bash
# The main job on a fresh machine: provision Node 24, install the locked dependencies, then
# render every sample stack offline (the program under the Pulumi mock engine; no CLI, cluster
# or credentials) into rendered/<stack>/. Pass a stack name to render only that one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PATH="$(bash scripts/node.sh):$PATH"
export PATH
npm ci --no-audit --no-fund --loglevel=error
stacks=("$@")
if [ ${#stacks[@]} -eq 0 ]; then stacks=(dev staging prod); fi
for stack in "${stacks[@]}"; do
  npm run --silent render -- --stack "$stack"
done
