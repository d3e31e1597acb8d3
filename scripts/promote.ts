/**
 * Promotion of releases: copy the release (the program's commit, with its application) and each
 * workload's image, pinned to a digest, from one stage into the next stage's stack file; or put
 * back the release and images an earlier commit of a stack file recorded.
 *
 *   npm run promote -- --from dev --to staging [--only web,api] [--from-outputs dev.json] [--dry-run]
 *   npm run promote -- --rollback --to staging [--steps 2 | --release <commit>] [--only api] [--dry-run]
 *
 * Only Pulumi.<to>.yaml is edited, atomically and after every check passed; the lead commits it.
 * Exit codes: 0 done, or nothing to do; 1 refused (nothing written); 2 usage error.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { parseFlags, UsageError } from "./lib/cli";
import {
  formatDiff,
  planPromotion,
  planRollback,
  PromotionRefused,
  readGitHistory,
  stackNamed,
  writeFileAtomic,
  type Plan,
  type PlanReady,
} from "./lib/promote";
import { readProjectFiles } from "./lib/stack-view";
import { headCommit, ReleaseError } from "./lib/release";
import {
  loadStackFiles,
  PROJECT_DIR,
  readStages,
  stackCluster,
  StackFileError,
} from "./lib/stack-files";
import { collectEvidence, EvidenceError, type GateEvidence } from "./lib/gate";
import { colorEnabled, colorLines } from "./lib/style";
import { findStage, shortRelease } from "../platform/config";

const USAGE = `usage: npm run promote -- --from <stage> --to <stage> [--only <svc,...>] [--from-outputs <file>] [--allow-skip] [--dry-run]
       npm run promote -- --rollback --to <stage> [--steps <n> | --release <commit>] [--only <svc,...>] [--dry-run]
  --from          the stage whose release and images are promoted (platform:stages in Pulumi.yaml)
  --to            the stage it feeds; its stack file is edited: Pulumi.<stack>.yaml,
                  platform:release and platform:overrides.services.<svc>.image
  --only          comma-separated services (default: every service both stages run)
  --from-outputs  the source stack's \`pulumi stack output --json\`: promote the release and the
                  references it deployed (digests included) instead of its config
  --allow-skip    emergency: allow skipping stages of the pipeline (recorded as a warning)
  --skip-gate     emergency: promote although the target's gate (soak, rollouts, verification
                  Job) is not passed (recorded as a warning); without it, a gated target needs
                  --from-outputs, and promote reads the source's update history (pulumi) and
                  workloads (kubectl)
  --rollback      restore the release and images the stage ran before the current ones, from
                  the git history of its stack file (or Pulumi.yaml); a second rollback goes one
                  step further back, never back to what was just rolled back from
  --steps         with --rollback: walk back this many steps at once (default 1)
  --release       with --rollback: back to the newest earlier state that ran this release
                  (a commit id or its prefix)
  --dry-run       show what would change; write nothing
exit codes: 0 done or nothing to do, 1 refused (nothing written), 2 usage error`;

export { UsageError };

export interface PromoteOptions {
  readonly mode: "promote" | "rollback";
  /** The source stack (promote only). */
  readonly from?: string;
  readonly to: string;
  readonly only?: string[];
  readonly fromOutputs?: string;
  /** Rollback: how many earlier sets of images to walk back. */
  readonly steps?: number;
  /** Rollback: back to the newest earlier state that pinned this release (a prefix). */
  readonly release?: string;
  readonly allowSkip: boolean;
  readonly skipGate: boolean;
  readonly dryRun: boolean;
  readonly help: boolean;
}

