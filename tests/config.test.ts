/**
 * The stack configuration: the typed result on success, and the exact text of every problem
 * (each naming its key path and the fix), all collected into one ConfigError.
 */
import { describe, expect, test } from "vitest";
import {
  ConfigError,
  mergeOverrides,
  neededSecretKeys,
  parsePlatformConfig,
  type ParseOptions,
  type RawConfig,
} from "../platform/config";

type Fields = Record<string, unknown>;

const requests = (cpu: unknown = "100m", memory: unknown = "128Mi") => ({
  requests: { cpu, memory },
});

/** A minimal valid web service; `extra` replaces top-level fields. */
const web = (extra: Fields = {}): Fields => ({
  kind: "web",
  namespace: "shop",
  image: "ghcr.io/acme/web:1.4.2",
  ports: { http: 8080 },
  resources: requests(),
  ...extra,
});
const worker = (extra: Fields = {}): Fields => ({
  kind: "worker",
  namespace: "shop",
  image: "ghcr.io/acme/worker:1.4.2",
  resources: requests(),
  ...extra,
});
const stateful = (extra: Fields = {}): Fields => ({
  kind: "stateful",
  namespace: "shop",
  image: "postgres:17.6-bookworm",
  ports: { postgres: 5432 },
  storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
  resources: requests(),
  ...extra,
});
const cron = (extra: Fields = {}): Fields => ({
  kind: "cron",
  namespace: "shop",
  image: "ghcr.io/acme/backup:1.0.0",
  schedule: "0 3 * * *",
  resources: requests(),
  ...extra,
});

/** A minimal valid stack config; `extra` replaces or adds top-level keys. */
function raw(services: Fields = { web: web() }, extra: Fields = {}): RawConfig {
  return {
    tier: "dev",
    cluster: { cloud: "kind", name: "dev" },
    namespaces: { shop: {} },
    services,
    ...extra,
  };
}

function problemsOf(config: RawConfig, options?: ParseOptions): readonly string[] {
  try {
    parsePlatformConfig(config, options);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError, but the config parsed");
}

describe("a valid config", () => {
  test("parses to the same plain data, with no defaults filled in", () => {
    const input = raw(
      {
        web: web({ dependencies: ["api"], ingress: { host: "shop.example.com" } }),
        api: web({
          image: "ghcr.io/acme/api@sha256:" + "a".repeat(64),
          ports: { http: 3000 },
          dependencies: ["db"],
        }),
        db: stateful(),
        jobs: worker(),
        backup: cron(),
      },
      { capacity: { scoring: "binpack" } },
    );
    const before = structuredClone(input);
    const config = parsePlatformConfig(input);
    expect(config).toEqual(before);
    expect(input).toEqual(before); // the caller's object is not mutated
    expect(config.services.web.replicas).toBeUndefined();
    expect(config.services.web.securityContext).toBeUndefined();
    expect(config.services.backup.cron).toBeUndefined();
    expect(config.capacity).toEqual({ scoring: "binpack" });
  });

  test("env values become strings", () => {
    const config = parsePlatformConfig(
      raw({ web: web({ env: { PORT: 8080, DEBUG: false, NAME: "shop" } }) }),
    );
    expect(config.services.web.env).toEqual({ PORT: "8080", DEBUG: "false", NAME: "shop" });
  });

  test("every quantity is canonicalised, so the engine never diffs 2048Mi against 2Gi", () => {
    const config = parsePlatformConfig(
      raw(
        {
          web: web({
            resources: {
              requests: { cpu: "1000m", memory: "2048Mi", "ephemeral-storage": "1024Mi" },
              limits: { cpu: 2, memory: "3072Mi", "ephemeral-storage": "2048Mi" },
            },
            volumes: { cache: { mountPath: "/cache", emptyDir: { sizeLimit: "512Ki" } } },
          }),
          db: stateful({
            storage: { size: "10240Mi", mountPath: "/data" },
            resources: requests(0.5, "1.5Gi"),
          }),
        },
        {
          cluster: {
            cloud: "kind",
            name: "dev",
            nodePools: {
              general: {
                count: 1,
                allocatable: { cpu: "4000m", memory: "8192Mi", pods: 110 },
                overhead: { cpu: 0.3, memory: "524288Ki" },
              },
            },
          },
          namespaces: {
            shop: {
              limits: {
                defaultRequest: { cpu: 0.1, memory: "131072Ki" },
                default: { memory: "1024Mi" },
              },
            },
          },
        },
      ),
    );
    expect(config.services.web.resources).toEqual({
      requests: { cpu: "1", memory: "2Gi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "2", memory: "3Gi", "ephemeral-storage": "2Gi" },
    });
    expect(config.services.web.volumes?.cache.emptyDir?.sizeLimit).toBe("512Ki");
    expect(config.services.db.storage?.size).toBe("10Gi");
    expect(config.services.db.resources.requests).toEqual({ cpu: "500m", memory: "1536Mi" });
    expect(config.cluster.nodePools?.general.allocatable).toEqual({
      cpu: "4",
      memory: "8Gi",
      pods: 110,
    });
    expect(config.cluster.nodePools?.general.overhead).toEqual({ cpu: "300m", memory: "512Mi" });
    expect(config.namespaces.shop.limits).toEqual({
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      default: { memory: "1Gi" },
    });
  });

  test("a secret config key referenced by a secretEnv is not an unknown key", () => {
    const config = parsePlatformConfig(
      raw({ web: web({ secretEnv: { DB_PASSWORD: "db-password" } }) }, { "db-password": "s3cret" }),
      {
        lookupSecret: () => "secret",
      },
    );
    expect(config.services.web.secretEnv).toEqual({ DB_PASSWORD: "db-password" });
  });
});

describe("ConfigError", () => {
  test("one problem: the message says so, names nothing created and lists it", () => {
    const bad = raw({ web: web({ resources: requests("10 cores") }) });
    expect(() => parsePlatformConfig(bad)).toThrowError(
      "Invalid stack configuration (1 problem); nothing was created:\n" +
        '  - services.web.resources.requests.cpu: "10 cores" is not a Kubernetes quantity (examples: 500m, 2)',
    );
    expect(() => parsePlatformConfig(bad)).toThrowError(ConfigError);
  });

  test("several problems, of schema and of top-level keys, come in ONE error", () => {
    const bad = raw(
      { web: web({ kind: "webb", resources: requests("10 cores", "lots"), replicsa: 2 }) },
      { tire: "dev", overrides: { tier: "prod" } },
    );
    let error: unknown;
    try {
      parsePlatformConfig(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).name).toBe("ConfigError");
    expect((error as ConfigError).problems).toEqual([
      'services.web.kind: "webb" is not allowed (expected one of: web, worker, stateful, cron, job)',
      'services.web.resources.requests.cpu: "10 cores" is not a Kubernetes quantity (examples: 500m, 2)',
      'services.web.resources.requests.memory: "lots" is not a Kubernetes quantity (examples: 256Mi, 1Gi)',
      'services.web.replicsa: unknown key (did you mean "replicas"?)',
      "overrides.tier: unknown key (overrides patch only namespaces and services; set tier directly)",
      'tire: unknown config key (did you mean "tier"?)',
    ]);
    expect((error as ConfigError).message.split("\n")[0]).toBe(
      "Invalid stack configuration (6 problems); nothing was created:",
    );
  });

  test("cross-key problems are collected together too", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            namespace: "shpo",
            image: "nginx:latest",
            dependencies: ["web"],
            autoscale: { min: 3, max: 2 },
          }),
          jobs: worker({ schedule: "@daily" }),
        }),
      ),
    ).toEqual([
      'services.web.namespace: "shpo" is not a configured namespace (did you mean "shop"? add it under namespaces or use one of: shop)',
      'services.web.image: "nginx:latest" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested',
      "services.web.autoscale: min (3) is greater than max (2); make max at least 3",
      "services.web.dependencies[0]: a service cannot depend on itself",
      "services.jobs.schedule: not used by kind worker (only cron); remove it",
    ]);
  });
});

