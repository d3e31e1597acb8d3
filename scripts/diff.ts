/**
 * A reviewer's diff of one stack between a git ref and the working tree:
 *
 *   npm run diff -- --stack prod --base origin/main [--format text|markdown] [--out file]
 *
 * Renders both sides offline (the base from a temporary git worktree, with this checkout's
 * node_modules) and prints objects added, removed and changed, field by field, flagging every
 * change that makes Kubernetes or Pulumi replace an object.
 * Exit codes (scripts/lib/cli.ts EXIT): 0 diff printed; 1 a side failed to render, violates a
 * mandatory policy or, with --fail-on-replace, something is replaced (as the engine's
 * replacement gate); 2 usage error (unknown flag, stack or ref).
 */
import { execFile, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { EXIT, exitWhenFlushed, parseFlags, UsageError, wantsHelp } from "./lib/cli";
import {
  diffRenders,
  formatDiffMarkdown,
  formatDiffText,
  renderCapacityDelta,
  type Obj,
  type Render,
} from "./lib/diff";
import type { CapacityFigures } from "../platform/capacity/figures";
import { exposureChanges, serviceCards } from "./lib/service-cards";
import { trafficGraph } from "./lib/traffic-graph";
import { colorEnabled, colorLines } from "./lib/style";
import { PROJECT_DIR } from "./lib/stack-files";

const run = promisify(execFile);

const USAGE = `usage: npm run diff -- --stack <name> --base <git ref> [--format text|markdown] [--out <file>] [--fail-on-replace]
  --fail-on-replace  exit 1 when any object would be replaced (the prod deploy gate)
exit codes: 0 diff printed, 1 a side failed to render or violates a mandatory policy, or a
replacement with --fail-on-replace, 2 usage error`;

interface DiffOptions {
  readonly stack: string;
  readonly base: string;
  readonly format: "text" | "markdown";
  readonly out?: string;
  readonly failOnReplace: boolean;
}

export function parseDiffArgs(argv: readonly string[]): DiffOptions {
  const values = parseFlags(
    argv,
    {
      stack: { type: "string" },
      base: { type: "string" },
      format: { type: "string" },
      out: { type: "string" },
      "fail-on-replace": { type: "boolean" },
    },
    USAGE,
  );
  if (!values.stack || !values.base) throw new UsageError(`give --stack and --base\n${USAGE}`);
  if (values.format !== undefined && values.format !== "text" && values.format !== "markdown") {
    throw new UsageError(`--format ${values.format}: expected text or markdown`);
  }
  if (!existsSync(join(PROJECT_DIR, `Pulumi.${values.stack}.yaml`)))
    throw new UsageError(`--stack ${values.stack}: no Pulumi.${values.stack}.yaml here`);
  return {
    stack: values.stack,
    base: values.base,
    format: (values.format ?? "text") as "text" | "markdown",
    ...(values.out ? { out: values.out } : {}),
    failOnReplace: values["fail-on-replace"] ?? false,
  };
}

function readRender(dir: string): Render {
  const objects = new Map<string, Obj>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith(".yaml")) {
        const o = parse(readFileSync(p, "utf8")) as Obj;
        objects.set(
          o.metadata.namespace
            ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`
            : `${o.kind}/${o.metadata.name}`,
          o,
        );
      }
    }
  };
  walk(dir);
  const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as {
    resources?: Record<string, string>;
  };
  const capacity = join(dir, "capacity.json");
  return {
    objects,
    resources: summary.resources ?? {},
    ...(existsSync(capacity)
      ? { capacity: JSON.parse(readFileSync(capacity, "utf8")) as CapacityFigures }
      : {}),
  };
}

/** Renders `projectDir`'s stack into `out` in a child process; a missing stack file renders nothing. */
async function renderSide(
  projectDir: string,
  stack: string,
  out: string,
): Promise<{ render: Render; policyFailed: boolean }> {
  if (!existsSync(join(projectDir, `Pulumi.${stack}.yaml`)))
    return { render: { objects: new Map(), resources: {} }, policyFailed: false };
  const tsx = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
  try {
    await run(
      tsx,
      [
        join(PROJECT_DIR, "scripts", "render.ts"),
        "--project",
        projectDir,
        "--stack",
        stack,
        "--out",
        out,
      ],
      { cwd: projectDir },
    );
    return { render: readRender(out), policyFailed: false };
  } catch (e) {
    const err = e as { code?: number; stderr?: string };
    // Exit 1 with a summary written: a mandatory policy failed, but the objects are there to diff.
    if (err.code === 1 && existsSync(join(out, "summary.json")))
      return { render: readRender(out), policyFailed: true };
    throw new Error(
      `rendering ${projectDir === PROJECT_DIR ? "the working tree" : "the base"} failed:\n${err.stderr ?? String(e)}`,
      { cause: e },
    );
  }
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let opts: DiffOptions;
  try {
    opts = parseDiffArgs(argv);
  } catch (e) {
    console.error(`diff: ${(e as Error).message}`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), "platform-diff-"));
  const baseDir = join(work, "base");
  try {
    try {
      await run("git", ["rev-parse", "--verify", "--quiet", `${opts.base}^{commit}`], {
        cwd: PROJECT_DIR,
      });
    } catch {
      console.error(
        `diff: --base ${opts.base}: not a commit in this repository (try origin/main or a commit hash)`,
      );
      return 2;
    }
    // Interrupted (Ctrl-C, a cancelled CI job), the worktree is removed before the process
    // ends by that signal; it would stay registered in the repository otherwise.
    for (const signal of SIGNALS) process.once(signal, removeOnSignal);
    await run("git", ["worktree", "add", "--detach", "--quiet", baseDir, opts.base], {
      cwd: PROJECT_DIR,
    });
    if (!existsSync(join(baseDir, "node_modules")))
      symlinkSync(join(PROJECT_DIR, "node_modules"), join(baseDir, "node_modules"), "dir");
    const [base, head] = await Promise.all([
      renderSide(baseDir, opts.stack, join(work, "base-render")),
      renderSide(PROJECT_DIR, opts.stack, join(work, "head-render")),
    ]);
    const tier =
      [...head.render.objects.values()].find((o) => o.kind === "Namespace")?.metadata.labels?.[
        "platform/tier"
      ] ?? "unknown";
    const changes = diffRenders(base.render, head.render);
    const capacity = renderCapacityDelta(base.render, head.render);
    const report = {
      stack: opts.stack,
      base: opts.base,
      tier,
      ...(capacity ? { capacity } : {}),
      cards: serviceCards(base.render, head.render),
      exposure: exposureChanges(base.render, head.render),
      ...(opts.format === "markdown" ? { graph: trafficGraph(base.render, head.render) } : {}),
    };
    const text =
      opts.format === "markdown"
        ? formatDiffMarkdown(changes, report)
        : formatDiffText(changes, report);
    if (opts.out) writeFileSync(opts.out, `${text}\n`);
    else
      console.log(opts.format === "text" && colorEnabled(process.stdout) ? colorLines(text) : text);
    const replaced = changes.filter((ch) => ch.replace.length > 0);
    if (opts.failOnReplace && replaced.length > 0) {
      console.error(
        `diff: ${replaced.length} object${replaced.length === 1 ? "" : "s"} would be replaced in stack ${opts.stack}: ${replaced.map((r) => r.key).join(", ")}`,
      );
      return EXIT.failed;
    }
    if (head.policyFailed) {
      console.error(
        `diff: the working tree violates mandatory policies for stack ${opts.stack} (run npm run render -- --stack ${opts.stack})`,
      );
      return 1;
    }
    return 0;
  } catch (e) {
    console.error(`diff: ${(e as Error).message}`);
    return 1;
  } finally {
    for (const signal of SIGNALS) process.removeListener(signal, removeOnSignal);
    await run("git", ["worktree", "remove", "--force", baseDir], { cwd: PROJECT_DIR }).catch(
      () => undefined,
    );
    rmSync(work, { recursive: true, force: true });
  }

  function removeOnSignal(signal: NodeJS.Signals): void {
    spawnSync("git", ["worktree", "remove", "--force", baseDir], { cwd: PROJECT_DIR });
    spawnSync("git", ["worktree", "prune"], { cwd: PROJECT_DIR });
    rmSync(work, { recursive: true, force: true });
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

if (require.main === module) {
  main().then(
    (code) => exitWhenFlushed(code),
    (e: unknown) => {
      console.error(e);
      exitWhenFlushed(1);
    },
  );
}
