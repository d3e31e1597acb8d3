import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  autoQuota,
  clusterFit,
  namespaceFit,
  podResources,
  workloadFootprint,
  type Footprint,
} from "../platform/capacity/capacity";
import { parsePlatformConfig, type PlatformConfig } from "../platform/config";
import { admits, placePods, type NodeSpec, type PodGroup } from "../platform/capacity/placement";
import { Quantity } from "../components/quantity";

type Raw = Record<string, unknown>;
const RUNS = { numRuns: 100 };

const cpu = fc.integer({ min: 10, max: 4000 }).map((m) => `${m}m`);
const memory = fc.integer({ min: 16, max: 8192 }).map((mi) => `${mi}Mi`);
const resources = fc.record({ requests: fc.record({ cpu, memory }) });
const intOrPercent = fc.oneof(
  fc.integer({ min: 0, max: 3 }),
  fc.integer({ min: 0, max: 100 }).map((p) => `${p}%`),
);
const rollout = fc
  .record({ maxSurge: intOrPercent, maxUnavailable: intOrPercent })
  .filter(
    ({ maxSurge, maxUnavailable }) =>
      ![maxSurge, maxUnavailable].every((v) => v === 0 || v === "0%"),
  );
const container = (name: string) =>
  fc.record({ name: fc.constant(name), image: fc.constant("ghcr.io/acme/side:1.0.0"), resources });

const deployment = (kind: "web" | "worker") =>
  fc
    .record({
      scale: fc.oneof(
        fc.record({ replicas: fc.integer({ min: 0, max: 6 }) }),
        fc.integer({ min: 1, max: 4 }).chain((min) =>
          fc.record({
            autoscale: fc.record({
              min: fc.constant(min),
              max: fc.integer({ min, max: min + 6 }),
            }),
          }),
        ),
      ),
      rollout: fc.option(rollout, { nil: undefined }),
      resources,
      sidecars: fc.option(fc.tuple(container("proxy")), { nil: undefined }),
    })
    .map(({ scale, ...rest }): Raw => ({
      kind,
      image: "ghcr.io/acme/app:1.0.0",
      ...(kind === "web" ? { ports: { http: 8080 } } : {}),
      ...scale,
      ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    }));
const statefulSet = fc
  .record({
    replicas: fc.integer({ min: 0, max: 5 }),
    size: fc.integer({ min: 1, max: 50 }),
    resources,
  })
  .map(({ replicas, size, resources: res }): Raw => ({
    kind: "stateful",
    image: "ghcr.io/acme/db:1.0.0",
    ports: { pg: 5432 },
    replicas,
    storage: { size: `${size}Gi`, mountPath: "/data" },
    resources: res,
  }));
const cronJob = fc
  .record({
    parallelism: fc.integer({ min: 1, max: 4 }),
    policy: fc.constantFrom("Forbid", "Replace", "Allow"),
    resources,
  })
  .map(({ parallelism, policy, resources: res }): Raw => ({
    kind: "cron",
    image: "ghcr.io/acme/job:1.0.0",
    schedule: "0 3 * * *",
    cron: {
      parallelism,
      concurrencyPolicy: policy,
      ...(policy === "Allow" ? { activeDeadlineSeconds: 600 } : {}),
    },
    resources: res,
  }));
const workload: fc.Arbitrary<Raw> = fc
  .oneof(deployment("web"), deployment("worker"), statefulSet, cronJob)
  .map((w) => ({ ...w, namespace: "shop" }));
const services = fc
  .array(workload, { minLength: 1, maxLength: 4 })
  .map((list) => Object.fromEntries(list.map((w, i) => [`svc${i}`, w])));

function platform(svcs: Raw, shop: Raw = {}, cluster: Raw = {}): PlatformConfig {
  return parsePlatformConfig({
    tier: "staging",
    cluster: { cloud: "eks", name: "prop", ...cluster },
    namespaces: { shop },
    services: svcs,
  });
}

