/**
 * Benchmark: evaluation time and peak memory of the platform program under Pulumi mocks for
 * 10, 100 and 1,000 workloads, side by side with the floor: the same Kubernetes objects
 * registered directly as raw @pulumi/kubernetes resources (no validation, no components).
 *
 *   npx tsx scripts/bench-components.ts [--sizes 10,100,1000] [--runs 3]
 *
 * Each measurement runs in its own process (mocks are process-global and memory must not carry
 * over); the median of the runs is printed. Target: components add at most 20% over the floor.
 */
import { execFileSync } from "node:child_process";
import { EXIT, parseFlags, wantsHelp } from "./lib/cli";

type Mode = "components" | "floor";

interface Sample {
  readonly ms: number;
  readonly maxRssMiB: number;
  readonly resources: number;
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

async function child(mode: Mode, n: number): Promise<Sample> {
  // Loaded here, in the measuring process only (and never for --help).
  const pulumi = await import("@pulumi/pulumi");
  const k8s = await import("@pulumi/kubernetes");
  const p = await import("../platform/index.js");
  const { registerManifest } = await import("../components/register.js");
  const { waitForRegistrations } = await import("./lib/mock-run.js");
  let count = 0;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        count++;
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
  const raw = syntheticConfig(n);

  const start = process.hrtime.bigint();
  if (mode === "components") {
    const config = p.parsePlatformConfig(raw);
    new p.Platform("bench", { config, project: "bench" });
  } else {
    // The floor: the same objects, precomputed outside the timed section, registered raw.
    const plan = p.planPlatform(p.parsePlatformConfig(raw), "bench");
    const objects = [...Object.entries(plan.tenants), ...Object.entries(plan.workloads)];
    const t0 = process.hrtime.bigint();
    const provider = new k8s.Provider("bench-k8s", { clusterIdentifier: "bench" });
    for (const [owner, manifests] of objects)
      for (const m of manifests) registerManifest(owner, m, { provider });
    await waitForRegistrations();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    return { ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, resources: count };
  }
  await waitForRegistrations();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  return { ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, resources: count };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const USAGE = `usage: npx tsx scripts/bench-components.ts [--sizes 10,100,1000] [--runs <n>]
  CPU time and peak memory of registering the components under mocks, against the same
  objects registered raw, side by side at each size
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
  const sizes = (values.sizes ?? "10,100,1000").split(",").map(Number);
  const runs = Number(values.runs ?? 3);
  const tsx = require.resolve("tsx/cli");
  console.log(`node ${process.version}, ${runs} runs per cell, median shown`);
  console.log(
    "workloads  resources  components ms  floor ms  time ratio  components MiB  floor MiB  memory ratio",
  );
  for (const n of sizes) {
    const cell = (mode: Mode) =>
      Array.from(
        { length: runs },
        () =>
          JSON.parse(
            execFileSync(process.execPath, [tsx, __filename, "--child", mode, "--n", String(n)], {
              encoding: "utf8",
              maxBuffer: 1 << 26,
            }),
          ) as Sample,
      );
    const comp = cell("components");
    const floor = cell("floor");
    const cm = median(comp.map((s) => s.ms));
    const fm = median(floor.map((s) => s.ms));
    const cr = median(comp.map((s) => s.maxRssMiB));
    const fr = median(floor.map((s) => s.maxRssMiB));
    console.log(
      [
        String(n).padStart(9),
        String(floor[0].resources).padStart(10),
        cm.toFixed(0).padStart(14),
        fm.toFixed(0).padStart(9),
        (cm / fm).toFixed(2).padStart(11),
        cr.toFixed(0).padStart(15),
        fr.toFixed(0).padStart(10),
        (cr / fr).toFixed(2).padStart(13),
      ].join(" "),
    );
  }
  console.log("target: components at most 1.20x the floor");
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
