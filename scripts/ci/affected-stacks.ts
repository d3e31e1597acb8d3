/**
 * Which stacks a change affects, for CI:
 *   npx tsx scripts/ci/affected-stacks.ts --base <sha> [--head <sha>] [--mode preview|engine|deploy]
 * prints a JSON array of stack names.
 *
 * preview: every stack when shared code changed (library, program, policies, scripts,
 *          package files, Pulumi.yaml), otherwise the stacks whose Pulumi.<stack>.yaml changed;
 *          what the offline render and diff look at.
 * engine:  the same without render-only stacks (`cluster.renderYamlToDirectory`): what
 *          `pulumi preview` runs on against a backend.
 * deploy:  on a push to main, shared code goes to dev only; staging and prod move only when
 *          their own stack file changes (a merged promotion); render-only stacks never deploy.
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { listStacks, loadStackFiles, PROJECT_DIR } from "../lib/stack-files";

/** Paths whose change can alter every stack's output. */
const SHARED = [
  /^components\//,
  /^platform\//,
  /^index\.ts$/,
  /^policy\//,
  /^scripts\//,
  /^package(-lock)?\.json$/,
  /^Pulumi\.yaml$/,
  /^tsconfig\.json$/,
  /^versions\.json$/,
];

/**
 * Stacks whose cluster config renders YAML instead of deploying (`renderYamlToDirectory`): they
 * have no cluster and no backend in CI.
 */
export function renderOnlyStacks(projectDir: string, stacks: readonly string[]): string[] {
  return stacks.filter((stack) => {
    const files = loadStackFiles(projectDir, stack);
    const cluster = files.config[`${files.project}:cluster`];
    if (cluster === undefined) return false;
    try {
      return Boolean(
        (JSON.parse(cluster) as { renderYamlToDirectory?: string }).renderYamlToDirectory,
      );
    } catch {
      return false;
    }
  });
}

/** Promotion order: dev, staging, prod, then any other stack by name. */
const ORDER = ["dev", "staging", "prod"];

function inPromotionOrder(stacks: Iterable<string>): string[] {
  const rank = (s: string) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  return [...stacks].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export type Mode = "preview" | "engine" | "deploy";

export function affectedStacks(
  changed: readonly string[],
  stacks: readonly string[],
  mode: Mode,
  renderOnly: readonly string[] = [],
): string[] {
  const own = stacks.filter((s) => changed.includes(`Pulumi.${s}.yaml`));
  const shared = changed.some((f) => SHARED.some((re) => re.test(f)));
  const previewed = shared ? stacks : own;
  if (mode === "preview") return inPromotionOrder(previewed);
  if (mode === "engine") return inPromotionOrder(previewed.filter((s) => !renderOnly.includes(s)));
  const out = new Set(own.filter((s) => !renderOnly.includes(s)));
  if (shared && stacks.includes("dev") && !renderOnly.includes("dev")) out.add("dev");
  return inPromotionOrder(out);
}

function main(): void {
  const { values } = parseArgs({
    options: { base: { type: "string" }, head: { type: "string" }, mode: { type: "string" } },
    strict: true,
  });
  if (!values.base) {
    console.error(
      "usage: affected-stacks --base <sha> [--head <sha>] [--mode preview|engine|deploy]",
    );
    process.exit(2);
  }
  const mode = (values.mode ?? "preview") as Mode;
  if (!["preview", "engine", "deploy"].includes(mode)) {
    console.error(`--mode ${String(values.mode)}: expected preview, engine or deploy`);
    process.exit(2);
  }
  const changed = execFileSync("git", ["diff", "--name-only", values.base, values.head ?? "HEAD"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  const stacks = listStacks(PROJECT_DIR);
  console.log(
    JSON.stringify(affectedStacks(changed, stacks, mode, renderOnlyStacks(PROJECT_DIR, stacks))),
  );
}

if (require.main === module) main();
