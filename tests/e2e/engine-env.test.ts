/**
 * scripts/engine/env.sh and Pulumi's automatic log (every command writing all engine log records
 * to $PULUMI_HOME/logs, a third or more of the engine's CPU at scale): off by default, on with
 * PLATFORM_PULUMI_LOGS=on, a logs directory of the user's own left alone, and a bad value refused.
 * Each case sources env.sh with a PULUMI_HOME of its own (plugins shared) and runs the real CLI.
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { describeEngine, engineEnv, REPO, run } from "./helpers";

describeEngine("scripts/engine/env.sh: Pulumi's automatic log", () => {
  let root: string;
  let shared: NodeJS.ProcessEnv;

  beforeAll(async () => {
    shared = await engineEnv();
    root = mkdtempSync(join(tmpdir(), "e2e-engine-logs-"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  /** A fresh PULUMI_HOME whose plugins are the shared ones. */
  function home(name: string): string {
    const dir = join(root, name);
    mkdirSync(dir);
    symlinkSync(join(shared.PULUMI_HOME!, "plugins"), join(dir, "plugins"), "dir");
    return dir;
  }

  /** Sources env.sh with `extra` and, when that worked, runs `pulumi version`. */
  const sourceAndRun = (extra: NodeJS.ProcessEnv) =>
    run(
      "bash",
      [
        "-c",
        'source scripts/engine/env.sh "$1" >/dev/null || exit 3; pulumi version',
        "bash",
        root,
      ],
      { cwd: REPO, env: { ...process.env, KUBECONFIG: "", ...extra }, timeoutMs: 180_000 },
    );

  const logFiles = (dir: string) =>
    existsSync(dir) && statSync(dir).isDirectory()
      ? readdirSync(dir).filter((f) => f.endsWith(".log"))
      : [];

  test("the repository's own PULUMI_HOME has it off: a file where the directory would be", () => {
    const logs = join(shared.PULUMI_HOME!, "logs");
    expect(statSync(logs).isFile()).toBe(true);
  });

  test("off by default: the CLI runs, writes no log and says nothing about it", async () => {
    const h = home("off");
    const r = await sourceAndRun({ PULUMI_HOME: h });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^v3\.\d+\.\d+/);
    expect(r.stderr).not.toMatch(/logging|logs/i);
    expect(statSync(join(h, "logs")).isFile()).toBe(true);
    expect(readdirSync(h).filter((f) => f.endsWith(".log"))).toEqual([]);
  });

  test("PLATFORM_PULUMI_LOGS=on turns it back on: the command's log is written", async () => {
    const h = home("on");
    expect((await sourceAndRun({ PULUMI_HOME: h })).code).toBe(0); // off first: a file
    const r = await sourceAndRun({ PULUMI_HOME: h, PLATFORM_PULUMI_LOGS: "on" });
    expect(r.code).toBe(0);
    expect(statSync(join(h, "logs")).isDirectory()).toBe(true);
    expect(logFiles(join(h, "logs")).some((f) => f.includes("version"))).toBe(true);
  });

  test("a logs directory in a PULUMI_HOME of the user's own is left alone, and said so", async () => {
    const h = home("own");
    mkdirSync(join(h, "logs"));
    const r = await sourceAndRun({ PULUMI_HOME: h });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      `engine: ${join(h, "logs")} is a directory of your own: Pulumi's automatic log stays on (remove it to turn it off)`,
    );
    expect(logFiles(join(h, "logs"))).toHaveLength(1);
  });

  test("a value other than on or off is refused, naming it, and nothing runs", async () => {
    const h = home("bad");
    const r = await sourceAndRun({ PULUMI_HOME: h, PLATFORM_PULUMI_LOGS: "yes" });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("engine: PLATFORM_PULUMI_LOGS=yes: expected on or off");
    expect(existsSync(join(h, "logs"))).toBe(false);
  });
});
