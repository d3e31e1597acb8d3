/**
 * The environment of the engine built by scripts/engine (PATH with pulumi first, PULUMI_HOME,
 * the dev passphrase, no update checks or plugin downloads, the provider plugin installed), for
 * callers that run pulumi themselves: the engine benchmark and the e2e tests.
 */
import { dirname } from "node:path";

/** `bash` arguments that source scripts/engine/env.sh for `stateDir` and print the environment. */
export function engineEnvCommand(stateDir: string): string[] {
  return [
    "-c",
    'export KUBECONFIG=; source scripts/engine/env.sh "$1" 1>&2 || exit 1; env -0',
    "bash",
    stateDir,
  ];
}

/**
 * That command's output as an environment, with this Node first on PATH (the language host runs
 * the program with it), KUBECONFIG empty (render mode must never reach a cluster) and no colours.
 */
export function parseEngineEnv(stdout: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const entry of stdout.split("\0")) {
    const i = entry.indexOf("=");
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ""}`;
  env.KUBECONFIG = "";
  env.NO_COLOR = "1";
  return env;
}
