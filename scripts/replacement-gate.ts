/**
 * The replacement gate: runs the real `pulumi preview --json` of a stack and fails when the
 * engine would replace any resource, unless that replacement is explicitly allowed.
 *
 *   npx tsx scripts/replacement-gate.ts --stack prod [--allow <urn>,<urn> | --allow-all] [--cwd dir]
 *
 * Unlike `npm run diff -- --fail-on-replace` (the offline render compared between git refs), this
 * asks the engine and the Kubernetes provider, against the stack's recorded state, so it also sees
 * replacements only the provider knows about (immutable fields, changed identities).
 *
 * Exit codes: 0 nothing is replaced (or every replacement is allowed); 1 replacements found,
 * each listed with why (also when the preview failed because of one, e.g. a protected
 * StatefulSet it cannot replace); 2 usage error, or `pulumi` is not on PATH; 3 the preview
 * failed for another reason (config, capacity or policy error, timeout): nothing was checked.
 */
import { resolve } from "node:path";
import { exitWhenFlushed, parseFlags, UsageError } from "./lib/cli";
import { run as runBounded } from "./lib/run";

const USAGE = `usage: npx tsx scripts/replacement-gate.ts --stack <name> [--allow <urn>[,<urn>...] | --allow-all] [--cwd <dir>] [--timeout <seconds>]
  --stack       the stack to preview (e.g. prod)
  --allow       comma-separated URNs whose replacement is expected (repeatable)
  --allow-all   report replacements but never fail on them
  --cwd         the Pulumi project directory (default: the current directory)
  --timeout     give up on the preview after this many seconds (default 900)
  --policy-pack passed through to pulumi preview (repeatable)
exit codes: 0 no replacement (or all allowed), 1 replacements found, 2 usage error or pulumi not
on PATH, 3 the preview failed`;

export { UsageError };

/** Step operations that mean the resource is (or is part of) a replacement. */
export const REPLACE_OPS: ReadonlySet<string> = new Set([
  "replace",
  "create-replacement",
  "delete-replaced",
  "discard-replaced",
  "import-replacement",
]);

export interface Replacement {
  readonly urn: string;
  /** `kubernetes:apps/v1:Deployment` */
  readonly type: string;
  /** The logical name (last URN segment). */
  readonly name: string;
  /** Every replace-related op the preview listed for this URN, in order. */
  readonly ops: string[];
  /** Property paths that force the replacement (replaceReasons, or *-replace detailed diffs). */
  readonly reasons: string[];
  /** Every changed property path (detailedDiff keys, else diffs). */
  readonly changed: string[];
}

interface Step {
  readonly op?: unknown;
  readonly urn?: unknown;
  readonly replaceReasons?: unknown;
  readonly diffs?: unknown;
  readonly detailedDiff?: unknown;
  readonly newState?: { readonly type?: unknown };
  readonly oldState?: { readonly type?: unknown };
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];

/** `urn:pulumi:<stack>::<project>::<parent$type>::<name>` → its type and name. */
export function parseUrn(urn: string): { type: string; name: string } {
  const parts = urn.split("::");
  if (parts.length < 4) return { type: "", name: urn };
  return { type: parts[2].split("$").pop() ?? "", name: parts.slice(3).join("::") };
}

/**
 * Every resource the preview would replace, from `pulumi preview --json` output (the parsed
 * document, or its text). Pure: no engine, no I/O. Steps for one URN are merged.
 */
export function replacementsIn(previewJson: unknown): Replacement[] {
  const doc = typeof previewJson === "string" ? (JSON.parse(previewJson) as unknown) : previewJson;
  const steps = (doc as { steps?: unknown } | null)?.steps;
  if (!Array.isArray(steps)) {
    throw new Error(
      "not the output of `pulumi preview --json`: it has no `steps` list (did the preview fail? see its diagnostics)",
    );
  }
  const byUrn = new Map<string, Replacement>();
  for (const s of steps as Step[]) {
    if (typeof s?.op !== "string" || typeof s.urn !== "string" || !REPLACE_OPS.has(s.op)) continue;
    const detailed =
      s.detailedDiff && typeof s.detailedDiff === "object"
        ? (s.detailedDiff as Record<string, { kind?: unknown }>)
        : {};
    const forced = Object.entries(detailed)
      .filter(([, d]) => typeof d?.kind === "string" && d.kind.endsWith("-replace"))
      .map(([path]) => path);
    const reasons = strings(s.replaceReasons);
    const changed = Object.keys(detailed).length > 0 ? Object.keys(detailed) : strings(s.diffs);
    const prev = byUrn.get(s.urn);
    const type =
      (typeof s.newState?.type === "string" && s.newState.type) ||
      (typeof s.oldState?.type === "string" && s.oldState.type) ||
      parseUrn(s.urn).type;
    const merge = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
    byUrn.set(s.urn, {
      urn: s.urn,
      type: prev?.type || type,
      name: parseUrn(s.urn).name,
      ops: [...(prev?.ops ?? []), s.op],
      reasons: merge(prev?.reasons ?? [], merge(reasons, forced)),
      changed: merge(prev?.changed ?? [], changed),
    });
  }
  return [...byUrn.values()];
}

