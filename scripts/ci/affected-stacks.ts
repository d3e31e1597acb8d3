/**
 * Which stacks a change affects, for CI:
 *   npx tsx scripts/ci/affected-stacks.ts --base <sha> [--head <sha>] [--mode preview|deploy]
 * prints a JSON array of stack names.
 *
 * preview: every stack when shared code changed (library, program, policies, scripts,
 *          package files, Pulumi.yaml), otherwise the stacks whose Pulumi.<stack>.yaml changed.
 * deploy:  on a push to main, shared code goes to dev only; staging and prod move only when
 *          their own stack file changes (a merged promotion).
 */
import { execFileSync } from "node:child_process";
import { parseArgs } from "node:util";
import { listStacks, PROJECT_DIR } from "../lib/stack-files";

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

/** Stacks that only render on a developer's machine and are never deployed by CI. */
const LOCAL_ONLY = ["local"];

/** Promotion order: dev, staging, prod, then any other stack by name. */
const ORDER = ["dev", "staging", "prod"];

function inPromotionOrder(stacks: Iterable<string>): string[] {
  const rank = (s: string) => (ORDER.includes(s) ? ORDER.indexOf(s) : ORDER.length);
  return [...stacks].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function affectedStacks(
  changed: readonly string[],
  stacks: readonly string[],
  mode: "preview" | "deploy",
): string[] {
  const own = stacks.filter((s) => changed.includes(`Pulumi.${s}.yaml`));
  const shared = changed.some((f) => SHARED.some((re) => re.test(f)));
  if (mode === "preview") return inPromotionOrder(shared ? stacks : own);
  const out = new Set(own.filter((s) => !LOCAL_ONLY.includes(s)));
  if (shared && stacks.includes("dev")) out.add("dev");
  return inPromotionOrder(out);
}

function main(): void {
  const { values } = parseArgs({
    options: { base: { type: "string" }, head: { type: "string" }, mode: { type: "string" } },
    strict: true,
  });
  if (!values.base) {
    console.error("usage: affected-stacks --base <sha> [--head <sha>] [--mode preview|deploy]");
    process.exit(2);
  }
  const mode = (values.mode ?? "preview") as "preview" | "deploy";
  if (mode !== "preview" && mode !== "deploy") {
    console.error(`--mode ${String(values.mode)}: expected preview or deploy`);
    process.exit(2);
  }
  const changed = execFileSync("git", ["diff", "--name-only", values.base, values.head ?? "HEAD"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  console.log(JSON.stringify(affectedStacks(changed, listStacks(PROJECT_DIR), mode)));
}

if (require.main === module) main();
