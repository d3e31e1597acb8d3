import { describe, expect, it } from "vitest";
import {
  autoQuota,
  clusterFit,
  failover,
  limitRangeDefaults,
  namespaceFit,
  nodesFromPools,
  planCapacity,
  podResources,
  resolveFenceposts,
  scaledValue,
  workloadFootprint,
  type CapacityReport,
} from "../platform/capacity/capacity";
import {
  capacityDelta,
  capacityFigures,
  capacityHeadline,
  formatCapacityDeltaMarkdown,
  formatCapacityDeltaText,
} from "../platform/capacity/figures";
import {
  CapacityError,
  checkCapacity,
  formatCapacityMarkdown,
  formatCapacityTable,
  formatCapacityWarnings,
} from "../platform/capacity/report";
import { parsePlatformConfig, type PlatformConfig } from "../platform/config";
import { placePods, type NodeSpec, type PodGroup } from "../platform/capacity/placement";

type Raw = Record<string, unknown>;
const MI = 2 ** 20;
const GI = 2 ** 30;

const web = (extra: Raw = {}): Raw => ({
  kind: "web",
  namespace: "shop",
  image: "ghcr.io/acme/api:1.0.0",
  ports: { http: 8080 },
  resources: { requests: { cpu: "500m", memory: "512Mi" } },
  ...extra,
});
const worker = (extra: Raw = {}): Raw => ({
  kind: "worker",
  namespace: "shop",
  image: "ghcr.io/acme/worker:1.0.0",
  resources: { requests: { cpu: "250m", memory: "256Mi" } },
  ...extra,
});
const stateful = (extra: Raw = {}): Raw => ({
  kind: "stateful",
  namespace: "shop",
  image: "ghcr.io/acme/db:1.0.0",
  ports: { pg: 5432 },
  storage: { size: "10Gi", mountPath: "/data" },
  resources: { requests: { cpu: "1", memory: "2Gi" } },
  ...extra,
});
const cron = (extra: Raw = {}): Raw => ({
  kind: "cron",
  namespace: "shop",
  image: "ghcr.io/acme/job:1.0.0",
  schedule: "0 3 * * *",
  resources: { requests: { cpu: "100m", memory: "128Mi" } },
  ...extra,
});

interface Options {
  readonly tier?: "dev" | "staging" | "prod";
  readonly shop?: Raw;
  readonly cluster?: Raw;
  readonly capacity?: Raw;
}

/** A minimal valid config: one namespace "shop" on an EKS cluster. */
function platform(services: Raw, options: Options = {}): PlatformConfig {
  return parsePlatformConfig({
    tier: options.tier ?? "staging",
    cluster: { cloud: "eks", name: "test", ...(options.cluster ?? {}) },
    namespaces: { shop: options.shop ?? {} },
    services,
    ...(options.capacity ? { capacity: options.capacity } : {}),
  });
}

const svc = (config: PlatformConfig, name: string) => config.services[name];
const findingsOf = (config: PlatformConfig) => namespaceFit(config).flatMap((ns) => ns.findings);

describe("podResources", () => {
  it("sums the long-running containers, sidecars included; limits default to requests", () => {
    const config = platform({
      api: web({
        resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1" } },
        sidecars: [
          {
            name: "proxy",
            image: "envoy:1.30",
            resources: { requests: { cpu: "100m", memory: "64Mi" } },
          },
        ],
      }),
    });
    expect(podResources(svc(config, "api"))).toEqual({
      requests: { cpu: 600, memory: 576 * MI, "ephemeral-storage": 0 },
      limits: { cpu: 1100, memory: 576 * MI, "ephemeral-storage": 0 },
    });
  });

  it("takes the largest init container when it exceeds the sum", () => {
    const config = platform({
      api: web({
        initContainers: [
          {
            name: "migrate",
            image: "migrate:1",
            resources: { requests: { cpu: "2", memory: "256Mi" } },
          },
        ],
      }),
    });
    // cpu: max(500m, 2) = 2; memory: max(512Mi, 256Mi) = 512Mi.
    expect(podResources(svc(config, "api")).requests).toEqual({
      cpu: 2000,
      memory: 512 * MI,
      "ephemeral-storage": 0,
    });
  });

  it("adds native sidecars to the sum and under every later init container, in order", () => {
    const sidecar = {
      name: "mesh",
      image: "mesh:1",
      restartAlways: true,
      resources: { requests: { cpu: "200m", memory: "128Mi" } },
    };
    const migrate = {
      name: "migrate",
      image: "migrate:1",
      resources: { requests: { cpu: "1", memory: "256Mi" } },
    };
    // Sidecar first: sum 700m/640Mi; stages 200m/128Mi and 1200m/384Mi -> 1200m/640Mi.
    const after = platform({ api: web({ initContainers: [sidecar, migrate] }) });
    expect(podResources(svc(after, "api")).requests).toEqual({
      cpu: 1200,
      memory: 640 * MI,
      "ephemeral-storage": 0,
    });
    // Migration first: stages 1/256Mi and 200m/128Mi -> max(700m, 1) = 1, memory 640Mi.
    const before = platform({ api: web({ initContainers: [migrate, sidecar] }) });
    expect(podResources(svc(before, "api")).requests).toEqual({
      cpu: 1000,
      memory: 640 * MI,
      "ephemeral-storage": 0,
    });
  });

  it("fills unset values from the namespace's LimitRange defaults", () => {
    const config = platform(
      {
        api: web({
          sidecars: [
            {
              name: "proxy",
              image: "envoy:1.30",
              resources: { requests: { cpu: "100m", memory: "64Mi" } },
            },
          ],
        }),
      },
      {
        shop: {
          limits: {
            defaultRequest: { "ephemeral-storage": "1Gi" },
            default: { "ephemeral-storage": "2Gi" },
          },
        },
      },
    );
    const fp = workloadFootprint("api", svc(config, "api"), config.namespaces.shop);
    expect(fp.pod.requests["ephemeral-storage"]).toBe(2 * GI);
    expect(fp.pod.limits["ephemeral-storage"]).toBe(4 * GI);
  });

  it("completes LimitRange defaults as the API server does (limit from max, request from limit)", () => {
    const config = platform(
      { api: web() },
      { shop: { limits: { max: { "ephemeral-storage": "4Gi" } } } },
    );
    expect(limitRangeDefaults(config.namespaces.shop)).toEqual({
      defaultRequest: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "4Gi" },
      default: { cpu: "500m", memory: "512Mi", "ephemeral-storage": "4Gi" },
      max: { "ephemeral-storage": "4Gi" },
    });
  });
});

