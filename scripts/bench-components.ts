/**
 * Benchmark: the CPU time and peak memory of evaluating the platform's workloads under Pulumi
 * mocks, side by side, interleaved, at 100, 1,000 and 2,000 workloads, against:
 * - the floor: the same Kubernetes objects registered directly as raw @pulumi/kubernetes
 *   resources (no validation, no components);
 * - the components with the SDK's per-promise stack traces kept (PLATFORM_STACK_TRACES=1), to
 *   show what switching them off while registering (components/stack-traces.ts) saves;
 * - the tree: the floor's objects under the components' resource tree (the platform, a
 *   component per tenant and per workload, each workload's objects depending on its tenant),
 *   without the components' code: what the tree costs by itself;
 * - cdk8s-plus synthesising the same kinds (Deployment, Service, HPA, PDB, NetworkPolicy,
 *   ServiceAccount) to YAML: a library without an engine, the lower bound of the genre.
 *
 *   npx tsx scripts/bench-components.ts [--sizes 100,1000,2000] [--runs 3]
 *
 * Each measurement runs in its own process (mocks are process-global and memory must not carry
 * over); runs are interleaved across modes and the median is printed. "CPU" is user+system time
 * of the evaluation (config to registered objects); "process CPU" adds starting the runtime and
 * loading the modules. Targets: components at most 1.10x the floor; the whole program at most 6x
 * cdk8s-plus per object at 1,000 workloads.
 */
import { execFileSync } from "node:child_process";
import { EXIT, parseFlags, wantsHelp } from "./lib/cli";
import type * as PulumiTypes from "@pulumi/pulumi";
import type { Manifest } from "../components/context";

const MODES = ["components", "traced", "tree", "floor", "cdk8s-plus"] as const;
type Mode = (typeof MODES)[number];

interface Sample {
  /** CPU (user+system) of the evaluation, ms. */
  readonly cpuMs: number;
  /** CPU of the whole process up to the end of the evaluation, ms. */
  readonly processCpuMs: number;
  readonly maxRssMiB: number;
  /** Kubernetes objects produced. */
  readonly objects: number;
}

/** A config with `n` web services spread over namespaces of 50. */
function syntheticConfig(n: number): Record<string, unknown> {
  const namespaces: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const ns = `team-${Math.floor(i / 50)}`;
    namespaces[ns] ??= { quota: { "requests.cpu": "100", "requests.memory": "200Gi", pods: 500 } };
    services[`svc-${i}`] = {
      kind: "web",
      namespace: ns,
      image: `ghcr.io/acme/svc-${i}:1.0.${i}`,
      ports: { http: 8080 },
      resources: { requests: { cpu: "100m", memory: "128Mi" } },
      autoscale: { min: 2, max: 4 },
      env: { INDEX: String(i) },
      ...(i > 0 ? { dependencies: [`svc-${i - 1}`] } : {}),
    };
  }
  return { tier: "staging", cluster: { cloud: "eks", name: "bench" }, namespaces, services };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

/**
 * cdk8s-plus synthesising, per workload, the kinds the platform emits for a web service: a
 * chart per namespace, as a cdk8s user would write it (a chart per service makes the app's
 * synthesis quadratic: 22 s of CPU at 1,000 services against 4 s), a construct per service.
 */
