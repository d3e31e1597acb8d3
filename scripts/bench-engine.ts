/**
 * Benchmarks the real engine on synthetic stacks: wall time and peak memory of `pulumi preview`
 * (a fresh stack, so every resource is planned as a create) for 10, 100 and 1,000 web services,
 * in render mode (renderYamlToDirectory), on a file backend or PostgreSQL (or both, side by
 * side). Nothing touches the repository: each size and backend runs in a temporary copy of the
 * project with its own state.
 *
 *   npx tsx scripts/bench-engine.ts [--sizes 10,100,1000] [--up] [--backend file,postgres]
 *                                   [--config-via auto|stack|files] [--timeout 1800] [--keep]
 *
 * The application is the stack's config while that fits (`--config-via stack`): the Node.js
 * language host passes a program its whole config in one environment variable, which Linux
 * caps at 128 KiB, so past ~270 synthetic services pulumi fails with "fork/exec node: argument
 * list too long". Larger ones are application files (`platform:applicationFiles`, one file per
 * namespace), read by the real program: the "config via" column says which.
 *
 * Memory is sampled from /proc every 100 ms over the preview's whole process tree (pulumi, the
 * Node.js language host, the program's node process, the Kubernetes provider): "tree peak" is the
 * largest sum seen, "largest process" the largest single RSS and which process it was. With
 * /usr/bin/time present, its "Maximum resident set size" (the largest single process it waited
 * for) is shown as a cross-check.
 * --up also times, on the same stack: `pulumi up` (everything created), a second `up` with no
 * change, then the everyday change: one service's image changed, previewed and applied, and
 * changed back with `up --skip-preview` (what a deploy after a reviewed preview needs).
 * --program floor and batched:N run, instead of the real program, the same planned objects
 * registered raw or in yaml/v2 ConfigGroups of N workloads (scripts/lib/bench-program.ts), beside
 * it: what the components cost, and what batching registrations would gain, through the engine.
 * PostgreSQL (`--backend postgres`) is a throwaway server (scripts/lib/postgres.ts, Debian's
 * postgresql package), one per run.
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
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { stringify } from "yaml";
import { parseFlags, UsageError } from "./lib/cli";
import { engineEnvCommand, parseEngineEnv } from "./lib/engine-env";
import {
  CHANGED_IMAGE,
  IMAGE,
  syntheticApplication,
  syntheticCluster,
  writeApplicationFiles,
} from "./lib/synthetic";
import { postgresBinaries, startPostgres, type Postgres } from "./lib/postgres";
import { measure } from "./lib/measure-tree";
import {
  benchIndexSource,
  parseBackend,
  parseBenchProgram,
  parseEnvVariant,
  variantEnv,
  type Backend,
  type BenchProgram,
} from "./lib/bench-variants";
import {
  mb,
  resourcesIn,
  secs,
  table,
  type ConfigVia,
  type Logs,
  type Row,
} from "./lib/bench-table";

const REPO = resolve(__dirname, "..");

const USAGE = `usage: npx tsx scripts/bench-engine.ts [--sizes 10,100,1000] [--up] [--backend file,postgres]
                                  [--config-via auto|stack|files] [--timeout <s>] [--keep]
                                  [--pulumi-logs off,on] [--profile <dir>]
                                  [--program components,floor,batched:50]
                                  [--with-env NAME=VALUE,...]
  --sizes    numbers of web services per synthetic stack (default 10,100,1000)
  --up       also time pulumi up, a second up (no change), and a one-service change
             (preview and up)
  --backend  file (default), postgres, or both comma-separated: each size runs on each;
             file?<query> is the file backend with that query on its URL (file?metadata=skip);
             +zstd or +gzip after either compresses the state (PULUMI_DIY_BACKEND_ZSTD/GZIP)
  --seed-unsafe  with --up: the first up runs with PULUMI_SKIP_CHECKPOINTS=true (state written
             once, at the end; never do this to a real cluster), so the everyday change can be
             measured at sizes whose first up takes hours; labelled in the table
  --timeout  seconds before one pulumi command is killed (default 1800)
  --keep     leave the temporary projects behind (their paths are printed)
  --pulumi-logs  off (default, as scripts/engine/env.sh sets it), on, or both: Pulumi's
             automatic debug log ($PULUMI_HOME/logs) off or on; both runs each size twice, side by
             side, the "on" one with a PULUMI_HOME of its own (plugins shared)
  --profile  write the engine's CPU and memory profiles of every pulumi command into <dir>
             (pulumi --profiling; read them with \`go tool pprof -top <file>.cpu\`)
  --program  components (default): the real program (index.ts); floor: the same planned objects
             registered raw, without the components; batched:N: the same objects in yaml/v2
             ConfigGroups of N workloads (the provider registers them); comma-separated runs
             each, side by side
  --with-env  NAME=VALUE, comma-separated: each stack also runs with that variable set for
             every pulumi command (and so the program), one variant per value, side by side with
             the defaults: a switch measured against them (PLATFORM_SDK_DEBUG_LOGS=1)
  --config-via  stack: the services are stack config (Pulumi.bench.yaml); files: application
             files (apps/<namespace>.yaml, platform:applicationFiles); auto (default): stack
             while the config fits in one environment string (128 KiB), else files
exit codes: 0 measured, 1 a pulumi command failed, 2 usage error or no engine`;

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

/**
 * The synthetic stack of `n` services (scripts/lib/synthetic.ts) as stack config, rendering
 * into `renderDir`.
 */