describe("limitRangeDefaults", () => {
  it("follows the LimitRange buildTenant emits: platform defaults yield to the namespace's max", () => {
    const config = platform({ api: web() }, { shop: { limits: { max: { memory: "256Mi" } } } });
    expect(limitRangeDefaults(config.namespaces.shop)).toEqual({
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      default: { cpu: "500m", memory: "256Mi" },
      max: { memory: "256Mi" },
    });
  });
});

describe("rollout fenceposts", () => {
  it("follows the Kubernetes documentation: 30% surge on 10 replicas gives at most 13 pods", () => {
    expect(resolveFenceposts("30%", "30%", 10)).toEqual({ maxSurge: 3, maxUnavailable: 3 });
    const config = platform({
      api: web({ replicas: 10, rollout: { maxSurge: "30%", maxUnavailable: "30%" } }),
    });
    const fp = workloadFootprint("api", svc(config, "api"));
    expect([fp.steady.pods, fp.max.pods, fp.peak.pods]).toEqual([10, 10, 13]);
  });

  it("rounds maxSurge up and maxUnavailable down", () => {
    expect(resolveFenceposts("25%", "25%", 3)).toEqual({ maxSurge: 1, maxUnavailable: 0 });
    expect(resolveFenceposts("10%", "90%", 5)).toEqual({ maxSurge: 1, maxUnavailable: 4 });
    expect(scaledValue(2, 100, true)).toBe(2);
  });

  it("sets maxUnavailable to 1 when both resolve to 0", () => {
    expect(resolveFenceposts(0, "10%", 5)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
    expect(resolveFenceposts("25%", "25%", 0)).toEqual({ maxSurge: 0, maxUnavailable: 1 });
  });
});

describe("workloadFootprint", () => {
  it("gives steady at HPA min, max at HPA max, peak with the surge of max", () => {
    const config = platform({ api: web({ autoscale: { min: 2, max: 10 } }) });
    const fp = workloadFootprint("api", svc(config, "api"));
    // 25% of 10 rounds up to 3: 13 pods at peak.
    expect([fp.steady.pods, fp.max.pods, fp.peak.pods]).toEqual([2, 10, 13]);
    expect([fp.steady.requests.cpu, fp.max.requests.cpu, fp.peak.requests.cpu]).toEqual([
      1000, 5000, 6500,
    ]);
    expect(fp.peak.limits.memory).toBe(13 * 512 * MI);
    expect(fp.rollout).toEqual({
      steady: { maxSurge: 1, maxUnavailable: 0 },
      max: { maxSurge: 3, maxUnavailable: 0 },
    });
  });

  it("uses 25% maxUnavailable for workers", () => {
    const config = platform({ jobs: worker({ replicas: 4 }) });
    expect(workloadFootprint("jobs", svc(config, "jobs")).rollout?.steady).toEqual({
      maxSurge: 1,
      maxUnavailable: 1,
    });
  });

  it("counts one claim per StatefulSet replica and no surge", () => {
    const config = platform({ db: stateful({ replicas: 3 }) });
    const fp = workloadFootprint("db", svc(config, "db"));
    expect(fp.peak).toEqual({
      pods: 3,
      requests: { cpu: 3000, memory: 6 * GI, "ephemeral-storage": 0 },
      limits: { cpu: 3000, memory: 6 * GI, "ephemeral-storage": 0 },
      storage: 30 * GI,
      persistentVolumeClaims: 3,
    });
    expect(fp.rollout).toBeUndefined();
  });

  it("counts parallelism per CronJob run, and under Allow the runs its deadline overlaps", () => {
    const pods = (cronConfig: Raw, schedule = "0 3 * * *") => {
      const config = platform({ job: cron({ cron: cronConfig, schedule }) });
      const fp = workloadFootprint("job", svc(config, "job"));
      return [fp.steady.pods, fp.peak.pods];
    };
    expect(pods({ parallelism: 3 })).toEqual([3, 3]);
    expect(pods({ parallelism: 3, concurrencyPolicy: "Replace" })).toEqual([3, 3]);
    const allow = { parallelism: 2, concurrencyPolicy: "Allow", activeDeadlineSeconds: 600 };
    // Daily runs of at most 10 minutes never overlap; every minute, ten can run at once.
    expect(pods(allow)).toEqual([2, 2]);
    expect(pods(allow, "* * * * *")).toEqual([20, 20]);
    expect(pods(allow, "*/4 * * * *")).toEqual([6, 6]);
    // The shortest gap counts: 0 and 5 past the hour are 5 minutes apart.
    expect(pods(allow, "0,5 * * * *")).toEqual([4, 4]);
  });

  it("refuses Allow without a deadline: the overlap would have no bound", () => {
    expect(() =>
      platform({ job: cron({ cron: { concurrencyPolicy: "Allow" }, schedule: "* * * * *" }) }),
    ).toThrowError(
      "services.job.cron.activeDeadlineSeconds: needed with concurrencyPolicy Allow: runs could overlap without end, so their capacity cannot be planned; set the longest a run may take (e.g. 600), or use Forbid",
    );
  });

  it("counts a Job's parallelism once: a re-run replaces the old Job", () => {
    const config = platform({
      migrate: { ...cron({ job: { parallelism: 3 } }), kind: "job", schedule: undefined },
    });
    const fp = workloadFootprint("migrate", svc(config, "migrate"));
    expect([fp.steady.pods, fp.max.pods, fp.peak.pods]).toEqual([3, 3, 3]);
    expect(fp.rollout).toBeUndefined();
  });
});

describe("namespaceFit", () => {
  it("fails on steady use over quota with one table and the fixes", () => {
    // 5 × 500m = 2500m steady; one surge pod needs 3000m, which also clears the rollout check.
    const config = platform(
      { api: web({ replicas: 5 }) },
      { shop: { quota: { "requests.cpu": "2", pods: 10 } } },
    );
    const report = planCapacity(config);
    expect(report.errors).toHaveLength(1);
    expect(() => checkCapacity(config)).toThrowError(
      [
        "Capacity check failed (1 error); nothing was created:",
        "",
        "  namespace  resource      quota  steady   peak  over by  problem",
        "  shop       requests.cpu      2   2500m  3500m     500m  steady use over quota",
        "",
        "  Fixes:",
        "  - raise requests.cpu in namespace shop to 3, or lower api replicas to 3",
      ].join("\n"),
    );
    expect(() => checkCapacity(config)).toThrowError(CapacityError);
  });

  it("fails when a rollout cannot place one surge pod and maxUnavailable is 0", () => {
    const config = platform({ api: web({ replicas: 4 }) }, { shop: { quota: { pods: 4 } } });
    expect(findingsOf(config)).toEqual([
      {
        severity: "error",
        kind: "rollout-blocked",
        namespace: "shop",
        workload: "api",
        resource: "pods",
        quota: "4",
        steady: "4",
        peak: "5",
        overBy: "1",
        message: "api rollout cannot start: no room for one surge pod and maxUnavailable is 0",
        fixes: ["raise pods in namespace shop to 5", "set api rollout.maxUnavailable to 1"],
      },
    ]);
  });

  it("warns when quota only slows a rollout", () => {
    const config = platform(
      { api: web({ replicas: 4, rollout: { maxUnavailable: 1 } }) },
      { shop: { quota: { pods: 4 } } },
    );
    const report = planCapacity(config);
    expect(report.errors).toEqual([]);
    expect(formatCapacityWarnings(report)).toBe(
      [
        "Capacity warnings (1):",
        "",
        "  namespace  resource  quota  steady  peak  over by  problem",
        "  shop       pods          4       4     5        1  rollout surge over quota: rollouts slowed",
        "",
        "  Fixes:",
        "  - raise pods in namespace shop to 5",
      ].join("\n"),
    );
  });

  it("treats HPA max over quota as a warning, or an error in prod unless the stack says warn", () => {
    const severity = (tier: Options["tier"], capacity?: Raw) => {
      const config = platform(
        { api: web({ autoscale: { min: 2, max: 10 } }) },
        { tier, capacity, shop: { quota: { pods: 8 } } },
      );
      return findingsOf(config).map((f) => [f.severity, f.kind, f.message, f.overBy, f.fixes]);
    };
    const finding = (lowerTo: number) => [
      "max-over-quota",
      "HPA max over quota (api 10)",
      "2",
      ["raise pods in namespace shop to 13", `lower api autoscale.max to ${lowerTo}`],
    ];
    expect(severity("staging")).toEqual([["warning", ...finding(8)]]);
    // Where peaks are errors, the lower max leaves room for the rollout surge too (at 8 the
    // surge of 2 would make a new error).
    expect(severity("prod")).toEqual([["error", ...finding(5)]]);
    expect(severity("prod", { peakOverQuota: "warn" })).toEqual([["warning", ...finding(8)]]);
    expect(severity("dev", { peakOverQuota: "error" })).toEqual([["error", ...finding(5)]]);
  });

  it("names a rollout that cannot start at HPA max", () => {
    // max 10 pods fit exactly; an eleventh (the first surge pod at max) does not.
    const config = platform(
      { api: web({ autoscale: { min: 2, max: 10 } }) },
      { shop: { quota: { pods: 10 } } },
    );
    expect(findingsOf(config).map((f) => [f.severity, f.message])).toEqual([
      ["warning", "api rollout at HPA max cannot start (maxUnavailable 0)"],
    ]);
  });

  it("names the autoscaled workloads when the rollout that cannot start has no HPA", () => {
    // web (2, no HPA) and worker (HPA max 8) fill 10 pods; web's first surge pod does not fit.
    const config = platform(
      {
        web: web({ replicas: 2 }),
        worker: { ...web({ autoscale: { min: 1, max: 8 } }), kind: "worker", ports: undefined },
      },
      { shop: { quota: { pods: 10 } } },
    );
    expect(findingsOf(config).map((f) => [f.severity, f.message])).toEqual([
      ["warning", "web rollout cannot start while worker is at HPA max (maxUnavailable 0)"],
    ]);
  });

  it("checks storage, claims and per-class keys", () => {
    const config = platform(
      { db: stateful({ replicas: 3 }) },
      {
        shop: {
          quota: {
            "requests.storage": "25Gi",
            persistentvolumeclaims: 3,
            "gp3.storageclass.storage.k8s.io/requests.storage": "20Gi",
            "io2.storageclass.storage.k8s.io/persistentvolumeclaims": 0,
          },
        },
      },
    );
    const [fit] = namespaceFit(config);
    expect(fit.quota.map((q) => [q.resource, q.quota, q.steady, q.peak])).toEqual([
      ["gp3.storageclass.storage.k8s.io/requests.storage", "20Gi", "30Gi", "30Gi"],
      ["io2.storageclass.storage.k8s.io/persistentvolumeclaims", "0", "0", "0"],
      ["persistentvolumeclaims", "3", "3", "3"],
      ["requests.storage", "25Gi", "30Gi", "30Gi"],
    ]);
    expect(fit.findings.map((f) => [f.severity, f.resource, f.overBy, f.fixes])).toEqual([
      [
        "error",
        "gp3.storageclass.storage.k8s.io/requests.storage",
        "10Gi",
        ["raise gp3.storageclass.storage.k8s.io/requests.storage in namespace shop to 30Gi"],
      ],
      ["error", "requests.storage", "5Gi", ["raise requests.storage in namespace shop to 30Gi"]],
    ]);
  });

  it("counts the objects we create and those our controllers keep", () => {
    const config = platform(
      {
        api: web({
          replicas: 2,
          expose: { type: "LoadBalancer" },
          ports: { http: 8080, metrics: 9090 },
          secretEnv: { DB_PASSWORD: "db-password" },
          volumes: { conf: { mountPath: "/etc/api", configMap: { data: { "a.yaml": "x: 1" } } } },
        }),
      },
      {
        shop: {
          quota: {
            "count/deployments.apps": 1,
            "count/replicasets.apps": 6,
            configmaps: 2,
            secrets: 1,
            "services.loadbalancers": 1,
            "services.nodeports": 1,
          },
        },
      },
    );
    const [fit] = namespaceFit(config);
    expect(fit.quota.map((q) => [q.resource, q.steady, q.peak])).toEqual([
      ["configmaps", "2", "2"], // kube-root-ca.crt and the generated one
      ["count/deployments.apps", "1", "1"],
      ["count/replicasets.apps", "6", "7"], // revisionHistoryLimit 5 + 1, one more mid-rollout
      ["secrets", "1", "1"],
      ["services.loadbalancers", "1", "1"],
      ["services.nodeports", "2", "2"], // one node port per port of a LoadBalancer
    ]);
    expect(fit.findings.map((f) => [f.severity, f.resource, f.message, f.fixes])).toEqual([
      [
        "error",
        "count/replicasets.apps",
        "api rollout cannot create its new ReplicaSet",
        ["raise count/replicasets.apps in namespace shop to 7"],
      ],
      [
        "error",
        "services.nodeports",
        "steady use over quota",
        ["raise services.nodeports in namespace shop to 2"],
      ],
    ]);
  });

  it("rejects containers above the LimitRange max", () => {
    const config = platform(
      {
        api: web({
          resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "2Gi" } },
        }),
      },
      { shop: { limits: { max: { memory: "1Gi" } } } },
    );
    expect(findingsOf(config)).toEqual([
      {
        severity: "error",
        kind: "limit-range-max",
        namespace: "shop",
        workload: "api",
        resource: "limits.memory (LimitRange max)",
        quota: "1Gi",
        steady: "2Gi",
        peak: "2Gi",
        overBy: "1Gi",
        message: "api container api is above the LimitRange max; its pods are rejected",
        fixes: [
          "lower services.api.resources.limits.memory to 1Gi",
          "raise namespaces.shop.limits.max.memory to 2Gi",
        ],
      },
    ]);
  });

  it("reports object counts kept by other controllers as not checked", () => {
    const config = platform({ api: web() }, { shop: { quota: { "count/endpoints": 1 } } });
    const report = planCapacity(config);
    expect(report.findings.map((f) => [f.severity, f.message])).toEqual([
      ["info", "count/endpoints counts objects other controllers create; not checked"],
    ]);
    expect(report.errors).toEqual([]);
    expect(report.warnings).toEqual([]);
  });

  it("passes a namespace within quota", () => {
    const config = platform(
      { api: web({ replicas: 2 }), db: stateful() },
      { shop: { quota: { "requests.cpu": "4", "requests.memory": "8Gi", pods: 10 } } },
    );
    const [fit] = namespaceFit(config);
    expect(fit.findings).toEqual([]);
    // steady: 2 × 500m + 1 = 2; peak: 3 × 500m + 1 = 2500m.
    expect(fit.quota.find((q) => q.resource === "requests.cpu")).toEqual({
      resource: "requests.cpu",
      quota: "4",
      steady: "2",
      max: "2",
      peak: "2500m",
      steadyRatio: 0.5,
      peakRatio: 0.625,
    });
  });
});

