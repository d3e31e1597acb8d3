/**
 * The library as its users get it: `npm pack` of this repository (which builds dist/ first),
 * installed from the tarball (never a symlink) into a temporary copy of examples/typescript,
 * the way a team's own Pulumi program would depend on it.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { copyFileSync, cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";

export const EXAMPLE_DIR = join(PROJECT_DIR, "examples", "typescript");

/** This Node's npm and tools first on PATH, as scripts/test.sh provisions them. */
export const toolEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
});

/** Runs a command to completion; throws with its output when it fails. */
export function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, env: toolEnv(), encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) -> ${r.status}\n${r.stdout}\n${r.stderr}`,
    );
  return r;
}

export interface Consumer {
  /** The packed library. */
  readonly tarball: string;
  /** The example program with the tarball installed. */
  readonly dir: string;
  cleanup(): void;
}

/** Packs the library and installs it into a fresh copy of the example program. */
export function installedExample(): Consumer {
  const root = mkdtempSync(join(tmpdir(), "platform-consumer-"));
  const packed = JSON.parse(
    sh("npm", ["pack", "--json", "--pack-destination", root], PROJECT_DIR).stdout,
  ) as { filename: string }[];
  const tarball = join(root, packed[0].filename);
  const dir = join(root, "example");
  cpSync(EXAMPLE_DIR, dir, {
    recursive: true,
    filter: (src) => !/[/\\](node_modules|bin)$/.test(src) && !src.endsWith(".tgz"),
  });
  copyFileSync(tarball, join(dir, "k8s-platform.tgz"));
  // The same versions as the repository's lockfile: served from npm's cache when warm.
  sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir);
  return { tarball, dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