describe("schema problems", () => {
  test.each([
    [
      "cpu",
      requests("10 cores"),
      'services.web.resources.requests.cpu: "10 cores" is not a Kubernetes quantity (examples: 500m, 2)',
    ],
    [
      "memory",
      requests("100m", "1 GB"),
      'services.web.resources.requests.memory: "1 GB" is not a Kubernetes quantity (examples: 256Mi, 1Gi)',
    ],
    [
      "negative",
      requests("100m", "-1Gi"),
      'services.web.resources.requests.memory: "-1Gi" must not be negative',
    ],
    [
      "a boolean",
      requests(true),
      "services.web.resources.requests.cpu: boolean true is not valid here",
    ],
  ])("a bad quantity (%s)", (_what, resources, message) => {
    expect(problemsOf(raw({ web: web({ resources }) }))).toEqual([message]);
  });

  test("a storage size names storage examples", () => {
    expect(
      problemsOf(raw({ db: stateful({ storage: { size: "ten gigs", mountPath: "/data" } }) })),
    ).toEqual([
      'services.db.storage.size: "ten gigs" is not a Kubernetes quantity (examples: 10Gi, 500Gi)',
    ]);
  });

  test("a missing required quantity says it is required", () => {
    expect(problemsOf(raw({ web: web({ resources: { requests: { cpu: "100m" } } }) }))).toEqual([
      "services.web.resources.requests.memory: is required",
    ]);
  });

  test("a missing required enum says it is required, not that `undefined` is not allowed", () => {
    const { tier: _tier, ...noTier } = raw();
    expect(problemsOf(noTier)).toEqual(["tier: is required (expected one of: dev, staging, prod)"]);
  });

  test("missing objects", () => {
    expect(problemsOf({ tier: "dev", namespaces: {} })).toEqual([
      "cluster: is required (expected object { cloud, name, context?, kubeconfig?, renderYamlToDirectory?, nodePools?, nodeLocalDns?, ingressClass?, ... })",
      "services: is required (expected record)",
    ]);
  });

  test("wrong types and ranges", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            ports: { http: "8080", admin: 70000 },
            replicas: -1,
            rollout: { maxSurge: "150%" },
          }),
        }),
      ),
    ).toEqual([
      "services.web.replicas: number -1 must be >=0",
      'services.web.ports.http: expected number, got string "8080"',
      "services.web.ports.admin: number 70000 must be <=65535",
      'services.web.rollout.maxSurge: "150%" must be a whole number or a percentage such as "25%"',
    ]);
  });

  test("type errors and the checks that span keys are reported together, in one pass", () => {
    expect(
      problemsOf(
        raw({
          db: { ...web(), kind: "stateful", storage: "1Gi" },
          web: web({ dependencies: ["db", "apii"] }),
          api: web({ namespace: "shpo" }),
        }),
      ),
    ).toEqual([
      'services.db.storage: expected object { size, mountPath, storageClass? }, got string "1Gi"',
      // The services that parsed are cross-checked; db, which did not, still exists for them.
      'services.web.dependencies[1]: "apii" is not a configured service (did you mean "api"?)',
      'services.api.namespace: "shpo" is not a configured namespace (did you mean "shop"? add it under namespaces or use one of: shop)',
    ]);
  });

  test("a value of the wrong type shows the shape expected there", () => {
    expect(problemsOf(raw({ db: { ...web(), kind: "stateful", storage: "1Gi" } }))).toContain(
      'services.db.storage: expected object { size, mountPath, storageClass? }, got string "1Gi"',
    );
  });

  test("unknown keys get a did-you-mean hint when one is close", () => {
    expect(
      problemsOf(
        raw(
          { web: web({ replicsa: 2, resources: { request: { cpu: "1", memory: "1Gi" } } }) },
          {
            cluster: { cloud: "kind", name: "dev", clod: "kind" },
            capacity: { peakOverQuote: "warn" },
          },
        ),
      ),
    ).toEqual([
      'cluster.clod: unknown key (did you mean "cloud"?)',
      "services.web.resources.requests: is required (expected object { cpu, memory, ephemeral-storage? })",
      'services.web.resources.request: unknown key (did you mean "requests"?)',
      'services.web.replicsa: unknown key (did you mean "replicas"?)',
      'capacity.peakOverQuote: unknown key (did you mean "peakOverQuota"?)',
    ]);
  });

  test("an unknown key with nothing close lists the allowed keys", () => {
    expect(
      problemsOf(raw({ web: web({ ingress: { host: "a.example.com", tls: true } }) })),
    ).toEqual([
      "services.web.ingress.tls: unknown key (allowed here: host, path, className, tlsSecret, port, annotations)",
    ]);
  });

  test("an invalid service name says what a DNS label is", () => {
    expect(problemsOf(raw({ Web: web() }))).toEqual([
      `services.Web: a service name must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "shop", "web-api")`,
    ]);
  });

  test("an invalid environment variable name is named", () => {
    expect(problemsOf(raw({ web: web({ env: { "1BAD": "x" } }) }))).toEqual([
      "services.web.env.1BAD: is not a valid environment variable name",
    ]);
  });

  test("an unknown quota key shows valid keys", () => {
    expect(
      problemsOf(raw(undefined, { namespaces: { shop: { quota: { "request.memory": "1Gi" } } } })),
    ).toEqual([
      "namespaces.shop.quota.request.memory: is not a ResourceQuota key (e.g. requests.cpu, requests.memory, limits.cpu, limits.memory, pods, requests.storage, persistentvolumeclaims, count/deployments.apps)",
    ]);
  });

  test("a quota value that is not a quantity", () => {
    expect(
      problemsOf(
        raw(undefined, {
          namespaces: { shop: { quota: { "requests.cpu": "4 cores", pods: 10 } } },
        }),
      ),
    ).toEqual([
      'namespaces.shop.quota.requests.cpu: "4 cores" is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1Gi)',
    ]);
  });

  test("a secretEnv value must name a config key", () => {
    expect(problemsOf(raw({ web: web({ secretEnv: { DB_PASSWORD: "db password" } }) }))).toEqual([
      'services.web.secretEnv.DB_PASSWORD: "db password" must name a secret config key, e.g. "db-password" (set with: pulumi config set --secret db-password <value>)',
    ]);
  });
});

