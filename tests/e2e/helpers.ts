/**
 * The end-to-end tier's plumbing: the real Pulumi engine (scripts/engine), sample stacks in
 * render mode (`renderYamlToDirectory`) with a file backend, in a temporary copy of the project.
 *
 * Nothing here touches the repository's Pulumi.*.yaml, .pulumi-state or rendered/: each
 * TempProject copies the tracked files into a temporary directory (node_modules is a symlink),
 * derives its stack files there and keeps its state beside them.
 *
 * Every child process has a hard timeout; when it passes, the command's whole process tree is
 * killed (TERM, then KILL: pulumi's plugins run in process groups of their own), so a stuck
 * engine can never hang the run.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { parse, parseAllDocuments, stringify } from "yaml";
import { SECRET_CHECKSUM_ANNOTATION, secretChecksum } from "../../components/podspec";
import { podTemplateOf } from "../../policy/pod-security";
import { engineEnvCommand, parseEngineEnv } from "../../scripts/lib/engine-env";
import { run as runBounded, type RunResult as BaseRunResult } from "../../scripts/lib/run";
import { SECRET_CHECKSUM_PLACEHOLDER } from "../../scripts/render";

/** The repository (the project under test). */
export const REPO = resolve(__dirname, "..", "..");

/** The value every temporary stack gets for its `db-password` secret. */
export const DB_PASSWORD = "e2e-Secret-Value-42";

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

export type EngineStatus =
  | { readonly ok: true; readonly pulumiBin: string }
  | { readonly ok: false; readonly reason: string };

const HOW_TO_BUILD =
  "Build it once with `bash scripts/engine/bootstrap.sh` (about 25 minutes on two cores, needs Go; " +
  "a no-op afterwards), or put a pulumi of the version in versions.json on PATH.";

/**
 * Whether the engine is already built (cheap, synchronous, never builds anything): the same
 * check scripts/engine/bootstrap.sh makes before deciding to build.
 */
export function engineStatus(): EngineStatus {
  const script = `
set -u
. scripts/engine/lib.sh || exit 3
pv="$(engine_pulumi_version)"; lv="$(engine_langhost_version)"; kv="$(engine_kubernetes_version)"
[ -n "$pv" ] && [ -n "$kv" ] || { echo "versions.json or package.json has no engine version"; exit 3; }
pb="$(engine_pulumi_bin "$pv" "$lv")"; kb="$(engine_kubernetes_bin "$kv")"
if [ -x "$pb/pulumi" ] && [ -x "$pb/pulumi-language-nodejs" ]; then :
elif p="$(command -v pulumi 2>/dev/null)" && [ -x "$(dirname "$p")/pulumi-language-nodejs" ] \\
  && [ "$(PULUMI_SKIP_UPDATE_CHECK=true "$p" version 2>/dev/null | head -n 1)" = "v$pv" ]; then pb="$(dirname "$p")"
else echo "pulumi v$pv is not built (no $pb/pulumi) and none of that version is on PATH"; exit 4; fi
[ -x "$kb/pulumi-resource-kubernetes" ] || { echo "the Kubernetes provider v$kv is not built (no $kb/pulumi-resource-kubernetes)"; exit 4; }
yv="$(engine_yaml_version)"; yb="$(engine_yaml_bin "$yv")"
[ -x "$yb/pulumi-language-yaml" ] || { echo "the YAML language host v$yv is not built (no $yb/pulumi-language-yaml)"; exit 4; }
echo "$pb"
`;
  const r = spawnSync("bash", ["-c", script], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 20_000,
    killSignal: "SIGKILL",
  });
  const last = (r.stdout ?? "").trim().split("\n").pop() ?? "";
  if (r.status === 0 && last) return { ok: true, pulumiBin: last };
  const why = r.error ? r.error.message : last || (r.stderr ?? "").trim() || `exit ${r.status}`;
  return { ok: false, reason: `the Pulumi engine is not available: ${why}. ${HOW_TO_BUILD}` };
}

let engineCheck: EngineStatus | undefined;
function checkedEngine(): EngineStatus {
  return (engineCheck ??= engineStatus());
}

