/**
 * scripts/lib/run.ts with real child processes (sh, sleep, setsid): output capture, exit codes,
 * the environment and working directory, and a timeout that leaves nothing of the tree behind.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { descendantsOf, killTree, NOT_STARTED, run } from "../scripts/lib/run";

/** Every pid a test started, killed at the end whatever happened. */
const started: number[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const pid of started) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const PATH_ONLY = { PATH: process.env.PATH ?? "/usr/bin:/bin" };

/**
 * Whether `pid` has exited: process.kill(pid, 0) throws (ESRCH), or it is a zombie (dead, only
 * waiting for its new parent, PID 1 here, to reap it).
 */
function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    expect((e as NodeJS.ErrnoException).code).toBe("ESRCH");
    return true;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return true; // reaped meanwhile
  }
}

/** Polls exited(pid) for up to `ms`. */
async function exitsWithin(pid: number, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!exited(pid)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** The pid the command printed on its first line of stdout. */
function printedPid(stdout: string): number {
  const pid = Number(stdout.split("\n")[0]);
  expect(Number.isInteger(pid) && pid > 1, `a pid on the first line of ${stdout}`).toBe(true);
  started.push(pid);
  return pid;
}

describe("run", () => {
  test("captures stdout and stderr separately, with exit 0", async () => {
    const r = await run("sh", ["-c", "echo out; echo err >&2; printf 'no newline'"], {
      env: PATH_ONLY,
      timeoutMs: 10_000,
    });
    expect(r).toMatchObject({
      code: 0,
      signal: null,
      stdout: "out\nno newline",
      stderr: "err\n",
      timedOut: false,
    });
    expect(r.error).toBeUndefined();
    expect(r.ms).toBeGreaterThanOrEqual(0);
    expect(r.ms).toBeLessThan(2_000);
  });

  test("reports a non-zero exit code with the output written before it", async () => {
    const r = await run("sh", ["-c", "echo partial; echo failing >&2; exit 3"], {
      env: PATH_ONLY,
      timeoutMs: 10_000,
    });
    expect(r).toMatchObject({ code: 3, signal: null, stdout: "partial\n", timedOut: false });
    expect(r.stderr).toBe("failing\n");
  });

  test("reports the signal that ended the command (code null)", async () => {
    const r = await run("sh", ["-c", "kill -TERM $$"], { env: PATH_ONLY, timeoutMs: 10_000 });
    expect(r).toMatchObject({ code: null, signal: "SIGTERM", timedOut: false });
  });

  test("passes exactly the given environment, and the working directory", async () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), "run-test-")));
    dirs.push(dir);
    process.env.RUN_TEST_NOT_PASSED = "leaked";
    try {
      const r = await run(
        "sh",
        ["-c", 'echo "$GREETING"; echo "${RUN_TEST_NOT_PASSED-unset}"; pwd'],
        { env: { ...PATH_ONLY, GREETING: "hello there" }, cwd: dir, timeoutMs: 10_000 },
      );
      expect(r.stdout).toBe(`hello there\nunset\n${dir}\n`);
    } finally {
      delete process.env.RUN_TEST_NOT_PASSED;
    }
  });

  test("defaults to this process's environment", async () => {
    process.env.RUN_TEST_INHERITED = "inherited";
    try {
      const r = await run("sh", ["-c", 'echo "$RUN_TEST_INHERITED"'], { timeoutMs: 10_000 });
      expect(r.stdout).toBe("inherited\n");
    } finally {
      delete process.env.RUN_TEST_INHERITED;
    }
  });

  test("a command that cannot be started: code 127 and the error, at once", async () => {
    const r = await run("no-such-command-run-test", ["x"], { env: PATH_ONLY, timeoutMs: 10_000 });
    expect(r.code).toBe(NOT_STARTED);
    expect(r.code).toBe(127);
    expect(r.error?.code).toBe("ENOENT");
    expect(r.error?.message).toContain("no-such-command-run-test");
    expect(r).toMatchObject({ stdout: "", stderr: "", timedOut: false });
    expect(r.ms).toBeLessThan(2_000);
  });

  test("calls onSpawn with the command's pid", async () => {
    let spawned: number | undefined;
    const r = await run("sh", ["-c", "echo $$"], {
      env: PATH_ONLY,
      timeoutMs: 10_000,
      onSpawn: (pid) => {
        spawned = pid;
      },
    });
    expect(spawned).toBeDefined();
    expect(r.stdout).toBe(`${spawned}\n`);
  });

  // The grandchild holds the shell's stdout open, so run() returns only once it is dead too.
  test.each([
    ["in the command's process group", "sleep 30 & echo $!; wait"],
    // Like pulumi's plugins: signalling the command's group does not reach it, the tree walk does.
    ["in a session and process group of its own", "setsid sleep 30 & echo $!; wait"],
  ])("a timeout kills the command and a grandchild %s", async (_, script) => {
    const r = await run("sh", ["-c", script], { env: PATH_ONLY, timeoutMs: 300 });
    const grandchild = printedPid(r.stdout);
    expect(r).toMatchObject({ timedOut: true, code: null });
    expect(r.ms).toBeGreaterThanOrEqual(290);
    expect(r.ms).toBeLessThan(2_000);
    expect(await exitsWithin(grandchild, 500)).toBe(true);
  });
});