describe("top-level config keys", () => {
  test("a typo of a structured key gets a hint", () => {
    expect(problemsOf(raw(undefined, { servics: {} }))).toEqual([
      'servics: unknown config key (did you mean "services"?)',
    ]);
  });

  test("any other key must be a referenced secret", () => {
    expect(problemsOf(raw(undefined, { "db-password": "x" }))).toEqual([
      "db-password: unknown config key (structured keys are tier, cluster, namespaces, services, capacity, overrides, defaults, stages, review, applicationFiles; other keys must be secrets referenced by a service's secretEnv)",
    ]);
  });
});

describe("references", () => {
  test("an unknown namespace, with and without a close match", () => {
    expect(
      problemsOf(raw({ web: web({ namespace: "shpo" }), jobs: worker({ namespace: "billing" }) })),
    ).toEqual([
      'services.web.namespace: "shpo" is not a configured namespace (did you mean "shop"? add it under namespaces or use one of: shop)',
      'services.jobs.namespace: "billing" is not a configured namespace (add it under namespaces or use one of: shop)',
    ]);
  });

  test("dependencies: unknown, self, without ports, twice", () => {
    expect(
      problemsOf(
        raw({
          web: web({ dependencies: ["apii", "web", "jobs", "zzzzzzzz", "api", "api"] }),
          api: web({ ports: { http: 3000 } }),
          jobs: worker(),
        }),
      ),
    ).toEqual([
      'services.web.dependencies[0]: "apii" is not a configured service (did you mean "api"?)',
      "services.web.dependencies[1]: a service cannot depend on itself",
      'services.web.dependencies[2]: "jobs" exposes no ports, so nothing can call it; add ports to it or remove the dependency',
      'services.web.dependencies[3]: "zzzzzzzz" is not a configured service (services: web, api, jobs)',
      'services.web.dependencies[5]: "api" is listed twice',
    ]);
  });

  test("ports named by an ingress, a route or a probe must exist", () => {
    expect(
      problemsOf(
        raw(
          {
            web: web({
              ingress: { host: "a.example.com", port: "admin" },
              probes: { readiness: { http: { path: "/healthz", port: "metrics" } } },
            }),
            api: web({ route: { hostnames: ["api.example.com"], port: "grpc" } }),
          },
          { cluster: { cloud: "kind", name: "dev", gateway: { name: "gw", namespace: "infra" } } },
        ),
      ),
    ).toEqual([
      'services.web.ingress.port: "admin" is not one of this service\'s ports (http)',
      'services.web.probes.readiness: port "metrics" is not one of this service\'s ports (http)',
      'services.api.route.port: "grpc" is not one of this service\'s ports (http)',
    ]);
  });

  test("ports named by ingressFrom must exist (an unmatched name would open no port, or all)", () => {
    expect(
      problemsOf(
        raw({ web: web({ ingressFrom: [{ namespace: "monitoring", ports: ["metrcs"] }] }) }),
      ),
    ).toEqual([
      'services.web.ingressFrom[0].ports[0]: "metrcs" is not one of this service\'s ports (http)',
    ]);
  });

  test("a volume mount of an extra container must name a volume", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            sidecars: [
              {
                name: "web",
                image: "a/b:1",
                restartAlways: true,
                volumeMounts: { nope: "/x" },
                resources: { ...requests("1", "1Gi"), limits: { memory: "1Mi" } },
              },
            ],
          }),
        }),
      ),
    ).toEqual([
      'services.web.sidecars[0].name: "web" is already used by another container of this pod',
      "services.web.sidecars[0].resources.limits.memory: 1Mi is below requests.memory (1Gi); raise the limit to at least 1Gi",
      "services.web.sidecars[0].restartAlways: only for initContainers (native sidecars); remove it",
      'services.web.sidecars[0].volumeMounts.nope: no volume "nope" in services.web.volumes',
    ]);
  });
});