/** Throws the clear "how to build it" message when the engine is missing. */
export function requireEngine(): void {
  const s = checkedEngine();
  if (!s.ok) throw new Error(s.reason);
}

const skipCold = process.env.E2E_SKIP_COLD === "1";

/**
 * `describe` for engine tests. With the engine missing, every test fails at once with the
 * message saying how to build it, or, with E2E_SKIP_COLD=1, the suite is skipped loudly.
 */
export function describeEngine(name: string, fn: () => void): void {
  const s = checkedEngine();
  if (s.ok) {
    describe(name, fn);
    return;
  }
  if (skipCold) {
    const bar = "!".repeat(100);
    console.warn(
      `\n${bar}\n!! E2E_SKIP_COLD=1: SKIPPING the end-to-end tier "${name}".\n!! ${s.reason}\n${bar}\n`,
    );
    describe.skip(name, fn);
    return;
  }
  describe(name, () => {
    beforeAll(() => {
      throw new Error(`${s.reason} Set E2E_SKIP_COLD=1 to skip the end-to-end tier instead.`);
    });
    fn();
  });
}

/** pulumi's --json output of a run that finished, parsed; a timeout or bad JSON throws with the run. */
function parsedOutput(r: RunResult): ReturnType<typeof parsePulumiJson> {
  if (r.timedOut) throw new Error(explain(r));
  try {
    return parsePulumiJson(r.stdout);
  } catch (e) {
    throw new Error(`could not parse pulumi's JSON (${(e as Error).message})\n${explain(r)}`, {
      cause: e,
    });
  }
}

let engineEnvCache: NodeJS.ProcessEnv | undefined;

/**
 * The environment scripts/engine/env.sh sets up (PATH with pulumi first, PULUMI_HOME, the dev
 * passphrase, no update checks or plugin downloads, the provider plugin installed), plus this
 * Node first on PATH for the language host and KUBECONFIG empty (render mode must not reach a
 * cluster). PULUMI_BACKEND_URL is set per project.
 */
