/**
 * Benchmarks the capacity planner's scheduler emulation: wall time for placing pods onto nodes
 * at 1k/10k pods × 100/1,000 nodes, how it grows, and the 10,000 × 1,000 figure against the 1 s
 * target. Exits non-zero when the target is missed.
 *
 *   npx tsx scripts/bench-capacity.ts
 */
import { performance } from "node:perf_hooks";
import { EXIT, parseFlags, wantsHelp } from "./lib/cli";
// The planner loads in main(), after the flags: --help answers without loading the program.
import type { NodeSpec, PlacementStep, PodGroup } from "../platform/capacity/placement";

let placePods: typeof import("../platform/capacity/placement").placePods;

const USAGE = `usage: npx tsx scripts/bench-capacity.ts
  times the capacity planner's scheduler emulation (1k/10k pods × 100/1,000 nodes) and
  planCapacity end to end; exits 1 when 10,000 pods × 1,000 nodes takes 1 s or more
exit codes: 0 within target, 1 over target, 2 usage error`;

{
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    console.log(USAGE);
    process.exit(EXIT.ok);
  }
  try {
    parseFlags(argv, {}, USAGE);
  } catch (e) {
    console.error(`bench-capacity: ${(e as Error).message}`);
    process.exit(EXIT.usage);
  }
}

const TARGET_MS = 1000;
const PODS_PER_WORKLOAD = 100;
const ZONES = ["a", "b", "c"];

/** Nodes big enough that 10,000 pods fit on 100 of them, so every run places every pod. */
function nodes(count: number): NodeSpec[] {
  return Array.from({ length: count }, (_, i) => {
    const zone = ZONES[i % ZONES.length];
    const name = `node-${zone}-${i}`;
    return {
      name,
      pool: "general",
      zone,
      cpu: 64_000,
      memory: 256 * 2 ** 30,
      pods: 110,
      reserved: { cpu: 500, memory: 2 ** 30, pods: 4 },
      labels: { "kubernetes.io/hostname": name, "topology.kubernetes.io/zone": zone },
    };
  });
}

