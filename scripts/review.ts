/**
 * Review stacks: a short-lived environment per pull request, in the cluster of the first stage
 * (which offers them with `review:` in platform:stages; README, "Review stacks").
 *
 *   npm run review -- up --pr <n> [--base <rev> | --all | --services a,b] [--comment <file>] [--dry-run] [-- <pulumi args>]
 *   npm run review -- preview --pr <n> ...   (the same, previewed)
 *   npm run review -- destroy --pr <n>
 *   npm run review -- sweep [--open 3,7,12] [--now <time>] [--dry-run]
 *
 * up writes Pulumi.pr-<n>.yaml (the stage's stack file with `platform:review`: the services,
 * and what the stage and the other live review stacks take of the node pools at peak, read from
 * their capacityFigures outputs), creates the stack pr-<n> in the same backend if needed and
 * runs `pulumi up` on it; the program derives the review stack from that (platform/config/
 * review.ts) and refuses it, before anything is applied, when it does not fit. The services are
 * those whose definition changed between --base and this checkout (with what they depend on),
 * all of them when the program changed or with --all, or those --services names; when no
 * service changed, an existing review stack is destroyed and none is created.
 *
 * destroy removes everything the stack created and the stack itself. sweep destroys the review
 * stacks idle for longer than the stage's review.ttl (default 3d) and, given --open (the open
 * pull requests), those whose pull request is closed.
 *
 * Exit codes: 0 done; 1 pulumi failed or the stack was refused; 2 usage error.
 */
