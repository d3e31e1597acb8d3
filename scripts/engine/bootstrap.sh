#!/usr/bin/env bash
# Build the Pulumi engine from Go modules into a cache outside the repository, and print the
# directories that hold it on the last line of stdout, for callers to put first on PATH:
#   PATH="$(bash scripts/engine/bootstrap.sh | tail -1):$PATH"
# (then `source scripts/engine/env.sh` for the offline settings and the provider plugin install).
#
# What it builds, each into its own version-keyed directory under
# ${PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-platform}/engine/:
#   pulumi-v<pulumi>[-nodejs-v<pulumiLanguageNodejs>]/bin/{pulumi,pulumi-language-nodejs}
#     (versions.json; the language host sits beside `pulumi`, which then takes it as bundled)
#   kubernetes-v<package.json @pulumi/kubernetes>/bin/pulumi-resource-kubernetes
#   language-yaml-v<pulumiLanguageYaml>/bin/pulumi-language-yaml (Pulumi YAML programs, e.g. the
#     multi-language package's example; on PATH after pulumi)
# Only the Go module proxy is used (the CLI and plugins cannot be downloaded as binaries here).
# A directory that is already there is used as it is, so a second run does nothing. A `pulumi` on
# PATH of exactly the wanted version is used instead of building one; another version is reported
# and ignored. Builds happen in a temporary directory beside the cache and are moved into place
# only once they work, so an interrupted run leaves no half-built cache.
# All progress goes to stderr; stdout carries only the final PATH fragment.
#
# Options: --print-kubernetes-bin  print the provider's bin directory instead of the PATH fragment
#          --check                 exit 0 when everything is cached, 1 when a build is needed (builds nothing)
#          (used by env.sh, which installs the provider as a plugin instead of putting it on PATH).
# Environment: PLATFORM_CACHE / XDG_CACHE_HOME (cache root), ENGINE_KUBERNETES_VERSION (build a
# provider release other than the package.json pin, on purpose), GOMODCACHE/GOCACHE as usual for Go.
set -euo pipefail
# shellcheck source=scripts/engine/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

_print="path"
_check=""
case "${1:-}" in
  --print-kubernetes-bin) _print="kubernetes" ;;
  --check) _check=1 ;;
  "") ;;
  *) echo "usage: bash scripts/engine/bootstrap.sh [--print-kubernetes-bin | --check]" >&2; exit 2 ;;
esac