export function syntheticStack(n: number, renderDir: string): { config: Record<string, unknown> } {
  const app = syntheticApplication(n);
  return {
    config: {
      "platform:tier": "dev",
      "platform:cluster": syntheticCluster(n, renderDir),
      "platform:namespaces": app.namespaces,
      "platform:services": app.services,
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
 * Writes the synthetic stack into the project: all of it as Pulumi.bench.yaml, or the
 * environment there and the application as one file per namespace (apps/<namespace>.yaml).
 * Either way the stack replaces Pulumi.yaml's sample application.
 */
function writeStack(dir: string, doc: { config: Record<string, unknown> }, via: ConfigVia): void {
  const write = (config: Record<string, unknown>) =>
    writeFileSync(join(dir, "Pulumi.bench.yaml"), stringify({ config }, { lineWidth: 0 }));
  if (via === "stack") {
    write(doc.config);
    return;
  }
  const {
    "platform:namespaces": namespaces,
    "platform:services": services,
    ...environment
  } = doc.config as Record<string, Record<string, { namespace?: string }>>;
  writeApplicationFiles(join(dir, "apps"), { namespaces, services });
  write({
    ...environment,
    "platform:namespaces": {},
    "platform:services": {},
    "platform:applicationFiles": ["apps"],
  });
}

/**
 * Changes the first service's image, where the application is: the everyday change (`back`:
 * the change undone, a second one-service change).
 */
function changeOneService(dir: string, via: ConfigVia, back = false): void {
  const file =
    via === "stack" ? join(dir, "Pulumi.bench.yaml") : join(dir, "apps", "bench-00.yaml");
  const [from, to] = back ? [CHANGED_IMAGE, IMAGE] : [IMAGE, CHANGED_IMAGE];
  const text = readFileSync(file, "utf8");
  const at = text.indexOf(from);
  if (at < 0) throw new Error(`${file}: no ${from} to change`);
  writeFileSync(file, text.slice(0, at) + to + text.slice(at + from.length));
}

/**
 * A PULUMI_HOME for Pulumi's automatic log on: the run's own under `root` (the shared one has it
 * off, and other runs may be using it), with no `logs` file, its plugins those of `sharedHome`.
 */
function logsOnHome(root: string, sharedHome: string): string {
  const home = join(root, "pulumi-home");
  mkdirSync(home, { recursive: true });
  symlinkSync(join(sharedHome, "plugins"), join(home, "plugins"), "dir");
  return home;
}

/** A step's label as a file name: `up (one service changed)` → `up-one-service-changed`. */
function slug(label: string): string {
  return label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
}

/** Measures one size on one backend into `rows`; true when a command failed. */
async function benchOne(
  size: number,
  program: BenchProgram,
  backend: Backend,
  logs: Logs,
  withEnv: string | undefined,
  rows: Row[],
  opts: {
    readonly up?: boolean;
    readonly "seed-unsafe"?: boolean;
    readonly keep?: boolean;
    readonly profile?: string;
    readonly configVia: string;
    readonly timeoutS: number;
    readonly pgBin: string | undefined;
    readonly withEnvValues: readonly string[];
  },
): Promise<boolean> {
  const what = `${size} workloads, ${program}, ${backend}, logs ${logs}${withEnv ? `, ${withEnv}` : ""}`;
  const root = mkdtempSync(join(tmpdir(), `bench-engine-${size}-`));
  const dir = join(root, "project");
  const state = join(root, "state");
  mkdirSync(dir, { recursive: true });
  mkdirSync(state, { recursive: true });
  let pg: Postgres | undefined;
  // Interrupted (Ctrl-C, a timeout of the caller), the PostgreSQL server is stopped and the
  // temporary tree removed before the process ends by that signal; scripts/lib/run.ts ends the
  // pulumi command's tree. They would stay behind otherwise.
  const cleanUp = () => {
    pg?.stop();
    pg = undefined;
    if (!opts.keep) rmSync(root, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    cleanUp();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  for (const signal of SIGNALS) process.once(signal, onSignal);
  try {
    const { store, compression } = parseBackend(backend)!;
    if (store === "postgres") pg = await startPostgres(opts.pgBin!);
    const shared = engineEnv(state);
    const env = {
      ...shared,
      ...(logs === "on" ? { PULUMI_HOME: logsOnHome(root, shared.PULUMI_HOME!) } : {}),
      PULUMI_BACKEND_URL: pg ? pg.url : `file://${state}${store.slice("file".length)}`,
      ...(compression ? { [`PULUMI_DIY_BACKEND_${compression.toUpperCase()}`]: "true" } : {}),
      ...variantEnv(withEnv, opts.withEnvValues),
    };
    copyProject(dir);
    if (program !== "components") writeFileSync(join(dir, "index.ts"), benchIndexSource(program));
    const doc = syntheticStack(size, join(root, "rendered"));
    const configBytes = pulumiConfigSize(doc);
    const via: ConfigVia =
      opts.configVia === "auto"
        ? configBytes <= MAX_ENV_STRING
          ? "stack"
          : "files"
        : (opts.configVia as ConfigVia);
    if (opts.configVia === "auto" && via === "files") {
      console.error(
        `bench-engine: ${size} workloads: the stack config would be ${Math.round(configBytes / 1024)} KiB of PULUMI_CONFIG, over Linux's ${MAX_ENV_STRING / 1024} KiB for one environment string; writing application files instead`,
      );
    }
    writeStack(dir, doc, via);
    const runOpts = { cwd: dir, env, timeoutMs: opts.timeoutS * 1000 };
    const init = await measure("pulumi", ["stack", "init", "bench", "--non-interactive"], {
      ...runOpts,
      timeoutMs: 60_000,
    });
    if (init.code !== 0) throw new Error(`pulumi stack init failed:\n${init.stderr}`);
    const preview = ["preview", "--json", "--stack", "bench", "--non-interactive"];
    const up = ["up", "--yes", "--json", "--stack", "bench", "--non-interactive"];
    const steps: [string, string[], (() => void)?, NodeJS.ProcessEnv?][] = [
      ["preview (all create)", preview],
    ];
    if (opts.up) {
      const unsafe = opts["seed-unsafe"] === true;
      steps.push(
        [
          unsafe ? "up (all create, checkpoints skipped)" : "up (all create)",
          up,
          undefined,
          unsafe ? { PULUMI_SKIP_CHECKPOINTS: "true" } : undefined,
        ],
        ["up (no change)", up],
        ["preview (one service changed)", preview, () => changeOneService(dir, via)],
        ["up (one service changed)", up],
        // What CI's deploy runs after the pull request's preview: the update without a second
        // preview pass (`up --yes` previews first unless told not to).
        [
          "up --skip-preview (one service changed)",
          [...up, "--skip-preview"],
          () => changeOneService(dir, via, true),
        ],
      );
    }
    let resources = 0;
    for (const [label, args, before, extraEnv] of steps) {
      before?.();
      console.error(`bench-engine: ${what}: ${label} ...`);
      const profiled = opts.profile
        ? [
            ...args,
            "--profiling",
            join(
              opts.profile,
              `${size}-${slug(program)}-${slug(backend)}-logs-${logs}${withEnv ? `-${slug(withEnv)}` : ""}-${slug(label)}`,
            ),
          ]
        : args;
      const m = await measure("pulumi", profiled, { ...runOpts, env: { ...env, ...extraEnv } });
      resources ||= resourcesIn(m.stdout);
      rows.push({
        size,
        program,
        via,
        backend,
        logs,
        withEnv: withEnv ?? "-",
        resources,
        command: label,
        m,
      });
      console.error(
        `bench-engine: ${what}: ${label}: ${m.timedOut ? "KILLED after" : `exit ${m.code},`} ${secs(m.wallMs)} s, tree peak ${mb(m.peakTreeKb)} MB`,
      );
      if (m.code !== 0) {
        console.error(`${m.stderr.trim()}\n${m.stdout}`.trim().slice(-3000));
        return true;
      }
    }
    return false;
  } catch (e) {
    console.error(`bench-engine: ${what}: ${(e as Error).message}`);
    return true;
  } finally {
    for (const signal of SIGNALS) process.removeListener(signal, onSignal);
    cleanUp();
    if (opts.keep) console.error(`bench-engine: kept ${root}`);
  }
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

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
        backend: { type: "string" },
        "seed-unsafe": { type: "boolean" },
        "config-via": { type: "string" },
        profile: { type: "string" },
        "pulumi-logs": { type: "string" },
        program: { type: "string" },
        "with-env": { type: "string" },
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
  if (!["auto", "stack", "files"].includes(configVia)) {
    console.error(`bench-engine: --config-via takes auto, stack or files\n${USAGE}`);
    return 2;
  }
  const backends = (values.backend ?? "file").split(",").map((b) => b.trim());
  const unknown = backends.filter((b) => parseBackend(b) === undefined);
  if (unknown.length > 0 || backends.length === 0) {
    console.error(
      `bench-engine: --backend ${unknown.join(",")}: expected file, file?<query>, postgres (each optionally +zstd or +gzip), comma-separated\n${USAGE}`,
    );
    return 2;
  }
  const logVariants = (values["pulumi-logs"] ?? "off").split(",").map((l) => l.trim());
  if (logVariants.length === 0 || logVariants.some((l) => l !== "off" && l !== "on")) {
    console.error(
      `bench-engine: --pulumi-logs ${values["pulumi-logs"]}: expected off, on or both\n${USAGE}`,
    );
    return 2;
  }
  const programValues = (values.program ?? "components").split(",").map((p) => p.trim());
  const programs = programValues.map(parseBenchProgram);
  const badProgram = programValues.filter((_, i) => programs[i] === undefined);
  if (badProgram.length > 0) {
    console.error(
      `bench-engine: --program ${badProgram.join(",")}: expected components, floor or batched:<workloads per group>, comma-separated\n${USAGE}`,
    );
    return 2;
  }
  const withEnvValues =
    values["with-env"] === undefined ? [] : values["with-env"].split(",").map((e) => e.trim());
  const badEnv = withEnvValues.filter((e) => parseEnvVariant(e) === undefined);
  if (badEnv.length > 0) {
    console.error(
      `bench-engine: --with-env ${badEnv.join(",")}: expected NAME=VALUE (e.g. PLATFORM_SDK_DEBUG_LOGS=1), comma-separated\n${USAGE}`,
    );
    return 2;
  }
  const envVariants = [undefined, ...withEnvValues];
  const wantsPostgres = backends.some((b) => parseBackend(b)!.store === "postgres");
  const pgBin = wantsPostgres ? postgresBinaries() : undefined;
  if (wantsPostgres && !pgBin) {
    console.error(
      "bench-engine: --backend postgres needs PostgreSQL's binaries (apt-get install postgresql)",
    );
    return 2;
  }
  if (process.platform !== "linux") {
    console.error("bench-engine: memory is sampled from /proc; run it on Linux");
    return 2;
  }

  const profile = values.profile === undefined ? undefined : resolve(values.profile);
  if (profile) mkdirSync(profile, { recursive: true });

  const rows: Row[] = [];
  let failed = false;
  for (const size of sizes) {
    for (const backend of backends as Backend[]) {
      for (const logs of logVariants as Logs[]) {
        for (const program of programs as BenchProgram[]) {
          for (const withEnv of envVariants) {
            const opts = { ...values, profile, configVia, timeoutS, pgBin, withEnvValues };
            failed = (await benchOne(size, program, backend, logs, withEnv, rows, opts)) || failed;
          }
        }
      }
    }
  }
  console.log(
    `\npulumi in render mode, fresh stacks (${process.arch}, ${(await import("node:os")).cpus().length} cpus)`,
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