export async function engineEnv(): Promise<NodeJS.ProcessEnv> {
  requireEngine();
  if (engineEnvCache) return engineEnvCache;
  const scratch = mkdtempSync(join(tmpdir(), "e2e-engine-env-"));
  try {
    const r = await run("bash", engineEnvCommand(scratch), {
      cwd: REPO,
      timeoutMs: 180_000,
      env: process.env,
    });
    if (r.code !== 0)
      throw new Error(
        `source scripts/engine/env.sh failed (${r.timedOut ? "timed out" : `exit ${r.code}`}):\n${r.stderr.slice(-3000)}\n${HOW_TO_BUILD}`,
      );
    const env = parseEngineEnv(r.stdout);
    env.PULUMI_SKIP_UPDATE_CHECK = "true";
    env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = "true";
    delete env.PULUMI_BACKEND_URL;
    delete env.PULUMI_STACK;
    // Vitest's own variables would leak into the program and the scripts.
    for (const k of Object.keys(env)) if (k.startsWith("VITEST") || k === "TEST") delete env[k];
    return (engineEnvCache = env);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Child processes
// ---------------------------------------------------------------------------------------------

export interface RunResult extends BaseRunResult {
  /** The command line, for messages. */
  readonly command: string;
}

export interface RunOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

/**
 * Runs a command in its own process group (scripts/lib/run.ts); on timeout its whole tree is
 * killed. One that cannot be started exits 127, with why on stderr.
 */
export async function run(
  cmd: string,
  args: readonly string[],
  opts: RunOptions,
): Promise<RunResult> {
  const command = [cmd, ...args]
    .map((a) => (/^[\w./:=@,-]+$/.test(a) ? a : JSON.stringify(a)))
    .join(" ");
  const r = await runBounded(cmd, args, opts);
  return {
    ...r,
    ...(r.error ? { stderr: `${r.stderr}\n${cmd}: ${r.error.message}` } : {}),
    command,
  };
}

/** A short description of a failed run for assertion messages. */
export function explain(r: RunResult): string {
  const tail = (s: string) => s.trim().split("\n").slice(-40).join("\n");
  return `${r.command} -> ${r.timedOut ? "TIMED OUT" : `exit ${r.code}`} after ${r.ms} ms\n--- stderr\n${tail(r.stderr)}\n--- stdout (tail)\n${tail(r.stdout).slice(-4000)}`;
}

// ---------------------------------------------------------------------------------------------
// Pulumi's JSON output
// ---------------------------------------------------------------------------------------------

export interface Step {
  readonly op: string;
  readonly urn: string;
  readonly detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }> | null;
  readonly diffs?: string[];
  readonly replaceReasons?: string[];
  readonly newState?: { type?: string; inputs?: Record<string, unknown> };
  readonly oldState?: { type?: string; inputs?: Record<string, unknown> };
}

export interface Diagnostic {
  readonly urn?: string;
  readonly message: string;
  readonly severity: string;
}

export interface PreviewDoc {
  readonly steps: Step[];
  readonly diagnostics?: Diagnostic[];
  readonly changeSummary?: Record<string, number>;
}

export interface EngineEvent {
  readonly sequence?: number;
  readonly summaryEvent?: {
    resourceChanges: Record<string, number>;
    result: string;
    isPreview: boolean;
    PolicyPacks?: Record<string, string>;
  };
  readonly policyEvent?: {
    resourceUrn?: string;
    message: string;
    policyName: string;
    policyPackName: string;
    enforcementLevel: string;
  };
  readonly diagnosticEvent?: { message: string; severity: string; urn?: string };
  readonly resOutputsEvent?: { metadata: { op: string; urn: string } };
  readonly [k: string]: unknown;
}

/**
 * Splits pulumi's --json stdout: `preview --json` prints one document; `up --json` prints that
 * document (the preview) and then one engine event per line; with
 * PULUMI_ENABLE_STREAMING_JSON_PREVIEW a preview prints only events.
 */
export function parsePulumiJson(stdout: string): { doc?: PreviewDoc; events: EngineEvent[] } {
  const text = stdout.trim();
  if (text === "") return { events: [] };
  let doc: PreviewDoc | undefined;
  let rest = text;
  if (text.startsWith("{\n") || text.startsWith("{\r\n")) {
    // A pretty-printed document: it ends at the first line that is exactly "}".
    const end = text.search(/\n\}\r?(\n|$)/);
    if (end >= 0) {
      doc = JSON.parse(text.slice(0, end + 2)) as PreviewDoc;
      rest = text.slice(end + 2);
    }
  }
  const events: EngineEvent[] = [];
  for (const line of rest.split("\n")) {
    const l = line.trim();
    if (!l) continue;
    events.push(JSON.parse(l) as EngineEvent);
  }
  return { ...(doc ? { doc } : {}), events };
}

/** Resource name (last URN segment). */
export const nameOf = (urn: string) => urn.split("::").slice(3).join("::");
/** Resource type (last type of the URN's type chain). */
export const typeOf = (urn: string) => urn.split("::")[2]?.split("$").pop() ?? "";
/** The URN without stack and project: every parent type $ type :: name. */
export const identityOf = (urn: string) => urn.split("::").slice(2).join("::");

export const isKubernetesObject = (urn: string) =>
  typeOf(urn).startsWith("kubernetes:") && !typeOf(urn).startsWith("pulumi:providers:");

/** `op name` for every step that is not `same`, sorted: compact and readable in failures. */
export function changes(steps: readonly Step[]): string[] {
  return steps
    .filter((s) => s.op !== "same")
    .map((s) => `${s.op} ${nameOf(s.urn)}`)
    .sort();
}

export function countOps(steps: readonly Step[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) out[s.op] = (out[s.op] ?? 0) + 1;
  return out;
}

export function errorDiagnostics(
  doc: PreviewDoc | undefined,
  events: readonly EngineEvent[] = [],
): string[] {
  const fromDoc = (doc?.diagnostics ?? [])
    .filter((d) => d.severity === "error")
    .map((d) => d.message);
  const fromEvents = events
    .filter((e) => e.diagnosticEvent?.severity === "error")
    .map((e) => e.diagnosticEvent!.message);
  return [...fromDoc, ...fromEvents];
}

// ---------------------------------------------------------------------------------------------
// A temporary copy of the project
// ---------------------------------------------------------------------------------------------

export interface PreviewResult extends RunResult {
  readonly doc?: PreviewDoc;
  readonly events: EngineEvent[];
  readonly steps: Step[];
}