log() { printf 'engine: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pulumi_v="$(engine_pulumi_version)"
lang_v="$(engine_langhost_version)"
k8s_v="$(engine_kubernetes_version)"
yaml_v="$(engine_yaml_version)"
[ -n "$pulumi_v" ] || die "versions.json has no \"pulumi\" version"
[ -n "$yaml_v" ] || die "versions.json has no \"pulumiLanguageYaml\" version"
[ -n "$k8s_v" ] || die "package.json has no exact \"@pulumi/kubernetes\" version (and ENGINE_KUBERNETES_VERSION is unset)"
if [ -z "${ENGINE_KUBERNETES_VERSION:-}" ]; then
  _installed="$(engine_json_string "$engine_repo/node_modules/@pulumi/kubernetes/package.json" version)"
  if [ -n "$_installed" ] && [ "$_installed" != "$k8s_v" ]; then
    log "warning: node_modules has @pulumi/kubernetes $_installed but package.json pins $k8s_v (run npm ci); building $k8s_v"
  fi
fi

pulumi_bin="$(engine_pulumi_bin "$pulumi_v" "$lang_v")"
k8s_bin="$(engine_kubernetes_bin "$k8s_v")"
yaml_bin="$(engine_yaml_bin "$yaml_v")"

# A `pulumi` on PATH of the wanted version or newer, with its `pulumi-language-nodejs` beside it
# (an installed release), is used as it is; any other one is reported and left behind this cache
# on PATH. scripts/main.sh applies the same rule (engine_path_pulumi in lib.sh).
use_path_pulumi=""
if use_path_pulumi="$(engine_path_pulumi "$pulumi_v" "$pulumi_bin" 2> >(sed 's/^/engine: /' >&2))"; then
  log "using $use_path_pulumi/pulumi from PATH"
else
  use_path_pulumi=""
fi

# check_needs: set need_pulumi / need_k8s / need_yaml to 1 for what is not there yet.
check_needs() {
  need_pulumi=""
  need_k8s=""
  need_yaml=""
  [ -x "$yaml_bin/pulumi-language-yaml" ] || need_yaml=1
  [ -n "$use_path_pulumi" ] || { [ -x "$pulumi_bin/pulumi" ] && [ -x "$pulumi_bin/pulumi-language-nodejs" ]; } || need_pulumi=1
  [ -x "$k8s_bin/pulumi-resource-kubernetes" ] || need_k8s=1
}
check_needs

emit() {
  if [ "$_print" = "kubernetes" ]; then
    echo "$k8s_bin"
  else
    echo "${use_path_pulumi:-$pulumi_bin}:$yaml_bin"
  fi
}

if [ -z "$need_pulumi$need_k8s$need_yaml" ]; then
  emit
  exit 0
fi
# --check: say whether everything is cached, never build (CI decides whether a cold build fits).
if [ -n "$_check" ]; then
  log "not built yet:${need_pulumi:+ pulumi v$pulumi_v + language host v$lang_v}${need_k8s:+ kubernetes provider v$k8s_v}${need_yaml:+ YAML language host v$yaml_v}"
  exit 1
fi

# ---------------------------------------------------------------------------------------------
# Something has to be built: from here on Go is needed.
command -v go >/dev/null 2>&1 || die "go is not on PATH (versions.json wants go >= $(engine_go_min_version))"
export GOTOOLCHAIN=local # never download a toolchain: the module proxy may not serve one
export CGO_ENABLED=0     # as upstream's release builds; static binaries
_gov="$(go env GOVERSION)"
_gomin="$(engine_go_min_version)"
if [ -n "$_gomin" ] && [ "$(printf '%s\n%s\n' "go$_gomin" "$_gov" | sort -V | head -n 1)" != "go$_gomin" ]; then
  die "$_gov is older than go$_gomin (versions.json \"go\")"
fi

mkdir -p "$engine_store"
# One build at a time per cache: a second run waits here, then finds the first run's results.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$engine_store/.lock"
  if ! flock -n 9; then
    log "another bootstrap is building in $engine_store; waiting for it"
    flock 9
    check_needs
    if [ -z "$need_pulumi$need_k8s$need_yaml" ]; then
      emit
      exit 0
    fi
  fi
fi

work=""
ticker=""
child=""
cleanup() {
  [ -z "$child" ] || { kill "$child" 2>/dev/null && wait "$child" 2>/dev/null; } || true
  [ -z "$ticker" ] || kill "$ticker" 2>/dev/null || true
  [ -z "$work" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work="$(mktemp -d "$engine_store/.work.XXXXXX")"
cd "$work"

t_total=$(date +%s)

# step LABEL CMD...: run CMD with a start line, a line every 30 s while it runs, and its time.
step() {
  local label="$1" start rc=0
  shift
  start=$(date +%s)
  log "$label ..."
  (
    n=0
    while sleep 1; do
      n=$((n + 1))
      [ $((n % 30)) -ne 0 ] || log "  ... $label: ${n}s"
    done
  ) >&2 &
  ticker=$!
  if declare -F "$1" >/dev/null; then
    "$@" || rc=$?
  else
    # A program runs in the background so that INT/TERM reach the traps at once (bash runs traps
    # only after a foreground child ends); cleanup then stops it.
    "$@" &
    child=$!
    wait "$child" || rc=$?
    child=""
  fi
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  ticker=""
  if [ "$rc" -eq 0 ]; then
    log "$label: done in $(($(date +%s) - start))s"
  else
    log "$label: FAILED after $(($(date +%s) - start))s (exit $rc)"
  fi
  return "$rc"
}

# json_field NAME < go's -json output: the first "NAME": "value" (go writes one field a line).
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n 1; }

# fetch_module MODULE@VERSION: download it into the module cache and set $fetched_dir (and
# $fetched_hash, its Origin commit when the proxy reports one).
fetch_module() {
  local mv="$1" out
  out="$(cd "$work" && go mod download -json "$mv" 2>&1)" || true
  if printf '%s\n' "$out" | grep -q '"Error"' && printf '%s\n' "$out" | grep -q 'sumdb\|verifying'; then
    # The checksum database does not know every version the proxy serves (here: the untagged
    # pseudo-versions of the language host and provider modules, and pulumi-kubernetes/sdk/v4).
    # Only then is that one module path exempted from the lookup; go.sum still pins their deps.
    log "  checksum database lookup failed for $mv; retrying with GONOSUMDB=${mv%@*}"
    export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}${mv%@*}"
    out="$(cd "$work" && go mod download -json "$mv" 2>&1)" || true
  fi
  fetched_dir="$(printf '%s\n' "$out" | json_field Dir)"
  fetched_hash="$(printf '%s\n' "$out" | json_field Hash)"
  if [ -z "$fetched_dir" ] || [ ! -d "$fetched_dir" ]; then
    log "  go mod download $mv failed:"
    printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/    \1/p' | sed 's/\\n\\t/\n      /g' >&2
    return 1
  fi
}

# place SRC DEST: copy a module out of the (read-only) module cache into the upstream layout.
place() {
  mkdir -p "$(dirname "$2")"
  cp -R "$1" "$2"
  chmod -R u+w "$2"
}

# modules_tsv COMPONENT RELEASE: the module@version line of scripts/engine/modules.tsv, if any.
modules_tsv() {
  awk -F '\t' -v c="$1" -v r="$2" '$1 == c && $2 == r { print $3; exit }' "$engine_dir/modules.tsv"
}

# finish NAME STAGE FINAL: move a finished build into place (a concurrent winner is kept).
finish() {
  local stage="$2" final="$3"
  if [ -e "$final" ]; then
    log "$1: $final appeared meanwhile; keeping it"
  else
    mv "$stage" "$final"
  fi
}

go_build_flags=(-mod=mod -trimpath -buildvcs=false)

# --- resolve every source first, so an unobtainable one fails before any long build ----------
if [ -n "$need_pulumi" ]; then
  step "download github.com/pulumi/pulumi/pkg/v3@v$pulumi_v" fetch_module "github.com/pulumi/pulumi/pkg/v3@v$pulumi_v" ||
    die "the Go module proxy does not serve pulumi v$pulumi_v; pick another \"pulumi\" in versions.json"
  cli_pkg="$fetched_dir"
  step "download github.com/pulumi/pulumi/sdk/v3@v$pulumi_v" fetch_module "github.com/pulumi/pulumi/sdk/v3@v$pulumi_v" ||
    die "the Go module proxy does not serve pulumi sdk v$pulumi_v"
  cli_sdk="$fetched_dir"
  lang_mv="$(modules_tsv pulumi-language-nodejs "$lang_v")"
  [ -n "$lang_mv" ] || die "scripts/engine/modules.tsv has no pulumi-language-nodejs line for $lang_v (the module is never tagged: add its pseudo-version)"
  step "download $lang_mv" fetch_module "$lang_mv" || die "cannot download the Node.js language host $lang_mv"
  lang_src="$fetched_dir"
  step "download github.com/pulumi/pulumi/pkg/v3@v$lang_v" fetch_module "github.com/pulumi/pulumi/pkg/v3@v$lang_v" || die "cannot download pulumi pkg v$lang_v"
  lang_pkg="$fetched_dir"
  step "download github.com/pulumi/pulumi/sdk/v3@v$lang_v" fetch_module "github.com/pulumi/pulumi/sdk/v3@v$lang_v" || die "cannot download pulumi sdk v$lang_v"
  lang_sdk="$fetched_dir"
fi
if [ -n "$need_k8s" ]; then
  step "download github.com/pulumi/pulumi-kubernetes/sdk/v4@v$k8s_v" fetch_module "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$k8s_v" ||
    die "the Go module proxy does not serve pulumi-kubernetes v$k8s_v, so the provider for @pulumi/kubernetes $k8s_v cannot be built here. Releases known to build: $(awk -F '\t' '$1 == "kubernetes" { printf "%s ", $2 }' "$engine_dir/modules.tsv")"
  k8s_sdk="$fetched_dir"
  k8s_mv="$(modules_tsv kubernetes "$k8s_v")"
  if [ -z "$k8s_mv" ]; then
    # No provider/v4 tags exist: the sdk/v4 tag's commit carries the release's provider tree.
    [ -n "$fetched_hash" ] || die "the proxy reported no commit for pulumi-kubernetes sdk/v4@v$k8s_v; add a kubernetes line to scripts/engine/modules.tsv"
    k8s_mv="github.com/pulumi/pulumi-kubernetes/provider/v4@$fetched_hash"
  fi
  step "download $k8s_mv" fetch_module "$k8s_mv" ||
    die "cannot download the Kubernetes provider module for $k8s_v ($k8s_mv)"
  k8s_src="$fetched_dir"
fi

if [ -n "$need_yaml" ]; then
  step "download github.com/pulumi/pulumi-yaml@v$yaml_v" fetch_module "github.com/pulumi/pulumi-yaml@v$yaml_v" ||
    die "the Go module proxy does not serve pulumi-yaml v$yaml_v; pick another \"pulumiLanguageYaml\" in versions.json"
  yaml_src="$fetched_dir"
fi

# --- builds ------------------------------------------------------------------------------------
if [ -n "$need_pulumi" ]; then
  stage="$work/stage-pulumi"
  mkdir -p "$stage/bin"
  place "$cli_pkg" "$work/cli/pkg"
  place "$cli_sdk" "$work/cli/sdk"
  cd "$work/cli/pkg"
  step "download the modules the pulumi CLI imports" go list -e "${go_build_flags[@]}" -deps ./cmd/pulumi >/dev/null
  step "build pulumi v$pulumi_v" nice -n 10 go build "${go_build_flags[@]}" -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$pulumi_v" \
    -o "$stage/bin/pulumi" ./cmd/pulumi
  _got="$(PULUMI_SKIP_UPDATE_CHECK=true "$stage/bin/pulumi" version 2>/dev/null | head -n 1 || true)"
  [ "$_got" = "v$pulumi_v" ] || die "the built pulumi reports '${_got}', not v$pulumi_v"

  # Upstream layout: the language host's go.mod replaces pkg/v3 => ../../../../pkg, sdk/v3 => ../../..
  place "$lang_pkg" "$work/lang/pkg"
  place "$lang_sdk" "$work/lang/sdk"
  place "$lang_src" "$work/lang/sdk/nodejs/cmd/pulumi-language-nodejs"
  cd "$work/lang/sdk/nodejs/cmd/pulumi-language-nodejs"
  # -mod=mod: the module's go.mod lists older pkg/sdk requirements than the replaced copies need.
  step "download the modules the language host imports" go list -e "${go_build_flags[@]}" -deps . >/dev/null
  step "build pulumi-language-nodejs v$lang_v" nice -n 10 go build "${go_build_flags[@]}" -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$lang_v" \
    -o "$stage/bin/pulumi-language-nodejs" .
  {
    printf 'pulumi v%s: github.com/pulumi/pulumi/pkg/v3@v%s with sdk/v3@v%s\n' "$pulumi_v" "$pulumi_v" "$pulumi_v"
    printf 'pulumi-language-nodejs v%s: %s with pkg/v3@v%s and sdk/v3@v%s\n' "$lang_v" "$lang_mv" "$lang_v" "$lang_v"
    printf 'built with %s on %s\n' "$_gov" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$stage/BUILD-INFO"
  finish pulumi "$stage" "$(dirname "$pulumi_bin")"
  cd "$work"
fi

if [ -n "$need_k8s" ]; then
  stage="$work/stage-kubernetes"
  mkdir -p "$stage/bin"
  # Upstream layout: provider/go.mod replaces sdk/v4 => ../sdk.
  place "$k8s_src" "$work/k8s/provider"
  place "$k8s_sdk" "$work/k8s/sdk"
  cd "$work/k8s/provider"
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, made from the committed
  # schema.json by generate.go (no network). The upstream Makefile is not used: it needs pulumictl.
  (cd cmd/pulumi-resource-kubernetes && step "generate the provider's embedded schema (v$k8s_v)" \
    env VERSION="$k8s_v" GOFLAGS=-mod=mod nice -n 10 go generate .)
  step "download the modules the kubernetes provider imports" go list -e "${go_build_flags[@]}" -deps ./cmd/pulumi-resource-kubernetes >/dev/null
  step "build pulumi-resource-kubernetes v$k8s_v" nice -n 10 go build "${go_build_flags[@]}" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=v$k8s_v" \
    -o "$stage/bin/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes
  printf 'pulumi-resource-kubernetes v%s\nbuilt from %s with pulumi-kubernetes/sdk/v4@v%s with %s on %s\n' \
    "$k8s_v" "$k8s_mv" "$k8s_v" "$_gov" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stage/BUILD-INFO"
  finish pulumi-resource-kubernetes "$stage" "$(dirname "$k8s_bin")"
  cd "$work"
fi

if [ -n "$need_yaml" ]; then
  stage="$work/stage-yaml"
  mkdir -p "$stage/bin"
  place "$yaml_src" "$work/yaml"
  cd "$work/yaml"
  step "download the modules the YAML language host imports" go list -e "${go_build_flags[@]}" -deps ./cmd/pulumi-language-yaml >/dev/null
  step "build pulumi-language-yaml v$yaml_v" nice -n 10 go build "${go_build_flags[@]}" -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=v$yaml_v" \
    -o "$stage/bin/pulumi-language-yaml" ./cmd/pulumi-language-yaml
  printf 'pulumi-language-yaml v%s: github.com/pulumi/pulumi-yaml@v%s with %s on %s\n' \
    "$yaml_v" "$yaml_v" "$_gov" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stage/BUILD-INFO"
  finish pulumi-language-yaml "$stage" "$(dirname "$yaml_bin")"
  cd "$work"
fi

log "engine ready in $(($(date +%s) - t_total))s"
emit