describe("when the caller is stopped", () => {
  test("SIGTERM to the caller kills the running commands' trees, then ends it by that signal", async () => {
    const dir = mkdtempSync(join(tmpdir(), "run-stopped-"));
    dirs.push(dir);
    const pidFile = join(dir, "grandchild");
    const script = join(dir, "caller.ts");
    writeFileSync(
      script,
      [
        `import { run } from ${JSON.stringify(join(__dirname, "..", "scripts", "lib", "run.ts"))};`,
        `void run("sh", ["-c", "setsid sleep 30 & echo $! > ${pidFile}; wait"], { timeoutMs: 60_000 });`,
        `const poll = setInterval(() => {`,
        `  try { if (require("node:fs").readFileSync(${JSON.stringify(pidFile)}, "utf8").trim()) {`,
        `    clearInterval(poll); process.kill(process.pid, "SIGTERM"); } } catch {}`,
        `}, 20);`,
      ].join("\n"),
    );
    const tsx = join(__dirname, "..", "node_modules", ".bin", "tsx");
    const caller = spawn(tsx, [script], { stdio: "ignore" });
    const ended = await new Promise<{ code: number | null; signal: string | null }>((res) =>
      caller.on("exit", (code, signal) => res({ code, signal })),
    );
    const grandchild = Number(readFileSync(pidFile, "utf8"));
    started.push(grandchild);
    // tsx forwards the signal to its node child and exits the same way.
    expect(ended.signal === "SIGTERM" || ended.code === 143, JSON.stringify(ended)).toBe(true);
    expect(await exitsWithin(grandchild, 2_000)).toBe(true);
  });
});

describe("killTree and descendantsOf", () => {
  test("SIGKILL reaches the known descendants even after the root has exited", async () => {
    // A shell and a grandchild in its own session, both ignoring SIGTERM (run()'s first try).
    const child = spawn("sh", ["-c", "trap '' TERM; setsid sleep 30 & echo $!; wait"], {
      env: PATH_ONLY,
      stdio: ["ignore", "pipe", "ignore"],
      detached: true,
    });
    const root = child.pid!;
    started.push(root);
    // "exit", not "close": the grandchild keeps the shell's stdout open.
    const rootExited = new Promise((r) => child.on("exit", r));
    const line = await new Promise<string>((r) => child.stdout.once("data", (b) => r(String(b))));
    const grandchild = printedPid(line);

    expect(descendantsOf(root)).toEqual([grandchild]);
    expect(killTree(root, "SIGTERM")).toEqual([grandchild]);
    expect(await exitsWithin(grandchild, 200)).toBe(false);
    expect(exited(root)).toBe(false);

    // The root dies first (as pulumi may): the tree walk no longer finds the grandchild...
    process.kill(root, "SIGKILL");
    await rootExited;
    expect(exited(grandchild)).toBe(false);
    expect(descendantsOf(root)).toEqual([]);
    // ...but the descendants known from the first signal are still killed.
    expect(killTree(root, "SIGKILL", [grandchild], true)).toEqual([grandchild]);
    expect(await exitsWithin(grandchild, 1_000)).toBe(true);
  });

  test("descendantsOf is empty for a process without children, or one that does not exist", () => {
    expect(descendantsOf(2 ** 22 + 1)).toEqual([]);
  });
});
