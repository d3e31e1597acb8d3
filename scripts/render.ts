/**
 * Offline render: runs the program for one stack under the Pulumi mock engine (no CLI, no
 * cluster, no credentials) and writes one YAML document per Kubernetes object, plus a summary.
 *
 *   npm run render -- --stack dev [--out rendered/dev]
 *   npm run render -- --config path/to/Pulumi.try.yaml [--out dir]
 *
 * A stack that pins a release renders that commit (see `render`).
 * Exit codes: 0 rendered; 1 the config (or capacity, or a mandatory policy) is wrong;
 * 2 usage error (unknown flag or stack, missing file, unsafe output directory).
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { stringify } from "yaml";
import { SECRET_CHECKSUM_ANNOTATION } from "../components/podspec";
import { evaluatePolicies, formatViolations, type Obj, type Violation } from "../policy/rules";
import { EXIT, exitWhenFlushed, parseFlags, UsageError, wantsHelp } from "./lib/cli";
// The mock engine (and with it @pulumi/pulumi) loads only when rendering, so --help is instant.
import type { CapturedResource, MockRunResult } from "./lib/mock-run";
import { PROJECT_DIR, SECRET_PLACEHOLDER, StackFileError } from "./lib/stack-files";
import { pinnedRelease, prepareRelease, ReleaseError } from "./lib/release";
import { RELEASE_ENV } from "../platform/config/release";
import { capacityHeadline, type CapacityFigures } from "../platform/capacity/figures";

const USAGE = `usage: npm run render -- (--stack <name> | --config <stack file>) [--out <dir>] [--project <dir>]
  --stack    a stack with a Pulumi.<name>.yaml in the project (dev, staging, prod, ...)
  --config   any stack file, e.g. an uncommitted Pulumi.try.yaml
  --out      output directory (default rendered/<stack>); replaced on every run
  --project  the project to render (default: this one); npm run diff uses it for a base checkout
exit codes: 0 rendered, 1 a config, capacity or mandatory policy error, 2 usage error`;

export { UsageError };

export interface RenderOptions {
  readonly projectDir: string;
  readonly stack: string;
  readonly stackFile?: string;
  readonly out: string;
}

export function parseRenderArgs(argv: readonly string[]): RenderOptions {
  const values = parseFlags(
    argv,
    {
      stack: { type: "string" },
      config: { type: "string" },
      out: { type: "string" },
      project: { type: "string" },
    },
    USAGE,
  );
  if (values.stack === undefined && values.config === undefined)
    throw new UsageError(`give --stack or --config\n${USAGE}`);
  if (values.stack !== undefined && values.config !== undefined)
    throw new UsageError(`--stack and --config exclude each other\n${USAGE}`);
  if (values.config !== undefined && !existsSync(values.config))
    throw new UsageError(`--config ${values.config}: file not found`);
  if (values.project !== undefined && !existsSync(join(values.project, "Pulumi.yaml"))) {
    throw new UsageError(`--project ${values.project}: no Pulumi.yaml there`);
  }
  const stack =
    values.stack ?? /^Pulumi\.(.+)\.ya?ml$/.exec(basename(values.config!))?.[1] ?? "custom";
  const projectDir = resolve(values.project ?? PROJECT_DIR);
  return {
    projectDir,
    stack,
    ...(values.config !== undefined ? { stackFile: resolve(values.config) } : {}),
    out: resolve(values.out ?? join(projectDir, "rendered", stack)),
  };
}

/** Key Pulumi uses to mark a serialised secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/**
 * Stands in for the `checksum/secret-env` pod annotation: offline there are no secret values, so
 * the checksum the program computed (of placeholders) would only mislead.
 */
export const SECRET_CHECKSUM_PLACEHOLDER = "[checksum of secret values: computed by the engine]";

/**
 * Drops undefined fields and replaces every secret value by the placeholder, and the secret
 * checksum annotation by its own.
 */
function scrub(v: unknown): unknown {
  if (v && typeof v === "object" && SECRET_SIG in v)
    return redact((v as unknown as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(scrub);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [
          k,
          k === SECRET_CHECKSUM_ANNOTATION && typeof x === "string"
            ? SECRET_CHECKSUM_PLACEHOLDER
            : scrub(x),
        ]),
    );
  }
  return v;
}