/** Workloads of 100 pods with varied requests and the spread we generate on a multi-zone cluster. */
function workloads(pods: number): { groups: PodGroup[]; steps: PlacementStep[] } {
  const groups = Array.from({ length: Math.ceil(pods / PODS_PER_WORKLOAD) }, (_, g) => ({
    name: `svc-${g}`,
    cpu: 100 + (g % 5) * 100,
    memory: (128 + (g % 7) * 128) * 2 ** 20,
    zoneSpread: "DoNotSchedule" as const,
  }));
  const steps = groups.map((_, g) => ({
    group: g,
    count: Math.min(PODS_PER_WORKLOAD, pods - g * PODS_PER_WORKLOAD),
  }));
  return { groups, steps };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Median wall time of `runs` placements (after one warm-up), and the pods placed. */
function measure(
  podCount: number,
  nodeCount: number,
  scoring: "spread" | "binpack" = "spread",
  runs = 5,
): { ms: number; placed: number } {
  const cluster = nodes(nodeCount);
  const { groups, steps } = workloads(podCount);
  let placed = 0;
  const times: number[] = [];
  for (let run = 0; run <= runs; run++) {
    const start = performance.now();
    const result = placePods(cluster, groups, steps, { scoring });
    const elapsed = performance.now() - start;
    placed = result.groups.reduce((sum, g) => sum + g.placed, 0);
    if (run > 0) times.push(elapsed);
  }
  return { ms: median(times), placed };
}

const fmt = (n: number) => n.toLocaleString("en-US");
const ms = (t: number) => (t >= 1000 ? `${(t / 1000).toFixed(2)} s` : `${t.toFixed(1)} ms`);

/** Right-aligned columns. */
function row(cells: readonly string[]): string {
  const widths = [8, 7, 10, 8, 16];
  return cells.map((c, i) => c.padStart(widths[i])).join("  ");
}

async function main(): Promise<void> {
  ({ placePods } = await import("../platform/capacity/placement.js"));
  const { planCapacity } = await import("../platform/capacity/capacity.js");
  const { parsePlatformConfig } = await import("../platform/config/index.js");
  const grid: Record<string, number> = {};
  console.log("Capacity placement benchmark: kube-scheduler emulation, every node scored,");
  console.log(
    "zone spread DoNotSchedule over 3 zones, hostname spread ScheduleAnyway, 100 pods per workload.\n",
  );
  console.log(row(["pods", "nodes", "median", "placed", "ns per pod×node"]));
  for (const podCount of [1_000, 10_000]) {
    for (const nodeCount of [100, 1_000]) {
      const { ms: t, placed } = measure(
        podCount,
        nodeCount,
        "spread",
        podCount * nodeCount >= 10_000_000 ? 5 : 9,
      );
      grid[`${podCount}x${nodeCount}`] = t;
      console.log(
        row([
          fmt(podCount),
          fmt(nodeCount),
          ms(t),
          fmt(placed),
          ((t * 1e6) / (podCount * nodeCount)).toFixed(1),
        ]),
      );
    }
  }
  const binpack = measure(10_000, 1_000, "binpack");
  console.log(
    row([
      "10,000",
      "1,000",
      ms(binpack.ms),
      fmt(binpack.placed),
      `${((binpack.ms * 1e6) / 1e7).toFixed(1)} (binpack)`,
    ]),
  );

  console.log("\nGrowth (time is O(pods × nodes)):");
  console.log(
    `  10× pods:  ×${(grid["10000x100"] / grid["1000x100"]).toFixed(1)} at 100 nodes, ×${(grid["10000x1000"] / grid["1000x1000"]).toFixed(1)} at 1,000 nodes`,
  );
  console.log(
    `  10× nodes: ×${(grid["1000x1000"] / grid["1000x100"]).toFixed(1)} at 1,000 pods, ×${(grid["10000x1000"] / grid["10000x100"]).toFixed(1)} at 10,000 pods`,
  );

  // The whole planner on a config of the same size: namespace fit, cluster fit, and failover
  // (without the largest node and without each of 3 zones: four more placements).
  const services: Record<string, unknown> = {};
  for (let i = 0; i < 100; i++) {
    services[`svc-${i}`] = {
      kind: "worker",
      namespace: `team-${i % 10}`,
      image: "ghcr.io/acme/app:1.0.0",
      replicas: 80,
      rollout: { maxSurge: "25%", maxUnavailable: "25%" },
      resources: {
        requests: { cpu: `${100 + (i % 5) * 100}m`, memory: `${128 + (i % 7) * 128}Mi` },
      },
    };
  }
  const config = parsePlatformConfig({
    tier: "prod",
    cluster: {
      cloud: "eks",
      name: "bench",
      nodePools: {
        general: {
          count: 334,
          zones: ZONES,
          allocatable: { cpu: "64", memory: "256Gi", pods: 110 },
          overhead: { cpu: "500m", memory: "1Gi", pods: 4 },
        },
      },
    },
    namespaces: Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [
        `team-${i}`,
        { quota: { "requests.cpu": "1000", pods: 2000 } },
      ]),
    ),
    services,
  });
  planCapacity(config); // warm-up
  const start = performance.now();
  const report = planCapacity(config);
  const planMs = performance.now() - start;
  console.log(
    `\nplanCapacity end to end (${fmt(report.cluster!.pods)} peak pods, ${fmt(report.cluster!.nodes)} nodes, ${report.failover.length} failover scenarios): ${ms(planMs)}`,
  );

  const headline = grid["10000x1000"];
  const ok = headline < TARGET_MS;
  console.log(
    `\n10,000 pods × 1,000 nodes: ${ms(headline)} (target < ${ms(TARGET_MS)}) ${ok ? "✓ within target" : "✗ over target"}`,
  );
  if (!ok) process.exitCode = 1;
}

void main();
