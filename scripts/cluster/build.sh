#!/usr/bin/env bash
# Build the local test control plane from Go modules into a cache outside the repository:
#   <cache>/cluster/k8s-v<kubernetes>/bin   kube-apiserver kube-controller-manager kube-scheduler kubectl
#   <cache>/cluster/etcd-v<etcd>/bin        etcd
#   <cache>/cluster/kwok-v<kwok>/bin        kwok   (+ ../stages/*.yaml, the module's Stage files)
# where <cache> is ${PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-platform} and the
# versions come from versions.json ("kubernetes", "etcd", "kwok"). Each component is built in a
# temporary directory and renamed into place, so a directory that exists is complete; a cached
# component is not rebuilt. Progress goes to stderr; the last stdout line is the three bin
# directories joined with ':' (ready to put on PATH).
#
# Needs Go (go.mod's "go" line of the Kubernetes release: 1.24 for 1.33) and the Go module
# proxy; no cgo, no GitHub, no container images. Builds run under `nice` with -p 2.
set -euo pipefail

_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_ver() { sed -n "s/^ *\"$1\": *\"\\([0-9.]*\\)\".*/\\1/p" "$_root/versions.json"; }
K8S="$(_ver kubernetes)"
ETCD="$(_ver etcd)"
KWOK="$(_ver kwok)"
for _v in K8S ETCD KWOK; do
  if [ -z "${!_v}" ]; then
    echo "scripts/cluster/build.sh: versions.json lacks the $_v version (keys kubernetes, etcd, kwok)" >&2
    exit 1
  fi
done

CACHE="${PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-platform}/cluster"
K8S_DIR="$CACHE/k8s-v$K8S"
ETCD_DIR="$CACHE/etcd-v$ETCD"
KWOK_DIR="$CACHE/kwok-v$KWOK"
# --check: exit 0 when every component is cached, 1 when a build is needed (builds nothing).
if [ "${1:-}" = "--check" ]; then
  [ -d "$K8S_DIR" ] && [ -d "$ETCD_DIR" ] && [ -d "$KWOK_DIR" ] && exit 0
  echo "scripts/cluster/build.sh: not built yet (kubernetes $K8S, etcd $ETCD, kwok $KWOK)" >&2
  exit 1
fi
mkdir -p "$CACHE"

log() { echo "[cluster build $(date +%H:%M:%S)] $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# Temporary build directories, removed on exit (whatever happened); leftovers of a killed build
# older than a day are removed on the next run.
_tmps=()
cleanup() { for _t in "${_tmps[@]}"; do rm -rf "$_t"; done; }
trap cleanup EXIT
find "$CACHE" -maxdepth 1 -name '.build-*' -mmin +1440 -exec rm -rf {} + 2>/dev/null || true

# Sets T to a new temporary directory under the cache (same filesystem: the final mv is a rename).
newtmp() {
  T="$(mktemp -d "$CACHE/.build-$1.XXXXXX")"
  _tmps+=("$T")
}

# Move a finished build into place; a concurrent build that won the race is kept.
publish() {
  if ! mv -T "$1" "$2" 2>/dev/null; then
    [ -d "$2" ] || { echo "scripts/cluster/build.sh: cannot move $1 to $2" >&2; exit 1; }
    log "$2 appeared meanwhile (another build); keeping it"
  fi
}

need_go() {
  command -v go >/dev/null || {
    echo "scripts/cluster/build.sh: 'go' not found; install Go $(_ver go) or newer" >&2
    exit 1
  }
  command -v jq >/dev/null || {
    echo "scripts/cluster/build.sh: 'jq' not found (apt-get install jq)" >&2
    exit 1
  }
}

GOBUILD=(nice -n 10 env CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go build -p 2 -trimpath)

build_k8s() {
  local t src w m minor ld start rel
  if [ -x "$K8S_DIR/bin/kube-apiserver" ]; then return; fi
  need_go
  newtmp "k8s-v$K8S"
  t="$T"
  src="$t/src"
  start="$(now)"
  log "kubernetes v$K8S: go mod download k8s.io/kubernetes@v$K8S"
  w="$(go mod download -json "k8s.io/kubernetes@v$K8S" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  if [ -z "$w" ] || [ ! -d "$w" ]; then
    echo "scripts/cluster/build.sh: download of k8s.io/kubernetes@v$K8S failed" >&2
    exit 1
  fi
  cp -r "$w" "$src"
  chmod -R u+w "$src"
  rm -rf "$src/go.work" "$src/go.work.sum" "$src/vendor"
  log "kubernetes v$K8S: downloaded and copied in $(since "$start")"

  # The module zip leaves out staging/ (nested modules): point every `=> ./staging/...`
  # replace at the published module of the same release (v0.<minor>.<patch>).
  minor="0.${K8S#*.}"
  local edits=()
  while read -r m; do
    [ -n "$m" ] && edits+=("-replace=$m=$m@v$minor")
  done < <(cd "$src" && go mod edit -json | jq -r '.Replace[]? | select(.New.Path | startswith("./staging/")) | .Old.Path')
  [ "${#edits[@]}" -gt 0 ] || { echo "scripts/cluster/build.sh: found no staging replaces in k8s.io/kubernetes go.mod" >&2; exit 1; }
  # Some patch releases of the sample modules (k8s.io/sample-*) are not on the module proxy. No
  # binary built here imports them, so a staging module the proxy refuses is dropped, not fatal.
  local unavailable=() staged=()
  for m in "${edits[@]}"; do staged+=("${m##*=}"); done
  while read -r m; do
    [ -n "$m" ] && unavailable+=("$m")
  done < <(cd "$src" && GOWORK=off go mod download -json "${staged[@]}" 2>/dev/null |
    jq -r 'select(.Error != null) | .Path')
  for m in "${unavailable[@]}"; do
    case "$m" in
      k8s.io/sample-*) edits+=("-droprequire=$m" "-dropreplace=$m") ;;
      *)
        echo "scripts/cluster/build.sh: $m@v$minor is not on the Go module proxy; kube-apiserver needs it" >&2
        exit 1
        ;;
    esac
  done
  (cd "$src" && go mod edit "${edits[@]}")
  log "kubernetes v$K8S: re-pointed ${#staged[@]} staging replaces at published v$minor modules${unavailable[*]:+ (dropped, not on the proxy: ${unavailable[*]})}"

  start="$(now)"
  (cd "$src" && GOFLAGS=-mod=mod GOWORK=off go mod download) >&2
  log "kubernetes v$K8S: dependencies downloaded in $(since "$start")"

  rel="$(go mod download -json "k8s.io/kubernetes@v$K8S" | jq -r '.Origin.Hash // empty' 2>/dev/null || true)"
  ld="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=v$K8S -X $p.gitMajor=${K8S%%.*} -X $p.gitMinor=$(echo "$K8S" | cut -d. -f2)"
    ld+=" -X $p.gitCommit=${rel:-unknown} -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  mkdir -p "$t/out/bin"
  for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    start="$(now)"
    log "kubernetes v$K8S: go build ./cmd/$cmd"
    (cd "$src" && "${GOBUILD[@]}" -ldflags "$ld" -o "$t/out/bin/$cmd" "./cmd/$cmd") >&2
    log "kubernetes v$K8S: $cmd built in $(since "$start") ($(du -h "$t/out/bin/$cmd" | cut -f1))"
  done
  "$t/out/bin/kube-apiserver" --version >&2
  publish "$t/out" "$K8S_DIR"
}

