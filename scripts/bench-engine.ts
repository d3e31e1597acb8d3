/**
 * Benchmarks the real engine on synthetic stacks: wall time and peak memory of `pulumi preview`
 * (a fresh stack, so every resource is planned as a create) for 10, 100 and 1,000 web services,
 * in render mode (renderYamlToDirectory) with a file backend. Nothing touches the repository:
 * each size runs in a temporary copy of the project with its own state directory.
 *
 *   npx tsx scripts/bench-engine.ts [--sizes 10,100,1000] [--up] [--config-via auto|stack|program]
 *                                   [--timeout 1800] [--keep]
 *
 * The services are stack config, as in real use, while that fits: the Node.js language host
 * passes a program its whole config in one environment variable, which Linux caps at 128 KiB,
 * so past ~270 synthetic services (1,000 need ~460 KiB) pulumi fails with "fork/exec node:
 * argument list too long". Those sizes run a generated index.ts that builds the same Platform
 * from the same config read from a file (the "config via" column says which).
 *
 * Memory is sampled from /proc every 100 ms over the preview's whole process tree (pulumi, the
 * Node.js language host, the program's node process, the Kubernetes provider): "tree peak" is the
 * largest sum seen, "largest process" the largest single RSS and which process it was. With
 * /usr/bin/time present, its "Maximum resident set size" (the largest single process it waited
 * for) is shown as a cross-check.
 * --up also times `pulumi up` and a second, no-change preview of the same stack.
 *
 * Needs the engine (scripts/engine): it is used when already built; otherwise this says how to
 * build it (bash scripts/engine/bootstrap.sh) instead of starting a 25-minute build.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readlinkSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { parseFlags, UsageError } from "./lib/cli";
import { engineEnvCommand, parseEngineEnv } from "./lib/engine-env";
import { descendantsOf, run } from "./lib/run";

const REPO = resolve(__dirname, "..");
const PAGE = 4096;

const USAGE = `usage: npx tsx scripts/bench-engine.ts [--sizes 10,100,1000] [--up] [--timeout <s>] [--keep]
  --sizes    numbers of web services per synthetic stack (default 10,100,1000)
  --up       also time pulumi up and a second (no-change) preview
  --timeout  seconds before one pulumi command is killed (default 1800)
  --keep     leave the temporary projects behind (their paths are printed)
  --config-via  stack: the services are stack config (Pulumi.bench.yaml), as in real use;
             program: a generated index.ts reads the same config from a file; auto (default):
             stack while the config fits in one environment string (128 KiB), else program
exit codes: 0 measured, 1 a pulumi command failed, 2 usage error or no engine`;

// ---------------------------------------------------------------------------------------------

interface Sample {
  readonly treeKb: number;
  /** RSS by executable name (summed when several processes share one). */
  readonly byName: Map<string, number>;
  readonly processes: number;
}

/**
 * RSS (kB) of `root` and every descendant, from /proc. The tree, not the process group: pulumi
 * starts its language host and providers in process groups of their own.
 */
function sampleTree(root: number): Sample {
  let treeKb = 0;
  const byName = new Map<string, number>();
  let processes = 0;
  for (const pid of [root, ...descendantsOf(root)]) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // pid (comm) state ppid ... : comm may hold spaces, so split after the last ')'.
    const close = stat.lastIndexOf(")");
    let name = stat.slice(stat.indexOf("(") + 1, close);
    try {
      // comm is a thread name for some (node shows "MainThread"); the executable is clearer.
      name = basename(readlinkSync(`/proc/${pid}/exe`));
    } catch {
      // keep comm
    }
    const fields = stat.slice(close + 2).split(" ");
    const rssKb = (Number(fields[21]) * PAGE) / 1024;
    processes++;
    treeKb += rssKb;
    byName.set(name, (byName.get(name) ?? 0) + rssKb);
  }
  return { treeKb, byName, processes };
}

interface Measured {
  readonly code: number | null;
  readonly timedOut: boolean;
  readonly wallMs: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly peakTreeKb: number;
  /** Each executable's own peak (they need not peak at the same moment). */
  readonly peakByName: Map<string, number>;
  readonly peakProcesses: number;
  /** /usr/bin/time -v "Maximum resident set size", when available. */
  readonly timeMaxRssKb?: number;
}

const GNU_TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : undefined;