describe("autoQuota", () => {
  it("sizes a quota from the peak plus headroom, rounded up to readable figures", () => {
    const config = platform({ api: web({ autoscale: { min: 2, max: 10 } }), db: stateful() });
    // cpu: (13 × 500m + 1) × 1.2 = 9; memory: (13 × 512Mi + 2Gi) × 1.2 = 10444.8Mi, up to 11Gi;
    // pods: 14 × 1.2 = 16.8, up to 17; one 10Gi claim: 2 claims, 12Gi.
    expect(autoQuota(config, "shop", 20)).toEqual({
      "limits.cpu": "9",
      "limits.memory": "11Gi",
      pods: "17",
      "requests.cpu": "9",
      "requests.memory": "11Gi",
      persistentvolumeclaims: "2",
      "requests.storage": "12Gi",
    });
  });

  it("uses 100m and 64Mi steps for small figures", () => {
    const config = platform({
      jobs: worker({
        resources: { requests: { cpu: "150m", memory: "100Mi", "ephemeral-storage": "1Gi" } },
      }),
    });
    // peak 2 pods (1 + ceil(25%)): 300m, 200Mi -> 256Mi, 2Gi of ephemeral storage.
    expect(autoQuota(config, "shop", 0)).toEqual({
      "limits.cpu": "300m",
      "limits.memory": "256Mi",
      pods: "2",
      "requests.cpu": "300m",
      "requests.memory": "256Mi",
      "requests.ephemeral-storage": "2Gi",
      "limits.ephemeral-storage": "2Gi",
    });
  });

  it("rejects an unknown namespace and negative headroom", () => {
    const config = platform({ api: web() });
    expect(() => autoQuota(config, "shopp", 10)).toThrowError(
      'autoQuota: "shopp" is not a configured namespace',
    );
    expect(() => autoQuota(config, "shop", -5)).toThrowError(
      "autoQuota: headroomPercent must be a number of at least 0, got -5",
    );
  });
});