import { spawn, execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { EXIT, exitWhenFlushed, parseFlags, UsageError, wantsHelp } from "./lib/cli";
import { commitTree, gitShow } from "./lib/git-tree";
import { readStack, stackFileName, type StackView } from "./lib/stack-view";
import {
  poolUse,
  reservedRoom,
  reviewComment,
  reviewSelection,
  reviewStackText,
  stackName,
  sweepDecisions,
  type ListedStack,
  type PoolUse,
  type Selection,
} from "./lib/review";
import { run } from "./lib/run";
import { loadStackFiles, readStages, StackFileError } from "./lib/stack-files";
import { directoryTree } from "../platform/source-tree";
import type { CapacityFigures } from "../platform/capacity/figures";
import type { NodePoolConfig, Stage } from "../platform/config";
import { reviewedPullRequest, reviewStackName, type ReviewConfig } from "../platform/config/review";

const COMMANDS = ["up", "preview", "destroy", "sweep"] as const;
type Command = (typeof COMMANDS)[number];

const USAGE = `usage: npm run review -- <command> [flags] [-- <pulumi args>]
  up --pr <n>       create or update the review stack pr-<n> of pull request n
  preview --pr <n>  the same, previewed
  destroy --pr <n>  destroy pr-<n> and remove the stack
  sweep             destroy the review stacks idle for longer than the stage's review.ttl, and
                    with --open those whose pull request is closed
flags:
  --base <rev>      up/preview: the pull request's base; deploy the services changed since it
  --all             up/preview: deploy the whole app
  --services a,b    up/preview: deploy these services (with what they depend on)
  --comment <file>  up: write the pull request comment (hosts, services) as Markdown here
  --open 3,7,12     sweep: the open pull requests (the others' stacks are destroyed)
  --now <time>      sweep: the time to measure idleness from (default: now)
  --dry-run         say what would be done, and do nothing
  --cwd <dir>       the Pulumi project directory (default: the current directory)
exit codes: 0 done; 1 pulumi failed or the stack was refused; 2 usage error`;

export interface ReviewOptions {
  readonly command: Command;
  readonly pullRequest?: number;
  readonly base?: string;
  readonly all: boolean;
  readonly services?: readonly string[];
  readonly comment?: string;
  readonly open?: ReadonlySet<number>;
  readonly now: Date;
  readonly dryRun: boolean;
  readonly cwd: string;
  readonly pulumiArgs: readonly string[];
}

const PR_NUMBER = /^[1-9][0-9]{0,8}$/;

export function parseReviewArgs(argv: readonly string[], now = new Date()): ReviewOptions {
  const [command, ...rest] = argv;
  const flags = {
    pr: { type: "string" },
    base: { type: "string" },
    all: { type: "boolean" },
    services: { type: "string" },
    comment: { type: "string" },
    open: { type: "string" },
    now: { type: "string" },
    "dry-run": { type: "boolean" },
    cwd: { type: "string" },
  } as const;
  // Flags before the command: a misspelt one is named as such.
  const own = (args: readonly string[]) => {
    const split = args.indexOf("--");
    return split < 0 ? args : args.slice(0, split);
  };
  if (command?.startsWith("-")) parseFlags(own(argv), flags, USAGE);
  if (!(COMMANDS as readonly (string | undefined)[]).includes(command))
    throw new UsageError(
      `${command === undefined ? "no command" : `unknown command ${JSON.stringify(command)}`}: give one of ${COMMANDS.join(", ")}\n${USAGE}`,
    );
  const split = rest.indexOf("--");
  const values = parseFlags(own(rest), flags, USAGE);
  const cmd = command as Command;
  const deploys = cmd === "up" || cmd === "preview";
  const only = (flag: string, ok: boolean, where: string) => {
    if (!ok) throw new UsageError(`--${flag} is for ${where}\n${USAGE}`);
  };
  only("pr", cmd === "sweep" ? values.pr === undefined : true, "up, preview and destroy");
  only("base", deploys || values.base === undefined, "up and preview");
  only("all", deploys || !values.all, "up and preview");
  only("services", deploys || values.services === undefined, "up and preview");
  only("comment", cmd === "up" || values.comment === undefined, "up");
  only("open", cmd === "sweep" || values.open === undefined, "sweep");
  only("now", cmd === "sweep" || values.now === undefined, "sweep");
  if (cmd !== "sweep" && values.pr === undefined)
    throw new UsageError(`${cmd} needs --pr <pull request number>\n${USAGE}`);
  if (values.pr !== undefined && !PR_NUMBER.test(values.pr))
    throw new UsageError(
      `--pr ${JSON.stringify(values.pr)}: give the pull request's number (e.g. --pr 12)\n${USAGE}`,
    );
  if (
    deploys &&
    [values.base !== undefined, values.all, values.services !== undefined].filter(Boolean)
      .length !== 1
  )
    throw new UsageError(`${cmd}: give one of --base <rev>, --all or --services a,b\n${USAGE}`);
  const list = (flag: string, text: string) => {
    const items = text.split(",").map((s) => s.trim());
    if (items.some((s) => s === ""))
      throw new UsageError(
        `--${flag} ${JSON.stringify(text)}: an empty item; give a comma-separated list\n${USAGE}`,
      );
    return items;
  };
  let open: Set<number> | undefined;
  if (values.open !== undefined) {
    const items = values.open.trim() === "" ? [] : list("open", values.open);
    const bad = items.find((s) => !PR_NUMBER.test(s));
    if (bad !== undefined)
      throw new UsageError(`--open: ${JSON.stringify(bad)} is not a pull request number\n${USAGE}`);
    open = new Set(items.map(Number));
  }
  let at = now;
  if (values.now !== undefined) {
    at = new Date(values.now);
    if (Number.isNaN(at.getTime()))
      throw new UsageError(
        `--now ${JSON.stringify(values.now)}: give a time such as 2026-12-03T10:00:00Z\n${USAGE}`,
      );
  }
  if (split >= 0 && !deploys)
    throw new UsageError(`pulumi arguments after -- are for up and preview\n${USAGE}`);
  return {
    command: cmd,
    ...(values.pr !== undefined ? { pullRequest: Number(values.pr) } : {}),
    ...(values.base !== undefined ? { base: values.base } : {}),
    all: values.all ?? false,
    ...(values.services !== undefined ? { services: list("services", values.services) } : {}),
    ...(values.comment !== undefined ? { comment: resolve(values.comment) } : {}),
    ...(open ? { open } : {}),
    now: at,
    dryRun: values["dry-run"] ?? false,
    cwd: resolve(values.cwd ?? "."),
    pulumiArgs: split < 0 ? [] : rest.slice(split + 1),
  };
}

/** Refused: said on stderr, exit 1, nothing changed. */
class Refused extends Error {
  override name = "Refused";
}

/** The stage that offers review stacks. */
function reviewStage(stages: readonly Stage[]): Stage & { review: NonNullable<Stage["review"]> } {
  const stage = stages.find((s) => s.review !== undefined);
  if (!stage)
    throw new Refused(
      `no stage offers review stacks: add \`review: {}\` to the first stage of platform:stages in Pulumi.yaml (README, "Review stacks")`,
    );
  return stage as Stage & { review: NonNullable<Stage["review"]> };
}

/** Runs pulumi with this process's stdio; resolves to its exit code. */
function pulumi(args: readonly string[], cwd: string): Promise<number> {
  console.error(`review: pulumi ${args.join(" ")}`);
  return new Promise((res) => {
    const child = spawn("pulumi", args, { cwd, stdio: "inherit" });
    child.on("error", (e) => {
      console.error(
        `review: could not start pulumi (${e.message}); install the version in versions.json`,
      );
      res(EXIT.failed);
    });
    child.on("exit", (code, signal) => res(code ?? (signal ? 128 : EXIT.failed)));
  });
}

/** A pulumi command's JSON output; throws Refused with its error otherwise. */
async function pulumiJson(args: readonly string[], cwd: string): Promise<unknown> {
  const r = await run("pulumi", args, { cwd, timeoutMs: 300_000 });
  if (r.code !== 0)
    throw new Refused(
      `pulumi ${args.join(" ")} failed (${r.code ?? r.signal}): ${(r.error?.message ?? r.stderr).trim().split("\n").slice(-3).join(" | ")}`,
    );
  return JSON.parse(r.stdout) as unknown;
}

/** The project's stacks in the backend. */
async function listedStacks(cwd: string): Promise<ListedStack[]> {
  return (await pulumiJson(["stack", "ls", "--json"], cwd)) as ListedStack[];
}

/** A stack's capacityFigures output, undefined when it has none (never deployed). */
async function figuresOf(stack: string, cwd: string): Promise<CapacityFigures | undefined> {
  const r = await run(
    "pulumi",
    ["stack", "output", "capacityFigures", "--json", "--stack", stack],
    { cwd, timeoutMs: 300_000 },
  );
  if (r.code !== 0) return undefined;
  return JSON.parse(r.stdout) as CapacityFigures;
}

/** The project's view of the base stage's stack at a commit (undefined: no such file there). */
function viewAt(dir: string, commit: string, stack: string) {
  const tree = commitTree(dir, commit);
  if (!tree)
    throw new Refused(
      `--base ${commit}: not a commit of this clone (fetch it, or check out with fetch-depth: 0)`,
    );
  const projectText = gitShow(dir, commit, "Pulumi.yaml");
  const stackText = gitShow(dir, commit, stackFileName(stack));
  return projectText === undefined || stackText === undefined
    ? undefined
    : readStack(projectText, stack, stackText, tree);
}

/** Which services the review deploys, and why. */
function selection(options: ReviewOptions, head: StackView): Selection {
  if (options.all) return { why: "--all: the whole app" };
  if (options.services)
    return { services: options.services, why: `--services ${options.services.join(",")}` };
  const dir = options.cwd;
  const base = viewAt(dir, options.base!, head.stack);
  const changed = execFileSync(
    "git",
    ["-C", dir, "diff", "--name-only", "--relative", `${options.base}...HEAD`],
    { encoding: "utf8" },
  )
    .split("\n")
    .filter(Boolean);
  return reviewSelection(changed, base, head);
}

/** The review stage's stack as this checkout has it. */
function stageView(dir: string, stage: Stage): StackView {
  return readStack(
    readFileSync(join(dir, "Pulumi.yaml"), "utf8"),
    stage.stack,
    readFileSync(join(dir, stackFileName(stage.stack)), "utf8"),
    directoryTree(dir),
  );
}

/** What the stage and the other live review stacks take of the pools at peak. */
async function reserved(options: ReviewOptions, view: StackView, listed: readonly ListedStack[]) {
  const cluster = view.raw.cluster as { nodePools?: Record<string, NodePoolConfig> } | undefined;
  const pools = cluster?.nodePools ?? {};
  const others = listed
    .map((l) => stackName(l.name))
    .filter(
      (s) =>
        s === view.stack ||
        (reviewedPullRequest(s) !== undefined && s !== reviewStackName(options.pullRequest!)),
    );
  const uses: PoolUse[] = [];
  const notes: string[] = [];
  for (const stack of others) {
    const figures = await figuresOf(stack, options.cwd);
    if (!figures) {
      notes.push(`${stack}: no capacity figures (never deployed): nothing reserved for it`);
      continue;
    }
    const use = poolUse(figures, pools);
    uses.push(use);
    notes.push(
      `${stack}: ${
        Object.entries(use)
          .map(
            ([p, u]) => `${p} ${u.cpu}m cpu, ${Math.round(u.memory / 2 ** 20)}Mi, ${u.pods} pods`,
          )
          .join("; ") || "no pool use"
      }`,
    );
  }
  if (!others.includes(view.stack))
    notes.push(`${view.stack}: not in the backend: nothing reserved for it`);
  return { room: reservedRoom(uses), notes };
}

/** The text of Pulumi.pr-<n>.yaml. */
function reviewFileText(dir: string, stage: Stage, review: ReviewConfig): string {
  const baseFile = join(dir, stackFileName(stage.stack));
  if (!existsSync(baseFile))
    throw new Refused(`${baseFile}: the review stage's stack file is missing`);
  const { project } = loadStackFiles(dir, stage.stack);
  return reviewStackText(readFileSync(baseFile, "utf8"), stage.stack, project, review);
}

/** Writes Pulumi.pr-<n>.yaml; returns its path. */
function writeStackFile(dir: string, stage: Stage, review: ReviewConfig): string {
  const file = join(dir, stackFileName(reviewStackName(review.pullRequest)));
  writeFileSync(file, reviewFileText(dir, stage, review));
  return file;
}

async function destroy(
  dir: string,
  stage: Stage,
  pullRequest: number,
  listed: readonly ListedStack[],
  dryRun: boolean,
): Promise<number> {
  const stack = reviewStackName(pullRequest);
  if (!listed.some((l) => stackName(l.name) === stack)) {
    console.log(`review: no stack ${stack}: nothing to destroy`);
    rmSync(join(dir, stackFileName(stack)), { force: true });
    return EXIT.ok;
  }
  if (dryRun) {
    console.log(`review: would destroy ${stack} and remove the stack`);
    return EXIT.ok;
  }
  // destroy runs no program; the file carries the secrets provider the state was written with.
  writeStackFile(dir, stage, { pullRequest });
  const code = await pulumi(
    ["destroy", "--yes", "--non-interactive", "--remove", "--stack", stack],
    dir,
  );
  if (code === 0) rmSync(join(dir, stackFileName(stack)), { force: true });
  return code;
}

async function deploy(
  options: ReviewOptions,
  stage: Stage & { review: NonNullable<Stage["review"]> },
): Promise<number> {
  const dir = options.cwd;
  const pullRequest = options.pullRequest!;
  const stack = reviewStackName(pullRequest);
  // The stage's stack as this checkout has it, read once: the changed services and the pools.
  const view = stageView(dir, stage);
  const chosen = selection(options, view);
  console.log(`review: ${stack} from ${stage.name}: ${chosen.why}`);
  const listed = await listedStacks(dir);
  if (chosen.services?.length === 0) {
    console.log(`review: nothing to review (give --all for the whole app)`);
    return options.command === "up"
      ? destroy(dir, stage, pullRequest, listed, options.dryRun)
      : EXIT.ok;
  }
  const { room, notes } = await reserved(options, view, listed);
  for (const n of notes) console.log(`review: reserved for ${n}`);
  const review: ReviewConfig = {
    pullRequest,
    ...(chosen.services ? { services: [...chosen.services] } : {}),
    ...(stage.review.namespaceQuota ? { namespaceQuota: { ...stage.review.namespaceQuota } } : {}),
    ...(Object.keys(room).length > 0 ? { reserved: room } : {}),
  };
  const created = !listed.some((l) => stackName(l.name) === stack);
  if (options.dryRun) {
    console.log(reviewFileText(dir, stage, review));
    console.log(`review: would ${created ? "create" : "update"} ${stack}`);
    return EXIT.ok;
  }
  if (created) {
    // A stale file of an earlier stack of this name would give init its secrets provider.
    rmSync(join(dir, stackFileName(stack)), { force: true });
    const code = await pulumi(["stack", "init", stack, "--non-interactive"], dir);
    if (code !== 0) return code;
  }
  // Written after init: the stage's secrets provider (its salt or key) replaces the one init
  // made for the empty stack, so the stage's encrypted values decrypt as they are.
  console.log(`review: wrote ${writeStackFile(dir, stage, review)}`);
  const code = await pulumi(
    [
      options.command,
      "--stack",
      stack,
      "--non-interactive",
      ...(options.command === "up" ? ["--yes"] : []),
      ...options.pulumiArgs,
    ],
    dir,
  );
  if (created && (code !== 0 || options.command === "preview")) {
    // Previewed, refused or failed on its first run: leave no empty stack behind (stack rm
    // refuses a stack that holds resources, which then waits for destroy or the sweep).
    await pulumi(["stack", "rm", "--yes", "--non-interactive", "--stack", stack], dir);
    rmSync(join(dir, stackFileName(stack)), { force: true });
  }
  if (code !== 0 || options.command !== "up") return code;
  const outputs = (await pulumiJson(["stack", "output", "--json", "--stack", stack], dir)) as {
    hosts?: string[];
    review?: { services: string[] };
  };
  const hosts = outputs.hosts ?? [];
  for (const h of hosts) console.log(`review: https://${h}`);
  if (options.comment)
    writeFileSync(
      options.comment,
      reviewComment(pullRequest, hosts, outputs.review?.services ?? [], chosen.why),
    );
  return EXIT.ok;
}

async function sweep(
  options: ReviewOptions,
  stage: Stage & { review: NonNullable<Stage["review"]> },
): Promise<number> {
  const listed = await listedStacks(options.cwd);
  const decisions = sweepDecisions(listed, options.now, stage.review.ttlMs, options.open);
  if (decisions.length === 0) console.log("review: no review stacks");
  let failed = 0;
  for (const d of decisions) {
    console.log(`review: ${d.stack}: ${d.destroy ? "destroy" : "keep"}: ${d.reason}`);
    if (!d.destroy) continue;
    const code = await destroy(options.cwd, stage, d.pullRequest, listed, options.dryRun);
    if (code !== 0) failed++;
  }
  if (failed > 0)
    console.error(`review: ${failed} review stack(s) could not be destroyed (see above)`);
  return failed > 0 ? EXIT.failed : EXIT.ok;
}

export async function main(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  try {
    const options = parseReviewArgs(argv);
    const stage = reviewStage(readStages(options.cwd));
    switch (options.command) {
      case "sweep":
        return await sweep(options, stage);
      case "destroy":
        return await destroy(
          options.cwd,
          stage,
          options.pullRequest!,
          await listedStacks(options.cwd),
          options.dryRun,
        );
      default:
        return await deploy(options, stage);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`review: ${e.message}`);
      return EXIT.usage;
    }
    if (e instanceof Refused || e instanceof StackFileError) {
      console.error(`review: ${e.message}`);
      return EXIT.failed;
    }
    throw e;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then(exitWhenFlushed);
}