build_etcd() {
  local t start
  if [ -x "$ETCD_DIR/bin/etcd" ]; then return; fi
  need_go
  newtmp "etcd-v$ETCD"
  t="$T"
  start="$(now)"
  # go.etcd.io/etcd/server/v3 holds etcd's main but uses path replaces, so `go install` refuses
  # it; a wrapper module works because a dependency's replaces are ignored.
  mkdir -p "$t/w" "$t/out/bin"
  log "etcd v$ETCD: wrapper module, go get go.etcd.io/etcd/server/v3@v$ETCD"
  (cd "$t/w" && go mod init etcdbuild >/dev/null 2>&1 && GOFLAGS=-mod=mod go get "go.etcd.io/etcd/server/v3@v$ETCD") >&2
  log "etcd v$ETCD: modules resolved in $(since "$start")"
  start="$(now)"
  (cd "$t/w" && "${GOBUILD[@]}" -ldflags "-s -w" -o "$t/out/bin/etcd" go.etcd.io/etcd/server/v3) >&2
  log "etcd v$ETCD: etcd built in $(since "$start") ($(du -h "$t/out/bin/etcd" | cut -f1))"
  "$t/out/bin/etcd" --version >&2
  publish "$t/out" "$ETCD_DIR"
}

build_kwok() {
  local t start d f
  if [ -x "$KWOK_DIR/bin/kwok" ] && [ -d "$KWOK_DIR/stages" ]; then return; fi
  need_go
  newtmp "kwok-v$KWOK"
  t="$T"
  start="$(now)"
  mkdir -p "$t/out/bin" "$t/out/stages"
  log "kwok v$KWOK: go install sigs.k8s.io/kwok/cmd/kwok@v$KWOK"
  GOBIN="$t/out/bin" nice -n 10 env CGO_ENABLED=0 go install -p 2 -trimpath \
    -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK" >&2
  log "kwok v$KWOK: kwok built in $(since "$start") ($(du -h "$t/out/bin/kwok" | cut -f1))"
  # The Stage documents that make fake nodes Ready (with lease heartbeats) and pods Running,
  # Ready, Succeeded and deleted, plus the volume stages (storage class kwok-volume).
  d="$(go mod download -json "sigs.k8s.io/kwok@v$KWOK" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml \
    volume/fast/pvc-provision.yaml volume/fast/pv-bind.yaml volume/fast/pvc-delete.yaml \
    volume/fast/pv-delete.yaml; do
    [ -f "$d/kustomize/stage/$f" ] || { echo "scripts/cluster/build.sh: kwok module lacks kustomize/stage/$f" >&2; exit 1; }
    cp "$d/kustomize/stage/$f" "$t/out/stages/$(echo "$f" | tr / _)"
  done
  chmod -R u+w "$t/out"
  publish "$t/out" "$KWOK_DIR"
}

_all="$(now)"
build_etcd
build_kwok
build_k8s
log "ready in $(since "$_all"): kubernetes v$K8S, etcd v$ETCD, kwok v$KWOK under $CACHE"
echo "$K8S_DIR/bin:$ETCD_DIR/bin:$KWOK_DIR/bin"
