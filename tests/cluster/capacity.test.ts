/**
 * The capacity planner against a real control plane: for each scenario the test builds the
 * objects with the project's own code (parsePlatformConfig, planPlatform: buildTenant and
 * buildWorkload), asks planCapacity what will happen, applies the objects to etcd +
 * kube-apiserver + kube-controller-manager + kube-scheduler with kwok nodes shaped like the
 * scenario's node pools, and compares: ResourceQuota rejections (ReplicaSet FailedCreate
 * "exceeded quota") for quota findings, Pending pods (FailedScheduling) for capacity findings.
 * A table "case | predicted | observed" is printed at the end.
 *
 * Skips, saying so, only when the binaries are not built (bash scripts/cluster/build.sh).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  planCapacity,
  type CapacityFinding,
  type CapacityReport,
  type Unschedulable,
} from "../../platform/capacity/capacity";
import { parsePlatformConfig, type PlatformConfig } from "../../platform/config";
import type { Manifest } from "../../components/context";
import { planPlatform } from "../../platform/plan";
import { Quantity } from "../../components/quantity";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster";
import { clusterBinariesOrWarn } from "./helpers";

const bins = clusterBinariesOrWarn("tests/cluster/capacity");

type Raw = Record<string, unknown>;

const worker = (extra: Raw = {}): Raw => ({
  kind: "worker",
  namespace: "ns",
  image: "registry.example/app:1.0.0",
  resources: { requests: { cpu: "500m", memory: "128Mi" } },
  ...extra,
});

const quota = (cpu: string): Raw => ({
  "requests.cpu": cpu,
  "requests.memory": "8Gi",
  "limits.cpu": "8",
  "limits.memory": "16Gi",
  pods: 30,
});

/** Two roomy nodes: quota decides, not capacity. */
const ROOMY = { big: { count: 2, allocatable: { cpu: "16", memory: "64Gi", pods: 110 } } };

function scenarioConfig(
  namespace: string,
  nodePools: Raw,
  nsQuota: Raw,
  services: Record<string, Raw>,
): PlatformConfig {
  const placed = Object.fromEntries(
    Object.entries(services).map(([k, v]) => [k, { ...v, namespace }]),
  );
  return parsePlatformConfig({
    tier: "dev",
    cluster: { cloud: "generic", name: "capacity-test", nodePools },
    namespaces: { [namespace]: { quota: nsQuota } },
    services: placed,
  } as never);
}

// ---------------------------------------------------------------------------------------------
// Observation helpers

interface PodView {
  name: string;
  phase: string;
  node?: string;
  deleting: boolean;
  hash?: string;
  unschedulable?: string;
  ready: boolean;
}

interface EventView {
  reason: string;
  kind: string;
  name: string;
  message: string;
}

async function pods(c: Cluster, ns: string): Promise<PodView[]> {
  const out = JSON.parse(await c.kubectlOk(["get", "pods", "-n", ns, "-o", "json"])) as {
    items: {
      metadata: { name: string; deletionTimestamp?: string; labels?: Record<string, string> };
      spec: { nodeName?: string };
      status: {
        phase: string;
        conditions?: { type: string; status: string; reason?: string; message?: string }[];
      };
    }[];
  };
  return out.items.map((p) => {
    const sched = p.status.conditions?.find((x) => x.type === "PodScheduled");
    return {
      name: p.metadata.name,
      phase: p.status.phase,
      ...(p.spec.nodeName ? { node: p.spec.nodeName } : {}),
      deleting: p.metadata.deletionTimestamp !== undefined,
      ...(p.metadata.labels?.["pod-template-hash"]
        ? { hash: p.metadata.labels["pod-template-hash"] }
        : {}),
      ...(sched?.status === "False" && sched.reason === "Unschedulable"
        ? { unschedulable: sched.message ?? "" }
        : {}),
      ready: p.status.conditions?.some((x) => x.type === "Ready" && x.status === "True") ?? false,
    };
  });
}