/** The same workload with one pod more wherever its kind counts pods. */
function withOneMorePod(w: Raw): Raw {
  const autoscale = w.autoscale as { min: number; max: number } | undefined;
  if (autoscale) return { ...w, autoscale: { ...autoscale, max: autoscale.max + 1 } };
  if (w.kind === "cron") {
    const c = w.cron as Raw;
    return { ...w, cron: { ...c, parallelism: (c.parallelism as number) + 1 } };
  }
  return { ...w, replicas: ((w.replicas as number | undefined) ?? 1) + 1 };
}

function footprintNumbers(fp: Footprint): number[] {
  return [
    fp.pods,
    ...Object.values(fp.requests),
    ...Object.values(fp.limits),
    fp.storage,
    fp.persistentVolumeClaims,
  ];
}

const atLeast = (after: readonly number[], before: readonly number[]) =>
  after.every((a, i) => a >= before[i]);
const amount = (text: string) => Quantity.parse(text).nanos;

describe("footprints are monotone", () => {
  it("adding a pod never lowers a workload's footprint", () => {
    fc.assert(
      fc.property(workload, (raw) => {
        const before = workloadFootprint("w", platform({ w: raw }).services.w);
        const after = workloadFootprint("w", platform({ w: withOneMorePod(raw) }).services.w);
        for (const phase of ["steady", "max", "peak"] as const) {
          expect(atLeast(footprintNumbers(after[phase]), footprintNumbers(before[phase]))).toBe(
            true,
          );
        }
        expect(after.max.pods).toBeGreaterThan(before.max.pods);
      }),
      RUNS,
    );
  });

  it("adding a container never lowers a pod's requests or limits", () => {
    fc.assert(
      fc.property(
        workload,
        resources,
        fc.boolean(),
        fc.boolean(),
        (raw, res, asInit, restartAlways) => {
          const extra = {
            name: "extra",
            image: "ghcr.io/acme/extra:1.0.0",
            resources: res,
            ...(asInit && restartAlways ? { restartAlways } : {}),
          };
          const field = asInit ? "initContainers" : "sidecars";
          const grown = { ...raw, [field]: [...((raw[field] as Raw[] | undefined) ?? []), extra] };
          const before = podResources(platform({ w: raw }).services.w);
          const after = podResources(platform({ w: grown }).services.w);
          expect(atLeast(Object.values(after.requests), Object.values(before.requests))).toBe(true);
          expect(atLeast(Object.values(after.limits), Object.values(before.limits))).toBe(true);
        },
      ),
      RUNS,
    );
  });

  it("adding a workload never lowers a namespace's use of any quota key", () => {
    const quota = {
      "requests.cpu": "1",
      "limits.memory": "1Gi",
      pods: 1,
      "requests.storage": "1Gi",
      "count/deployments.apps": 1,
      configmaps: 1,
    };
    fc.assert(
      fc.property(services, workload, (svcs, extra) => {
        const [before] = namespaceFit(platform(svcs, { quota }));
        const [after] = namespaceFit(platform({ ...svcs, extra }, { quota }));
        after.quota.forEach((row, i) => {
          for (const phase of ["steady", "max", "peak"] as const) {
            expect(amount(row[phase]) >= amount(before.quota[i][phase])).toBe(true);
          }
        });
      }),
      RUNS,
    );
  });
});

