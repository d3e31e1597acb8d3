/**
 * Files in, outputs out: YAML problems name the file and line, aliases are bounded for bombs but
 * generous for real files; a CLI's output reaches a slow pipe whole; a failed render leaves the
 * previous one; an interrupted diff leaves no git worktree behind. Own fixtures.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { loadStackFiles, PROJECT_DIR, StackFileError } from "../scripts/lib/stack-files";
import { render } from "../scripts/render";

const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
const FIXTURE = join(PROJECT_DIR, "tests", "fixtures", "shop");

/** A project with the fixture's Pulumi.yaml and a stack file `Pulumi.t.yaml` of this text. */
function projectWith(stackText: string): string {
  const dir = mkdtempSync(join(tmpdir(), "files-"));
  cpSync(join(FIXTURE, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  writeFileSync(join(dir, "Pulumi.t.yaml"), stackText);
  return dir;
}
const loadError = (text: string): string => {
  try {
    loadStackFiles(projectWith(text), "t");
    return "no error";
  } catch (e) {
    expect(e).toBeInstanceOf(StackFileError);
    return (e as Error).message;
  }
};

describe("YAML problems name the file and line", () => {
  test("an anchor reused 120 times is fine", () => {
    const uses = Array.from({ length: 120 }, (_, i) => `    l${i}: *team`).join("\n");
    const text = `config:\n  platform:tier: dev\n  platform:labels:\n    base: &team shop\n${uses}\n`;
    expect(() => loadStackFiles(projectWith(text), "t")).not.toThrow();
  });

  test("an alias bomb is refused, naming the file", () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (const [prev, name] of [
      ["a", "b"],
      ["b", "c"],
      ["c", "d"],
      ["d", "e"],
      ["e", "f"],
    ])
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    expect(loadError(`${levels.join("\n")}\n`)).toBe(
      "Pulumi.t.yaml: not valid YAML: Excessive alias count indicates a resource exhaustion attack (aliases may expand to at most 10000 nodes; write the repeated values out)",
    );
  });

  test("an undefined alias and a duplicate key name their line", () => {
    expect(loadError("config:\n  platform:tier: dev\n  platform:x: *nope\n")).toBe(
      "Pulumi.t.yaml:3: not valid YAML: Unresolved alias (the anchor must be set before the alias): nope",
    );
    expect(loadError("config:\n  platform:tier: dev\n  platform:tier: prod\n")).toBe(
      "Pulumi.t.yaml:3:3: not valid YAML: Map keys must be unique at line 3, column 3:",
    );
  });
});

describe("every byte reaches a slow pipe", () => {
  /** Runs a script that writes 4 MiB to stdout and exits with `exit`; reads it after a pause. */
  function bytesThroughPipe(exit: string): Promise<number> {
    const script = `
import { exitWhenFlushed } from ${JSON.stringify(join(PROJECT_DIR, "scripts", "lib", "cli.ts"))};
void exitWhenFlushed;
process.stdout.write("x".repeat(4 * 1024 * 1024));
${exit};
`;
    const file = join(mkdtempSync(join(tmpdir(), "flush-")), "big.ts");
    writeFileSync(file, script);
    return new Promise((resolve) => {
      const child = spawn(TSX, [file], { stdio: ["ignore", "pipe", "inherit"] });
      let bytes = 0;
      child.stdout.pause();
      setTimeout(() => {
        child.stdout.on("data", (d: Buffer) => (bytes += d.length));
        child.stdout.resume();
      }, 500);
      child.on("close", () => resolve(bytes));
    });
  }

  test("exitWhenFlushed waits for the pipe; a bare process.exit loses the rest", async () => {
    const [flushed, bare] = await Promise.all([
      bytesThroughPipe("exitWhenFlushed(0)"),
      bytesThroughPipe("process.exit(0)"),
    ]);
    expect(flushed).toBe(4 * 1024 * 1024);
    expect(bare).toBeLessThan(4 * 1024 * 1024);
  }, 60_000);

  test("the CLIs end through exitWhenFlushed", () => {
    for (const cli of ["render.ts", "diff.ts", "replacement-gate.ts"]) {
      const source = readFileSync(join(PROJECT_DIR, "scripts", cli), "utf8");
      expect(source, cli).toContain("exitWhenFlushed(code)");
      expect(source, cli).not.toMatch(/process\.exit\(/);
    }
  });
});

describe("render output", () => {
  test("a failed render leaves the previous output as it was, and no temporary directory", async () => {
    const root = mkdtempSync(join(tmpdir(), "render-swap-"));
    const out = join(root, "dev");
    await render({ projectDir: FIXTURE, stack: "dev", out });
    const before = readdirSync(out, { recursive: true }).sort();
    const summary = readFileSync(join(out, "summary.json"), "utf8");
    const bad = join(root, "Pulumi.bad.yaml");
    writeFileSync(
      bad,
      readFileSync(join(FIXTURE, "Pulumi.dev.yaml"), "utf8").replace(
        "    services:\n",
        '    services:\n      api:\n        ports: { "http--main": 3000 }\n',
      ),
    );
    // A second program run needs its own process (mocks run a program once per process).
    const failed = spawnSync(
      TSX,
      [
        join(PROJECT_DIR, "scripts", "render.ts"),
        "--project",
        FIXTURE,
        "--config",
        bad,
        "--out",
        out,
      ],
      { encoding: "utf8" },
    );
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("must not contain consecutive hyphens");
    expect(readdirSync(out, { recursive: true }).sort()).toEqual(before);
    expect(readFileSync(join(out, "summary.json"), "utf8")).toBe(summary);
    expect(readdirSync(root).sort()).toEqual(["Pulumi.bad.yaml", "dev"]);
  }, 60_000);
});

describe("an interrupted diff", () => {
  test("removes its git worktree before it ends by the signal", async () => {
    const repo = mkdtempSync(join(tmpdir(), "diff-signal-"));
    const files = execFileSync("git", ["ls-files"], { cwd: PROJECT_DIR, encoding: "utf8" })
      .split("\n")
      .filter((f) => f && existsSync(join(PROJECT_DIR, f)));
    for (const f of files) {
      mkdirSync(join(repo, f, ".."), { recursive: true });
      cpSync(join(PROJECT_DIR, f), join(repo, f));
    }
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(repo, "node_modules"), "dir");
    const git = (...args: string[]) =>
      execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], {
        cwd: repo,
        encoding: "utf8",
      });
    git("init", "-q");
    git("add", "-A");
    git("commit", "-qm", "base");
    const worktrees = () => git("worktree", "list").trim().split("\n").length;

    // `git worktree add` keeps the new worktree locked while it checks the files out.
    const ready = () => {
      const list = git("worktree", "list", "--porcelain");
      const entries = list.split("\n\n").filter((w) => w.trim() !== "");
      return entries.length === 2 && !list.includes("\nlocked");
    };

    // The script's own process: no tsx CLI in between to relay the signal.
    const child = spawn(
      process.execPath,
      ["--import", "tsx", join(repo, "scripts", "diff.ts"), "--stack", "dev", "--base", "HEAD"],
      { cwd: repo, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const ended = new Promise<string>((resolve) =>
      child.on("exit", (code, signal) => resolve(signal ?? `exit ${code}`)),
    );
    const deadline = Date.now() + 30_000;
    while (!ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(worktrees()).toBe(2);
    child.kill("SIGINT");
    expect(await ended, stderr).toBe("SIGINT");
    expect(worktrees()).toBe(1);
  }, 60_000);
});