async function events(c: Cluster, ns: string, reason: string): Promise<EventView[]> {
  const out = JSON.parse(
    await c.kubectlOk([
      "get",
      "events",
      "-n",
      ns,
      `--field-selector=reason=${reason}`,
      "-o",
      "json",
    ]),
  ) as {
    items: { reason: string; message: string; involvedObject: { kind: string; name: string } }[];
  };
  return out.items.map((e) => ({
    reason: e.reason,
    kind: e.involvedObject.kind,
    name: e.involvedObject.name,
    message: e.message,
  }));
}

/**
 * Polls `observe` until `done` holds and the observation has not changed for `stableMs`, or
 * fails after `timeoutMs`: the controllers and the scheduler have then had their say.
 */
async function settle<T>(
  what: string,
  observe: () => Promise<T>,
  done: (v: T) => boolean,
  { timeoutMs = 60_000, stableMs = 4_000 } = {},
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = "";
  let since = Date.now();
  for (;;) {
    const v = await observe();
    const key = JSON.stringify(v);
    if (key !== last) {
      last = key;
      since = Date.now();
    }
    if (done(v) && Date.now() - since >= stableMs) return v;
    if (Date.now() > end)
      throw new Error(`${what}: did not settle in ${timeoutMs} ms; last: ${key}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const live = (ps: PodView[]) => ps.filter((p) => !p.deleting && p.phase !== "Succeeded");
const running = (ps: PodView[]) => live(ps).filter((p) => p.phase === "Running" && p.ready);
const unschedulable = (ps: PodView[]) => live(ps).filter((p) => p.unschedulable !== undefined);

async function apply(c: Cluster, objects: readonly Manifest[]): Promise<void> {
  await c.kubectlOk(["apply", "--server-side", "--field-manager=pulumi-kubernetes", "-f", "-"], {
    input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
  });
}

/** The tenant first (quota status filled in), then the workloads, as the program orders them. */
async function deploy(
  c: Cluster,
  config: PlatformConfig,
  mutate: (m: Manifest) => Manifest = (m) => m,
): Promise<void> {
  const plan = planPlatform(config, "capacity-test");
  for (const [ns, objs] of Object.entries(plan.tenants)) {
    await apply(c, objs);
    await settle(
      `quota status in ${ns}`,
      async () =>
        (
          await c.kubectl([
            "get",
            "resourcequota",
            "-n",
            ns,
            "-o",
            "jsonpath={.items[*].status.hard}",
          ])
        ).stdout,
      (s) => s.length > 2,
      { timeoutMs: 30_000, stableMs: 0 },
    );
  }
  await apply(c, Object.values(plan.workloads).flat().map(mutate));
}

async function cleanup(c: Cluster, ns: string): Promise<void> {
  await c.kubectl(["delete", "namespace", ns, "--wait=true", "--timeout=60s"], {
    timeoutMs: 70_000,
  });
}

function finding(report: CapacityReport, kind: CapacityFinding["kind"]): CapacityFinding {
  const f = report.findings.find((x) => x.kind === kind);
  if (!f) {
    throw new Error(
      `planner: expected a ${kind} finding, got ${JSON.stringify(report.findings.map((x) => x.kind))}`,
    );
  }
  return f;
}

/** Pods quota admits: replicas minus the pods the over-by amount needs. */
function admittedByQuota(f: CapacityFinding, perPodCpu: string, replicas: number): number {
  const over = Quantity.parse(f.overBy!).milliValue();
  const per = Quantity.parse(perPodCpu).milliValue();
  return replicas - Math.ceil(over / per);
}

/** The "exceeded quota" part of a FailedCreate message. */
function quotaMessage(e: EventView | undefined): string {
  if (!e) return "(no FailedCreate event)";
  const m = /exceeded quota: .*$/.exec(e.message);
  return m ? m[0] : e.message;
}

const rows: { case: string; predicted: string; observed: string; match: boolean }[] = [];
function record(name: string, predicted: string, observed: string, match: boolean): void {
  rows.push({ case: name, predicted, observed, match });
  console.log(
    `${match ? "MATCH   " : "MISMATCH"} ${name}\n  predicted: ${predicted}\n  observed:  ${observed}`,
  );
}

function table(): string {
  const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    "| case | predicted | observed | match |",
    "| --- | --- | --- | --- |",
    ...rows.map(
      (r) =>
        `| ${esc(r.case)} | ${esc(r.predicted)} | ${esc(r.observed)} | ${r.match ? "yes" : "NO"} |`,
    ),
  ].join("\n");
}

// ---------------------------------------------------------------------------------------------

describe.skipIf(!bins)("capacity planner vs a real control plane", { timeout: 180_000 }, () => {
  let cluster: Cluster;
  const t0 = Date.now();
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    cluster = await startCluster({ nodePools: ROOMY, log: (l) => console.log(`[cluster] ${l}`) });
    timings.start = Date.now() - t0;
  }, 150_000);

  afterAll(async () => {
    const t = Date.now();
    await cluster?.stop();
    timings.stop = Date.now() - t;
    console.log(
      `\nCapacity planner vs cluster (Kubernetes v${bins?.versions.kubernetes}, kwok v${bins?.versions.kwok}):\n${table()}\n`,
    );
    console.log(`capacity timings (ms): ${JSON.stringify({ ...timings, ...cluster?.timings })}`);
  }, 60_000);

  it("steady quota overflow: the ReplicaSet's extra pods fail with 'exceeded quota'", async () => {
    const t = Date.now();
    const ns = "q-steady";
    const config = scenarioConfig(ns, ROOMY, quota("1500m"), { app: worker({ replicas: 4 }) });
    const report = planCapacity(config);
    const f = finding(report, "steady-over-quota");
    const admitted = admittedByQuota(f, report.workloads[0].podCpu, 4);
    await cluster.setNodePools(ROOMY);
    await deploy(cluster, config);
    const obs = await settle(
      ns,
      async () => ({
        pods: live(await pods(cluster, ns)).length,
        failed: await events(cluster, ns, "FailedCreate"),
      }),
      (o) => o.failed.length > 0 || o.pods === 4,
    );
    const ev = obs.failed.find((e) => e.kind === "ReplicaSet");
    const match =
      obs.pods === admitted && ev !== undefined && quotaMessage(ev).includes(f.resource!);
    record(
      "steady quota overflow (4 x 500m, quota requests.cpu 1500m)",
      `error ${f.kind} ${f.resource} over by ${f.overBy} => ${admitted}/4 pods admitted`,
      `${obs.pods}/4 pods created; ReplicaSet FailedCreate: ${quotaMessage(ev)}`,
      match,
    );
    await cleanup(cluster, ns);
    timings.steady = Date.now() - t;
    expect(match).toBe(true);
  });

  it("rollout surge over quota with maxUnavailable 0: the rollout cannot start", async () => {
    const t = Date.now();
    const ns = "q-rollout";
    const svc = worker({ replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 0 } });
    const v1 = scenarioConfig(ns, ROOMY, quota("1500m"), { app: svc });
    const v2 = scenarioConfig(ns, ROOMY, quota("1500m"), {
      app: { ...svc, env: { RELEASE: "2" } },
    });
    const report = planCapacity(v1);
    const f = finding(report, "rollout-blocked");
    await cluster.setNodePools(ROOMY);
    await deploy(cluster, v1);
    await cluster.kubectlOk(["rollout", "status", "deployment/app", "-n", ns, "--timeout=60s"], {
      timeoutMs: 70_000,
    });
    const before = await pods(cluster, ns);
    await deploy(cluster, v2);
    const obs = await settle(
      ns,
      async () => {
        const ps = live(await pods(cluster, ns));
        const oldHash = before[0].hash;
        return {
          old: ps.filter((p) => p.hash === oldHash).length,
          new: ps.filter((p) => p.hash !== oldHash).length,
          failed: (await events(cluster, ns, "FailedCreate")).filter(
            (e) => e.kind === "ReplicaSet",
          ),
        };
      },
      (o) => o.failed.length > 0 || o.old === 0,
    );
    const match = obs.new === 0 && obs.old === 3 && obs.failed.length > 0;
    record(
      "rollout surge over quota, maxUnavailable 0 (3 x 500m, quota 1500m)",
      `error ${f.kind}: ${f.message}`,
      `new ReplicaSet ${obs.new} pods, old ${obs.old}; ${obs.failed.length > 0 ? `FailedCreate: ${quotaMessage(obs.failed[0])}` : "no FailedCreate"}`,
      match,
    );
    await cleanup(cluster, ns);
    timings.rollout = Date.now() - t;
    expect(match).toBe(true);
  });

  it("the planner's fix (maxUnavailable 1) lets the same rollout finish", async () => {
    const t = Date.now();
    const ns = "q-rollout-fixed";
    const svc = worker({ replicas: 3, rollout: { maxSurge: 1, maxUnavailable: 1 } });
    const v1 = scenarioConfig(ns, ROOMY, quota("1500m"), { app: svc });
    const v2 = scenarioConfig(ns, ROOMY, quota("1500m"), {
      app: { ...svc, env: { RELEASE: "2" } },
    });
    const report = planCapacity(v1);
    const errors = report.errors.map((e) => e.kind);
    const warn = report.findings.find((x) => x.kind === "peak-over-quota");
    await cluster.setNodePools(ROOMY);
    await deploy(cluster, v1);
    await cluster.kubectlOk(["rollout", "status", "deployment/app", "-n", ns, "--timeout=60s"], {
      timeoutMs: 70_000,
    });
    await deploy(cluster, v2);
    const r = await cluster.kubectl(
      ["rollout", "status", "deployment/app", "-n", ns, "--timeout=90s"],
      { timeoutMs: 100_000 },
    );
    const failed = (await events(cluster, ns, "FailedCreate")).filter(
      (e) => e.kind === "ReplicaSet",
    );
    const ps = running(await pods(cluster, ns));
    const match = errors.length === 0 && r.code === 0 && ps.length === 3;
    record(
      "same rollout with maxUnavailable 1",
      `no error; ${warn ? `${warn.severity} ${warn.kind}: ${warn.message}` : "no warning"} => completes`,
      `${r.code === 0 ? "rollout completed" : `rollout stuck: ${r.stderr.trim()}`}; ${ps.length} pods Running; ${failed.length} FailedCreate event(s)`,
      match,
    );
    await cleanup(cluster, ns);
    timings.rolloutFixed = Date.now() - t;
    expect(match).toBe(true);
  });

  it("HPA max beyond quota: scaling to max stops at what the quota admits", async () => {
    const t = Date.now();
    const ns = "q-hpa";
    const config = scenarioConfig(ns, ROOMY, quota("2"), {
      app: worker({ autoscale: { min: 2, max: 6 } }),
    });
    const report = planCapacity(config);
    const f = finding(report, "max-over-quota");
    const admitted = admittedByQuota(f, report.workloads[0].podCpu, 6);
    await cluster.setNodePools(ROOMY);
    await deploy(cluster, config);
    // No metrics server: the HPA controller enforces minReplicas; pinning min to max makes the
    // controller itself scale the Deployment to max, as sustained load would.
    await settle(
      ns,
      async () => running(await pods(cluster, ns)).length,
      (n) => n === 2,
      {
        timeoutMs: 60_000,
        stableMs: 0,
      },
    );
    await cluster.kubectlOk([
      "patch",
      "hpa",
      "app",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"spec":{"minReplicas":6}}',
    ]);
    const obs = await settle(
      ns,
      async () => ({
        replicas: (
          await cluster.kubectlOk([
            "get",
            "deployment",
            "app",
            "-n",
            ns,
            "-o",
            "jsonpath={.spec.replicas}",
          ])
        ).trim(),
        pods: live(await pods(cluster, ns)).length,
        failed: (await events(cluster, ns, "FailedCreate")).filter((e) => e.kind === "ReplicaSet"),
      }),
      (o) => o.replicas === "6" && (o.failed.length > 0 || o.pods === 6),
      { timeoutMs: 90_000 },
    );
    const match =
      obs.pods === admitted &&
      obs.failed.length > 0 &&
      quotaMessage(obs.failed[0]).includes(f.resource!);
    record(
      "HPA max beyond quota (2..6 x 500m, quota requests.cpu 2)",
      `${f.severity} ${f.kind} ${f.resource} over by ${f.overBy} => ${admitted}/6 pods at max`,
      `HPA set replicas ${obs.replicas}; ${obs.pods} pods created; FailedCreate: ${quotaMessage(obs.failed[0])}`,
      match,
    );
    await cleanup(cluster, ns);
    timings.hpa = Date.now() - t;
    expect(match).toBe(true);
  });

  it("too little node capacity: the pods that fit nowhere stay Pending", async () => {
    const t = Date.now();
    const ns = "c-nodes";
    const pools = { small: { count: 2, allocatable: { cpu: "2", memory: "4Gi", pods: 110 } } };
    const config = scenarioConfig(ns, pools, quota("8"), {
      app: worker({ replicas: 5, resources: { requests: { cpu: "900m", memory: "128Mi" } } }),
    });
    const report = planCapacity(config);
    const u = report.cluster?.unschedulable.find((x) => x.workload === "app");
    await cluster.setNodePools(pools);
    await deploy(cluster, config);
    const obs = await settle(
      ns,
      async () => {
        const ps = live(await pods(cluster, ns));
        return {
          running: running(ps).length,
          pending: unschedulable(ps).map((p) => p.unschedulable!),
          total: ps.length,
        };
      },
      (o) => o.total === 5 && o.running + o.pending.length === 5,
    );
    const match = compareUnschedulable(u, obs.pending);
    record(
      "too little node capacity (5 x 900m on 2 nodes of 2 cpu)",
      predictedText(u),
      `${obs.running} Running, ${obs.pending.length} Pending: ${obs.pending[0] ?? "-"}`,
      match,
    );
    await cleanup(cluster, ns);
    timings.capacityNodes = Date.now() - t;
    expect(match).toBe(true);
  });

  async function loseZone(
    ns: string,
    cpu: string,
    variant?: { label: string; mutate: (m: Manifest) => Manifest },
  ): Promise<void> {
    const t = Date.now();
    const tag = variant ? `, ${variant.label}` : "";
    const zones = ["zone-a", "zone-b", "zone-c"];
    const pools = {
      zonal: { count: 1, zones, allocatable: { cpu: "2", memory: "4Gi", pods: 110 } },
    };
    const config = scenarioConfig(ns, pools, quota("8"), {
      app: worker({ replicas: 6, resources: { requests: { cpu, memory: "128Mi" } } }),
    });
    const report = planCapacity(config);
    const lost = zones[zones.length - 1];
    const before = report.cluster?.unschedulable.find((x) => x.workload === "app");
    const scenario = report.failover.find((s) => s.scenario === `without zone ${lost}`);
    const u = scenario?.unschedulable.find((x) => x.workload === "app");
    const nodes = await cluster.setNodePools(pools);
    await deploy(cluster, config, variant?.mutate);
    const observe = async () => {
      const ps = live(await pods(cluster, ns));
      return {
        running: running(ps).length,
        pending: unschedulable(ps).map((p) => p.unschedulable!),
        total: ps.length,
      };
    };
    const whole = await settle(
      ns,
      observe,
      (o) => o.total === 6 && o.running + o.pending.length === 6,
    );
    const beforeMatch = (before?.unplacedSteady ?? 0) === whole.pending.length;
    record(
      `all three zones up (6 x ${cpu}, 3 zones x 1 node of 2 cpu)${tag}`,
      `${before?.unplacedSteady ?? 0} steady pod(s) unschedulable`,
      `${whole.running} Running, ${whole.pending.length} Pending`,
      beforeMatch,
    );

    // Outage: the zone's nodes stay as objects but are tainted NoExecute (as the node lifecycle
    // controller does for unreachable nodes), so their pods are evicted.
    const zoneNodes = nodes.filter((n) => n.zone === lost).map((n) => n.name);
    await cluster.kubectlOk([
      "taint",
      "nodes",
      ...zoneNodes,
      "platform.test/zone-outage=true:NoExecute",
    ]);
    const outage = await settle(
      ns,
      observe,
      (o) => o.total === 6 && o.running + o.pending.length === 6,
    );
    const outageMatch = compareUnschedulable(u, outage.pending);
    record(
      `6 x ${cpu}${tag}: zone ${lost} down, its nodes still registered (NoExecute taint)`,
      predictedText(u),
      `${outage.running} Running, ${outage.pending.length} Pending: ${outage.pending[0] ?? "-"}`,
      outageMatch,
    );

    // The zone's nodes removed (what the planner's failover models).
    await cluster.removeNodes(zoneNodes);
    const removed = await settle(
      ns,
      observe,
      (o) => o.total === 6 && o.running + o.pending.length === 6,
    );
    const removedMatch = compareUnschedulable(u, removed.pending);
    record(
      `6 x ${cpu}${tag}: zone ${lost} lost, its nodes deleted`,
      predictedText(u),
      `${removed.running} Running, ${removed.pending.length} Pending: ${removed.pending[0] ?? "-"}`,
      removedMatch,
    );
    await cleanup(cluster, ns);
    timings[ns] = Date.now() - t;
    expect(beforeMatch).toBe(true);
    // Our spread constraints honour taints (nodeTaintsPolicy: Honor), so an outaged zone whose
    // tainted nodes are still registered is no longer an empty spread domain: this matches too.
    expect(outageMatch).toBe(true);
    expect(removedMatch).toBe(true);
  }

  it("losing a zone when the other zones are full: the evicted pods stay Pending", async () => {
    await loseZone("c-zone-full", "700m");
  });

  it("losing a zone with room to spare in the other zones", async () => {
    await loseZone("c-zone-room", "600m");
  });
});

function predictedText(u: Unschedulable | undefined): string {
  if (!u) return "every pod placed";
  const peak = `${u.unplaced} of ${u.pods} pods at peak (HPA max + surge) unplaced`;
  return u.unplacedSteady > 0
    ? `${u.unplacedSteady} steady pod(s) unschedulable (${peak}): ${u.reason}`
    : `every steady pod placed (${peak})`;
}

/**
 * Same number of steady pods unplaced, and every cause the planner names ("Insufficient cpu")
 * appears in each Pending pod's scheduling message. (The scheduler keeps a pod's last message
 * until it retries the pod, which a node deletion does not trigger for a resource shortfall, so
 * counts are compared exactly and causes by inclusion.)
 */
function compareUnschedulable(u: Unschedulable | undefined, pending: readonly string[]): boolean {
  const predicted = u?.unplacedSteady ?? 0;
  if (predicted !== pending.length) return false;
  if (predicted === 0) return true;
  const causes = u!.reason
    .replace(/^[^:]*: /, "")
    .replace(/\.$/, "")
    .split(", ")
    .map((c) => c.replace(/^\d+ /, ""));
  return pending.every((m) => causes.every((c) => m.includes(c)));
}