export function parsePromoteArgs(argv: readonly string[]): PromoteOptions {
  const values = parseFlags(
    argv,
    {
      from: { type: "string" },
      to: { type: "string" },
      only: { type: "string" },
      "from-outputs": { type: "string" },
      "allow-skip": { type: "boolean" },
      "skip-gate": { type: "boolean" },
      rollback: { type: "boolean" },
      steps: { type: "string" },
      release: { type: "string" },
      "dry-run": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  const base = {
    allowSkip: values["allow-skip"] ?? false,
    skipGate: values["skip-gate"] ?? false,
    dryRun: values["dry-run"] ?? false,
  };
  if (values.help) return { mode: "promote", to: "", ...base, help: true };
  if (values.to === undefined) throw new UsageError(`give --to <stack>\n${USAGE}`);
  let only: string[] | undefined;
  if (values.only !== undefined) {
    const names = values.only.split(",").map((s) => s.trim());
    if (names.some((s) => s === ""))
      throw new UsageError(
        `--only "${values.only}": give service names separated by commas, e.g. --only web,api`,
      );
    only = [...new Set(names)];
  }
  if (values.rollback) {
    for (const flag of ["from", "from-outputs", "allow-skip", "skip-gate"] as const) {
      if (values[flag] !== undefined)
        throw new UsageError(
          `--rollback and --${flag} exclude each other (a rollback restores the stack's own history)\n${USAGE}`,
        );
    }
    let steps: number | undefined;
    if (values.steps !== undefined) {
      steps = Number(values.steps);
      if (!Number.isInteger(steps) || steps < 1)
        throw new UsageError(
          `--steps ${values.steps}: give a whole number of steps back, 1 or more`,
        );
    }
    const release = values.release;
    if (release !== undefined && steps !== undefined)
      throw new UsageError(`--steps and --release exclude each other (give one)\n${USAGE}`);
    if (release !== undefined && only !== undefined)
      throw new UsageError(
        `--release and --only exclude each other: a release is the whole stage's (--only rolls back images)\n${USAGE}`,
      );
    if (release !== undefined && !/^[0-9a-f]{4,40}$/.test(release))
      throw new UsageError(
        `--release ${JSON.stringify(release)}: give a commit id or a prefix of at least 4 hex digits, as platform:release holds it`,
      );
    return {
      mode: "rollback",
      to: values.to,
      ...(only ? { only } : {}),
      ...(steps !== undefined ? { steps } : {}),
      ...(release !== undefined ? { release } : {}),
      ...base,
      help: false,
    };
  }
  for (const flag of ["steps", "release"] as const) {
    if (values[flag] !== undefined)
      throw new UsageError(`--${flag} goes with --rollback\n${USAGE}`);
  }
  if (values.from === undefined)
    throw new UsageError(`give --from <stack> (or --rollback)\n${USAGE}`);
  if (values.from === values.to)
    throw new UsageError(
      `--from and --to are both "${values.to}"; promotion copies images to another stack`,
    );
  return {
    mode: "promote",
    from: values.from,
    to: values.to,
    ...(only ? { only } : {}),
    ...(values["from-outputs"] !== undefined ? { fromOutputs: values["from-outputs"] } : {}),
    ...base,
    help: false,
  };
}

export interface PromoteIo {
  /** The project directory holding Pulumi.yaml and the stack files. @default the repository's */
  readonly projectDir?: string;
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
}

/** The CLI: returns the exit code. */
export function promote(argv: readonly string[], io: PromoteIo = {}): number {
  const projectDir = io.projectDir ?? PROJECT_DIR;
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  let opts: PromoteOptions;
  try {
    opts = parsePromoteArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`promote: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  try {
    const files = readProjectFiles(projectDir);
    let plan: Plan;
    if (opts.mode === "rollback") {
      plan = planRollback(files, {
        to: opts.to,
        ...(opts.only ? { only: opts.only } : {}),
        ...(opts.steps !== undefined ? { steps: opts.steps } : {}),
        ...(opts.release !== undefined ? { toRelease: opts.release } : {}),
        history: readGitHistory(projectDir, stackNamed(files, opts.to)),
      });
    } else {
      let outputs: { file: string; json: unknown } | undefined;
      if (opts.fromOutputs !== undefined) {
        const file = resolve(opts.fromOutputs);
        if (!existsSync(file))
          throw new UsageError(`--from-outputs ${opts.fromOutputs}: file not found`);
        try {
          outputs = {
            file: opts.fromOutputs,
            json: JSON.parse(readFileSync(file, "utf8")) as unknown,
          };
        } catch (e) {
          throw new PromotionRefused([
            `--from-outputs ${opts.fromOutputs}: not JSON (${(e as Error).message}); save it with \`pulumi stack output --json --stack ${opts.from} > ${opts.fromOutputs}\``,
          ]);
        }
      }
      const gate =
        outputs && !opts.skipGate
          ? gateEvidence(projectDir, opts.from!, opts.to, outputs)
          : undefined;
      plan = planPromotion(files, {
        from: opts.from!,
        to: opts.to,
        allowSkip: opts.allowSkip,
        skipGate: opts.skipGate,
        ...(gate ? { gate } : {}),
        ...(opts.only ? { only: opts.only } : {}),
        ...(outputs ? { outputs } : {}),
        ...commitOfCheckout(projectDir),
      });
    }
    if (!plan.ok) {
      err(plan.message);
      return 1;
    }
    for (const w of plan.warnings) err(`warning: ${w}`);
    for (const n of plan.notes) out(`note: ${n}`);
    if (plan.changes.length === 0 && !plan.release) {
      out(
        `nothing to do: ${plan.file} already has ${plan.pinnedRelease ? `release ${shortRelease(plan.pinnedRelease)} and ` : ""}these images (${plan.title}); no file changed`,
      );
      return 0;
    }
    // Colour only for a terminal (never when the caller collects the output, NO_COLOR, a pipe).
    const colour = io.out === undefined && colorEnabled(process.stdout);
    out(colour ? colorLines(formatDiff(plan)) : formatDiff(plan));
    const n = describeCounts(plan);
    if (opts.dryRun) {
      out(`dry run: ${plan.file} not written (would change: ${n})`);
      return 0;
    }
    const file = join(projectDir, plan.file);
    if (readFileSync(file, "utf8") !== plan.before) {
      err(`promote: ${plan.file} changed while promoting; nothing was written — run again`);
      return 1;
    }
    writeFileAtomic(file, plan.after);
    out(
      `wrote ${plan.file} (changed: ${n}); commit it to record the ${opts.mode === "rollback" ? "rollback" : "promotion"}`,
    );
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof StackFileError) {
      err(`promote: ${e.message}`);
      return 2;
    }
    if (e instanceof EvidenceError) {
      err(
        `promote ${opts.from} → ${opts.to} refused; nothing was changed:\n  - ${opts.to}'s gate needs what ${opts.from} ran: ${e.message}`,
      );
      return 1;
    }
    if (e instanceof PromotionRefused) {
      const title =
        opts.mode === "rollback" ? `rollback ${opts.to}` : `promote ${opts.from} → ${opts.to}`;
      err(
        `${title} refused; nothing was changed:\n${e.problems.map((p) => `  - ${p}`).join("\n")}`,
      );
      return 1;
    }
    err(`promote: ${(e as Error).message}`);
    return 1;
  }
}

