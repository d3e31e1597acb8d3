/**
 * Which stacks a change affects, for CI:
 *   npx tsx scripts/ci/affected-stacks.ts --base <sha> [--head <sha>] [--mode preview|engine|deploy]
 * prints a JSON array of stack names.
 *
 * preview: the stacks that run this checkout (every stack but the stages pinned to a release)
 *          when shared code changed (library, program, policies, scripts, package files,
 *          Pulumi.yaml; an application file, for the stacks that list it in
 *          `platform:applicationFiles`), and the stacks whose Pulumi.<stack>.yaml changed (a
 *          promotion among them); what the offline render and diff look at. A pinned stage
 *          runs its release, which a change to shared code does not touch.
 * engine:  the same without render-only stacks (`cluster.renderYamlToDirectory`): what
 *          `pulumi preview` runs on against a backend. Prints stack rows (scripts/ci/stages.ts:
 *          the cloud each one logs in to) for the preview matrix.
 * deploy:  on a push to main, shared code goes to the first stage of the pipeline only; the
 *          other stages move only when their own stack file changes (a merged promotion);
 *          stacks that are not stages, and render-only stacks, never deploy. Prints stage rows
 *          (scripts/ci/stages.ts) for the deploy matrix.
 * Stacks come in pipeline order (`platform:stages` in Pulumi.yaml), then the others by name.
 */
import { execFileSync } from "node:child_process";
import { EXIT, parseFlags, UsageError, wantsHelp } from "../lib/cli";
import {
  listStacks,
  loadStackFiles,
  PROJECT_DIR,
  readStages,
  stackCluster,
  structuredValue,
} from "../lib/stack-files";
import {
  APPLICATION_FILES_KEY,
  normalizeApplicationPath,
  RELEASE_KEY,
  type Stage,
} from "../../platform/config";
import { stackRow } from "./stages";

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
  return stacks.filter((stack) =>
    Boolean(stackCluster(loadStackFiles(projectDir, stack)).renderYamlToDirectory),
  );
}

export type Mode = "preview" | "engine" | "deploy";

/** Stacks whose file pins a release (`platform:release`): they run that commit. */
export function pinnedStacks(projectDir: string, stacks: readonly string[]): string[] {
  return stacks.filter((stack) => {
    const files = loadStackFiles(projectDir, stack);
    return files.config[`${files.project}:${RELEASE_KEY}`] !== undefined;
  });
}

/**
 * The stacks a change affects in `mode` (see the file comment), in pipeline order: the stages'
 * stacks as `stages` lists them, then the other stacks by name.
 */
export function affectedStacks(
  changed: readonly string[],
  stacks: readonly string[],
  stages: readonly Stage[],
  mode: Mode,
  opts: {
    /** Render-only stacks (see renderOnlyStacks). */
    readonly renderOnly?: readonly string[];
    /** Stacks pinned to a release (see pinnedStacks). */
    readonly pinned?: readonly string[];
    /** Each stack's application file entries (see applicationEntries): files or directories. */
    readonly application?: Readonly<Record<string, readonly string[]>>;
  } = {},
): string[] {
  const { renderOnly = [], pinned = [], application = {} } = opts;
  const order = stages.map((s) => s.stack);
  const rank = (s: string) => (order.includes(s) ? order.indexOf(s) : order.length);
  const inOrder = (list: Iterable<string>) =>
    [...list].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const own = stacks.filter((s) => changed.includes(`Pulumi.${s}.yaml`));
  const shared = changed.some((f) => SHARED.some((re) => re.test(f)));
  // Whether the checkout's program or application changed for this stack.
  const reads = (s: string) =>
    shared ||
    (application[s] ?? []).some((entry) =>
      changed.some((f) => f === entry || f.startsWith(`${entry}/`)),
    );
  const previewed = stacks.filter((s) => own.includes(s) || (reads(s) && !pinned.includes(s)));
  if (mode === "preview") return inOrder(previewed);
  if (mode === "engine") return inOrder(previewed.filter((s) => !renderOnly.includes(s)));
  const deployable = (s: string) => order.includes(s) && !renderOnly.includes(s);
  const out = new Set(own.filter(deployable));
  const first = stages[0]?.stack;
  if (first !== undefined && reads(first) && deployable(first)) out.add(first);
  return inOrder(out);
}

/**
 * The application file entries of each stack (`platform:applicationFiles`, as written,
 * normalised): a change to a file at or below one changes that stack's application.
 */
export function applicationEntries(
  projectDir: string,
  stacks: readonly string[],
): Record<string, string[]> {
  return Object.fromEntries(
    stacks.map((stack) => {
      const entries = structuredValue(loadStackFiles(projectDir, stack), APPLICATION_FILES_KEY);
      return [
        stack,
        (Array.isArray(entries) ? entries : [])
          .filter((e): e is string => typeof e === "string")
          .map(normalizeApplicationPath),
      ];
    }),
  );
}

const USAGE = `usage: npx tsx scripts/ci/affected-stacks.ts --base <sha> [--head <sha>] [--mode preview|engine|deploy]
  prints the stacks a change affects as JSON (deploy: stage rows for the deploy matrix)
exit codes: 0 printed, 2 usage error`;

function main(argv: readonly string[]): number {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let values;
  try {
    values = parseFlags(
      argv,
      { base: { type: "string" }, head: { type: "string" }, mode: { type: "string" } },
      USAGE,
    );
    if (!values.base) throw new UsageError(`give --base <sha>\n${USAGE}`);
    if (values.mode !== undefined && !["preview", "engine", "deploy"].includes(values.mode))
      throw new UsageError(`--mode ${values.mode}: expected preview, engine or deploy`);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`affected-stacks: ${e.message}`);
    return EXIT.usage;
  }
  const mode = (values.mode ?? "preview") as Mode;
  const changed = execFileSync("git", ["diff", "--name-only", values.base, values.head ?? "HEAD"], {
    cwd: PROJECT_DIR,
    encoding: "utf8",
  })
    .split("\n")
    .filter(Boolean);
  const stacks = listStacks(PROJECT_DIR);
  const stages = readStages(PROJECT_DIR);
  const affected = affectedStacks(changed, stacks, stages, mode, {
    renderOnly: renderOnlyStacks(PROJECT_DIR, stacks),
    pinned: pinnedStacks(PROJECT_DIR, stacks),
    application: applicationEntries(PROJECT_DIR, stacks),
  });
  if (mode === "preview") console.log(JSON.stringify(affected));
  else
    console.log(
      JSON.stringify(
        affected.map((stack) =>
          stackRow(
            PROJECT_DIR,
            stack,
            stages.find((s) => s.stack === stack),
          ),
        ),
      ),
    );
  return EXIT.ok;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
