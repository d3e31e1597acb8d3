/**
 * Runs pulumi on a stage as the stage's release:
 *
 *   npm run deploy -- --stage <name> [--command up|preview|refresh] [--dry-run | --prepare] [-- <pulumi args>]
 *   npm run deploy -- --stack <name> ...   (a stage's stack, or a stack outside the pipeline)
 *
 * The first stage of the pipeline runs this checkout (main) and records it as its release: the
 * commit, `-dirty` when the work tree has uncommitted changes (never promoted). Every later
 * stage runs the commit its stack file pins (`platform:release`, written by promote), checked
 * out in a worktree of its own with the stage's stack file taken from this checkout; a later
 * stage with no pin has had no promotion yet and is refused. The program gets the release in
 * PLATFORM_RELEASE, refuses a pinned stack run as another commit, and exports `release`, which
 * the next promotion copies. So a program change merged to main reaches a stage only by
 * promotion through every stage before it.
 *
 * Arguments after `--` go to pulumi as they are (`--yes`, `--policy-pack policy`, `--json`,
 * `--expect-no-changes`); relative paths in them resolve in the release's directory.
 * Exit codes: pulumi's own when it ran; 1 refused (an unpinned later stage, a release not in
 * this clone); 2 usage error (unknown flag or stage).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT, exitWhenFlushed, parseFlags, UsageError, wantsHelp } from "./lib/cli";
import { checkoutRelease, pinnedRelease, prepareRelease, ReleaseError } from "./lib/release";
import { readStages, StackFileError } from "./lib/stack-files";
import { requireStage } from "./ci/stages";
import { isDirty, RELEASE_ENV, shortRelease, type Stage } from "../platform/config";

const COMMANDS = ["up", "preview", "refresh"] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = `usage: npm run deploy -- (--stage <name> | --stack <name>) [--command up|preview|refresh] [--cwd <dir>] [--dry-run | --prepare] [-- <pulumi args>]
  --stage     the stage (platform:stages in Pulumi.yaml) to run
  --stack     a stack by its name: a stage's stack, or a stack outside the pipeline (which runs
              this checkout unless its file pins a release)
  --command   the pulumi command (default: preview)
  --cwd       the Pulumi project directory (default: the current directory)
  --dry-run   say which release would run where, and run nothing
  --prepare   prepare the release's directory and print dir=, release= and stack= lines (for
              $GITHUB_OUTPUT: the workflows run pulumi/actions in that directory), run nothing
  arguments after -- go to pulumi (e.g. -- --yes --policy-pack policy)
exit codes: 0 done (pulumi's own code when it ran and failed); 1 refused (no release pinned, release
not in this clone); 2 usage error`;

export interface DeployOptions {
  /** A stage's name, or with `byStack` a stack's. */
  readonly name: string;
  readonly byStack: boolean;
  readonly command: Command;
  readonly cwd: string;
  readonly mode: "run" | "dry-run" | "prepare";
  readonly pulumiArgs: readonly string[];
}

export function parseDeployArgs(argv: readonly string[]): DeployOptions {
  const split = argv.indexOf("--");
  const own = split < 0 ? argv : argv.slice(0, split);
  const values = parseFlags(
    own,
    {
      stage: { type: "string" },
      stack: { type: "string" },
      command: { type: "string" },
      cwd: { type: "string" },
      "dry-run": { type: "boolean" },
      prepare: { type: "boolean" },
    },
    USAGE,
  );
  if ((values.stage === undefined) === (values.stack === undefined))
    throw new UsageError(`give --stage <name> or --stack <name>\n${USAGE}`);
  if (values["dry-run"] && values.prepare)
    throw new UsageError(`--dry-run and --prepare exclude each other\n${USAGE}`);
  const command = values.command ?? "preview";
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new UsageError(
      `--command ${JSON.stringify(command)}: give one of ${COMMANDS.join(", ")} (destroy and others: run pulumi yourself)`,
    );
  return {
    name: (values.stage ?? values.stack)!,
    byStack: values.stack !== undefined,
    command: command as Command,
    cwd: resolve(values.cwd ?? "."),
    mode: values["dry-run"] ? "dry-run" : values.prepare ? "prepare" : "run",
    pulumiArgs: split < 0 ? [] : argv.slice(split + 1),
  };
}

