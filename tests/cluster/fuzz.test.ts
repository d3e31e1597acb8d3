/**
 * The fuzzing gate against a real control plane: generated stack configs
 * (tests/helpers/config-arbitrary.ts, the unit tier's generator) that the pure path accepts,
 * with capacity that fits, are applied for real (server-side apply, not a dry run: namespaces
 * are created, objects reach etcd and the controllers act) into namespaces of their own. The
 * API server must reject none of them, and within 60 s every Deployment, StatefulSet and Job
 * must have its pods with no FailedCreate event.
 *
 * FUZZ_CLUSTER_CONFIGS sets how many accepted configs (default 300), FUZZ_SEED the seed; a
 * failure names the config index and prints its config. Skips, saying so, only when the
 * binaries are not built (bash scripts/cluster/build.sh).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../components/context";
import { planCapacity } from "../../platform/capacity/capacity";
import { ConfigError, parsePlatformConfig } from "../../platform/config";
import { planPlatform, type PlatformPlan } from "../../platform/plan";
import { startCluster, type Cluster } from "../../scripts/cluster/cluster";
import { stackConfig } from "../helpers/config-arbitrary";
import { clusterBinariesOrWarn } from "./helpers";

const bins = clusterBinariesOrWarn("tests/cluster/fuzz");
const SEED = Number(process.env.FUZZ_SEED ?? 20261202);
const WANTED = Number(process.env.FUZZ_CLUSTER_CONFIGS ?? 300);

type Raw = Record<string, unknown>;

interface Accepted {
  readonly index: number;
  readonly raw: Raw;
  readonly plan: PlatformPlan;
}

/** The config with each namespace renamed `f<index>-<name>`, so configs never meet. */
function isolated(raw: Raw, index: number): Raw {
  const rename = (ns: string) => `f${index}-${ns}`;
  const namespaces = Object.fromEntries(
    Object.entries(raw.namespaces as Record<string, unknown>).map(([k, v]) => [rename(k), v]),
  );
  const services = Object.fromEntries(
    Object.entries(raw.services as Record<string, Raw>).map(([k, v]) => [
      k,
      { ...v, namespace: rename(v.namespace as string) },
    ]),
  );
  return { ...raw, namespaces, services };
}

/** Generated configs the pure path accepts and whose capacity fits, until `wanted` are found. */
function acceptedConfigs(wanted: number): { accepted: Accepted[]; generated: number } {
  const accepted: Accepted[] = [];
  let generated = 0;
  for (const raw of fc.sample(stackConfig, { seed: SEED, numRuns: wanted * 20 })) {
    if (accepted.length >= wanted) break;
    generated++;
    const config = isolated(raw, generated);
    try {
      const plan = planPlatform(parsePlatformConfig(config), "fuzz");
      if (planCapacity(plan.config, plan).errors.length > 0) continue;
      accepted.push({ index: generated, raw: config, plan });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
    }
  }
  return { accepted, generated };
}

interface Listed<T> {
  items: T[];
}
type Meta = { metadata: { name: string; namespace: string; labels?: Record<string, string> } };
type EventItem = {
  reason: string;
  message: string;
  involvedObject: { kind: string; name: string; namespace: string };
};