export interface UpResult extends RunResult {
  /** The preview `up` printed first. */
  readonly doc?: PreviewDoc;
  readonly events: EngineEvent[];
  /** What the update did: resourceChanges of the summary event. */
  readonly summary?: NonNullable<EngineEvent["summaryEvent"]>;
}

export interface PulumiOptions {
  readonly timeoutMs?: number;
  readonly policyPack?: boolean;
  readonly extraEnv?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT = 240_000;

export type StackDoc = { config: Record<string, unknown>; [k: string]: unknown };

/**
 * `platform:overrides.<section>.<name>` of a stack file document, created when missing: the
 * place to change a service or namespace for one stack.
 */
export function overrideOf(
  doc: StackDoc,
  section: "services" | "namespaces",
  name: string,
): Record<string, unknown> {
  const overrides = (doc.config["platform:overrides"] ??= {}) as Record<string, unknown>;
  const sec = (overrides[section] ??= {}) as Record<string, unknown>;
  return (sec[name] ??= {}) as Record<string, unknown>;
}

/** Copies the repository's tracked (and untracked, not ignored) files that `keep` accepts. */
function copyWorkTree(dir: string, keep: (file: string) => boolean): void {
  const listed = spawnSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], {
    cwd: REPO,
    encoding: "utf8",
    timeout: 30_000,
  });
  if (listed.status !== 0) throw new Error(`git ls-files failed in ${REPO}: ${listed.stderr}`);
  for (const f of listed.stdout.split("\0")) {
    if (!f || f.startsWith("rendered/") || f.startsWith(".pulumi-state/") || !keep(f)) continue;
    const from = join(REPO, f);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted in the work tree
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    cpSync(from, join(dir, f));
  }
}