describe("jobs that run before other workloads", () => {
  const migrate = (extra: Fields = {}): Fields => ({
    kind: "job",
    namespace: "shop",
    image: "ghcr.io/acme/web:1.4.2",
    command: ["migrate"],
    resources: requests(),
    ...extra,
  });

  test("a job before services parses", () => {
    const config = parsePlatformConfig(
      raw({
        web: web(),
        migrate: migrate({ before: ["web"], job: { backoffLimit: 0, activeDeadlineSeconds: 300 } }),
      }),
    );
    expect(config.services.migrate.before).toEqual(["web"]);
  });

  test("unknown targets (with a suggestion), itself, and cycles are refused", () => {
    expect(
      problemsOf(
        raw({
          web: web(),
          migrate: migrate({ before: ["webb", "migrate"] }),
          a: migrate({ before: ["b"] }),
          b: migrate({ before: ["c"] }),
          c: migrate({ before: ["a", "web"] }),
        }),
      ),
    ).toEqual([
      'services.migrate.before[0]: "webb" is not a configured service (did you mean "web"?)',
      "services.migrate.before[1]: a job cannot run before itself",
      "services.a.before: the jobs wait for each other in a cycle (a -> b -> c -> a)",
    ]);
  });

  test("bad job settings, restartOnSecretChange and node ephemeral-storage name key and value", () => {
    expect(
      problemsOf(
        raw(
          {
            web: web({ restartOnSecretChange: "yes" }),
            migrate: migrate({ job: { backoffLimit: -1, parallelism: 0 } }),
          },
          {
            cluster: {
              cloud: "kind",
              name: "dev",
              nodePools: {
                p: {
                  count: 1,
                  allocatable: { cpu: "2", memory: "1Gi", pods: 10, "ephemeral-storage": "20 GB" },
                },
              },
            },
          },
        ),
      ),
    ).toEqual([
      'cluster.nodePools.p.allocatable.ephemeral-storage: "20 GB" is not a Kubernetes quantity (examples: 10Gi, 500Gi)',
      'services.web.restartOnSecretChange: expected boolean, got string "yes"',
      "services.migrate.job.backoffLimit: number -1 must be >=0",
      "services.migrate.job.parallelism: number 0 must be >=1",
    ]);
  });

  test("before and job settings belong to kind job only", () => {
    expect(problemsOf(raw({ web: web({ before: ["web"], job: { backoffLimit: 1 } }) }))).toEqual([
      "services.web.job: not used by kind web (only job); remove it",
      "services.web.before: not used by kind web (only job); remove it",
      "services.web.before[0]: a job cannot run before itself",
    ]);
  });
});

describe("tenants", () => {
  test("access names groups per built-in role; an unknown role or an empty group is refused", () => {
    expect(
      parsePlatformConfig(raw(undefined, { namespaces: { shop: { access: { edit: ["devs"] } } } }))
        .namespaces.shop.access,
    ).toEqual({ edit: ["devs"] });
    expect(
      problemsOf(
        raw(undefined, {
          namespaces: { shop: { access: { owner: ["devs"], view: [""], deploy: ["deployer"] } } },
        }),
      ),
    ).toEqual([
      'namespaces.shop.access.view[0]: string "" must be >=1 characters',
      'namespaces.shop.access.deploy[0]: "deployer" must name a ServiceAccount as "namespace/name", e.g. "ci/platform-deployer"',
      "namespaces.shop.access.owner: unknown key (allowed here: admin, edit, view, deploy)",
    ]);
  });
});

describe("workload consistency", () => {
  test("autoscale min above max, and replicas together with autoscale", () => {
    expect(problemsOf(raw({ web: web({ autoscale: { min: 5, max: 2 }, replicas: 3 }) }))).toEqual([
      "services.web.autoscale: min (5) is greater than max (2); make max at least 5",
      "services.web.replicas: with autoscale the HPA owns the replica count; remove replicas and set autoscale.min",
    ]);
  });

  test("kind-specific fields on the wrong kind", () => {
    expect(
      problemsOf(
        raw({
          web: web({ schedule: "0 3 * * *", storage: { size: "1Gi", mountPath: "/data" } }),
          jobs: worker({
            storage: { size: "1Gi", mountPath: "/data" },
            ingress: { host: "a.example.com" },
            expose: { type: "LoadBalancer" },
          }),
          backup: cron({ replicas: 2, autoscale: { min: 1, max: 2 }, rollout: { maxSurge: 1 } }),
          db: stateful({ cron: { backoffLimit: 1 } }),
        }),
      ),
    ).toEqual([
      "services.web.storage: not used by kind web (only stateful); remove it",
      "services.web.schedule: not used by kind web (only cron); remove it",
      "services.jobs.ingress: not used by kind worker (only web); remove it",
      "services.jobs.expose: not used by kind worker (only web, stateful); remove it",
      "services.jobs.storage: not used by kind worker (only stateful); remove it",
      "services.backup.autoscale: not used by kind cron (only web, worker); remove it",
      "services.backup.replicas: not used by kind cron (only web, worker, stateful); remove it",
      "services.backup.rollout: not used by kind cron (only web, worker, stateful); remove it",
      "services.backup.replicas: with autoscale the HPA owns the replica count; remove replicas and set autoscale.min",
      "services.db.cron: not used by kind stateful (only cron); remove it",
    ]);
  });

  test("fields a kind requires", () => {
    const { schedule: _schedule, ...noSchedule } = cron();
    const { storage: _storage, ports: _ports, ...bareDb } = stateful();
    expect(
      problemsOf(
        raw({
          web: web({ ports: undefined }),
          backup: noSchedule,
          db: bareDb,
          nightly: cron({ schedule: "every day" }),
        }),
      ),
    ).toEqual([
      "services.web.ports: kind web needs at least one port (e.g. { http: 8080 })",
      'services.backup.schedule: is required for kind cron (e.g. "0 3 * * *")',
      "services.db.storage: is required for kind stateful (e.g. { size: 10Gi, mountPath: /var/lib/data })",
      "services.db.ports: kind stateful needs at least one port (e.g. { http: 8080 })",
      'services.nightly.schedule: "every day" is not a cron schedule (five fields, e.g. "0 3 * * *" or "@daily")',
    ]);
  });

  test("limits below requests", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            resources: { ...requests("500m", "1Gi"), limits: { cpu: "250m", memory: "512Mi" } },
          }),
        }),
      ),
    ).toEqual([
      "services.web.resources.limits.cpu: 250m is below requests.cpu (500m); raise the limit to at least 500m",
      "services.web.resources.limits.memory: 512Mi is below requests.memory (1Gi); raise the limit to at least 1Gi",
    ]);
  });

  test("equal limits and requests, in different spellings, are fine", () => {
    expect(() =>
      parsePlatformConfig(
        raw({
          web: web({
            resources: { ...requests("1", "1Gi"), limits: { cpu: "1000m", memory: "1024Mi" } },
          }),
        }),
      ),
    ).not.toThrow();
  });

  test("a rollout that could never progress", () => {
    expect(
      problemsOf(raw({ web: web({ rollout: { maxSurge: 0, maxUnavailable: "0%" } }) })),
    ).toEqual([
      "services.web.rollout: maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress); set maxSurge to 1",
    ]);
  });
});

