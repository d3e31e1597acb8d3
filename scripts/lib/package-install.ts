/**
 * The library as its users get it: `npm pack` of this repository (which builds dist/ first),
 * installed from the tarball (never a symlink) into a temporary copy of a program or package
 * that depends on it (examples/typescript, plugin/), the way a team's own project would.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, delimiter, dirname, join } from "node:path";
import { PROJECT_DIR } from "./stack-files";

/** The library's npm name, as dependents list it. */
export const LIBRARY_PACKAGE = "k8s-platform";

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

export interface Installed {
  /** The packed library. */
  readonly tarball: string;
  /** The copy of the dependent project, with the tarball installed. */
  readonly dir: string;
  cleanup(): void;
}

/**
 * Packs the library and installs it into a fresh copy of `source` (a directory with a
 * package.json that depends on the library): its dependency is pointed at the tarball, the rest
 * installs at the versions it pins (served from npm's cache when warm).
 */
export function installedCopy(source: string): Installed {
  const root = mkdtempSync(join(tmpdir(), `platform-${basename(source)}-`));
  try {
    const packed = JSON.parse(
      sh("npm", ["pack", "--json", "--pack-destination", root], PROJECT_DIR).stdout,
    ) as { filename: string }[];
    const tarball = join(root, packed[0].filename);
    const dir = join(root, basename(source));
    cpSync(source, dir, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|bin)$/.test(src) && !src.endsWith(".tgz"),
    });
    const manifestPath = join(dir, "package.json");
    const manifest = JSON.parse(readFileSync(manifestPath, "utf8")) as {
      dependencies?: Record<string, string>;
    };
    if (manifest.dependencies?.[LIBRARY_PACKAGE] === undefined)
      throw new Error(`${manifestPath} does not depend on ${LIBRARY_PACKAGE}`);
    manifest.dependencies[LIBRARY_PACKAGE] = `file:${tarball}`;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    sh("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], dir);
    return { tarball, dir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(root, { recursive: true, force: true });
    throw e;
  }
}

/** The multi-language package (plugin/): its schema as `pulumi package get-schema` gives it. */
export const PLUGIN_DIR = join(PROJECT_DIR, "plugin");
export const PLUGIN_SCHEMA = join(PLUGIN_DIR, "schema.json");

/**
 * The package schema of an installed copy of plugin/, written by the same code
 * `pulumi package get-schema` runs in the package (@pulumi/pulumi's component provider and its
 * TypeScript analyzer), without the engine: the classes are compiled, found among the exports
 * as the plugin host finds them, and analysed from the TypeScript source. The result is in the
 * CLI's canonical form (see canonicalSchema), pretty-printed.
 */
export function pluginSchema(dir: string): string {
  sh("npx", ["tsc", "-p", ".", "--outDir", ".schema-build"], dir);
  const script = `
const { ComponentProvider, getPulumiComponents } = require("@pulumi/pulumi/provider/experimental/provider");
const { name } = require("./package.json");
const [, scope, provider] = name.match(/^(?:@([^/]+)\\/)?(.+)$/);
const components = getPulumiComponents(require("./.schema-build/index.js"));
new ComponentProvider({ name: provider, namespace: scope, dirname: process.cwd(), components })
  .getSchema()
  .then((s) => process.stdout.write(s));
`;
  const schema = JSON.parse(sh(process.execPath, ["-e", script], dir).stdout) as JsonObject;
  return `${JSON.stringify(canonicalSchema(schema), null, 2)}\n`;
}

type JsonObject = { [key: string]: unknown };
const isObject = (v: unknown): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * A package schema as the CLI states it once parsed (`pulumi package get-schema` prints it so):
 * the analyzer's `optional` markers on properties dropped (`required` says the same), empty
 * `required`, `requiredInputs` and `dependencies` left out, and `config` always present.
 */
export function canonicalSchema(schema: JsonObject): JsonObject {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (!isObject(v)) return v;
    const out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) {
      if (["required", "requiredInputs"].includes(k) && Array.isArray(x) && x.length === 0)
        continue;
      if ((k === "properties" || k === "inputProperties") && isObject(x)) {
        out[k] = Object.fromEntries(
          Object.entries(x).map(([name, prop]) => {
            const { optional: _optional, ...rest } = isObject(prop) ? prop : {};
            return [name, walk(rest)];
          }),
        );
      } else out[k] = walk(x);
    }
    return out;
  };
  const { dependencies, ...rest } = walk(schema) as JsonObject;
  return {
    ...rest,
    config: rest.config ?? {},
    ...(Array.isArray(dependencies) && dependencies.length > 0 ? { dependencies } : {}),
  };
}
