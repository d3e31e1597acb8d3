/**
 * The promotion pipeline for the workflows, from `platform:stages` in Pulumi.yaml:
 *   npx tsx scripts/ci/stages.ts               every stage, in pipeline order (drift.yml)
 *   npx tsx scripts/ci/stages.ts --stage <s>   one stage; exit 2 naming the stages if unknown
 * prints JSON: stage rows (`StageRow`), which the workflows use as matrix entries, so no workflow
 * names a stack or an environment.
 */
import { EXIT, parseFlags, UsageError, wantsHelp } from "../lib/cli";
import { loadStackFiles, PROJECT_DIR, readStages, StackFileError } from "../lib/stack-files";
import { findStage, unknownStage, type Stage } from "../../platform/config";

/** A stage as the workflows need it. */
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
}

/** The workflow rows of `stages`, with each stack's tier read from its file. */
export function stageRows(projectDir: string, stages: readonly Stage[]): StageRow[] {
  return stages.map((s) => {
    const files = loadStackFiles(projectDir, s.stack);
    const tier = files.config[`${files.project}:tier`] ?? "";
    return {
      stage: s.name,
      stack: s.stack,
      environment: s.environment,
      from: s.from ?? "",
      tier,
      replacementGate: tier === "prod",
    };
  });
}

/** The stage named `name` (or whose stack is `name`); a UsageError naming the stages if none. */
export function requireStage(stages: readonly Stage[], name: string): Stage {
  const stage = findStage(stages, name);
  if (!stage) throw new UsageError(unknownStage(stages, name));
  return stage;
}

const USAGE = `usage: npx tsx scripts/ci/stages.ts [--stage <name>]
  prints the stages of platform:stages (Pulumi.yaml) as JSON rows, or the one named by --stage
exit codes: 0 printed, 2 usage error or no such stage`;

export function main(argv: readonly string[], projectDir = PROJECT_DIR): number {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  try {
    const values = parseFlags(argv, { stage: { type: "string" } }, USAGE);
    const stages = readStages(projectDir);
    const rows = stageRows(projectDir, stages);
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