export interface GateResult {
  readonly blocked: Replacement[];
  readonly allowed: Replacement[];
  /** --allow entries that matched no replacement (probably a typo or a stale allowance). */
  readonly unusedAllowances: string[];
}

/** A Job is replaced to run it again (kind job): never an outage, so never blocked. */
export const isJobRerun = (r: Replacement) => r.type === "kubernetes:batch/v1:Job";

/**
 * Splits replacements into blocked and allowed. `allow` holds URNs, or is "all". Job
 * replacements (re-runs) are always allowed.
 */
export function applyAllowances(
  replacements: readonly Replacement[],
  allow: ReadonlySet<string> | "all",
): GateResult {
  if (allow === "all") return { blocked: [], allowed: [...replacements], unusedAllowances: [] };
  const blocked = replacements.filter((r) => !allow.has(r.urn) && !isJobRerun(r));
  const allowed = replacements.filter((r) => allow.has(r.urn) || isJobRerun(r));
  const used = new Set(allowed.filter((r) => allow.has(r.urn)).map((r) => r.urn));
  return { blocked, allowed, unusedAllowances: [...allow].filter((u) => !used.has(u)) };
}

function describeReplacement(r: Replacement): string {
  const why =
    r.reasons.length > 0
      ? `replaced because of ${r.reasons.join(", ")}`
      : r.changed.length > 0
        ? `replaced (changed: ${r.changed.join(", ")})`
        : "replaced (the provider gave no reason)";
  const rerun = isJobRerun(r) ? " (a Job: it runs again)" : "";
  return `  - ${r.type} ${r.name}: ${why}${rerun}\n      ${r.urn}\n      steps: ${r.ops.join(", ")}`;
}

/** The gate's report for people; `stack` only labels it. */
export function formatGateResult(stack: string, result: GateResult): string {
  const lines: string[] = [];
  const { blocked, allowed, unusedAllowances } = result;
  if (blocked.length > 0) {
    lines.push(
      `replacement gate: a preview of ${stack} would replace ${blocked.length} resource${blocked.length === 1 ? "" : "s"}:`,
      ...blocked.map(describeReplacement),
      `Replacing deletes the live object first (fixed names): in ${stack} that is an outage or data loss.`,
      `If this is intended, allow each one: --allow ${blocked.map((r) => r.urn).join(",")}`,
    );
  }
  if (allowed.length > 0) {
    lines.push(
      `replacement gate: ${allowed.length} allowed replacement${allowed.length === 1 ? "" : "s"} in ${stack}:`,
      ...allowed.map(describeReplacement),
    );
  }
  for (const u of unusedAllowances)
    lines.push(`warning: --allow ${u} matched no replacement in this preview`);
  if (blocked.length === 0 && allowed.length === 0)
    lines.push(`replacement gate: a preview of ${stack} replaces nothing`);
  return lines.join("\n");
}

export interface GateOptions {
  readonly stack: string;
  readonly allow: ReadonlySet<string> | "all";
  readonly cwd: string;
  readonly timeoutMs: number;
  readonly policyPacks: string[];
  readonly help: boolean;
}

export function parseGateArgs(argv: readonly string[]): GateOptions {
  const values = parseFlags(
    argv,
    {
      stack: { type: "string" },
      allow: { type: "string", multiple: true },
      "allow-all": { type: "boolean" },
      cwd: { type: "string" },
      timeout: { type: "string" },
      "policy-pack": { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
    USAGE,
  );
  const base = {
    cwd: resolve(values.cwd ?? "."),
    policyPacks: values["policy-pack"] ?? [],
  };
  if (values.help) return { stack: "", allow: new Set(), timeoutMs: 0, ...base, help: true };
  if (!values.stack) throw new UsageError(`give --stack <name>\n${USAGE}`);
  if (values["allow-all"] && values.allow)
    throw new UsageError(`--allow and --allow-all exclude each other\n${USAGE}`);
  const urns = (values.allow ?? []).flatMap((a) => a.split(",").map((s) => s.trim()));
  const bad = urns.filter((u) => !u.startsWith("urn:pulumi:"));
  if (bad.length > 0 || (values.allow && urns.length === 0))
    throw new UsageError(
      `--allow takes full URNs separated by commas (urn:pulumi:<stack>::<project>::<type>::<name>); got ${JSON.stringify(bad.length > 0 ? bad[0] : "")}`,
    );
  let timeoutMs = 900_000;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0)
      throw new UsageError(`--timeout ${values.timeout}: give a number of seconds`);
    timeoutMs = s * 1000;
  }
  return {
    stack: values.stack,
    allow: values["allow-all"] ? "all" : new Set(urns),
    timeoutMs,
    ...base,
    help: false,
  };
}

