# shellcheck shell=bash
# Shared by scripts/engine/bootstrap.sh and scripts/engine/env.sh: where the engine cache lives and
# which versions are wanted. Sourced, so it sets no shell options and defines only `engine_*` names.
#
# Versions come from the repository, never from this file:
#   versions.json  "pulumi"                  the Pulumi CLI release built from the Go module proxy
#                  "pulumiLanguageNodejs"    the release whose Node.js language host is built
#                                            (defaults to "pulumi"; see scripts/engine/modules.tsv)
#                  "pulumiLanguageYaml"      the Pulumi YAML language host release (pulumi-yaml)
#                  "go"                      the oldest Go toolchain the builds accept
#   package.json   "@pulumi/kubernetes"      the Kubernetes provider release (exact pin), or
#                  $ENGINE_KUBERNETES_VERSION to build another release on purpose.

engine_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck disable=SC2034 # used by bootstrap.sh
engine_dir="$engine_repo/scripts/engine"

# Cache root shared with scripts/node.sh; everything the engine needs lives under $engine_cache/engine.
engine_cache="${PLATFORM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k8s-platform}"
engine_store="$engine_cache/engine"

# engine_json_string FILE KEY: the value of the first `"KEY": "value"` line in FILE (flat JSON
# written one key a line, as versions.json and package.json are).
engine_json_string() {
  sed -n "s/^[[:space:]]*\"$2\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p" "$1" 2>/dev/null | head -n 1
}

engine_pulumi_version() { engine_json_string "$engine_repo/versions.json" pulumi; }

engine_langhost_version() {
  local v
  v="$(engine_json_string "$engine_repo/versions.json" pulumiLanguageNodejs)"
  if [ -n "$v" ]; then printf '%s\n' "$v"; else engine_pulumi_version; fi
}

engine_yaml_version() { engine_json_string "$engine_repo/versions.json" pulumiLanguageYaml; }

engine_go_min_version() { engine_json_string "$engine_repo/versions.json" go; }

# The Kubernetes provider release: $ENGINE_KUBERNETES_VERSION, else the exact @pulumi/kubernetes pin
# in package.json. Prints nothing when neither gives an exact x.y.z version.
engine_kubernetes_version() {
  local v="${ENGINE_KUBERNETES_VERSION:-}"
  if [ -z "$v" ]; then
    # The exact pin (devDependencies), not the library's peerDependencies range.
    v="$(sed -n 's/^[[:space:]]*"@pulumi\/kubernetes"[[:space:]]*:[[:space:]]*"\([0-9][0-9.]*\)".*/\1/p' \
      "$engine_repo/package.json" | head -n 1)"
  fi
  case "$v" in
    [0-9]*.[0-9]*.[0-9]*) printf '%s\n' "${v#v}" ;;
    *) ;;
  esac
}

# engine_pulumi_bin CLI_VERSION LANGHOST_VERSION: `pulumi` and `pulumi-language-nodejs` share one
# directory, so pulumi takes the language host as bundled with it (one on PATH elsewhere warns).
engine_pulumi_bin() {
  if [ "$1" = "$2" ]; then
    printf '%s\n' "$engine_store/pulumi-v$1/bin"
  else
    printf '%s\n' "$engine_store/pulumi-v$1-nodejs-v$2/bin"
  fi
}
engine_kubernetes_bin() { printf '%s\n' "$engine_store/kubernetes-v$1/bin"; }
# engine_yaml_bin VERSION: the directory of `pulumi-language-yaml` (on PATH after pulumi's).
engine_yaml_bin() { printf '%s\n' "$engine_store/language-yaml-v$1/bin"; }

# engine_path_pulumi WANT: the directory of a `pulumi` on PATH that is an installed release usable
# as it is: version WANT or newer, with its `pulumi-language-nodejs` beside it. Prints nothing and
# returns 1 otherwise, with the reason on stderr (when there is a pulumi on PATH at all). A pulumi
# in directory SKIP ($2: the cache's own build, already on PATH) is not an installed release.
engine_path_pulumi() {
  local want="$1" skip="${2:-}" p dir v
  p="$(command -v pulumi 2>/dev/null)" || return 1
  dir="$(cd "$(dirname "$p")" && pwd)"
  [ "$dir" != "$skip" ] || return 1
  v="$(PULUMI_SKIP_UPDATE_CHECK=true "$p" version 2>/dev/null | head -n 1 | sed 's/^v//')"
  if [ -z "$v" ] || ! engine_version_at_least "$v" "$want"; then
    echo "ignoring $p (${v:+v}${v:-unknown version}): older than v$want (versions.json)" >&2
    return 1
  fi
  if [ ! -x "$dir/pulumi-language-nodejs" ]; then
    echo "ignoring $p (v$v): no pulumi-language-nodejs beside it" >&2
    return 1
  fi
  printf '%s\n' "$dir"
}

# engine_version_at_least A B: whether version A >= B (numeric major.minor.patch; a pre-release
# suffix such as -alpha.1 counts as below its release).
engine_version_at_least() {
  local a b
  a="$(printf '%s' "$1" | sed 's/^v//')"
  b="$(printf '%s' "$2" | sed 's/^v//')"
  [ "$a" = "$b" ] && return 0
  [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | tail -n 1)" = "$a" ] || return 1
  # sort -V puts 3.260.0-alpha after 3.260.0; a pre-release of exactly B is not B.
  case "$a" in "$b"-*) return 1 ;; esac
  return 0
}