describe("placePods", () => {
  const node = (name: string, extra: Partial<NodeSpec> = {}): NodeSpec => ({
    name,
    pool: "p",
    cpu: 4000,
    memory: 16 * GI,
    pods: 110,
    ...extra,
  });
  const small: PodGroup = { name: "api", cpu: 500, memory: GI };
  const three = [{ group: 0, count: 3 }];

  it("spreads over hostnames even when bin-packing, when nodes carry the zone label", () => {
    const nodes = ["n1", "n2", "n3"].map((n) => node(n, { zone: "a" }));
    const placed = placePods(nodes, [{ ...small, zoneSpread: "ScheduleAnyway" }], three, {
      scoring: "binpack",
    });
    expect(placed.groups[0].byNode).toEqual({ n1: 1, n2: 1, n3: 1 });
  });

  it("ignores the spread score on nodes without the zone label (requireAllTopologies)", () => {
    const nodes = ["n1", "n2", "n3"].map((n) => node(n));
    const group: PodGroup = { ...small, zoneSpread: "ScheduleAnyway" };
    expect(placePods(nodes, [group], three, { scoring: "binpack" }).groups[0].byNode).toEqual({
      n1: 3,
    });
    expect(placePods(nodes, [group], three, { scoring: "spread" }).groups[0].byNode).toEqual({
      n1: 1,
      n2: 1,
      n3: 1,
    });
  });

  it("scores nodes missing a spread topology label 0 for spread", () => {
    // n2 carries the zone label: spread 100 there, 0 on the zone-less n1, so n2 wins despite order.
    const nodes = [node("n1"), node("n2", { zone: "a" })];
    const group: PodGroup = { ...small, zoneSpread: "ScheduleAnyway" };
    expect(placePods(nodes, [group], [{ group: 0, count: 1 }]).groups[0].byNode).toEqual({ n2: 1 });
  });

  it("counts reserved overhead as requested", () => {
    const nodes = [
      node("n1", { reserved: { cpu: 3000, memory: 0, pods: 0 } }),
      node("n2", { cpu: 1000 }),
    ];
    const placed = placePods(nodes, [small], [{ group: 0, count: 4 }]);
    expect(placed.nodes.map((n) => [n.name, n.cpu, n.planned])).toEqual([
      ["n1", 4000, 2],
      ["n2", 1000, 2],
    ]);
  });

  it("a zone counts as a spread domain even when its node is too small for the pod (as upstream)", () => {
    const group: PodGroup = { ...small, memory: 2 * GI, zoneSpread: "DoNotSchedule" };
    const roomy = node("b1", { zone: "b", pods: 2 });
    const two = [{ group: 0, count: 2 }];
    expect(placePods([roomy], [group], two).groups[0].unplaced).toBe(0);
    // Zone a's node passes taints and selectors, so a is a domain; it cannot take a 2Gi pod, and
    // a second pod in b would make the skew 2.
    const tiny = node("a1", { zone: "a", memory: GI });
    expect(placePods([tiny, roomy], [group], two).groups[0]).toMatchObject({
      placed: 1,
      unplaced: 1,
      reason:
        "0/2 nodes are available: 1 Insufficient memory, 1 node(s) didn't match pod topology spread constraints.",
    });
  });

  it("filters on ephemeral-storage only where the node declares it", () => {
    const disk: PodGroup = { ...small, ephemeralStorage: 4 * GI };
    const nodes = [
      node("n1", { ephemeralStorage: 10 * GI, reserved: { ephemeralStorage: 1 * GI } }),
      node("n2", { ephemeralStorage: 6 * GI }),
    ];
    const placed = placePods(nodes, [disk], [{ group: 0, count: 4 }]);
    expect(placed.groups[0]).toEqual({
      name: "api",
      placed: 3,
      unplaced: 1,
      reason: "0/2 nodes are available: 2 Insufficient ephemeral-storage.",
      byNode: { n1: 2, n2: 1 },
    });
    expect(placed.nodes.map((n) => [n.name, n.ephemeralStorage / GI])).toEqual([
      ["n1", 9],
      ["n2", 4],
    ]);
    // A node without a declared ephemeral-storage never filters on it.
    expect(placePods([node("n3")], [disk], [{ group: 0, count: 4 }]).groups[0].placed).toBe(4);
  });

  it("explains untolerated taints like the scheduler", () => {
    const taint = { key: "dedicated", value: "gpu", effect: "NoSchedule" as const };
    const nodes = [node("g1", { taints: [taint] }), node("g2", { taints: [taint] })];
    expect(placePods(nodes, [small], [{ group: 0, count: 1 }]).groups[0]).toEqual({
      name: "api",
      placed: 0,
      unplaced: 1,
      reason: "0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.",
      byNode: {},
    });
    const tolerant: PodGroup = {
      ...small,
      tolerations: [{ key: "dedicated", operator: "Equal", value: "gpu", effect: "NoSchedule" }],
    };
    expect(placePods(nodes, [tolerant], [{ group: 0, count: 1 }]).groups[0].placed).toBe(1);
  });

  it("avoids PreferNoSchedule taints while other nodes fit", () => {
    const nodes = [
      node("soft", { taints: [{ key: "spot", effect: "PreferNoSchedule" }] }),
      node("plain"),
    ];
    expect(placePods(nodes, [small], [{ group: 0, count: 1 }]).groups[0].byNode).toEqual({
      plain: 1,
    });
  });

  it("counts every failing filter in the message", () => {
    const nodes = [
      node("n1", { cpu: 1000, labels: { pool: "general" } }),
      node("n2", { labels: { pool: "highmem" } }),
    ];
    const group: PodGroup = {
      name: "api",
      cpu: 2000,
      memory: GI,
      nodeSelector: { pool: "general" },
    };
    expect(placePods(nodes, [group], [{ group: 0, count: 1 }]).groups[0].reason).toBe(
      "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't match Pod's node affinity/selector.",
    );
  });

  it("does not count a zone whose nodes the pods cannot tolerate as a spread domain (nodeTaintsPolicy Honor)", () => {
    const nodes = [
      node("general-a-1", { zone: "a" }),
      node("general-b-1", { zone: "b" }),
      node("gpu-c-1", {
        zone: "c",
        taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }],
      }),
    ];
    const group: PodGroup = { ...small, zoneSpread: "DoNotSchedule" };
    // Zones a and b are the only domains, so the third pod goes to one of them (skew 1).
    expect(placePods(nodes, [group], three).groups[0]).toEqual({
      name: "api",
      placed: 3,
      unplaced: 0,
      byNode: { "general-a-1": 2, "general-b-1": 1 },
    });
  });

  it("reports per step what was placed", () => {
    const placed = placePods(
      [node("n1", { pods: 3 })],
      [small, { ...small, name: "web" }],
      [
        { group: 0, count: 2 },
        { group: 1, count: 2 },
      ],
    );
    expect(placed.steps).toEqual([
      { placed: 2, unplaced: 0 },
      { placed: 1, unplaced: 1 },
    ]);
    expect(placed.groups[1].reason).toBe("0/1 nodes are available: 1 Too many pods.");
  });
});