async function cdk8sPlus(n: number): Promise<number> {
  const cdk8s = await import("cdk8s");
  const kplus = await import("cdk8s-plus-33");
  const { Construct } = await import("constructs");
  const app = new cdk8s.App();
  const charts = new Map<string, InstanceType<typeof cdk8s.Chart>>();
  let previous: InstanceType<typeof kplus.Deployment> | undefined;
  for (let i = 0; i < n; i++) {
    const namespace = `team-${Math.floor(i / 50)}`;
    if (!charts.has(namespace))
      charts.set(namespace, new cdk8s.Chart(app, namespace, { namespace }));
    const chart = new Construct(charts.get(namespace)!, `svc-${i}`);
    const serviceAccount = new kplus.ServiceAccount(chart, "sa", { automountToken: false });
    const deployment = new kplus.Deployment(chart, "deploy", {
      serviceAccount,
      automountServiceAccountToken: false,
      containers: [
        {
          image: `ghcr.io/acme/svc-${i}:1.0.${i}`,
          portNumber: 8080,
          envVariables: { INDEX: kplus.EnvValue.fromValue(String(i)) },
          resources: {
            cpu: { request: kplus.Cpu.millis(100) },
            memory: { request: cdk8s.Size.mebibytes(128) },
          },
        },
      ],
    });
    deployment.exposeViaService({ ports: [{ port: 8080 }] });
    new kplus.HorizontalPodAutoscaler(chart, "hpa", {
      target: deployment,
      minReplicas: 2,
      maxReplicas: 4,
    });
    new kplus.k8s.KubePodDisruptionBudget(chart, "pdb", {
      spec: {
        maxUnavailable: kplus.k8s.IntOrString.fromNumber(1),
        selector: { matchLabels: deployment.matchLabels },
      },
    });
    const policy = new kplus.NetworkPolicy(chart, "netpol", { selector: deployment });
    if (previous) policy.addIngressRule(previous, [kplus.NetworkPolicyPort.tcp(8080)]);
    previous = deployment;
  }
  const yaml = app.synthYaml();
  return yaml.split(/^---$/m).filter((d) => d.trim() !== "").length;
}