function redact(v: unknown): unknown {
  if (v && typeof v === "object" && !Array.isArray(v))
    return Object.fromEntries(Object.keys(v).map((k) => [k, SECRET_PLACEHOLDER]));
  return SECRET_PLACEHOLDER;
}

export interface RenderedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: unknown;
}

export function kubernetesObjects(resources: readonly CapturedResource[]): RenderedObject[] {
  return kubernetesResources(resources).map((r) => r.object);
}

function kubernetesResources(
  resources: readonly CapturedResource[],
): { object: RenderedObject; urn: string }[] {
  return resources
    .filter((r) => r.custom && r.type.startsWith("kubernetes:"))
    .map((r) => ({ object: scrub(r.inputs) as RenderedObject, urn: r.urn }))
    .sort((a, b) => fileFor(a.object).localeCompare(fileFor(b.object)));
}

/** `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects. */
export function objectKey(o: RenderedObject): string {
  return o.metadata.namespace
    ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`
    : `${o.kind}/${o.metadata.name}`;
}

/** Where an object is written: cluster-scoped objects first, then one folder per namespace. */
export function fileFor(o: RenderedObject): string {
  const dir = o.metadata.namespace ? join("namespaces", o.metadata.namespace) : "cluster";
  return join(dir, `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`);
}

function ensureSafeOut(out: string): void {
  if (!existsSync(out)) return;
  const entries = readdirSync(out);
  if (entries.length > 0 && !entries.includes("summary.json")) {
    throw new UsageError(
      `--out ${out}: exists and is not a previous render (no summary.json); choose an empty or new directory`,
    );
  }
}

export interface RenderSummary {
  readonly stack: string;
  readonly objects: number;
  readonly byKind: Record<string, number>;
  readonly byNamespace: Record<string, Record<string, number>>;
  /** Secret config keys the stack file does not set; rendered with a placeholder. */
  readonly secretsNotSet: string[];
  readonly policy: {
    readonly mandatory: number;
    readonly advisory: number;
    readonly violations: Violation[];
  };
  /**
   * Each object's Pulumi identity, its URN without stack and project: every ancestor's type and
   * its own, outermost first, joined by `$`, then `::` and the logical name (e.g.
   * `platform:index:Platform$platform:tenancy:Tenant$kubernetes:core/v1:Namespace::shop-ns`).
   * A change means Pulumi replaces the object.
   */
  readonly resources: Record<string, string>;
}

/**
 * Renders the stack as it runs: a stack file that pins a release (`platform:release`) renders
 * that commit's program and application (its worktree, scripts/lib/release.ts), as
 * `npm run deploy` runs it; any other stack renders the project in `opts.projectDir`.
 */
export async function render(opts: RenderOptions): Promise<RenderSummary> {
  ensureSafeOut(opts.out);
  const stackFile = opts.stackFile ?? join(opts.projectDir, `Pulumi.${opts.stack}.yaml`);
  const pin = existsSync(stackFile)
    ? pinnedRelease(opts.projectDir, opts.stack, opts.stackFile)
    : undefined;
  const projectDir = pin
    ? prepareRelease(opts.projectDir, opts.stack, pin, { copyStackFile: false }).dir
    : opts.projectDir;
  const { runUnderMocks, identityOf } = await import("./lib/mock-run.js");
  const saved = process.env[RELEASE_ENV];
  if (pin) process.env[RELEASE_ENV] = pin;
  let result: MockRunResult;
  try {
    result = await runUnderMocks({
      projectDir,
      stack: opts.stack,
      ...(pin || opts.stackFile ? { stackFile } : {}),
      fillMissingSecrets: true,
    });
  } finally {
    if (saved === undefined) delete process.env[RELEASE_ENV];
    else process.env[RELEASE_ENV] = saved;
  }
  const rendered = kubernetesResources(result.resources);
  // Written beside the output and swapped in only when complete: a failure leaves the previous
  // render as it was.
  const staging = `${opts.out}.rendering-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  try {
    const summary = writeRender(staging, opts.stack, rendered, result, identityOf);
    const previous = `${opts.out}.previous-${process.pid}`;
    if (existsSync(opts.out)) renameSync(opts.out, previous);
    renameSync(staging, opts.out);
    rmSync(previous, { recursive: true, force: true });
    return summary;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Writes one render into `dir`: a YAML file per object, summary.json and capacity.md. */
function writeRender(
  dir: string,
  stack: string,
  rendered: ReturnType<typeof kubernetesResources>,
  result: MockRunResult,
  identityOf: (urn: string) => string,
): RenderSummary {
  const objects = rendered.map((r) => r.object);
  mkdirSync(dir, { recursive: true });
  const byKind: Record<string, number> = {};
  const byNamespace: Record<string, Record<string, number>> = {};
  for (const o of objects) {
    const file = join(dir, fileFor(o));
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, stringify(o, { lineWidth: 0, aliasDuplicateObjects: false }));
    byKind[o.kind] = (byKind[o.kind] ?? 0) + 1;
    const ns = (byNamespace[o.metadata.namespace ?? "(cluster)"] ??= {});
    ns[o.kind] = (ns[o.kind] ?? 0) + 1;
  }
  const violations = evaluatePolicies(objects as unknown as Obj[]);
  const sortObj = <T>(r: Record<string, T>) =>
    Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));
  const summary: RenderSummary = {
    stack,
    objects: objects.length,
    byKind: sortObj(byKind),
    byNamespace: sortObj(
      Object.fromEntries(Object.entries(byNamespace).map(([k, v]) => [k, sortObj(v)])),
    ),
    secretsNotSet: result.filledSecrets.map((k) => k.slice(k.indexOf(":") + 1)).sort(),
    policy: {
      mandatory: violations.filter((v) => v.enforcement === "mandatory").length,
      advisory: violations.filter((v) => v.enforcement === "advisory").length,
      violations,
    },
    resources: Object.fromEntries(rendered.map((r) => [objectKey(r.object), identityOf(r.urn)])),
  };
  writeFileSync(join(dir, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
  if (typeof result.outputs.capacityMarkdown === "string")
    writeFileSync(join(dir, "capacity.md"), `${result.outputs.capacityMarkdown}\n`);
  if (result.outputs.capacityFigures !== undefined)
    writeFileSync(
      join(dir, "capacity.json"),
      `${JSON.stringify(result.outputs.capacityFigures, null, 2)}\n`,
    );
  return summary;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let opts: RenderOptions;
  try {
    opts = parseRenderArgs(argv);
    const summary = await render(opts);
    const where = relative(process.cwd(), opts.out) || ".";
    console.log(`rendered stack ${summary.stack}: ${summary.objects} objects into ${where}/`);
    for (const [kind, n] of Object.entries(summary.byKind))
      console.log(`  ${String(n).padStart(3)} ${kind}`);
    const { mandatory, advisory, violations } = summary.policy;
    console.log(
      `policies: ${mandatory} mandatory violation${mandatory === 1 ? "" : "s"}, ${advisory} advisory`,
    );
    if (advisory > 0)
      console.log(formatViolations(violations.filter((v) => v.enforcement === "advisory")));
    const figures = join(opts.out, "capacity.json");
    if (existsSync(figures))
      console.log(capacityHeadline(JSON.parse(readFileSync(figures, "utf8")) as CapacityFigures));
    if (summary.secretsNotSet.length > 0) {
      console.log(
        `note: secret config ${summary.secretsNotSet.join(", ")} not set in the stack file; rendered as "${SECRET_PLACEHOLDER}". ` +
          `pulumi up needs: pulumi config set --secret <key> <value>`,
      );
    }
    if (mandatory > 0) {
      console.error(
        `render: mandatory policies failed for stack ${summary.stack}:\n${formatViolations(violations.filter((v) => v.enforcement === "mandatory"))}`,
      );
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof StackFileError) {
      console.error(`render: ${e.message}`);
      return 2;
    }
    if (e instanceof ReleaseError) {
      console.error(`render: ${e.message}`);
      return 1;
    }
    console.error(`render: ${(e as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main().then(
    (code) => exitWhenFlushed(code),
    (e: unknown) => {
      console.error(e);
      exitWhenFlushed(1);
    },
  );
}