describe("fitting is monotone in quota", () => {
  const quotaKeys = [
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "pods",
    "requests.storage",
    "persistentvolumeclaims",
  ];
  const units = (key: string) =>
    key.endsWith("cpu") ? "m" : key.endsWith("memory") || key.endsWith("storage") ? "Mi" : "";
  const smallQuota = fc.record(
    Object.fromEntries(quotaKeys.map((k) => [k, fc.integer({ min: 0, max: 40 })])) as Record<
      string,
      fc.Arbitrary<number>
    >,
  );
  const troubled = (config: PlatformConfig) =>
    new Set(
      namespaceFit(config)
        .flatMap((ns) => ns.findings)
        .filter((f) => f.severity !== "info")
        .map((f) => f.resource),
    );

  it("a bigger quota never adds a finding, so a config that fits still fits", () => {
    fc.assert(
      fc.property(
        services,
        smallQuota,
        fc.array(fc.integer({ min: 0, max: 40 }), {
          minLength: quotaKeys.length,
          maxLength: quotaKeys.length,
        }),
        (svcs, base, extra) => {
          // Quotas in hundreds of millicores / Mebibytes so that both fitting and failing configs occur.
          const scale = (k: string, v: number) =>
            units(k) === "" ? v : units(k) === "m" ? `${v * 200}m` : `${v * 256}Mi`;
          const small = Object.fromEntries(quotaKeys.map((k) => [k, scale(k, base[k])]));
          const big = Object.fromEntries(
            quotaKeys.map((k, i) => [k, scale(k, base[k] + extra[i])]),
          );
          const before = troubled(platform(svcs, { quota: small }));
          const after = troubled(platform(svcs, { quota: big }));
          for (const resource of after) expect(before.has(resource)).toBe(true);
          if (before.size === 0) expect(after.size).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it("autoQuota always fits its namespace", () => {
    fc.assert(
      fc.property(services, fc.integer({ min: 0, max: 100 }), (svcs, headroom) => {
        const quota = autoQuota(platform(svcs), "shop", headroom);
        expect(troubled(platform(svcs, { quota }))).toEqual(new Set());
      }),
      RUNS,
    );
  });
});

describe("placement", () => {
  const nodeArb = fc.record({
    cpu: fc.integer({ min: 1, max: 8 }).map((c) => c * 1000),
    memory: fc.integer({ min: 1, max: 16 }).map((g) => g * 2 ** 30),
    pods: fc.integer({ min: 1, max: 12 }),
    zone: fc.option(fc.constantFrom("a", "b", "c"), { nil: undefined }),
    tainted: fc.boolean(),
  });
  const groupArb = fc.record({
    cpu: fc.integer({ min: 1, max: 30 }).map((c) => c * 100),
    memory: fc.integer({ min: 1, max: 32 }).map((m) => m * 256 * 2 ** 20),
    zoneSpread: fc.option(fc.constantFrom("DoNotSchedule" as const, "ScheduleAnyway" as const), {
      nil: undefined,
    }),
    tolerates: fc.boolean(),
    count: fc.integer({ min: 0, max: 12 }),
  });
  type NodeArb = {
    cpu: number;
    memory: number;
    pods: number;
    zone: string | undefined;
    tainted: boolean;
  };
  const toNodes = (specs: readonly NodeArb[]): NodeSpec[] =>
    specs.map((s, i) => ({
      name: `n${i}`,
      pool: "p",
      cpu: s.cpu,
      memory: s.memory,
      pods: s.pods,
      ...(s.zone ? { zone: s.zone } : {}),
      taints: s.tainted ? [{ key: "dedicated", value: "x", effect: "NoSchedule" as const }] : [],
    }));
  const toGroups = (
    specs: ReadonlyArray<{
      cpu: number;
      memory: number;
      zoneSpread: PodGroup["zoneSpread"];
      tolerates: boolean;
    }>,
  ): PodGroup[] =>
    specs.map((s, i) => ({
      name: `g${i}`,
      cpu: s.cpu,
      memory: s.memory,
      ...(s.zoneSpread ? { zoneSpread: s.zoneSpread } : {}),
      ...(s.tolerates ? { tolerations: [{ key: "dedicated", operator: "Exists" as const }] } : {}),
    }));

  it("never overcommits a node, accounts for every pod and keeps DoNotSchedule skew within 1", () => {
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 8 }),
        fc.array(groupArb, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (nodeSpecs, groupSpecs, binpack) => {
          const nodes = toNodes(nodeSpecs);
          const groups = toGroups(groupSpecs);
          const steps = groupSpecs.map((g, i) => ({ group: i, count: g.count }));
          const result = placePods(nodes, groups, steps, {
            scoring: binpack ? "binpack" : "spread",
          });
          result.nodes.forEach((n, i) => {
            expect(n.cpu).toBeLessThanOrEqual(nodes[i].cpu);
            expect(n.memory).toBeLessThanOrEqual(nodes[i].memory);
            expect(n.pods).toBeLessThanOrEqual(nodes[i].pods);
          });
          result.groups.forEach((g, i) => {
            expect(g.placed + g.unplaced).toBe(groupSpecs[i].count);
            expect(Object.values(g.byNode).reduce((a, b) => a + b, 0)).toBe(g.placed);
            if (groupSpecs[i].zoneSpread !== "DoNotSchedule") return;
            // Domains (nodeTaintsPolicy Honor): zones with a node the group admits; every placed
            // pod's node has a zone.
            const perZone = new Map(
              [
                ...new Set(nodes.flatMap((n) => (n.zone && admits(n, groups[i]) ? [n.zone] : []))),
              ].map((z) => [z, 0]),
            );
            for (const [name, c] of Object.entries(g.byNode)) {
              const zone = nodes.find((n) => n.name === name)!.zone!;
              perZone.set(zone, perZone.get(zone)! + c);
            }
            const counts = [...perZone.values()];
            if (counts.length > 0)
              expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          });
        },
      ),
      RUNS,
    );
  });

  it("identical pods that fit still fit with an extra node", () => {
    fc.assert(
      fc.property(
        fc.array(nodeArb, { minLength: 1, maxLength: 8 }),
        nodeArb,
        groupArb,
        fc.boolean(),
        (nodeSpecs, extra, groupSpec, binpack) => {
          const groups = toGroups([groupSpec]);
          const steps = [{ group: 0, count: groupSpec.count }];
          const options = { scoring: binpack ? ("binpack" as const) : ("spread" as const) };
          const before = placePods(toNodes(nodeSpecs), groups, steps, options);
          fc.pre(before.groups[0].unplaced === 0);
          // The extra node joins a zone that already is a spread domain for these pods: a zone of
          // a node they tolerate. (A new zone, or one with only nodes they cannot tolerate, is a
          // new spread domain, which can block a DoNotSchedule spread when the node is too small
          // for a pod; the real scheduler does the same.)
          const usable = nodeSpecs.find((n) => !n.tainted || groupSpec.tolerates);
          fc.pre(usable !== undefined);
          const joined = { ...extra, zone: usable!.zone };
          const after = placePods(toNodes([...nodeSpecs, joined]), groups, steps, options);
          expect(after.groups[0].unplaced).toBe(0);
        },
      ),
      RUNS,
    );
  });

  it("a config whose pods fit still fits with one more node per zone", () => {
    const pool = fc.record({
      count: fc.integer({ min: 1, max: 3 }),
      zones: fc.option(fc.constantFrom(["a"], ["a", "b"], ["a", "b", "c"]), { nil: undefined }),
      cpu: fc.integer({ min: 1, max: 8 }),
      memory: fc.integer({ min: 2, max: 32 }),
    });
    fc.assert(
      fc.property(services, pool, (svcs, p) => {
        const nodePools = (count: number) => ({
          general: {
            count,
            ...(p.zones ? { zones: p.zones } : {}),
            allocatable: { cpu: String(p.cpu), memory: `${p.memory}Gi`, pods: 30 },
          },
        });
        const before = clusterFit(platform(svcs, {}, { nodePools: nodePools(p.count) }))!;
        fc.pre(before.unschedulable.length === 0);
        const after = clusterFit(platform(svcs, {}, { nodePools: nodePools(p.count + 1) }))!;
        expect(after.unschedulable).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });
});
