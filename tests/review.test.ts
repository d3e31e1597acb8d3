/**
 * Review stacks (issue 16), the pure part: the stage's `review` block, and the review stack's
 * config derived from its base stage's (platform/config/review.ts): the services chosen,
 * namespaces and hosts suffixed, quotas replaced, the pools' room reduced, no cluster-scoped
 * objects, and every bad value named. Own fixtures.
 */
import { describe, expect, test } from "vitest";
import type { Manifest } from "../components/context";
import { planCapacity } from "../platform/capacity/capacity";
import { ConfigError, parsePlatformConfig, parseStages } from "../platform/config";
import { reviewedServices } from "../platform/config/review";
import { planPlatform } from "../platform/plan";

const resources = { requests: { cpu: "500m", memory: "256Mi" } };

/** A dev stack: two namespaces, a web front end on a public host, a job before the api. */
function raw(review?: Record<string, unknown>): Record<string, unknown> {
  return {
    tier: "dev",
    cluster: {
      cloud: "kind",
      name: "c",
      nodePools: {
        general: {
          count: 2,
          allocatable: { cpu: "4", memory: "8Gi", pods: 110 },
          overhead: { cpu: "500m", memory: "1Gi", pods: 10 },
        },
      },
      priorityClasses: { critical: { value: 1000 } },
    },
    namespaces: {
      shop: { quota: { "requests.cpu": "4", "requests.memory": "8Gi", pods: 20 } },
      ops: {},
      data: {},
    },
    services: {
      web: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1",
        ports: { http: 8080 },
        resources,
        dependencies: ["api"],
        ingress: { host: "shop.dev.example.com" },
      },
      api: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/api:1",
        ports: { http: 3000 },
        resources,
        dependencies: ["db"],
        ingressFrom: [{ namespace: "ops" }, { namespace: "monitoring" }],
        route: {
          hostnames: ["api.dev.example.com"],
          gateway: { name: "edge", namespace: "gateways" },
        },
        priorityClassName: "critical",
      },
      db: {
        kind: "stateful",
        namespace: "data",
        image: "postgres:17",
        ports: { pg: 5432 },
        resources,
        storage: { size: "1Gi", mountPath: "/var/lib/postgresql/data" },
      },
      migrate: {
        kind: "job",
        namespace: "shop",
        image: "ghcr.io/acme/api:1",
        resources,
        dependencies: ["db"],
        before: ["api"],
      },
      report: { kind: "worker", namespace: "ops", image: "ghcr.io/acme/report:1", resources },
    },
    ...(review ? { review } : {}),
  };
}

const parse = (
  review?: Record<string, unknown>,
  stack = review ? `pr-${review.pullRequest as number}` : "dev",
) => parsePlatformConfig(raw(review), { stack });

function problems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const objects = (plan: ReturnType<typeof planPlatform>): Manifest[] => [
  ...plan.cluster,
  ...Object.values(plan.tenants).flat(),
  ...Object.values(plan.workloads).flat(),
];

describe("the services a review deploys", () => {
  const services = parse().services;
  test("the named ones, what they depend on and the Jobs that run before them", () => {
    expect(reviewedServices(services, ["web"])).toEqual(["web", "api", "db", "migrate"]);
    expect(reviewedServices(services, ["report"])).toEqual(["report"]);
    expect(reviewedServices(services, ["db"])).toEqual(["db"]);
  });
  test("none named: the whole app", () => {
    expect(reviewedServices(services, undefined)).toEqual(Object.keys(services));
  });
});

