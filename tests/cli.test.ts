/**
 * One command-line convention for every script: `--help`/`-h` prints the usage and exits 0
 * without loading the program (no @pulumi module), and a misspelt flag gets a did-you-mean and
 * exit 2 (scripts/lib/cli.ts, EXIT). Each script runs as users run it, through tsx.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

/** Every command a user or a workflow runs, with a misspelling of one of its flags. */
const CLIS: readonly [script: string, misspelt: string, meant: string][] = [
  ["render", "--stak", "--stack"],
  ["diff", "--bse", "--base"],
  ["promote", "--form", "--from"],
  ["deploy", "--stag", "--stage"],
  ["review", "--bse", "--base"],
  ["replacement-gate", "--alow", "--allow"],
  ["stack-init", "--stak", "--stack"],
  ["config-schema", "--hepl", "--help"],
  ["plugin-schema", "--hepl", "--help"],
  ["ci/stages", "--stag", "--stage"],
  ["ci/affected-stacks", "--bas", "--base"],
  ["bench-capacity", "--hepl", "--help"],
  ["bench-components", "--size", "--sizes"],
  ["bench-engine", "--size", "--sizes"],
];

const dir = mkdtempSync(join(tmpdir(), "cli-probe-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const probe = join(dir, "probe.cjs");
const report = join(dir, "loaded.txt");
// Preloaded into every node process: the script's records which @pulumi modules it loaded.
writeFileSync(
  probe,
  `process.on("exit", () => {
  if (!process.argv[1] || !process.argv[1].endsWith(".ts")) return;
  const loaded = Object.keys(require.cache).filter((k) => k.includes("/node_modules/@pulumi/"));
  require("node:fs").writeFileSync(${JSON.stringify(report)}, loaded.join("\\n"));
});
`,
);

function cli(script: string, args: string[]) {
  writeFileSync(report, "(not written)");
  const r = spawnSync(
    process.execPath,
    [join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"), `scripts/${script}.ts`, ...args],
    {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: `--require ${probe}` },
    },
  );
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    loaded: readFileSync(report, "utf8"),
  };
}

describe.each(CLIS)("%s", (script, misspelt, meant) => {
  test.each(["--help", "-h"])(
    "%s prints the usage and exits 0, loading no @pulumi module",
    (flag) => {
      const r = cli(script, [flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^usage: /);
      expect(r.stdout).toMatch(/\nexit codes: 0 /);
      expect(r.stderr).toBe("");
      expect(r.loaded).toBe("");
    },
  );

  test(`${misspelt} gets a did-you-mean and exits 2`, () => {
    const r = cli(script, [misspelt, "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Unknown option '${misspelt}' (did you mean ${meant}?)`);
    expect(r.stdout).toBe("");
  });
});

describe("bench-engine's values", () => {
  test.each([
    [["--pulumi-logs", "maybe"], "bench-engine: --pulumi-logs maybe: expected off, on or both"],
    [
      ["--backend", "file,s3"],
      "bench-engine: --backend s3: expected file, file?<query>, postgres (each optionally +zstd or +gzip), comma-separated",
    ],
    [
      ["--backend", "file?metadata"],
      "bench-engine: --backend file?metadata: expected file, file?<query>, postgres (each optionally +zstd or +gzip), comma-separated",
    ],
    [
      ["--backend", "postgres+zstd,file+lz4"],
      "bench-engine: --backend file+lz4: expected file, file?<query>, postgres (each optionally +zstd or +gzip), comma-separated",
    ],
    [
      ["--with-env", "PLATFORM_SDK_DEBUG_LOGS=1,PLATFORM_STACK_TRACES"],
      "bench-engine: --with-env PLATFORM_STACK_TRACES: expected NAME=VALUE (e.g. PLATFORM_SDK_DEBUG_LOGS=1), comma-separated",
    ],
    [
      ["--with-env", "1X=2"],
      "bench-engine: --with-env 1X=2: expected NAME=VALUE (e.g. PLATFORM_SDK_DEBUG_LOGS=1), comma-separated",
    ],
    [
      ["--program", "floor,batched:0,raw"],
      "bench-engine: --program batched:0,raw: expected components, floor or batched:<workloads per group>, comma-separated",
    ],
  ])("%j is refused, naming the value, with exit 2 and nothing run", (args, message) => {
    const r = cli("bench-engine", args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split("\n")[0]).toBe(message);
    expect(r.stderr).toContain("usage: ");
    expect(r.loaded).toBe("");
  });
});