describe("images", () => {
  test.each([
    [
      "nginx:latest",
      'services.web.image: "nginx:latest" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested',
    ],
    [
      `nginx:latest@sha256:${"a".repeat(64)}`,
      `services.web.image: "nginx:latest@sha256:${"a".repeat(64)}" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested`,
    ],
    [
      "nginx",
      'services.web.image: "nginx" has no tag or digest (implicitly "latest"); pin a version tag or a digest',
    ],
    [
      "localhost:5000/web",
      'services.web.image: "localhost:5000/web" has no tag or digest (implicitly "latest"); pin a version tag or a digest',
    ],
    [
      "Nginx:1.0",
      'services.web.image: "Nginx:1.0" is not an image reference (e.g. "ghcr.io/acme/api:1.4.2" or "ghcr.io/acme/api@sha256:<64 hex>")',
    ],
  ])("%s is rejected", (image, message) => {
    expect(problemsOf(raw({ web: web({ image }) }))).toEqual([message]);
  });

  test.each([
    "nginx:1.29.1-alpine",
    "localhost:5000/web:1.0",
    `ghcr.io/acme/api@sha256:${"0".repeat(64)}`,
    `ghcr.io/acme/api:1.0@sha256:${"f".repeat(64)}`,
  ])("%s is accepted", (image) => {
    expect(parsePlatformConfig(raw({ web: web({ image }) })).services.web.image).toBe(image);
  });

  test("a build is accepted instead of a reference", () => {
    const image = { build: { repository: "ghcr.io/acme/web", context: "./web" } };
    expect(parsePlatformConfig(raw({ web: web({ image }) })).services.web.image).toEqual(image);
  });
});

describe("probes and volumes", () => {
  test("a probe with no action, and one with two", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            probes: { readiness: { periodSeconds: 5 }, liveness: { http: { path: "/" }, tcp: {} } },
          }),
        }),
      ),
    ).toEqual([
      "services.web.probes.readiness: a probe needs exactly one of http, tcp, exec or grpc",
      "services.web.probes.liveness: a probe takes exactly one of http, tcp, exec or grpc, not http and tcp",
    ]);
  });

  test("a volume with no source, and one with two", () => {
    expect(
      problemsOf(
        raw({
          web: web({
            volumes: {
              none: { mountPath: "/none" },
              both: { mountPath: "/both", emptyDir: {}, secret: { secretName: "tls" } },
              cm: { mountPath: "/cm", configMap: {} },
            },
          }),
        }),
      ),
    ).toEqual([
      "services.web.volumes.none: a volume needs exactly one of emptyDir, configMap or secret",
      "services.web.volumes.both: a volume needs exactly one of emptyDir, configMap or secret",
      "services.web.volumes.cm.configMap: configMap takes exactly one of name (an existing ConfigMap) or data (generated)",
    ]);
  });
});

describe("ingress and routes", () => {
  test("ingress and route exclude each other", () => {
    expect(
      problemsOf(
        raw(
          {
            web: web({
              ingress: { host: "a.example.com" },
              route: { hostnames: ["a.example.com"] },
            }),
          },
          { cluster: { cloud: "kind", name: "dev", gateway: { name: "gw", namespace: "infra" } } },
        ),
      ),
    ).toEqual([
      "services.web: ingress and route exclude each other; choose an Ingress or a Gateway API route",
    ]);
  });

  test("a route needs a gateway, its own or the cluster's", () => {
    expect(problemsOf(raw({ web: web({ route: { hostnames: ["a.example.com"] } }) }))).toEqual([
      "services.web.route.gateway: no gateway given and cluster.gateway is not set; set one of them",
    ]);
    expect(() =>
      parsePlatformConfig(
        raw({
          web: web({ route: { hostnames: ["a"], gateway: { name: "gw", namespace: "infra" } } }),
        }),
      ),
    ).not.toThrow();
  });
});