/**
 * What a plan changes, counted as a reviewer counts: the release, the images that differ, and
 * the pins of images the stage already ran (only written down in its file).
 */
export function describeCounts(plan: PlanReady): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const moved = plan.changes.filter((c) => !isDeepStrictEqual(c.before, c.after)).length;
  const pinned = plan.changes.length - moved;
  const parts = [
    ...(plan.release ? ["the release"] : []),
    ...(moved > 0 ? [plural(moved, "image")] : []),
    ...(pinned > 0 ? [`${plural(pinned, "image")} it already ran, now pinned`] : []),
  ];
  return parts.length > 1
    ? `${parts.slice(0, -1).join(", ")} and ${parts[parts.length - 1]}`
    : (parts[0] ?? "nothing");
}

/**
 * What the target's gate needs of the source, read from its backend and cluster; undefined when
 * the target has no gate (or the names are not stages: planPromotion reports that).
 */
function gateEvidence(
  projectDir: string,
  from: string,
  to: string,
  outputs: { file: string; json: unknown },
): GateEvidence | undefined {
  const stages = readStages(projectDir);
  const [source, target] = [findStage(stages, from), findStage(stages, to)];
  if (!source || !target?.gate) return undefined;
  const json = (outputs.json ?? {}) as { release?: unknown; namespaces?: unknown };
  if (typeof json.release !== "string") return undefined; // refused by planPromotion, with why
  const files = loadStackFiles(projectDir, source.stack);
  const cluster = stackCluster(files);
  return collectEvidence({
    stage: source.name,
    stack: source.stack,
    dir: projectDir,
    release: json.release,
    namespaces: Array.isArray(json.namespaces) ? json.namespaces.map(String) : [],
    ...(cluster.renderYamlToDirectory
      ? {}
      : {
          cluster: {
            ...(typeof cluster.kubeconfig === "string" ? { kubeconfig: cluster.kubeconfig } : {}),
            ...(typeof cluster.context === "string" ? { context: cluster.context } : {}),
          },
        }),
  });
}

/** The checkout's commit, when it is a git work tree (the first stage runs main). */
function commitOfCheckout(dir: string): { checkoutCommit?: string } {
  try {
    return { checkoutCommit: headCommit(dir) };
  } catch (e) {
    if (e instanceof ReleaseError) return {};
    throw e;
  }
}

if (require.main === module) {
  process.exitCode = promote(process.argv.slice(2));
}
