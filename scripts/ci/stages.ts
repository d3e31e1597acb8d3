/**
 * The promotion pipeline for the workflows, from `platform:stages` in Pulumi.yaml:
 *   npx tsx scripts/ci/stages.ts               every stage, in pipeline order (drift.yml)
 *   npx tsx scripts/ci/stages.ts --stage <s>   one stage; exit 2 naming the stages if unknown
 *   npx tsx scripts/ci/stages.ts --review      the stage that offers review stacks, its
 *                                              environment the review jobs' (review.yml); null
 *                                              when no stage does
 * prints JSON: stage rows (`StageRow`), which the workflows use as matrix entries, so no workflow
 * names a stack or an environment.
 */
import { EXIT, parseFlags, UsageError, wantsHelp } from "../lib/cli";
import {
  loadStackFiles,
  PROJECT_DIR,
  readStages,
  stackCluster,
  StackFileError,
} from "../lib/stack-files";
import { findStage, unknownStage, type Stage } from "../../platform/config";

/** A stage (or a stack outside the pipeline: stage, environment and from empty) for the workflows. */
export interface StageRow {
  readonly stage: string;
  readonly stack: string;
  /** The GitHub Environment its jobs run in. */
  readonly environment: string;
  /** The stage it is promoted from ("" for the first). */
  readonly from: string;
  /** Its stack's tier (policies and strictness): dev, staging or prod. */
  readonly tier: string;
  /** Whether deploys run the replacement gate first (tier prod: a replacement is an outage). */
  readonly replacementGate: boolean;
  /** Its cluster's cloud (`cluster.cloud`): which login the jobs need (cloud-login action). */
  readonly cloud: string;
  /** Its kubeconfig context (`cluster.context`, "" for the current one): what the login names. */
  readonly context: string;
}

/** The workflow row of `stack`, read from its file; `stage` when it is one. */
export function stackRow(projectDir: string, stack: string, stage?: Stage): StageRow {
  const files = loadStackFiles(projectDir, stack);
  const tier = files.config[`${files.project}:tier`] ?? "";
  const cluster = stackCluster(files);
  return {
    stage: stage?.name ?? "",
    stack,
    environment: stage?.environment ?? "",
    from: stage?.from ?? "",
    tier,
    replacementGate: tier === "prod",
    cloud: typeof cluster.cloud === "string" ? cluster.cloud : "",
    context: typeof cluster.context === "string" ? cluster.context : "",
  };
}

/** The workflow rows of `stages`. */
export function stageRows(projectDir: string, stages: readonly Stage[]): StageRow[] {
  return stages.map((s) => stackRow(projectDir, s.stack, s));
}

/** The stage named `name` (or whose stack is `name`); a UsageError naming the stages if none. */
export function requireStage(stages: readonly Stage[], name: string): Stage {
  const stage = findStage(stages, name);
  if (!stage) throw new UsageError(unknownStage(stages, name));
  return stage;
}

const USAGE = `usage: npx tsx scripts/ci/stages.ts [--stage <name> | --review]
  prints the stages of platform:stages (Pulumi.yaml) as JSON rows, the one named by --stage, or
  with --review the one that offers review stacks (its environment the review jobs') or null
exit codes: 0 printed, 2 usage error or no such stage`;

export function main(argv: readonly string[], projectDir = PROJECT_DIR): number {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  try {
    const values = parseFlags(
      argv,
      { stage: { type: "string" }, review: { type: "boolean" } },
      USAGE,
    );
    if (values.review && values.stage !== undefined)
      throw new UsageError(`--stage and --review exclude each other\n${USAGE}`);
    const stages = readStages(projectDir);
    const rows = stageRows(projectDir, stages);
    if (values.review) {
      const i = stages.findIndex((s) => s.review !== undefined);
      console.log(
        JSON.stringify(i < 0 ? null : { ...rows[i], environment: stages[i].review!.environment }),
      );
      return 0;
    }
    if (values.stage === undefined) {
      console.log(JSON.stringify(rows));
      return 0;
    }
    const stage = requireStage(stages, values.stage);
    console.log(JSON.stringify(rows.find((r) => r.stage === stage.name)));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof StackFileError) {
      console.error(`stages: ${e.message}`);
      return 2;
    }
    throw e;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