describe("secrets", () => {
  const withSecrets = raw({
    web: web({ secretEnv: { DB_PASSWORD: "db-password", API_KEY: "api-key", TOKEN: "token" } }),
  });

  test("lookupSecret reports missing and plain-text keys with the command that fixes them", () => {
    const state: Record<string, "secret" | "plain" | "missing"> = {
      "db-password": "missing",
      "api-key": "plain",
      token: "secret",
    };
    expect(problemsOf(withSecrets, { lookupSecret: (key) => state[key] })).toEqual([
      'services.web.secretEnv.DB_PASSWORD: config key "db-password" is not set (set it with: pulumi config set --secret db-password <value>)',
      'services.web.secretEnv.API_KEY: config key "api-key" is stored in plain text (re-set it with: pulumi config set --secret api-key <value>)',
    ]);
  });

  test("lookupSecret is asked about each referenced key; without it nothing is checked", () => {
    const asked: string[] = [];
    parsePlatformConfig(withSecrets, { lookupSecret: (key) => (asked.push(key), "secret") });
    expect(asked).toEqual(["db-password", "api-key", "token", "secretChecksumKey"]);
    expect(() => parsePlatformConfig(withSecrets)).not.toThrow();
  });

  test("secretChecksumKey: needed by services that roll on secret changes, and only as a secret", () => {
    const lookup = (checksum: "secret" | "plain" | "missing") => ({
      lookupSecret: (key: string) => (key === "secretChecksumKey" ? checksum : "secret"),
      stack: "qa",
    });
    expect(problemsOf(withSecrets, lookup("missing"))).toEqual([
      "secretChecksumKey: not set; web rolls its pods when a secretEnv value changes, through a checksum keyed by it. Create it with: npm run stack:init -- --stack qa (or set restartOnSecretChange: false on it)",
    ]);
    expect(problemsOf(withSecrets, lookup("plain"))).toEqual([
      "secretChecksumKey: stored in plain text; replace it by a secret with: npm run stack:init -- --stack qa --rotate-checksum-key",
    ]);
    expect(() => parsePlatformConfig(withSecrets, lookup("secret"))).not.toThrow();
    const quiet = raw({
      web: web({ secretEnv: { TOKEN: "token" }, restartOnSecretChange: false }),
    });
    expect(() => parsePlatformConfig(quiet, lookup("missing"))).not.toThrow();
    // Set but unused is fine (a stack whose services stopped using secretEnv); not a typo.
    const unused = raw({ web: web() }, { secretChecksumKey: "x" });
    expect(() => parsePlatformConfig(unused, lookup("secret"))).not.toThrow();
  });

  test("neededSecretKeys: what the program reads, from raw services", () => {
    expect(
      neededSecretKeys({
        a: { secretEnv: { A: "a-key" } },
        b: { secretEnv: { B: "b-key" }, restartOnSecretChange: false },
        c: { env: { C: "1" } },
        d: "not a service",
      }),
    ).toEqual(["a-key", "b-key", "secretChecksumKey"]);
    expect(
      neededSecretKeys({ b: { secretEnv: { B: "b-key" }, restartOnSecretChange: false } }),
    ).toEqual(["b-key"]);
    expect(neededSecretKeys(undefined)).toEqual([]);
  });

  test("a variable in both env and secretEnv", () => {
    expect(
      problemsOf(raw({ web: web({ env: { TOKEN: "x" }, secretEnv: { TOKEN: "token" } }) })),
    ).toEqual(["services.web.secretEnv.TOKEN: also set in env; keep it in one of them"]);
  });
});

describe("namespaces and cluster", () => {
  test("a LimitRange defaultRequest above its default", () => {
    expect(
      problemsOf(
        raw(undefined, {
          namespaces: {
            shop: {
              limits: {
                defaultRequest: { cpu: "2", memory: "2Gi" },
                default: { cpu: "1000m", memory: "1Gi" },
              },
            },
          },
        }),
      ),
    ).toEqual([
      "namespaces.shop.limits.defaultRequest.cpu: 2 is above limits.default.cpu (1); pods given these defaults would be rejected",
      "namespaces.shop.limits.defaultRequest.memory: 2Gi is above limits.default.memory (1Gi); pods given these defaults would be rejected",
    ]);
    // Equal is fine.
    expect(() =>
      parsePlatformConfig(
        raw(undefined, {
          namespaces: {
            shop: { limits: { defaultRequest: { cpu: "1" }, default: { cpu: "1000m" } } },
          },
        }),
      ),
    ).not.toThrow();
  });

  test("a LimitRange default above its max", () => {
    expect(
      problemsOf(
        raw(undefined, {
          namespaces: {
            shop: {
              limits: {
                default: { cpu: "2" },
                defaultRequest: { memory: "1Gi" },
                max: { cpu: "1", memory: "512Mi" },
              },
            },
          },
        }),
      ),
    ).toEqual([
      "namespaces.shop.limits.default.cpu: 2 is above limits.max.cpu (1); lower the default or raise the max",
      "namespaces.shop.limits.defaultRequest.memory: 1Gi is above limits.max.memory (512Mi); lower the default or raise the max",
    ]);
  });

  const pool = (overhead: Fields) => ({
    cloud: "kind",
    name: "dev",
    nodePools: {
      general: { count: 1, allocatable: { cpu: "4", memory: "8Gi", pods: 110 }, overhead },
    },
  });

  test("node pool overhead at or above allocatable", () => {
    expect(problemsOf(raw(undefined, { cluster: pool({ cpu: "4000m", memory: "9Gi" }) }))).toEqual([
      "cluster.nodePools.general.overhead.cpu: 4 leaves nothing of allocatable 4; lower the overhead",
      "cluster.nodePools.general.overhead.memory: 9Gi leaves nothing of allocatable 8Gi; lower the overhead",
    ]);
    expect(() =>
      parsePlatformConfig(raw(undefined, { cluster: pool({ cpu: "3999m", memory: "8191Mi" }) })),
    ).not.toThrow();
  });

  test("node pool ephemeral-storage overhead needs an allocatable to come from", () => {
    expect(problemsOf(raw(undefined, { cluster: pool({ "ephemeral-storage": "5Gi" }) }))).toEqual([
      "cluster.nodePools.general.overhead.ephemeral-storage: needs allocatable.ephemeral-storage to be taken from; set cluster.nodePools.general.allocatable.ephemeral-storage or remove the overhead",
    ]);
    const withDisk = pool({ "ephemeral-storage": "100Gi" });
    withDisk.nodePools.general.allocatable = {
      ...withDisk.nodePools.general.allocatable,
      "ephemeral-storage": "100Gi",
    } as typeof withDisk.nodePools.general.allocatable;
    expect(problemsOf(raw(undefined, { cluster: withDisk }))).toEqual([
      "cluster.nodePools.general.overhead.ephemeral-storage: 100Gi leaves nothing of allocatable 100Gi; lower the overhead",
    ]);
  });

  test.each([["context"], ["kubeconfig"]])("renderYamlToDirectory together with %s", (key) => {
    expect(
      problemsOf(
        raw(undefined, {
          cluster: { cloud: "kind", name: "dev", renderYamlToDirectory: "out", [key]: "x" },
        }),
      ),
    ).toEqual([
      "cluster.renderYamlToDirectory: excludes cluster.context and cluster.kubeconfig (rendering needs no cluster); remove one or the other",
    ]);
  });
});

