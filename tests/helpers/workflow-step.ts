/**
 * Runs one `run:` script of a workflow the way a runner would (bash, `set -e` semantics as the
 * script asks), in a temporary directory, with a fake `gh` that answers API calls from fixtures
 * and applies `--jq` with the real jq, so the scripts' filters are tested, not assumed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The `run:` script of the named step of a job in a workflow file. */
export function stepScript(workflowFile: string, job: string, stepName: string): string {
  const doc = parse(readFileSync(join(PROJECT_DIR, ".github", "workflows", workflowFile), "utf8"));
  const step = ((doc as Any).jobs[job].steps as Any[]).find((s) => s.name === stepName);
  if (!step?.run) throw new Error(`${workflowFile}: job ${job} has no run step "${stepName}"`);
  return step.run as string;
}

/**
 * API answers of the fake gh: `GET <endpoint>` → JSON body. `repos/<r>/pulls` is filtered by the
 * `head=<owner>:<branch>` query field like GitHub does, from each pull's `head.label`.
 */
export type Fixtures = Record<string, unknown>;

export interface StepResult {
  code: number | null;
  out: string;
  /** Each gh call: its arguments joined by spaces, prefixed with the GH_TOKEN it ran with. */
  gh: string[];
  /** Reads a file the script left in its working directory ("" when absent). */
  file(path: string): string;
  /** The working directory (removed by `cleanup`). */
  dir: string;
  cleanup(): void;
}

const FAKE_GH = String.raw`
const { appendFileSync, readFileSync } = require("node:fs");
const { spawnSync } = require("node:child_process");
const args = process.argv.slice(2);
appendFileSync(process.env.FAKE_GH_LOG, "[" + (process.env.GH_TOKEN || "") + "] " + args.join(" ") + "\n");
const fixtures = JSON.parse(readFileSync(process.env.FAKE_GH_FIXTURES, "utf8"));
if (args[0] === "pr" && args[1] === "create") {
  process.stdout.write(fixtures["pr create"] + "\n");
  process.exit(0);
}
if (args[0] !== "api") process.exit(0);
let method = "GET", endpoint, jq;
const fields = {};
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (a === "-X") method = args[++i];
  else if (a === "-f" || a === "-F") { const [k, ...v] = args[++i].split("="); fields[k] = v.join("="); }
  else if (a === "--jq") jq = args[++i];
  else if (a.startsWith("-")) continue;
  else endpoint = a;
}
if (method !== "GET") process.exit(0);
if (!(endpoint in fixtures)) { console.error("fake gh: no fixture for GET " + endpoint); process.exit(1); }
let body = fixtures[endpoint];
if (/\/pulls$/.test(endpoint) && fields.head) body = body.filter((p) => p.head.label === fields.head);
const json = JSON.stringify(body);
if (!jq) { process.stdout.write(json + "\n"); process.exit(0); }
const r = spawnSync("jq", ["-r", jq], { input: json, encoding: "utf8" });
process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exit(r.status);
`;

/** Runs `script` with `env`, `files` laid out in its working directory and `fixtures` for gh. */
export function runStep(
  script: string,
  opts: { env?: Record<string, string>; files?: Record<string, string>; fixtures?: Fixtures },
): StepResult {
  const dir = mkdtempSync(join(tmpdir(), "workflow-step-"));
  const bin = join(dir, ".bin");
  mkdirSync(bin);
  for (const [f, body] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), body);
  }
  writeFileSync(join(bin, "gh"), `#!${process.execPath}\n${FAKE_GH}`, { mode: 0o755 });
  writeFileSync(join(dir, ".gh-fixtures.json"), JSON.stringify(opts.fixtures ?? {}));
  const r = spawnSync("bash", ["--norc", "--noprofile", "-e", "-c", script], {
    cwd: dir,
    env: {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: dir,
      FAKE_GH_LOG: join(dir, ".gh.log"),
      FAKE_GH_FIXTURES: join(dir, ".gh-fixtures.json"),
      ...opts.env,
    },
    encoding: "utf8",
  });
  const file = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");
  return {
    code: r.status,
    out: `${r.stdout}${r.stderr}`,
    gh: file(".gh.log").trim().split("\n").filter(Boolean),
    file,
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