describe("a review stack's config, derived from its base stage's", () => {
  test("namespaces and hosts suffixed, every reference to an app namespace renamed", () => {
    const config = parse({ pullRequest: 12, services: ["web"] });
    expect(Object.keys(config.namespaces).sort()).toEqual(["data-pr12", "shop-pr12"]);
    expect(Object.keys(config.services)).toEqual(["web", "api", "db", "migrate"]);
    expect(config.services.web.namespace).toBe("shop-pr12");
    expect(config.services.db.namespace).toBe("data-pr12");
    expect(config.services.web.ingress?.host).toBe("shop-pr12.dev.example.com");
    expect(config.services.api.route?.hostnames).toEqual(["api-pr12.dev.example.com"]);
    // ops is an app namespace (renamed, even though not deployed); monitoring is not.
    expect(config.services.api.ingressFrom).toEqual([
      { namespace: "ops-pr12" },
      { namespace: "monitoring" },
    ]);
    expect(config.capacity?.clusterFit).toBe("enforce");
  });

  test("the objects: nothing in a base namespace, no cluster-scoped object, policies by the new names", () => {
    const plan = planPlatform(parse({ pullRequest: 12 }), "platform");
    const all = objects(plan);
    expect(plan.cluster).toEqual([]);
    expect(all.filter((m) => ["PriorityClass", "StorageClass"].includes(m.kind))).toEqual([]);
    const namespaces = all.filter((m) => m.kind === "Namespace").map((m) => m.metadata.name);
    expect(namespaces.sort()).toEqual(["data-pr12", "ops-pr12", "shop-pr12"]);
    for (const m of all) if (m.kind !== "Namespace") expect(m.metadata.namespace).toMatch(/-pr12$/);
    // Every namespace a NetworkPolicy names is the review stack's own, or outside the app.
    const named = new Set<string>();
    JSON.stringify(
      all.filter((m) => m.kind === "NetworkPolicy"),
      (key, value: unknown) => {
        if (key === "kubernetes.io/metadata.name") named.add(value as string);
        return value;
      },
    );
    expect([...named].sort()).toEqual(
      expect.arrayContaining(["data-pr12", "ops-pr12", "shop-pr12", "monitoring"]),
    );
    expect([...named].filter((n) => ["shop", "ops", "data"].includes(n))).toEqual([]);
    // The workload still names the base stage's PriorityClass, which the stack does not own.
    const api = plan.workloads.api.find((m) => m.kind === "Deployment")!;
    expect(JSON.stringify(api.spec)).toContain('"priorityClassName":"critical"');
  });

  test("the base stage's own plan still owns its cluster-scoped objects", () => {
    const plan = planPlatform(parse(), "platform");
    expect(plan.cluster.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual([
      "PriorityClass/critical",
    ]);
  });

  test("namespaceQuota replaces each namespace's quota", () => {
    const quota = { "requests.cpu": "1", pods: 8 };
    const config = parse({ pullRequest: 3, namespaceQuota: quota, services: ["report"] });
    expect(config.namespaces).toEqual({ "ops-pr3": { quota } });
  });

  test("reserved room is taken off each node of the pool, and a stack that does not fit is refused", () => {
    const config = parse({
      pullRequest: 12,
      reserved: { general: { cpu: "5", memory: "2Gi", pods: 30 } },
    });
    expect(config.cluster.nodePools?.general.overhead).toEqual({
      cpu: "3000m",
      memory: String(2 * 1024 ** 3),
      pods: 25,
    });
    // 2 nodes of 4 cores less 3 each leave 2 cores; the app asks 2.5 at steady state.
    const report = planCapacity(config, planPlatform(config, "platform"));
    expect(report.errors.map((e) => `${e.kind}: ${e.message}`)).toEqual([
      "unschedulable: report: 2 of 2 peak pods (1 steady) cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.",
      "unschedulable: web: 1 of 2 peak pods cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.",
      "unschedulable: api: 1 of 2 peak pods cannot be scheduled: 0/2 nodes are available: 2 Insufficient cpu.",
    ]);
    // Without the reservation the same stack fits.
    const free = parse({ pullRequest: 12 });
    expect(planCapacity(free, planPlatform(free, "platform")).errors).toEqual([]);
  });
});

describe("bad review config is named, key by key", () => {
  test("an unknown service, with a suggestion", () => {
    expect(problems(() => parse({ pullRequest: 12, services: ["wbe", "nope"] }))).toEqual([
      'review.services[0]: "wbe" is not a service of the application (did you mean "web"?)',
      'review.services[1]: "nope" is not a service of the application (services: web, api, db, migrate, report)',
    ]);
  });

  test("an unknown pool and a bad quantity in reserved", () => {
    expect(
      problems(() =>
        parse({ pullRequest: 12, reserved: { gpu: { cpu: "1" }, general: { memory: "lots" } } }),
      ),
    ).toEqual([
      'review.reserved.general.memory: "lots" is not a quantity (e.g. 1500m, 2Gi)',
      "review.reserved.gpu: not a node pool of this stack (pools: general)",
    ]);
  });

  test("the review block in another stack, and pr-<n> without one", () => {
    expect(problems(() => parse({ pullRequest: 12 }, "pr-7"))).toEqual([
      "review.pullRequest: 12 belongs in stack pr-12, not pr-7 (review stacks are written by npm run review)",
    ]);
    expect(problems(() => parsePlatformConfig(raw(), { stack: "pr-7" }))).toEqual([
      "stack pr-7: names of the form pr-<n> are kept for review stacks, which have platform:review (create it with npm run review -- up --pr 7); choose another stack name",
    ]);
  });

  test("a host that cannot be suffixed and a namespace name that would be too long", () => {
    const r = raw({ pullRequest: 123456 });
    const services = r.services as Record<string, Record<string, unknown>>;
    services.web.ingress = { host: "*.dev.example.com" };
    (r.namespaces as Record<string, unknown>)[`n${"x".repeat(58)}`] = {};
    services.report.namespace = `n${"x".repeat(58)}`;
    expect(problems(() => parsePlatformConfig(r, { stack: "pr-123456" }))).toEqual([
      `namespaces.n${"x".repeat(58)}: its review namespace "n${"x".repeat(58)}-pr123456" is longer than 63 characters (shorten the namespace name)`,
      'services.web.ingress.host: cannot suffix the host "*.dev.example.com": its first label is a wildcard',
    ]);
  });

  test("a malformed review block names its keys", () => {
    expect(problems(() => parse({ pullRequest: 0, services: [], extra: 1 }, "pr-1"))).toEqual([
      "review.pullRequest: number 0 must be >=1",
      "review.services: a list must be >=1 items",
      "review.extra: unknown key (allowed here: pullRequest, services, namespaceQuota, reserved)",
    ]);
  });
});

describe("the stage's review block", () => {
  test("defaults: a 3-day TTL and the stage's environment", () => {
    const parsed = parseStages([{ name: "dev", review: {} }, { name: "prod" }]);
    expect(parsed.problems).toEqual([]);
    const stages = parsed.stages;
    expect(stages?.[0].review).toEqual({ ttlMs: 3 * 86_400_000, environment: "dev" });
  });

  test("ttl, quota and environment as given", () => {
    const namespaceQuota = { "requests.cpu": "2", pods: 10 };
    const { stages } = parseStages([
      { name: "dev", review: { ttl: "12h", namespaceQuota, environment: "review" } },
    ]);
    expect(stages?.[0].review).toEqual({
      ttlMs: 12 * 3_600_000,
      namespaceQuota,
      environment: "review",
    });
  });

  test("only on the first stage; a bad ttl; a stage whose stack reads pr-<n>", () => {
    expect(
      parseStages([
        { name: "dev", review: { ttl: "3 days" } },
        { name: "prod", review: {} },
        { name: "pr-4" },
      ]).problems,
    ).toEqual(['stages[0].review.ttl: "3 days" must be a duration such as 12h, 3d or 1d12h']);
    expect(
      parseStages([{ name: "dev" }, { name: "prod", review: {} }, { name: "pr-4" }]).problems,
    ).toEqual([
      "stages[1].review: review stacks run a pull request's program, which only the first stage runs (later stages run promoted releases); move review to stages[0]",
      'stages[2].stack: "pr-4" has the form pr-<n>, kept for review stacks; name the stack otherwise',
    ]);
  });
});