/** Where and as which release a stack runs. */
export interface DeployTarget {
  readonly stack: string;
  /** For messages: "staging", or "stack local (not a stage)". */
  readonly label: string;
  /** The directory pulumi runs in: the checkout, or the release's worktree. */
  readonly dir: string;
  readonly release: string;
  /** What was done and why, for the log. */
  readonly notes: readonly string[];
}

/** The stage, or the off-pipeline stack, that the options name. */
function resolveStack(opts: DeployOptions): { stack: string; stage?: Stage } {
  const stages = readStages(opts.cwd);
  if (!opts.byStack) {
    const stage = requireStage(stages, opts.name);
    return { stack: stage.stack, stage };
  }
  const stage = stages.find((s) => s.stack === opts.name);
  if (stage) return { stack: stage.stack, stage };
  if (!existsSync(join(opts.cwd, `Pulumi.${opts.name}.yaml`)))
    throw new UsageError(`--stack ${opts.name}: no Pulumi.${opts.name}.yaml in ${opts.cwd}`);
  return { stack: opts.name };
}

/** Resolves the stack's release and prepares its directory (see the file's comment). */
export function deployTarget(opts: DeployOptions): DeployTarget {
  const { stack, stage } = resolveStack(opts);
  const label = stage ? stage.name : `stack ${stack} (not a stage)`;
  const pin = pinnedRelease(opts.cwd, stack);
  if (pin === undefined) {
    if (stage?.from !== undefined)
      throw new ReleaseError(
        `${stage.name} has no release pinned (Pulumi.${stack}.yaml has no platform:release): a stage after the first runs only what ${stage.from} ran, so its first release comes by promotion: npm run promote -- --from ${stage.from} --to ${stage.name}`,
      );
    const release = checkoutRelease(opts.cwd);
    return {
      stack,
      label,
      dir: opts.cwd,
      release,
      notes: [
        `${stage ? `${label} is the first stage` : label}: running this checkout, release ${shortRelease(release)}${isDirty(release) ? " (uncommitted changes: this release cannot be promoted)" : ""}`,
      ],
    };
  }
  if (stage && stage.from === undefined)
    throw new ReleaseError(
      `Pulumi.${stack}.yaml pins platform:release, but ${stage.name} is the first stage: it runs the checkout (main); remove the pin`,
    );
  if (opts.mode === "dry-run")
    return {
      stack,
      label,
      dir: opts.cwd,
      release: pin,
      notes: [`${label} runs release ${shortRelease(pin)}; nothing was run (--dry-run)`],
    };
  const prepared = prepareRelease(opts.cwd, stack, pin);
  return {
    stack,
    label,
    dir: prepared.dir,
    release: pin,
    notes: [`${label} runs release ${shortRelease(pin)}`, ...prepared.steps],
  };
}

/** Runs pulumi with inherited stdio; resolves to its exit code. */
function runPulumi(target: DeployTarget, opts: DeployOptions): Promise<number> {
  const args = [opts.command, "--stack", target.stack, ...opts.pulumiArgs];
  return new Promise((done) => {
    const child = spawn("pulumi", args, {
      cwd: target.dir,
      env: { ...process.env, [RELEASE_ENV]: target.release },
      stdio: "inherit",
    });
    child.on("error", (e) => {
      console.error(
        `deploy: could not start pulumi (${(e as Error).message}); install the version in versions.json`,
      );
      done(EXIT.usage);
    });
    child.on("exit", (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let opts: DeployOptions;
  let target: DeployTarget;
  try {
    opts = parseDeployArgs(argv);
    target = deployTarget(opts);
  } catch (e) {
    if (e instanceof UsageError || e instanceof StackFileError) {
      console.error(`deploy: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof ReleaseError) {
      console.error(`deploy refused; nothing was run:\n  ${e.message}`);
      return EXIT.failed;
    }
    throw e;
  }
  for (const note of target.notes) console.error(`deploy: ${note}`);
  if (opts.mode === "dry-run") return EXIT.ok;
  if (opts.mode === "prepare") {
    console.log(`dir=${target.dir}\nrelease=${target.release}\nstack=${target.stack}`);
    return EXIT.ok;
  }
  console.error(`deploy: pulumi ${opts.command} --stack ${target.stack} in ${target.dir}`);
  return runPulumi(target, opts);
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(exitWhenFlushed);
}
