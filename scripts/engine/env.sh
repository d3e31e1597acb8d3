# shellcheck shell=bash
# Offline Pulumi settings for this repository. Source it, do not run it:
#   source scripts/engine/env.sh [STATE_DIR]
# It builds or finds the engine (scripts/engine/bootstrap.sh; a no-op once cached), puts it first
# on PATH, and exports:
#   PULUMI_HOME        $PLATFORM_CACHE/engine/pulumi-home (writable; plugins are installed here)
#   PULUMI_BACKEND_URL file://STATE_DIR: the first argument, else $PULUMI_STATE_DIR, else
#                      $PLATFORM_CACHE/engine/state (created if missing)
#   PULUMI_CONFIG_PASSPHRASE  unless already set: the fixed development passphrase below. It only
#                      guards the secrets of local file-backend stacks made with it; never use it
#                      for a stack that holds real secrets.
#   PULUMI_SKIP_UPDATE_CHECK=true, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
#   PULUMI_NODEJS_TRANSPILE_ONLY=true unless already set: ts-node transpiles the program without
#                      type-checking it on every run (8.5 of the program's 76 CPU seconds in a
#                      preview at 1,000 services); `npm run typecheck` and the tests check types,
#                      and tsconfig's isolatedModules refuses what transpiling alone gets wrong
# and turns off Pulumi's automatic debug log unless PLATFORM_PULUMI_LOGS=on. Since v3.2xx every
# command writes all engine log records, gzipped and encrypted, to $PULUMI_HOME/logs (for
# `pulumi logs share`); the CLI has no switch for it, and at a thousand services it is a third
# of the engine's CPU in a preview and 42% in an `up` that changes nothing. With no directory there (a file named `logs` instead) the CLI
# runs without it. State is unaffected either way; `-v=9 --logtostderr` still logs on demand.
# and installs the Kubernetes provider into PULUMI_HOME (`pulumi plugin install resource kubernetes
# <version> --file <binary>`) unless that version is installed already. The provider stays off PATH:
# a plugin on PATH shadows the plugin cache for every version and makes pulumi print a warning.
# KUBECONFIG is left as it is: stacks that render YAML (renderYamlToDirectory) need it unset or
# empty, or the provider contacts the cluster it names.
# It sets no shell options; on failure it prints why and returns non-zero (it never exits).

engine_dev_passphrase="k8s-platform-local-dev" # fixed, public: local development stacks only

_engine_env() {
  local here state k8s_v k8s_bin frag
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)" || return 1
  # shellcheck source=scripts/engine/lib.sh
  . "$here/lib.sh" || return 1

  frag="$(bash "$here/bootstrap.sh" | tail -n 1)" || return 1
  [ -n "$frag" ] || return 1
  case ":$PATH:" in
    *":$frag:"*) ;;
    *) PATH="$frag:$PATH" ;;
  esac
  export PATH

  export PULUMI_HOME="${PULUMI_HOME:-$engine_store/pulumi-home}"
  state="${1:-${PULUMI_STATE_DIR:-$engine_store/state}}"
  mkdir -p "$PULUMI_HOME" "$state" || return 1
  state="$(cd "$state" && pwd)" || return 1
  export PULUMI_BACKEND_URL="file://$state"
  export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-$engine_dev_passphrase}"
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
  export PULUMI_NODEJS_TRANSPILE_ONLY="${PULUMI_NODEJS_TRANSPILE_ONLY-true}"
  _engine_auto_log "${PLATFORM_PULUMI_LOGS:-off}" || return 1

  k8s_v="$(engine_kubernetes_version)"
  if [ ! -x "$PULUMI_HOME/plugins/resource-kubernetes-v$k8s_v/pulumi-resource-kubernetes" ]; then
    k8s_bin="$(bash "$here/bootstrap.sh" --print-kubernetes-bin | tail -n 1)" || return 1
    echo "engine: installing the kubernetes provider v$k8s_v into $PULUMI_HOME" >&2
    pulumi plugin install resource kubernetes "$k8s_v" --file "$k8s_bin/pulumi-resource-kubernetes" >&2 || return 1
  fi
}

# Pulumi's automatic log on (a directory at $PULUMI_HOME/logs) or off (a file there instead).
# A logs directory in a PULUMI_HOME this repository does not own is left alone, and said so.
_engine_auto_log() {
  local logs="$PULUMI_HOME/logs"
  case "$1" in
    on)
      if [ -f "$logs" ]; then rm -f "$logs" || return 1; fi
      ;;
    off)
      if [ -d "$logs" ] && [ "$PULUMI_HOME" != "$engine_store/pulumi-home" ]; then
        echo "engine: $logs is a directory of your own: Pulumi's automatic log stays on (remove it to turn it off)" >&2
        return 0
      fi
      if [ -d "$logs" ]; then rm -rf "$logs" || return 1; fi
      if [ ! -e "$logs" ]; then
        printf '%s\n' "Pulumi's automatic log is off here (scripts/engine/env.sh): PLATFORM_PULUMI_LOGS=on turns it on." >"$logs" || return 1
      fi
      ;;
    *)
      echo "engine: PLATFORM_PULUMI_LOGS=$1: expected on or off" >&2
      return 1
      ;;
  esac
}

_engine_env "$@"
_engine_env_rc=$?
unset -f _engine_env _engine_auto_log
if [ "$_engine_env_rc" -ne 0 ]; then
  echo "engine: scripts/engine/env.sh failed (exit $_engine_env_rc)" >&2
fi
# `return` when sourced; when run as a script, `exit` is what is left.
# shellcheck disable=SC2317
return "$_engine_env_rc" 2>/dev/null || exit "$_engine_env_rc"