/** Runs a command (scripts/lib/run.ts: its tree is killed on timeout), sampling its memory. */
async function measure(
  cmd: string,
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Measured> {
  const [file, argv] = GNU_TIME ? [GNU_TIME, ["-v", cmd, ...args]] : [cmd, [...args]];
  const peak = { treeKb: 0, processes: 0, byName: new Map<string, number>() };
  const poll = (pid: number) => {
    const s: Sample = sampleTree(pid);
    peak.treeKb = Math.max(peak.treeKb, s.treeKb);
    peak.processes = Math.max(peak.processes, s.processes);
    for (const [name, kb] of s.byName)
      peak.byName.set(name, Math.max(kb, peak.byName.get(name) ?? 0));
  };
  let sampler: NodeJS.Timeout | undefined;
  const r = await run(file, argv, {
    ...opts,
    onSpawn: (pid) => {
      sampler = setInterval(() => poll(pid), 100);
    },
  });
  clearInterval(sampler);
  let stderr = r.error ? `${r.stderr}\n${r.error.message}` : r.stderr;
  let timeMaxRssKb: number | undefined;
  if (GNU_TIME) {
    const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
    if (m) timeMaxRssKb = Number(m[1]);
    const at = stderr.lastIndexOf("\tCommand being timed:");
    if (at >= 0) stderr = stderr.slice(0, at);
  }
  return {
    code: r.code,
    timedOut: r.timedOut,
    wallMs: r.ms,
    stdout: r.stdout,
    stderr,
    peakTreeKb: peak.treeKb,
    peakByName: peak.byName,
    peakProcesses: peak.processes,
    ...(timeMaxRssKb !== undefined ? { timeMaxRssKb } : {}),
  };
}

// ---------------------------------------------------------------------------------------------

/** The engine's environment (scripts/engine/env.sh), or a message saying how to build it. */
function engineEnv(stateDir: string): NodeJS.ProcessEnv {
  const check = spawnSync("bash", ["scripts/engine/bootstrap.sh", "--check"], {
    cwd: REPO,
    timeout: 20_000,
  });
  if (check.status !== 0) {
    throw new Error(
      "the Pulumi engine is not built: run `bash scripts/engine/bootstrap.sh` first (about 25 minutes on two cores, needs Go)",
    );
  }
  const r = spawnSync("bash", engineEnvCommand(stateDir), {
    cwd: REPO,
    timeout: 180_000,
    encoding: "utf8",
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`source scripts/engine/env.sh failed:\n${r.stderr}`);
  return parseEngineEnv(r.stdout);
}

/** Copies the project's files (as git lists them) into `dir`, node_modules as a symlink. */
function copyProject(dir: string): void {
  const listed = spawnSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed: ${listed.stderr}`);
  for (const f of listed.stdout.split("\0")) {
    if (!f || f.startsWith("rendered/") || /^Pulumi\.[^/]+\.yaml$/.test(f)) continue;
    const from = join(REPO, f);
    if (!existsSync(from) || !statSync(from).isFile()) continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(from, join(dir, f));
  }
  symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
}

const PER_NAMESPACE = 100;

/**
 * A stack file with `n` web services (nginx, one replica, readiness probe, a dependency on the
 * previous service so NetworkPolicies have rules), 100 to a namespace with `quota: auto`, and
 * enough nodes for every peak pod.
 */
export function syntheticStack(n: number, renderDir: string): { config: Record<string, unknown> } {
  const namespaces: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const ns = `bench-${String(Math.floor(i / PER_NAMESPACE)).padStart(2, "0")}`;
    namespaces[ns] ??= { labels: { team: ns }, quota: "auto" };
    const name = `svc-${String(i).padStart(4, "0")}`;
    services[name] = {
      kind: "web",
      namespace: ns,
      image: "nginxinc/nginx-unprivileged:1.29.1-alpine",
      securityContext: { runAsUser: 101, runAsGroup: 101 },
      ports: { http: 8080 },
      resources: {
        requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "64Mi" },
        limits: { cpu: "100m", memory: "64Mi", "ephemeral-storage": "128Mi" },
      },
      probes: { readiness: { http: { path: "/healthz" } } },
      ...(i % PER_NAMESPACE > 0 ? { dependencies: [`svc-${String(i - 1).padStart(4, "0")}`] } : {}),
    };
  }
  const nodes = Math.ceil((2 * n) / 100) + 1;
  return {
    config: {
      "platform:tier": "dev",
      "platform:cluster": {
        cloud: "kind",
        name: "bench",
        renderYamlToDirectory: renderDir,
        nodePools: {
          general: {
            count: nodes,
            allocatable: { cpu: "16", memory: "64Gi", pods: 110 },
            overhead: { cpu: "300m", memory: "512Mi", pods: 10 },
          },
        },
      },
      "platform:namespaces": namespaces,
      "platform:services": services,
    },
  };
}

/**
 * Linux refuses to start a process with one environment string over 128 KiB (MAX_ARG_STRLEN),
 * and the Node.js language host hands the program its whole config in one (PULUMI_CONFIG). The
 * synthetic config passes that size at about 270 services: "fork/exec node: argument list too
 * long".
 */
const MAX_ENV_STRING = 128 * 1024;

/** The size of the PULUMI_CONFIG string the language host would build from a stack file. */
export function pulumiConfigSize(doc: { config: Record<string, unknown> }): number {
  const cfg: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.config))
    cfg[k] = typeof v === "string" ? v : JSON.stringify(v);
  return Buffer.byteLength(`PULUMI_CONFIG=${JSON.stringify(cfg)}`);
}

/**
 * The program for --config-via program: index.ts's Platform and outputs, but the config is read
 * from bench-config.json (the same raw config, parsed by the same parsePlatformConfig) instead
 * of Pulumi config, which cannot carry it past MAX_ENV_STRING.
 */
const PROGRAM = `// Generated by scripts/bench-engine.ts: index.ts with the config read from a file.
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Platform, parsePlatformConfig } from "./components";

const raw = JSON.parse(readFileSync(join(__dirname, "bench-config.json"), "utf8"));
const platform = new Platform(pulumi.getStack(), { config: parsePlatformConfig(raw), secrets: {} });
export const namespaces = Object.keys(platform.tenants);
export const endpoints = platform.endpoints;
export const hosts = platform.hosts;
export const images = platform.images;
export const capacity = platform.capacityReport.text;
export const capacityMarkdown = platform.capacityReport.markdown;
`;

type ConfigVia = "stack" | "program";

/** Writes the synthetic stack into the project: as Pulumi.bench.yaml, or for the program. */
function writeStack(dir: string, doc: { config: Record<string, unknown> }, via: ConfigVia): void {
  if (via === "stack") {
    writeFileSync(join(dir, "Pulumi.bench.yaml"), stringify(doc, { lineWidth: 0 }));
    return;
  }
  const raw = Object.fromEntries(
    Object.entries(doc.config).map(([k, v]) => [k.slice(k.indexOf(":") + 1), v]),
  );
  writeFileSync(join(dir, "bench-config.json"), JSON.stringify(raw));
  writeFileSync(join(dir, "index.ts"), PROGRAM);
  writeFileSync(join(dir, "Pulumi.bench.yaml"), "config: {}\n");
}

interface Row {
  readonly size: number;
  readonly via: ConfigVia;
  readonly resources: number;
  readonly command: string;
  readonly m: Measured;
}

const mb = (kb: number | undefined) => (kb === undefined ? "-" : (kb / 1024).toFixed(0));
const secs = (ms: number) => (ms / 1000).toFixed(1);

function table(rows: readonly Row[]): string {
  const head = [
    "workloads",
    "config via",
    "resources",
    "command",
    "wall s",
    "tree peak MB",
    "peak MB by process",
    "time -v maxrss MB",
    "processes",
  ];
  const body = rows.map((r) => [
    String(r.size),
    r.via,
    String(r.resources),
    r.command,
    r.m.timedOut ? `>${secs(r.m.wallMs)} (killed)` : secs(r.m.wallMs),
    mb(r.m.peakTreeKb),
    [...r.m.peakByName]
      .filter(([name]) => name !== "time")
      .sort((a, b) => b[1] - a[1])
      .map(([name, kb]) => `${name} ${mb(kb)}`)
      .join(", "),
    mb(r.m.timeMaxRssKb),
    String(r.m.peakProcesses),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => ((i < 4 && i !== 2) || i === 6 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join("  ");
  return [line(head), ...body.map(line)].join("\n");
}

function resourcesIn(stdout: string): number {
  try {
    const text = stdout.trim();
    const end = text.search(/\n\}\r?(\n|$)/);
    const doc = JSON.parse(end >= 0 ? text.slice(0, end + 2) : text) as {
      changeSummary?: Record<string, number>;
    };
    return Object.values(doc.changeSummary ?? {}).reduce((a, b) => a + b, 0);
  } catch {
    return 0;
  }
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseFlags(
      process.argv.slice(2),
      {
        sizes: { type: "string" },
        up: { type: "boolean" },
        timeout: { type: "string" },
        keep: { type: "boolean" },
        "config-via": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      USAGE,
    );
  } catch (e) {
    console.error(`bench-engine: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sizes = (values.sizes ?? "10,100,1000").split(",").map((s) => Number(s.trim()));
  const timeoutS = Number(values.timeout ?? "1800");
  if (sizes.some((s) => !Number.isInteger(s) || s < 1) || !(timeoutS > 0)) {
    console.error(`bench-engine: --sizes takes positive integers, --timeout seconds\n${USAGE}`);
    return 2;
  }
  const configVia = values["config-via"] ?? "auto";
  if (!["auto", "stack", "program"].includes(configVia)) {
    console.error(`bench-engine: --config-via takes auto, stack or program\n${USAGE}`);
    return 2;
  }
  if (process.platform !== "linux") {
    console.error("bench-engine: memory is sampled from /proc; run it on Linux");
    return 2;
  }

  const rows: Row[] = [];
  let failed = false;
  for (const size of sizes) {
    const root = mkdtempSync(join(tmpdir(), `bench-engine-${size}-`));
    const dir = join(root, "project");
    const state = join(root, "state");
    mkdirSync(dir, { recursive: true });
    mkdirSync(state, { recursive: true });
    try {
      const env = { ...engineEnv(state), PULUMI_BACKEND_URL: `file://${state}` };
      copyProject(dir);
      const doc = syntheticStack(size, join(root, "rendered"));
      const configBytes = pulumiConfigSize(doc);
      const via: ConfigVia =
        configVia === "auto"
          ? configBytes <= MAX_ENV_STRING
            ? "stack"
            : "program"
          : (configVia as ConfigVia);
      if (configVia === "auto" && via === "program") {
        console.error(
          `bench-engine: ${size} workloads: the stack config would be ${Math.round(configBytes / 1024)} KiB of PULUMI_CONFIG, over Linux's ${MAX_ENV_STRING / 1024} KiB for one environment string; generating it in the program instead`,
        );
      }
      writeStack(dir, doc, via);
      const opts = { cwd: dir, env, timeoutMs: timeoutS * 1000 };
      const init = await measure("pulumi", ["stack", "init", "bench", "--non-interactive"], {
        ...opts,
        timeoutMs: 60_000,
      });
      if (init.code !== 0) throw new Error(`pulumi stack init failed:\n${init.stderr}`);
      const runs: [string, string[]][] = [
        ["preview (all create)", ["preview", "--json", "--stack", "bench", "--non-interactive"]],
      ];
      if (values.up) {
        runs.push(
          ["up", ["up", "--yes", "--json", "--stack", "bench", "--non-interactive"]],
          ["preview (no change)", ["preview", "--json", "--stack", "bench", "--non-interactive"]],
        );
      }
      let resources = 0;
      for (const [label, args] of runs) {
        console.error(`bench-engine: ${size} workloads: pulumi ${args[0]} ...`);
        const m = await measure("pulumi", args, opts);
        resources ||= resourcesIn(m.stdout);
        rows.push({ size, via, resources, command: label, m });
        console.error(
          `bench-engine: ${size} workloads: ${label}: ${m.timedOut ? "KILLED after" : `exit ${m.code},`} ${secs(m.wallMs)} s, tree peak ${mb(m.peakTreeKb)} MB`,
        );
        if (m.code !== 0) {
          failed = true;
          console.error(`${m.stderr.trim()}\n${m.stdout}`.trim().slice(-3000));
          break;
        }
      }
    } catch (e) {
      console.error(`bench-engine: ${size} workloads: ${(e as Error).message}`);
      failed = true;
    } finally {
      if (values.keep) console.error(`bench-engine: kept ${root}`);
      else rmSync(root, { recursive: true, force: true });
    }
  }
  console.log(
    `\npulumi preview in render mode, file backend, fresh stack (${process.arch}, ${(await import("node:os")).cpus().length} cpus)`,
  );
  console.log(table(rows));
  return failed ? 1 : 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        console.error(e.message);
        process.exit(2);
      }
      console.error(e);
      process.exit(1);
    },
  );
}