describe("workload identity, per cloud", () => {
  const ARN = "arn:aws:iam::123456789012:role/shop-api";
  const EMAIL = "shop-api@my-project.iam.gserviceaccount.com";
  const UUID = "0f0e0d0c-0000-4000-8000-00000000abcd";
  const withIdentity = (cloud: string, identity: string) =>
    raw(
      { web: web({ serviceAccount: { identity } }) },
      { cluster: { cloud, name: "c1", clusterCidrs: ["10.0.0.0/16"] } },
    );

  test.each([
    ["eks", ARN],
    ["eks", "arn:aws-us-gov:iam::123456789012:role/path/shop-api"],
    ["gke", EMAIL],
    ["aks", UUID],
    ["aks", UUID.toUpperCase()],
  ])("%s accepts %s", (cloud, identity) => {
    expect(
      parsePlatformConfig(withIdentity(cloud, identity)).services.web.serviceAccount?.identity,
    ).toBe(identity);
  });

  test.each([
    [
      "eks",
      EMAIL,
      `"${EMAIL}" is not an IAM role ARN (e.g. arn:aws:iam::123456789012:role/shop-api)`,
    ],
    [
      "eks",
      "arn:aws:iam::1234:role/x",
      '"arn:aws:iam::1234:role/x" is not an IAM role ARN (e.g. arn:aws:iam::123456789012:role/shop-api)',
    ],
    [
      "gke",
      ARN,
      `"${ARN}" is not a GCP service account e-mail (e.g. shop-api@my-project.iam.gserviceaccount.com)`,
    ],
    [
      "aks",
      "shop-api",
      '"shop-api" is not an Azure client id (a UUID such as 00000000-0000-0000-0000-000000000000)',
    ],
    [
      "kind",
      UUID,
      "workload identity is not supported on kind; remove serviceAccount.identity or use annotations",
    ],
    [
      "generic",
      ARN,
      "workload identity is not supported on generic; remove serviceAccount.identity or use annotations",
    ],
  ])("%s rejects %s", (cloud, identity, message) => {
    expect(problemsOf(withIdentity(cloud, identity))).toEqual([
      `services.web.serviceAccount.identity: ${message}`,
    ]);
  });
});

describe("overrides", () => {
  test("a quota override in the other form (auto or limits) replaces the quota", () => {
    const withQuota = (quota: unknown, override: unknown) =>
      parsePlatformConfig(
        raw(
          { web: web() },
          {
            namespaces: { shop: { labels: { team: "shop" }, quota } },
            overrides: { namespaces: { shop: { quota: override } } },
          },
        ),
      ).namespaces.shop;
    expect(withQuota({ "requests.cpu": "2", pods: 10 }, { auto: { headroom: 30 } })).toEqual({
      labels: { team: "shop" },
      quota: { auto: { headroom: 30 } },
    });
    expect(withQuota({ auto: {} }, { pods: 10 }).quota).toEqual({ pods: 10 });
    // The same form still merges key by key.
    expect(withQuota({ "requests.cpu": "2" }, { pods: 10 }).quota).toEqual({
      "requests.cpu": "2",
      pods: 10,
    });
  });

  test("deep merge: objects merge, lists replace, null removes a service or an ingress", () => {
    const config = parsePlatformConfig(
      raw(
        {
          web: web({
            ingress: { host: "a.example.com", path: "/shop" },
            env: { A: "1", B: "2" },
            dependencies: ["api"],
          }),
          api: web({ ports: { http: 3000 } }),
          jobs: worker({ env: { A: "1" } }),
        },
        {
          namespaces: { shop: { labels: { team: "shop" }, quota: { pods: 10 } } },
          overrides: {
            namespaces: { shop: { quota: { pods: 20 } } },
            services: {
              web: {
                ingress: null,
                env: { B: "3", C: "4" },
                dependencies: [],
                replicas: 3,
                resources: { requests: { cpu: "200m" } },
              },
              api: null,
              jobs: { env: { A: null } },
            },
          },
        },
      ),
    );
    expect(Object.keys(config.services)).toEqual(["web", "jobs"]);
    expect(config.services.web).toEqual({
      ...web(),
      env: { A: "1", B: "3", C: "4" },
      dependencies: [],
      replicas: 3,
      resources: requests("200m", "128Mi"),
    });
    expect(config.services.jobs.env).toEqual({});
    expect(config.namespaces.shop).toEqual({ labels: { team: "shop" }, quota: { pods: 20 } });
  });

  test("an override can change a nested field and keep its siblings", () => {
    const config = parsePlatformConfig(
      raw(
        { web: web({ ingress: { host: "a.example.com", path: "/shop" } }) },
        { overrides: { services: { web: { ingress: { host: "b.example.com" } } } } },
      ),
    );
    expect(config.services.web.ingress).toEqual({ host: "b.example.com", path: "/shop" });
  });

  test("overrides are validated like the rest, with the merged path", () => {
    expect(
      problemsOf(
        raw(undefined, {
          overrides: {
            services: { web: { replicsa: 3, resources: { requests: { cpu: "10 cores" } } } },
          },
        }),
      ),
    ).toEqual([
      'services.web.resources.requests.cpu: "10 cores" is not a Kubernetes quantity (examples: 500m, 2)',
      'services.web.replicsa: unknown key (did you mean "replicas"?)',
    ]);
  });

  test("overrides patch only namespaces and services", () => {
    expect(
      problemsOf(
        raw(undefined, {
          overrides: { tier: "prod", cluster: { name: "x" }, services: { web: { replicas: 2 } } },
        }),
      ),
    ).toEqual([
      "overrides.tier: unknown key (overrides patch only namespaces and services; set tier directly)",
      "overrides.cluster: unknown key (overrides patch only namespaces and services; set cluster directly)",
    ]);
  });

  test("overrides must be an object", () => {
    expect(problemsOf(raw(undefined, { overrides: ["services"] }))).toEqual([
      "overrides: expected an object such as { services: { web: { replicas: 3 } } }, got a list",
    ]);
  });

  test("a null inside an override for a field the base lacks is dropped, not kept (RFC 7386)", () => {
    const config = parsePlatformConfig(
      raw(undefined, { overrides: { services: { web: { env: { A: "1", B: null } } } } }),
    );
    expect(config.services.web.env).toEqual({ A: "1" });
  });
});