describe("cluster fit and failover", () => {
  const pool = (extra: Raw = {}): Raw => ({
    count: 2,
    allocatable: { cpu: "2", memory: "8Gi", pods: 110 },
    overhead: { cpu: "500m" },
    ...extra,
  });

  it("builds nodes per pool and zone with labels, taints and overhead", () => {
    const config = platform(
      { api: web() },
      {
        cluster: {
          nodePools: { general: pool({ count: 1, zones: ["a", "b"], labels: { tier: "app" } }) },
        },
      },
    );
    expect(nodesFromPools(config.cluster.nodePools!)).toEqual([
      {
        name: "general-a-1",
        pool: "general",
        zone: "a",
        cpu: 2000,
        memory: 8 * GI,
        pods: 110,
        reserved: { cpu: 500, memory: 0, pods: 0 },
        labels: {
          tier: "app",
          "kubernetes.io/hostname": "general-a-1",
          "topology.kubernetes.io/zone": "a",
        },
        taints: [],
      },
      {
        name: "general-b-1",
        pool: "general",
        zone: "b",
        cpu: 2000,
        memory: 8 * GI,
        pods: 110,
        reserved: { cpu: 500, memory: 0, pods: 0 },
        labels: {
          tier: "app",
          "kubernetes.io/hostname": "general-b-1",
          "topology.kubernetes.io/zone": "b",
        },
        taints: [],
      },
    ]);
  });

  it("checks ephemeral-storage against pools that declare it", () => {
    const services = {
      api: web({
        replicas: 4,
        resources: { requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "2Gi" } },
      }),
    };
    const disks = pool({
      allocatable: { cpu: "2", memory: "8Gi", pods: 110, "ephemeral-storage": "6Gi" },
      overhead: { cpu: "500m", "ephemeral-storage": "1Gi" },
    });
    const enforced = platform(services, {
      cluster: { nodePools: { general: disks } },
      capacity: { clusterFit: "enforce" },
    });
    expect(nodesFromPools(enforced.cluster.nodePools!)[0]).toMatchObject({
      ephemeralStorage: 6 * GI,
      reserved: { cpu: 500, memory: 0, pods: 0, ephemeralStorage: GI },
    });
    expect(() => checkCapacity(enforced)).toThrowError(
      [
        "Capacity check failed (1 error); nothing was created:",
        "",
        "  api: 1 of 5 peak pods cannot be scheduled: 0/2 nodes are available: 2 Insufficient ephemeral-storage.",
        "",
        "  Fixes:",
        "  - raise cluster.nodePools.general.count to at least 3",
      ].join("\n"),
    );
    const roomy = planCapacity(
      platform(services, {
        cluster: {
          nodePools: {
            general: pool({
              count: 3,
              allocatable: { cpu: "2", memory: "8Gi", pods: 110, "ephemeral-storage": "6Gi" },
            }),
          },
        },
        capacity: { clusterFit: "enforce" },
      }),
    );
    expect(roomy.errors).toEqual([]);
    expect(roomy.cluster?.pools[0].ephemeralStorage).toEqual({
      used: "10Gi",
      capacity: "18Gi",
      ratio: 10 / 18,
    });
    const table = formatCapacityTable(roomy);
    expect(table).toContain(
      [
        "pool     zones  nodes used           cpu      memory   pods    ephemeral",
        "general  -      3/3         11% of 4500m  3% of 24Gi  5/330  56% of 18Gi",
      ].join("\n"),
    );
    expect(formatCapacityMarkdown(roomy)).toContain("| ephemeral-storage |");
  });

  it("fails an enforced cluster fit with the scheduler's reason and a fix", () => {
    // 1500m usable per node: one 1-cpu pod each; 4 replicas + 1 surge pod = 5 at peak.
    const services = {
      api: web({ replicas: 4, resources: { requests: { cpu: "1", memory: "1Gi" } } }),
    };
    const enforced = platform(services, {
      cluster: { nodePools: { general: pool() } },
      capacity: { clusterFit: "enforce" },
    });
    expect(() => checkCapacity(enforced)).toThrowError(
      [
        "Capacity check failed (1 error); nothing was created:",
        "",
        "  api: 3 of 5 peak pods (2 steady) cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.",
        "",
        "  Fixes:",
        "  - raise cluster.nodePools.general.count to at least 5",
      ].join("\n"),
    );
    const advisory = planCapacity(
      platform(services, { cluster: { nodePools: { general: pool() } } }),
    );
    expect(advisory.errors).toEqual([]);
    expect(advisory.warnings.map((w) => w.kind)).toEqual(["unschedulable"]);
    expect(advisory.cluster?.pools).toEqual([
      {
        pool: "general",
        zones: [],
        nodes: 2,
        nodesUsed: 2,
        cpu: { used: "2", capacity: "3", ratio: 2 / 3 },
        memory: { used: "2Gi", capacity: "16Gi", ratio: 0.125 },
        pods: { used: "2", capacity: "220", ratio: 2 / 220 },
      },
    ]);
  });

  it("sizes the node fix per zone, and names pools that admit nothing", () => {
    // One 1500m pod per 2-cpu node: 3 of 8 peak pods fit (6 + ceil(25% × 6)); 5 more nodes over 3 zones.
    const api = web({ replicas: 6, resources: { requests: { cpu: "1500m", memory: "1Gi" } } });
    const zoned = { general: pool({ count: 1, zones: ["a", "b", "c"], overhead: undefined }) };
    expect(
      planCapacity(platform({ api }, { cluster: { nodePools: zoned } })).warnings[0].fixes,
    ).toEqual(["raise cluster.nodePools.general.count to at least 3"]);
    const tainted = {
      gpu: pool({ taints: [{ key: "dedicated", value: "gpu", effect: "NoSchedule" }] }),
    };
    const warning = planCapacity(platform({ api: web() }, { cluster: { nodePools: tainted } }))
      .warnings[0];
    expect([warning.message, warning.fixes]).toEqual([
      "api: 2 of 2 peak pods (1 steady) cannot be scheduled: 0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.",
      [
        "no node pool admits api: add one with matching labels and taints, or change services.api.nodeSelector or tolerations",
      ],
    ]);
  });

  it("names the workloads that would not fit without the largest node or a zone", () => {
    const config = platform(
      {
        api: web({
          replicas: 3,
          rollout: { maxSurge: 0, maxUnavailable: 1 },
          resources: { requests: { cpu: "1500m", memory: "1Gi" } },
        }),
        cache: worker({ resources: { requests: { cpu: "100m", memory: "128Mi" } } }),
      },
      {
        cluster: {
          nodePools: { general: pool({ count: 1, zones: ["a", "b", "c"], overhead: undefined }) },
        },
      },
    );
    expect(clusterFit(config)?.unschedulable).toEqual([]);
    expect(failover(config)).toEqual([
      {
        scenario: "without node general-a-1 (largest)",
        nodes: 2,
        unschedulable: [
          {
            workload: "api",
            namespace: "shop",
            pods: 3,
            unplaced: 1,
            unplacedSteady: 1,
            reason: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
      {
        scenario: "without zone a",
        nodes: 2,
        unschedulable: [
          {
            workload: "api",
            namespace: "shop",
            pods: 3,
            unplaced: 1,
            unplacedSteady: 1,
            reason: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
      {
        scenario: "without zone b",
        nodes: 2,
        unschedulable: [
          {
            workload: "api",
            namespace: "shop",
            pods: 3,
            unplaced: 1,
            unplacedSteady: 1,
            reason: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
      {
        scenario: "without zone c",
        nodes: 2,
        unschedulable: [
          {
            workload: "api",
            namespace: "shop",
            pods: 3,
            unplaced: 1,
            unplacedSteady: 1,
            reason: "0/2 nodes are available: 2 Insufficient cpu.",
          },
        ],
      },
    ]);
    const report = planCapacity(config);
    expect(
      report.findings
        .filter((f) => f.kind === "failover")
        .map((f) => [f.severity, f.message, f.fixes]),
    ).toContainEqual([
      "info",
      "without zone a: api (1 pod) would not fit",
      ["keep about 1500m cpu and 1Gi memory more free on the remaining nodes"],
    ]);
  });

  it("failover counts what losing a node adds, not pods that never fit", () => {
    // Two 8-cpu nodes hold 2 pods of 3 cpu each: 4 steady pods fit, the surge of 2 never does.
    // Without a node, 2 steady pods more are unplaced; the surge is the baseline's, not the
    // scenario's (it was counted again in every scenario before).
    const config = platform(
      {
        api: web({
          replicas: 4,
          rollout: { maxSurge: 2, maxUnavailable: 0 },
          resources: { requests: { cpu: "3", memory: "1Gi" } },
        }),
      },
      {
        cluster: {
          nodePools: {
            general: pool({
              allocatable: { cpu: "8", memory: "32Gi", pods: 110 },
              overhead: undefined,
            }),
          },
        },
      },
    );
    expect(clusterFit(config)!.unschedulable).toMatchObject([
      { workload: "api", pods: 6, unplaced: 2, unplacedSteady: 0 },
    ]);
    expect(failover(config)[0].unschedulable).toMatchObject([
      { workload: "api", pods: 6, unplaced: 2, unplacedSteady: 2 },
    ]);
  });

  it("reports no cluster section without node pools", () => {
    const report = planCapacity(platform({ api: web() }));
    expect(report.cluster).toBeUndefined();
    expect(report.failover).toEqual([]);
    expect(clusterFit(platform({ api: web() }))).toBeUndefined();
  });
});

describe("the report", () => {
  const config = platform(
    { api: web({ autoscale: { min: 2, max: 10 } }), db: stateful() },
    {
      shop: { quota: { pods: 8, "requests.cpu": "8" } },
      cluster: {
        nodePools: {
          general: {
            count: 2,
            zones: ["a", "b"],
            allocatable: { cpu: "4", memory: "16Gi", pods: 110 },
          },
        },
      },
    },
  );

  it("is plain JSON data", () => {
    const report = planCapacity(config);
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it("prints a terminal table", () => {
    const text = formatCapacityTable(planCapacity(config));
    expect(text).toContain(
      "api       shop       web          500m       512Mi       2   10    13     6500m       6656Mi",
    );
    expect(text).toContain("shop       pods              8       3   11     14      175%");
    expect(text).toContain("general  a,b    4/4         47% of 16  13% of 64Gi  14/440");
    expect(text).toContain("Cluster (4 nodes, spread scoring): 14 of 14 peak pods placed");
  });

  it("prints Markdown with utilisation bars", () => {
    const md = formatCapacityMarkdown(planCapacity(config));
    expect(md).toContain("### Capacity plan: 0 errors, 1 warning");
    expect(md).toContain("| shop | pods | 8 | 3 | 14 | `████░░░░░░` 38% | `██████████` 175% ⚠️ |");
    expect(md).toContain(
      "| ⚠️ | shop | pods | 8 | 3 | 14 | 3 | HPA max over quota (api 10) | raise pods in namespace shop to 14, or lower api autoscale.max to 7 |",
    );
  });

  it("keeps Markdown under GitHub's comment limit", () => {
    const report = planCapacity(config);
    const huge: CapacityReport = {
      ...report,
      namespaces: Array.from({ length: 2000 }, (_, i) => ({
        ...report.namespaces[0],
        namespace: `team-${i}`,
      })),
    };
    const md = formatCapacityMarkdown(huge);
    expect(md.length).toBeLessThan(65_536);
    expect(md.endsWith("_(truncated; the full report is in the stack output)_")).toBe(true);
  });
});

describe("capacity before and after a change", () => {
  const pool = {
    count: 2,
    allocatable: { cpu: "4", memory: "8Gi", pods: 110 },
    zones: ["a", "b"],
  };
  const before = planCapacity(
    platform(
      { api: web() },
      {
        shop: { quota: { "requests.cpu": "4", "requests.memory": "8Gi" } },
        cluster: { nodePools: { general: pool } },
      },
    ),
  );
  const after = planCapacity(
    platform(
      { api: web(), reports: worker({ replicas: 6 }) },
      {
        shop: { quota: { "requests.cpu": "4", "requests.memory": "8Gi" } },
        cluster: { nodePools: { general: pool } },
      },
    ),
  );

  // api: 1 replica + 1 surge pod of 500m; reports: 6 replicas + 2 surge of 250m. Peak cpu
  // 1 + 2 = 3 of the quota's 4; the pool: 4 nodes of 4 cpu.
  it("names each quota and pool resource whose peak use moved", () => {
    const delta = capacityDelta(capacityFigures(before), capacityFigures(after));
    expect(formatCapacityDeltaText(delta)).toEqual([
      "capacity, before → after:",
      "  quota shop requests.cpu (peak, of 4): 25% → 75%",
      "  quota shop requests.memory (peak, of 8Gi): 13% → 38%",
      "  pool general cpu (peak placement): 6% → 19%",
      "  pool general memory (peak placement): 3% → 9%",
      "  pool general pods (peak placement): 0% → 2%",
    ]);
    expect(formatCapacityDeltaMarkdown(delta)).toContain(
      "| quota shop requests.cpu (peak, of 4) | `███░░░░░░░` 25% | `████████░░` 75% |",
    );
    // Nothing moved: nothing to say.
    const same = capacityDelta(capacityFigures(after), capacityFigures(after));
    expect(same).toEqual({ rows: [], failover: [], cost: [] });
    expect(formatCapacityDeltaText(same)).toEqual([]);
    expect(formatCapacityDeltaMarkdown(same)).toBe("");
  });

  it("says when a failover scenario stops fitting, and a quota new to the stack", () => {
    const figures = (unfit: string[], quotas = true) => ({
      quotas: quotas
        ? [{ namespace: "ops", resource: "pods", quota: "10", steadyRatio: 0.2, peakRatio: 0.3 }]
        : [],
      pools: [],
      failover: [{ scenario: "without zone eu-west-1a", unfit }],
    });
    expect(
      formatCapacityDeltaText(capacityDelta(figures([], false), figures(["reports", "api"]))),
    ).toEqual([
      "capacity, before → after:",
      "  quota ops pods (peak, of 10): — → 30%",
      "  without zone eu-west-1a: everything fits → reports, api would not fit",
    ]);
  });

  it("a plan that fits still says how close it is, in one line", () => {
    expect(capacityHeadline(capacityFigures(after))).toBe(
      "capacity: fullest quota at peak: shop requests.cpu 75% of 4; pool general: cpu 19% at peak; failover: everything fits in 3 scenarios (capacity.md)",
    );
    expect(capacityHeadline({ quotas: [], pools: [], failover: [] })).toBe(
      "capacity: no quotas or node pools to check (capacity.md)",
    );
  });

  it("the figures stay small: they do not list workloads", () => {
    const figures = capacityFigures(after);
    expect(Object.keys(figures)).toEqual(["quotas", "pools", "failover"]);
    expect(JSON.stringify(figures)).not.toContain("reports");
  });

  it("capacity.md ends with the per-workload table", () => {
    const md = formatCapacityMarkdown(after);
    expect(md.slice(md.indexOf("#### Workloads"))).toBe(
      [
        "#### Workloads",
        "",
        "| namespace | workload | kind | pod requests | pods (steady / max / peak) | peak requests |",
        "|---|---|---|---|--:|---|",
        "| shop | api | web | 500m cpu, 512Mi | 1 / 1 / 2 | 1 cpu, 1Gi |",
        "| shop | reports | worker | 250m cpu, 256Mi | 6 / 6 / 8 | 2 cpu, 2Gi |",
      ].join("\n"),
    );
  });
});