export class TempProject {
  private constructor(
    /** The root of the temporary tree (project, state and render output live inside). */
    readonly root: string,
    readonly dir: string,
    readonly stateDir: string,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Copies the project's tracked (and untracked, not ignored) files, or with `ref` the files of
   * that commit; symlinks node_modules.
   */
  static async create(label: string, ref?: string): Promise<TempProject> {
    const env = await engineEnv();
    const root = mkdtempSync(join(tmpdir(), `e2e-${label}-`));
    const dir = join(root, "project");
    const stateDir = join(root, "state");
    mkdirSync(dir, { recursive: true });
    mkdirSync(stateDir, { recursive: true });
    if (ref) {
      const r = spawnSync("bash", ["-c", `git archive "$1" | tar -x -C "$2"`, "-", ref, dir], {
        cwd: REPO,
        encoding: "utf8",
        timeout: 60_000,
      });
      if (r.status !== 0) throw new Error(`git archive ${ref} failed in ${REPO}: ${r.stderr}`);
    } else copyWorkTree(dir, () => true);
    symlinkSync(join(REPO, "node_modules"), join(dir, "node_modules"), "dir");
    return new TempProject(root, dir, stateDir, {
      ...env,
      PULUMI_BACKEND_URL: `file://${stateDir}`,
    });
  }

  /**
   * Replaces the program with the work tree's (as a deploy of a newer commit does), keeping the
   * initialised stack files, the state and the rendered output.
   */
  upgradeToWorkTree(): void {
    for (const entry of readdirSync(this.dir)) {
      if (entry === "node_modules" || /^Pulumi\..+\.yaml$/.test(entry)) continue;
      rmSync(join(this.dir, entry), { recursive: true, force: true });
    }
    copyWorkTree(this.dir, (f) => !existsSync(join(this.dir, f)));
  }

  /** Where the Kubernetes provider of `stack` writes its manifests. */
  renderDir(stack: string): string {
    return join(this.root, "rendered", stack);
  }

  stackFile(stack: string): string {
    return join(this.dir, `Pulumi.${stack}.yaml`);
  }

  readStack(stack: string): StackDoc {
    return parse(readFileSync(this.stackFile(stack), "utf8")) as StackDoc;
  }

  writeStack(stack: string, doc: StackDoc): void {
    writeFileSync(this.stackFile(stack), stringify(doc, { lineWidth: 0 }));
  }

  /** Applies `mutate` to the stack file; returns a function that puts the old text back. */
  editStack(stack: string, mutate: (doc: StackDoc) => void): () => void {
    const before = readFileSync(this.stackFile(stack), "utf8");
    const doc = parse(before) as StackDoc;
    mutate(doc);
    this.writeStack(stack, doc);
    return () => writeFileSync(this.stackFile(stack), before);
  }

  /**
   * Derives `stack` from the repository's Pulumi.<stack>.yaml (`own: true`: the project's own,
   * e.g. an older commit's): the same config, but the cluster renders YAML into renderDir(stack)
   * (no context/kubeconfig); then sets the stack up in the file backend with
   * `npm run stack:init` (the work tree's, also for a project of an older commit;
   * `stackInit: false` creates the bare stack, as releases before 0.4.0 did) and sets its secret.
   */
  async initStack(
    stack: string,
    mutate?: (doc: StackDoc) => void,
    { stackInit = true, own = false }: { stackInit?: boolean; own?: boolean } = {},
  ): Promise<void> {
    const source = own ? this.stackFile(stack) : join(REPO, `Pulumi.${stack}.yaml`);
    const doc = parse(readFileSync(source, "utf8")) as StackDoc;
    const cluster = { ...(doc.config["platform:cluster"] as Record<string, unknown>) };
    delete cluster.context;
    delete cluster.kubeconfig;
    cluster.renderYamlToDirectory = this.renderDir(stack);
    doc.config["platform:cluster"] = cluster;
    mutate?.(doc);
    this.writeStack(stack, doc);
    if (stackInit) await this.stackInit(["--stack", stack]);
    else await this.pulumiOk(["stack", "init", stack], 60_000);
    await this.pulumiOk(
      ["config", "set", "--secret", "db-password", DB_PASSWORD, "--stack", stack],
      60_000,
    );
  }

  /** Runs the work tree's `npm run stack:init` in the project; throws when it fails. */
  async stackInit(args: readonly string[]): Promise<RunResult> {
    const r = await this.tsx(join(REPO, "scripts", "stack-init.ts"), args);
    if (r.code !== 0) throw new Error(explain(r));
    return r;
  }

  /** The stack's `secretChecksumKey`, decrypted (it keys the checksum/secret-env annotations). */
  async checksumKey(stack: string): Promise<string> {
    const r = await this.pulumiOk(["config", "get", "secretChecksumKey", "--stack", stack]);
    return r.stdout.trim();
  }

  /** Runs pulumi in the project. */
  pulumi(args: readonly string[], opts: PulumiOptions = {}): Promise<RunResult> {
    return run("pulumi", [...args, "--non-interactive"], {
      cwd: this.dir,
      env: { ...this.env, ...(opts.extraEnv ?? {}) },
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT,
    });
  }

  async pulumiOk(args: readonly string[], timeoutMs = DEFAULT_TIMEOUT): Promise<RunResult> {
    const r = await this.pulumi(args, { timeoutMs });
    if (r.code !== 0) throw new Error(explain(r));
    return r;
  }

  /** Runs a project script with tsx (the project's own, through node_modules). */
  tsx(script: string, args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
    return run(
      process.execPath,
      [join(REPO, "node_modules", "tsx", "dist", "cli.mjs"), script, ...args],
      { cwd: this.dir, env: this.env, timeoutMs },
    );
  }

  /** `pulumi preview --json`; with policyPack, streamed events so policy findings are visible. */
  async preview(stack: string, opts: PulumiOptions = {}): Promise<PreviewResult> {
    const args = ["preview", "--json", "--stack", stack];
    if (opts.policyPack) args.push("--policy-pack", "policy");
    const r = await this.pulumi(args, {
      ...opts,
      extraEnv: {
        ...(opts.policyPack ? { PULUMI_ENABLE_STREAMING_JSON_PREVIEW: "true" } : {}),
        ...(opts.extraEnv ?? {}),
      },
    });
    const parsed = parsedOutput(r);
    const steps =
      parsed.doc?.steps ??
      parsed.events
        .map((e) => (e.resourcePreEvent as { metadata?: Step } | undefined)?.metadata)
        .filter((m): m is Step => m !== undefined);
    return { ...r, ...parsed, steps };
  }

  async up(stack: string, opts: PulumiOptions = {}): Promise<UpResult> {
    const args = ["up", "--json", "--yes", "--stack", stack];
    if (opts.policyPack) args.push("--policy-pack", "policy");
    const r = await this.pulumi(args, opts);
    const parsed = parsedOutput(r);
    const summary = parsed.events.find((e) => e.summaryEvent)?.summaryEvent;
    return { ...r, ...parsed, ...(summary ? { summary } : {}) };
  }

  async upOk(stack: string, opts: PulumiOptions = {}): Promise<UpResult> {
    const r = await this.up(stack, opts);
    if (r.code !== 0 || r.summary?.result !== "succeeded") throw new Error(explain(r));
    return r;
  }

  /** The stack's checkpoint (`pulumi stack export`), parsed. */
  async exportState(stack: string): Promise<{
    deployment: { resources?: { urn: string; type: string; protect?: boolean }[] };
    [k: string]: unknown;
  }> {
    const r = await this.pulumiOk(["stack", "export", "--stack", stack], 60_000);
    return JSON.parse(r.stdout) as never;
  }

  /** `pulumi stack output --json`. */
  async outputs(stack: string): Promise<Record<string, unknown>> {
    const r = await this.pulumiOk(["stack", "output", "--json", "--stack", stack], 60_000);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  }

  /** Runs the offline render (scripts/render.ts, the mock engine) of the same stack file. */
  async offlineRender(stack: string): Promise<{ out: string; result: RunResult }> {
    const out = join(this.root, "offline", stack);
    const result = await this.tsx("scripts/render.ts", ["--stack", stack, "--out", out]);
    return { out, result };
  }

  cleanup(): void {
    if (process.env.E2E_KEEP === "1") {
      console.log(`E2E_KEEP=1: left ${this.root}`);
      return;
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

/**
 * One TempProject for a test file (the work tree, or the commit `ref`), created in beforeAll
 * (after the engine check) and removed in afterAll. Call inside describeEngine.
 */
export function useProject(label: string, ref?: string): () => TempProject {
  let project: TempProject | undefined;
  beforeAll(async () => {
    project = await TempProject.create(label, ref);
  });
  afterAll(() => project?.cleanup());
  return () => {
    if (!project)
      throw new Error("the temporary project was not created (see the beforeAll error)");
    return project;
  };
}

// ---------------------------------------------------------------------------------------------
// Manifests on disk
// ---------------------------------------------------------------------------------------------

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly [k: string]: unknown;
  };
  readonly [k: string]: unknown;
}

export const keyOf = (o: K8sObject) =>
  o.metadata.namespace
    ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`
    : `${o.kind}/${o.metadata.name}`;

function yamlFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => /\.ya?ml$/.test(f))
    .map((f) => join(dir, f))
    .sort();
}

/** Every object in the YAML files under `dir`, by Kind/namespace/name; `file` is relative. */
export function readManifests(dir: string): Map<string, { object: K8sObject; file: string }> {
  const out = new Map<string, { object: K8sObject; file: string }>();
  for (const file of yamlFiles(dir)) {
    for (const d of parseAllDocuments(readFileSync(file, "utf8"))) {
      const o = d.toJS() as K8sObject | null;
      if (!o || typeof o !== "object" || !o.kind) continue;
      const key = keyOf(o);
      if (out.has(key)) throw new Error(`${key} appears twice under ${dir}`);
      out.set(key, { object: o, file: relative(dir, file) });
    }
  }
  return out;
}

/** A stable hash of every file under `dir` (names and contents). */
export function hashTree(dir: string): string {
  const h = createHash("sha256");
  if (existsSync(dir)) {
    for (const f of readdirSync(dir, { recursive: true, encoding: "utf8" }).sort()) {
      const p = join(dir, f);
      if (!statSync(p).isFile()) continue;
      h.update(f).update("\0").update(readFileSync(p)).update("\0");
    }
  }
  return h.digest("hex");
}

/** Field paths where two JSON values differ (`a.b[0].c: x != y`). */
export function jsonDiff(a: unknown, b: unknown, path = ""): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(...jsonDiff(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => jsonDiff(a[k], b[k], path ? `${path}.${k}` : k));
  }
  const show = (v: unknown) => (v === undefined ? "(absent)" : JSON.stringify(v).slice(0, 120));
  return [`${path || "(root)"}: ${show(a)} != ${show(b)}`];
}

export interface ManifestComparison {
  /** Objects only one side has. */
  readonly onlyInEngine: string[];
  readonly onlyOffline: string[];
  /** Unexplained field differences, `Kind/ns/name: path: engine != offline`. */
  readonly differences: string[];
  /** Differences that are expected, each with why. */
  readonly explained: string[];
}

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

interface PodTemplate {
  metadata?: { annotations?: Record<string, unknown> };
}

/**
 * Compares the manifests the engine's provider wrote (renderYamlToDirectory) with the offline
 * render of the same stack file. Two differences are expected and explained; anything else is
 * reported:
 *  - Secrets: the offline render writes `stringData` with a placeholder (it never decrypts); the
 *    provider writes `data`, base64 of the real value (it warns that the YAML holds the secret).
 *  - the `checksum/secret-env` pod annotation: offline it is a placeholder (no secret values);
 *    the engine's must be exactly `secretChecksum`, keyed by the stack's `checksumKey`, of the
 *    real values of the service's env Secret.
 */
export function compareWithOffline(
  engineDir: string,
  offlineDir: string,
  secretValue: string,
  checksumKey: string,
): ManifestComparison {
  const engine = readManifests(engineDir);
  const offline = readManifests(offlineDir);
  const onlyInEngine = [...engine.keys()].filter((k) => !offline.has(k)).sort();
  const onlyOffline = [...offline.keys()].filter((k) => !engine.has(k)).sort();
  const differences: string[] = [];
  const explained: string[] = [];
  for (const [key, { object: e }] of engine) {
    const o = offline.get(key)?.object;
    if (!o) continue;
    const eng: Record<string, unknown> = structuredClone(e);
    const off: Record<string, unknown> = structuredClone(o);
    if (e.kind === "Secret" && off.stringData && !off.data && eng.data && !eng.stringData) {
      const data = eng.data as Record<string, string>;
      const placeholders = off.stringData as Record<string, string>;
      const sameKeys =
        JSON.stringify(Object.keys(data).sort()) ===
        JSON.stringify(Object.keys(placeholders).sort());
      const allSecret = Object.values(data).every((v) => v === b64(secretValue));
      if (sameKeys && allSecret) {
        delete eng.data;
        delete off.stringData;
        explained.push(
          `${key}: engine writes data (base64 of the real secret value), offline writes stringData placeholders (keys ${Object.keys(data).join(", ")})`,
        );
      }
    }
    const offTemplate = podTemplateOf(off) as PodTemplate | undefined;
    const engTemplate = podTemplateOf(eng) as PodTemplate | undefined;
    const offSum = offTemplate?.metadata?.annotations?.[SECRET_CHECKSUM_ANNOTATION];
    const engSum = engTemplate?.metadata?.annotations?.[SECRET_CHECKSUM_ANNOTATION];
    if (offSum === SECRET_CHECKSUM_PLACEHOLDER && typeof engSum === "string") {
      const ns = e.metadata.namespace ?? "";
      const envSecret = engine.get(`Secret/${ns}/${e.metadata.name}-env`)?.object;
      const envNames = Object.keys((envSecret?.data ?? {}) as Record<string, string>);
      const expected = secretChecksum(
        checksumKey,
        ns,
        e.metadata.name,
        Object.fromEntries(envNames.map((n) => [n, secretValue])),
      );
      if (envNames.length > 0 && engSum === expected) {
        delete offTemplate!.metadata!.annotations![SECRET_CHECKSUM_ANNOTATION];
        delete engTemplate!.metadata!.annotations![SECRET_CHECKSUM_ANNOTATION];
        explained.push(
          `${key}: ${SECRET_CHECKSUM_ANNOTATION} is the keyed checksum of the real secret values (${envNames.join(", ")}); offline writes a placeholder`,
        );
      }
    }
    for (const d of jsonDiff(eng, off)) differences.push(`${key}: ${d}`);
  }
  return { onlyInEngine, onlyOffline, differences, explained };
}