/** The preview could not be run or did not finish: nothing was checked. */
export class PreviewFailed extends Error {
  override name = "PreviewFailed";
  constructor(
    message: string,
    readonly exitCode: 2 | 3,
  ) {
    super(message);
  }
}

export interface PreviewRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `pulumi preview --json` with a hard timeout (the whole process tree is killed), stdin
 * closed and --non-interactive, so it can never wait for input.
 */
export async function runPreview(
  opts: GateOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<PreviewRun> {
  const args = ["preview", "--json", "--non-interactive", "--stack", opts.stack];
  for (const p of opts.policyPacks) args.push("--policy-pack", p);
  const r = await runBounded("pulumi", args, { cwd: opts.cwd, env, timeoutMs: opts.timeoutMs });
  if (r.error) {
    throw r.error.code === "ENOENT"
      ? new PreviewFailed(
          "`pulumi` is not on PATH. Install the Pulumi CLI, or use the engine built here: " +
            "`source scripts/engine/env.sh` (builds it from Go modules the first time: bash scripts/engine/bootstrap.sh)",
          2,
        )
      : new PreviewFailed(`could not run pulumi: ${r.error.message}`, 3);
  }
  if (r.timedOut) {
    throw new PreviewFailed(
      `pulumi preview of ${opts.stack} did not finish within ${opts.timeoutMs / 1000} s; killed it`,
      3,
    );
  }
  return { code: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** The error lines of a failed preview: its JSON diagnostics, else stderr. */
function previewErrors(run: PreviewRun): string {
  try {
    const doc = JSON.parse(run.stdout) as {
      diagnostics?: { severity?: string; message?: string; urn?: string }[];
    };
    const errors = (doc.diagnostics ?? []).filter((d) => d.severity === "error");
    if (errors.length > 0) return errors.map((d) => (d.message ?? "").trimEnd()).join("\n");
  } catch {
    // not JSON
  }
  return (run.stderr || run.stdout).trim().split("\n").slice(-30).join("\n");
}

export interface GateIo {
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
  /** Runs the preview; the tests inject a recorded one. */
  readonly preview?: (opts: GateOptions) => Promise<PreviewRun>;
}

/** The CLI: returns the exit code. */
export async function gate(argv: readonly string[], io: GateIo = {}): Promise<number> {
  const out = io.out ?? ((line: string) => console.log(line));
  const err = io.err ?? ((line: string) => console.error(line));
  let opts: GateOptions;
  try {
    opts = parseGateArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`replacement-gate: ${e.message}`);
    return 2;
  }
  if (opts.help) {
    out(USAGE);
    return 0;
  }
  let run: PreviewRun;
  try {
    run = await (io.preview ?? runPreview)(opts);
  } catch (e) {
    if (e instanceof PreviewFailed) {
      err(`replacement-gate: ${e.message}`);
      return e.exitCode;
    }
    throw e;
  }
  let replacements: Replacement[] | undefined;
  let unreadable = "";
  try {
    replacements = replacementsIn(run.stdout);
  } catch (e) {
    unreadable = (e as Error).message;
  }
  const result = replacements ? applyAllowances(replacements, opts.allow) : undefined;
  if (run.code !== 0) {
    // A failed preview still lists the steps it planned: a replacement the engine refused (a
    // protected resource) is exactly what the gate is for, so report it as such.
    const failed = `replacement-gate: pulumi preview of ${opts.stack} failed (exit ${run.code}):\n${previewErrors(run)}`;
    if (result && result.blocked.length > 0) {
      err(`${formatGateResult(opts.stack, result)}\n${failed}`);
      return 1;
    }
    err(`${failed}\nnothing was checked`);
    return 3;
  }
  if (!result) {
    err(`replacement-gate: could not read the preview of ${opts.stack}: ${unreadable}`);
    return 3;
  }
  const report = formatGateResult(opts.stack, result);
  if (result.blocked.length > 0) {
    err(report);
    return 1;
  }
  out(report);
  return 0;
}

if (require.main === module) {
  gate(process.argv.slice(2)).then(
    (code) => exitWhenFlushed(code),
    (e: unknown) => {
      console.error(e);
      exitWhenFlushed(3);
    },
  );
}