describe.skipIf(!bins)("generated configs applied to a real control plane", () => {
  let cluster: Cluster;
  let accepted: Accepted[] = [];
  let generated = 0;
  const rejections: string[] = [];

  beforeAll(async () => {
    ({ accepted, generated } = acceptedConfigs(WANTED));
    cluster = await startCluster({
      nodePools: {
        fuzz: { count: 4, allocatable: { cpu: "64", memory: "256Gi", pods: 250 } },
      } as never,
      log: (l) => console.log(`[cluster] ${l}`),
    });
  }, 150_000);

  afterAll(async () => {
    await cluster?.stop();
  }, 60_000);

  /** Server-side apply of a batch; each object the API server refuses is recorded. */
  async function apply(objects: readonly Manifest[], what: string): Promise<void> {
    if (objects.length === 0) return;
    const r = await cluster.kubectl(
      ["apply", "--server-side", "--field-manager=pulumi-kubernetes", "-f", "-"],
      {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
        timeoutMs: 180_000,
      },
    );
    if (r.code !== 0) rejections.push(`${what}: ${r.stderr.trim()}`);
  }

  it(`${WANTED} accepted configs: no rejection, every workload has its pods, no FailedCreate`, async () => {
    expect(accepted.length).toBe(WANTED);
    const t0 = Date.now();
    const cluster0 = accepted.flatMap((a) => a.plan.cluster);
    const uniqueCluster = [
      ...new Map(cluster0.map((m) => [`${m.kind}/${m.metadata.name}`, m])).values(),
    ];
    await apply(uniqueCluster, "cluster-scoped objects");
    // Tenants first, then (once every quota has its status) the workloads, in batches.
    const BATCH = 25;
    for (let i = 0; i < accepted.length; i += BATCH) {
      const batch = accepted.slice(i, i + BATCH);
      await apply(
        batch.flatMap((a) => Object.values(a.plan.tenants).flat()),
        `tenants of configs ${batch[0].index}-${batch[batch.length - 1].index}`,
      );
    }
    const quotas = accepted.reduce(
      (n, a) =>
        n +
        Object.values(a.plan.tenants)
          .flat()
          .filter((m) => m.kind === "ResourceQuota").length,
      0,
    );
    for (let end = Date.now() + 60_000; ;) {
      const listed = JSON.parse(
        await cluster.kubectlOk(["get", "resourcequota", "-A", "-o", "json"], {
          timeoutMs: 60_000,
        }),
      ) as Listed<{ status?: { hard?: unknown } }>;
      if (listed.items.filter((q) => q.status?.hard).length >= quotas) break;
      if (Date.now() > end) throw new Error("quota status did not appear in 60 s");
      await new Promise((r) => setTimeout(r, 1000));
    }
    for (let i = 0; i < accepted.length; i += BATCH) {
      const batch = accepted.slice(i, i + BATCH);
      await apply(
        batch.flatMap((a) => Object.values(a.plan.workloads).flat()),
        `workloads of configs ${batch[0].index}-${batch[batch.length - 1].index}`,
      );
    }
    const applied = Date.now();
    expect(rejections).toEqual([]);

    // Every pod owner (CronJobs run on their schedule) has pods within 60 s.
    const owners = accepted.flatMap((a) =>
      Object.values(a.plan.workloads)
        .flat()
        .filter((m) => ["Deployment", "StatefulSet", "Job"].includes(m.kind))
        .map((m) => ({ config: a, key: `${m.metadata.namespace}/${m.metadata.name}` })),
    );
    let missing = owners;
    while (missing.length > 0 && Date.now() - applied < 60_000) {
      await new Promise((r) => setTimeout(r, 2000));
      const pods = JSON.parse(
        await cluster.kubectlOk(["get", "pods", "-A", "-o", "json"], { timeoutMs: 60_000 }),
      ) as Listed<Meta>;
      const withPods = new Set(
        pods.items.map(
          (p) => `${p.metadata.namespace}/${p.metadata.labels?.["app.kubernetes.io/name"] ?? ""}`,
        ),
      );
      missing = missing.filter((o) => !withPods.has(o.key));
    }
    const events = JSON.parse(
      await cluster.kubectlOk(["get", "events", "-A", "-o", "json"], { timeoutMs: 60_000 }),
    ) as Listed<EventItem>;
    const failedCreate = events.items
      .filter((e) => e.reason === "FailedCreate")
      .map((e) => `${e.involvedObject.namespace}/${e.involvedObject.name}: ${e.message}`);
    const objects = accepted.reduce(
      (n, a) =>
        n +
        Object.values(a.plan.tenants).flat().length +
        Object.values(a.plan.workloads).flat().length,
      0,
    );
    console.log(
      `fuzz on the control plane (seed ${SEED}): ${generated} configs generated, ${accepted.length} accepted and applied ` +
        `(${objects} objects, ${owners.length} pod owners) in ${Math.round((applied - t0) / 1000)} s; ` +
        `${rejections.length} server rejections, ${missing.length} owners without pods after 60 s, ${failedCreate.length} FailedCreate`,
    );
    const firstMissing = missing[0];
    expect(
      missing.map((m) => m.key),
      firstMissing
        ? `config ${firstMissing.config.index}: ${JSON.stringify(firstMissing.config.raw)}`
        : "",
    ).toEqual([]);
    expect(failedCreate).toEqual([]);
  }, 900_000);
});