async function child(mode: Mode, n: number): Promise<Sample> {
  const raw = syntheticConfig(n);
  const sample = (start: NodeJS.CpuUsage, objects: number): Sample => ({
    cpuMs: cpuMs(process.cpuUsage(start)),
    processCpuMs: cpuMs(process.cpuUsage()),
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    objects,
  });
  if (mode === "cdk8s-plus") {
    const start = process.cpuUsage();
    return sample(start, await cdk8sPlus(n));
  }
  // Loaded here, in the measuring process only (and never for --help).
  const pulumi = await import("@pulumi/pulumi");
  const k8s = await import("@pulumi/kubernetes");
  const p = await import("../platform/index.js");
  const { stackTracesOffForRun, withoutStackTraces } =
    await import("../components/stack-traces.js");
  const { registerManifest } = await import("../components/register.js");
  const { waitForRegistrations } = await import("./lib/mock-run.js");
  // As the program (index.ts) does: off for the whole run, unless this is the traced mode.
  const env = mode === "traced" ? { PLATFORM_STACK_TRACES: "1" } : {};
  stackTracesOffForRun(env);
  let objects = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        if (args.custom && !args.type.startsWith("pulumi:providers:")) objects++;
        return {
          id: args.custom ? `${args.name}-id` : undefined,
          state: args.inputs as Record<string, unknown>,
        };
      },
      call: (args) => {
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    "platform",
    "bench",
    false,
  );

  if (mode === "tree") {
    // The same objects, planned outside the timed section, in the components' tree.
    const plan = p.planPlatform(p.parsePlatformConfig(raw), "bench");
    const start = process.cpuUsage();
    withoutStackTraces(() => {
      class Node extends pulumi.ComponentResource {
        constructor(type: string, name: string, opts: PulumiTypes.ComponentResourceOptions) {
          super(`bench:tree:${type}`, name, {}, opts);
        }
        done(): void {
          this.registerOutputs({});
        }
      }
      const root = new Node("Platform", "bench", {});
      const provider = new k8s.Provider(
        "bench-k8s",
        { clusterIdentifier: "bench" },
        { parent: root },
      );
      const within = { parent: root, providers: [provider] };
      const tenants = new Map<string, Node>();
      const owners: [Node, string, readonly Manifest[], Node[]][] = [];
      for (const [name, list] of Object.entries(plan.tenants)) {
        tenants.set(name, new Node("Tenant", name, within));
        owners.push([tenants.get(name)!, name, list, []]);
      }
      for (const [name, list] of Object.entries(plan.workloads)) {
        const tenant = tenants.get(plan.config.services[name].namespace)!;
        const workload = new Node("Workload", name, { ...within, dependsOn: tenant });
        owners.push([workload, name, list, [tenant]]);
      }
      for (const [parent, name, list, dependsOn] of owners) {
        for (const m of list) registerManifest(name, m, { parent, dependsOn });
        parent.done();
      }
      root.done();
    });
    await waitForRegistrations();
    return sample(start, objects);
  }
  if (mode === "floor") {
    // The same objects, precomputed outside the timed section, registered raw.
    const plan = p.planPlatform(p.parsePlatformConfig(raw), "bench");
    const manifests = [...Object.entries(plan.tenants), ...Object.entries(plan.workloads)];
    const start = process.cpuUsage();
    withoutStackTraces(() => {
      const provider = new k8s.Provider("bench-k8s", { clusterIdentifier: "bench" });
      for (const [owner, list] of manifests)
        for (const m of list) registerManifest(owner, m, { provider });
    });
    await waitForRegistrations();
    return sample(start, objects);
  }
  const start = process.cpuUsage();
  withoutStackTraces(
    () => {
      new p.Platform("bench", { config: p.parsePlatformConfig(raw), project: "bench" });
    },
    { env },
  );
  await waitForRegistrations();
  return sample(start, objects);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const USAGE = `usage: npx tsx scripts/bench-components.ts [--sizes 100,1000,2000] [--runs <n>]
  CPU time per object and peak memory of evaluating the components under mocks, side by side
  (interleaved) with the raw-resource floor, the components with stack traces kept, and
  cdk8s-plus synthesising the same kinds
exit codes: 0 printed, 2 usage error`;

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    return;
  }
  let values;
  try {
    values = parseFlags(
      argv,
      {
        child: { type: "string" },
        n: { type: "string" },
        sizes: { type: "string" },
        runs: { type: "string" },
      },
      USAGE,
    );
  } catch (e) {
    console.error(`bench-components: ${(e as Error).message}`);
    process.exitCode = EXIT.usage;
    return;
  }
  if (values.child) {
    const sample = await child(values.child as Mode, Number(values.n));
    process.stdout.write(JSON.stringify(sample));
    return;
  }
  const sizes = (values.sizes ?? "100,1000,2000").split(",").map(Number);
  const runs = Number(values.runs ?? 3);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
    console.error(`bench-components: --sizes takes positive integers, --runs a count\n${USAGE}`);
    process.exitCode = EXIT.usage;
    return;
  }
  const tsx = require.resolve("tsx/cli");
  const measure = (mode: Mode, n: number) =>
    JSON.parse(
      execFileSync(process.execPath, [tsx, __filename, "--child", mode, "--n", String(n)], {
        encoding: "utf8",
        maxBuffer: 1 << 26,
      }),
    ) as Sample;
  console.log(`node ${process.version}, ${runs} interleaved runs per cell, median shown`);
  const head = [
    "workloads",
    "mode",
    "objects",
    "CPU ms",
    "µs/object",
    "process CPU ms",
    "peak MiB",
    "vs floor",
    "vs cdk8s+ (eval)",
    "vs cdk8s+ (process)",
  ];
  const rows: string[][] = [];
  for (const n of sizes) {
    const samples = new Map<Mode, Sample[]>(MODES.map((m) => [m, []]));
    for (let r = 0; r < runs; r++) for (const m of MODES) samples.get(m)!.push(measure(m, n));
    const med = (m: Mode, f: (s: Sample) => number) => median(samples.get(m)!.map(f));
    const per = (m: Mode, f: (s: Sample) => number) => med(m, f) / med(m, (s) => s.objects);
    const evalPer = (m: Mode) => per(m, (s) => s.cpuMs);
    const processPer = (m: Mode) => per(m, (s) => s.processCpuMs);
    for (const m of MODES)
      rows.push([
        String(n),
        m,
        String(med(m, (s) => s.objects)),
        med(m, (s) => s.cpuMs).toFixed(0),
        (evalPer(m) * 1000).toFixed(0),
        med(m, (s) => s.processCpuMs).toFixed(0),
        med(m, (s) => s.maxRssMiB).toFixed(0),
        m === "cdk8s-plus" ? "" : `${(evalPer(m) / evalPer("floor")).toFixed(2)}x`,
        `${(evalPer(m) / evalPer("cdk8s-plus")).toFixed(1)}x`,
        `${(processPer(m) / processPer("cdk8s-plus")).toFixed(1)}x`,
      ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log([line(head), ...rows.map(line)].join("\n"));
  console.log(
    "components: as the program runs (stack traces off for the run); traced: with them on",
  );
  console.log(
    "tree: the floor's objects under the components' tree (parents, dependsOn), without their code",
  );
  console.log(
    "targets: components <= 1.10x the floor; the whole program <= 6x cdk8s-plus per object at 1,000",
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