describe("stack-wide defaults", () => {
  const tainted = {
    nodeSelector: { pool: "shop" },
    tolerations: [{ key: "dedicated", value: "shop", effect: "NoSchedule" }],
    priorityClassName: "shop-standard",
    imagePullSecrets: ["regcred"],
    labels: { "cost-center": "42", team: "platform" },
    podAnnotations: { "sidecar.istio.io/inject": "false" },
    ingressAnnotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" },
  };
  const withDefaults = (services: Fields) =>
    parsePlatformConfig(
      raw(services, {
        defaults: tainted,
        cluster: {
          cloud: "kind",
          name: "dev",
          priorityClasses: { "shop-standard": { value: 1000 } },
        },
        namespaces: { shop: { labels: { team: "shop" } } },
      }),
    );

  test("every service gets them unless it sets its own; maps merge with the service's keys winning", () => {
    const config = withDefaults({
      web: web({ ingress: { host: "a.example.com", annotations: { extra: "1" } } }),
      own: web({
        nodeSelector: { pool: "gpu" },
        tolerations: [],
        labels: { team: "own" },
        podAnnotations: { "sidecar.istio.io/inject": "true" },
      }),
    });
    expect(config.services.web).toMatchObject({
      nodeSelector: { pool: "shop" },
      tolerations: tainted.tolerations,
      priorityClassName: "shop-standard",
      imagePullSecrets: ["regcred"],
      labels: { "cost-center": "42", team: "platform" },
      podAnnotations: { "sidecar.istio.io/inject": "false" },
      ingress: {
        host: "a.example.com",
        annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m", extra: "1" },
      },
    });
    expect(config.services.own).toMatchObject({
      nodeSelector: { pool: "gpu" },
      tolerations: [],
      labels: { "cost-center": "42", team: "own" },
      podAnnotations: { "sidecar.istio.io/inject": "true" },
    });
    // Labels go on the tenants too; the namespace's own win.
    expect(config.namespaces.shop.labels).toEqual({ "cost-center": "42", team: "shop" });
  });

  test("defaults are checked like the service fields they become", () => {
    expect(
      problemsOf(raw({ web: web() }, { defaults: { priorityClassName: "gold", nodeSelectr: {} } })),
    ).toEqual(['defaults.nodeSelectr: unknown key (did you mean "nodeSelector"?)']);
    expect(problemsOf(raw({ web: web() }, { defaults: { priorityClassName: "gold" } }))).toEqual([
      'services.web.priorityClassName: "gold" is not declared under cluster.priorityClasses (declared: none); pods naming an unknown class are rejected at admission',
    ]);
  });
});

describe("mergeOverrides", () => {
  test("objects merge key by key; lists and scalars replace; null removes", () => {
    expect(
      mergeOverrides(
        { a: { x: 1, y: 2 }, l: [1, 2], s: "old", gone: 1 },
        { a: { y: 3, z: 4 }, l: [9], s: "new", gone: null },
      ),
    ).toEqual({
      a: { x: 1, y: 3, z: 4 },
      l: [9],
      s: "new",
    });
  });

  test("undefined in a patch changes nothing; a null patch removes the whole value", () => {
    expect(mergeOverrides({ a: 1 }, { a: undefined })).toEqual({ a: 1 });
    expect(mergeOverrides({ a: 1 }, null)).toBeUndefined();
  });

  test("an object replaces a scalar or a list, and vice versa", () => {
    expect(mergeOverrides({ a: 1, b: [1] }, { a: { x: 1 }, b: { y: 2 } })).toEqual({
      a: { x: 1 },
      b: { y: 2 },
    });
    expect(mergeOverrides({ a: { x: 1 } }, { a: [1] })).toEqual({ a: [1] });
  });

  test("neither input is mutated, and the result shares no patch objects", () => {
    const base = { a: { x: 1 }, l: [1] };
    const patch = { a: { y: 2 }, n: { deep: { v: 1 } } };
    const merged = mergeOverrides(base, patch) as { n: { deep: { v: number } } };
    expect(base).toEqual({ a: { x: 1 }, l: [1] });
    expect(patch).toEqual({ a: { y: 2 }, n: { deep: { v: 1 } } });
    merged.n.deep.v = 2;
    expect(patch.n.deep.v).toBe(1);
  });

  test("nulls nested in a patch for a missing key are dropped (RFC 7386)", () => {
    expect(mergeOverrides({ a: 1 }, { b: { c: null, d: 1 } })).toEqual({ a: 1, b: { d: 1 } });
  });
});
