/**
 * Pod templates and workload/tenant objects, built from parsed config without Pulumi: the
 * restricted Pod Security profile on every container, resources, probes, replicas, disruption
 * budgets, spreading, rollouts, StatefulSet storage, CronJob defaults, and tenant namespaces.
 */
import { createHash, createHmac } from "node:crypto";
import { describe, expect, test } from "vitest";
import { parsePlatformConfig, tenantConfig } from "../platform/config";
import { buildContext } from "../platform/plan";
import { buildWorkload } from "../components/manifests";
import { buildTenant, DEPLOYER_RULES } from "../components/tenant";
import { TIER_LABEL } from "../components/labels";
import {
  CHECKSUM_ANNOTATION,
  DEFAULT_UID,
  secretChecksum,
  withPodAnnotation,
} from "../components/podspec";
import { podSecurityViolations, podSpecOf, podTemplateOf } from "../policy/pod-security";

// Deep access into generated plain objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
type Fields = Record<string, unknown>;

const IMAGE = "ghcr.io/acme/app:1.0.0";
const requests = (cpu = "100m", memory = "128Mi") => ({ requests: { cpu, memory } });
const web = (extra: Fields = {}): Fields => ({
  kind: "web",
  namespace: "shop",
  image: IMAGE,
  ports: { http: 8080 },
  resources: requests(),
  ...extra,
});
const worker = (extra: Fields = {}): Fields => ({
  kind: "worker",
  namespace: "shop",
  image: IMAGE,
  resources: requests(),
  ...extra,
});
const stateful = (extra: Fields = {}): Fields => ({
  kind: "stateful",
  namespace: "shop",
  image: IMAGE,
  ports: { postgres: 5432 },
  storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
  resources: requests(),
  ...extra,
});
const oneOffJob = (extra: Fields = {}): Fields => ({
  kind: "job",
  namespace: "shop",
  image: IMAGE,
  resources: requests(),
  ...extra,
});
const cron = (extra: Fields = {}): Fields => ({
  kind: "cron",
  namespace: "shop",
  image: IMAGE,
  schedule: "0 3 * * *",
  resources: requests(),
  ...extra,
});

interface Env {
  readonly cluster?: Fields;
  readonly tier?: "dev" | "staging" | "prod";
  readonly namespace?: Fields;
  readonly others?: Fields;
}

function parse(services: Fields, env: Env = {}) {
  const config = parsePlatformConfig({
    tier: env.tier ?? "dev",
    cluster: { cloud: "kind", name: "c1", ...env.cluster },
    namespaces: { shop: env.namespace ?? {} },
    services,
  });
  return { config, ctx: buildContext(config, "shop") };
}

/** Every object of the workload "app" built from `svc`. */
function build(svc: Fields, env: Env = {}): Json[] {
  const { config, ctx } = parse({ app: svc, ...env.others }, env);
  return buildWorkload(ctx, "app", config.services.app, { image: IMAGE });
}

function find(objects: Json[], kind: string, name = "app"): Json {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind}/${name} among ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`,
    );
  return found;
}

const WORKLOAD_KIND: Record<string, string> = {
  web: "Deployment",
  worker: "Deployment",
  stateful: "StatefulSet",
  cron: "CronJob",
  job: "Job",
};

function workloadOf(objects: Json[]): Json {
  return objects.find((o) => ["Deployment", "StatefulSet", "CronJob", "Job"].includes(o.kind));
}

function podOf(objects: Json[]): Json {
  return podSpecOf(workloadOf(objects));
}

function templateOf(objects: Json[]): Json {
  return podTemplateOf(workloadOf(objects));
}

function allContainers(pod: Json): Json[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

const RESTRICTED_CONTAINER = {
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  seccompProfile: { type: "RuntimeDefault" },
};

const extras = {
  sidecars: [
    {
      name: "proxy",
      image: "ghcr.io/acme/proxy:2.0.0",
      ports: { admin: 9901 },
      resources: requests("50m", "64Mi"),
      env: { MODE: "edge" },
    },
  ],
  initContainers: [
    { name: "migrate", image: "ghcr.io/acme/migrate:1.0.0", resources: requests("50m", "64Mi") },
    {
      name: "log-agent",
      image: "ghcr.io/acme/agent:1.0.0",
      resources: requests("10m", "32Mi"),
      restartAlways: true,
    },
  ],
};

describe("Pod Security Standards, restricted", () => {
  test.each([
    ["web", web(extras)],
    ["worker", worker(extras)],
    ["stateful", stateful(extras)],
    ["cron", cron(extras)],
    ["job", oneOffJob(extras)],
  ])("a %s pod meets every control on main, sidecar and init containers", (kind, svc) => {
    const objects = build(svc);
    expect(workloadOf(objects).kind).toBe(WORKLOAD_KIND[kind]);
    const pod = podOf(objects);
    expect(podSecurityViolations(pod)).toEqual([]);

    expect(pod.containers.map((c: Json) => c.name)).toEqual(["app", "proxy"]);
    expect(pod.initContainers.map((c: Json) => c.name)).toEqual(["migrate", "log-agent"]);
    for (const c of allContainers(pod)) {
      expect(c.securityContext, c.name).toEqual(RESTRICTED_CONTAINER);
      for (const p of c.ports ?? []) expect(p.hostPort, c.name).toBeUndefined();
    }
    expect(pod.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: DEFAULT_UID,
      runAsGroup: DEFAULT_UID,
      fsGroup: DEFAULT_UID,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
    for (const key of ["hostNetwork", "hostPID", "hostIPC"]) expect(pod[key]).toBeUndefined();
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.serviceAccountName).toBe("app");
    expect(find(objects, "ServiceAccount").automountServiceAccountToken).toBe(false);
  });

  test("the checker is not vacuous: dropping one control on a sidecar is caught", () => {
    const pod = structuredClone(podOf(build(web(extras))));
    delete pod.containers[1].securityContext.allowPrivilegeEscalation;
    pod.initContainers[0].securityContext.capabilities = { add: ["SYS_ADMIN"] };
    expect(podSecurityViolations(pod)).toEqual([
      expect.stringMatching(/migrate.*capabilities\.drop must include ALL/),
      expect.stringMatching(/migrate.*SYS_ADMIN/),
      expect.stringMatching(/proxy.*allowPrivilegeEscalation must be false/),
    ]);
  });

  test("DEFAULT_UID is the distroless nonroot user", () => {
    expect(DEFAULT_UID).toBe(65532);
  });

  test("numeric identity: runAsGroup and fsGroup follow runAsUser unless given", () => {
    expect(
      podOf(build(web({ securityContext: { runAsUser: 1000 } }))).securityContext,
    ).toMatchObject({
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
    });
    expect(
      podOf(build(web({ securityContext: { runAsUser: 1000, runAsGroup: 2000 } }))).securityContext,
    ).toMatchObject({
      runAsUser: 1000,
      runAsGroup: 2000,
      fsGroup: 2000,
    });
    const pod = podOf(
      build(web({ securityContext: { runAsUser: 999, runAsGroup: 999, fsGroup: 3000 } })),
    );
    expect(pod.securityContext).toMatchObject({ runAsUser: 999, runAsGroup: 999, fsGroup: 3000 });
    expect(podSecurityViolations(pod)).toEqual([]);
  });

  test("readOnlyRootFilesystem can be turned off, for every container at once", () => {
    const pod = podOf(
      build(web({ ...extras, securityContext: { readOnlyRootFilesystem: false } })),
    );
    expect(allContainers(pod).map((c) => c.securityContext.readOnlyRootFilesystem)).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(podSecurityViolations(pod)).toEqual([]);
  });

  test("a native sidecar is an init container with restartPolicy Always; a plain init container has none", () => {
    const pod = podOf(build(web(extras)));
    expect(pod.initContainers[0].restartPolicy).toBeUndefined();
    expect(pod.initContainers[1].restartPolicy).toBe("Always");
  });
});

describe("resources", () => {
  test("limits default to the requests, on every container", () => {
    const pod = podOf(build(web(extras)));
    expect(pod.containers[0].resources).toEqual({
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "100m", memory: "128Mi" },
    });
    expect(pod.containers[1].resources).toEqual({
      requests: { cpu: "50m", memory: "64Mi" },
      limits: { cpu: "50m", memory: "64Mi" },
    });
    expect(pod.initContainers[1].resources).toEqual({
      requests: { cpu: "10m", memory: "32Mi" },
      limits: { cpu: "10m", memory: "32Mi" },
    });
  });

  test("a raised limit is kept, the others follow the requests, and quantities are canonical", () => {
    const pod = podOf(
      build(
        web({
          resources: {
            requests: { cpu: "250m", memory: "2048Mi", "ephemeral-storage": "1Gi" },
            limits: { cpu: "1000m" },
          },
        }),
      ),
    );
    expect(pod.containers[0].resources).toEqual({
      requests: { cpu: "250m", memory: "2Gi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "1", memory: "2Gi", "ephemeral-storage": "1Gi" },
    });
  });
});

describe("volumes", () => {
  test("each writable path is an emptyDir mounted in every container", () => {
    const pod = podOf(build(web({ ...extras, writablePaths: ["/tmp", "/var/cache/nginx"] })));
    expect(pod.volumes.slice(0, 2)).toEqual([
      { name: "w0-tmp", emptyDir: {} },
      { name: "w1-var-cache-nginx", emptyDir: {} },
    ]);
    for (const c of allContainers(pod)) {
      expect(c.volumeMounts.slice(0, 2), c.name).toEqual([
        { name: "w0-tmp", mountPath: "/tmp" },
        { name: "w1-var-cache-nginx", mountPath: "/var/cache/nginx" },
      ]);
    }
  });

  test("/tmp is writable by default", () => {
    const pod = podOf(build(worker()));
    expect(pod.volumes).toEqual([{ name: "w0-tmp", emptyDir: {} }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "w0-tmp", mountPath: "/tmp" }]);
  });

  test("declared volumes: configMap and secret mount read-only on the main container; extra containers mount what they name", () => {
    const objects = build(
      web({
        volumes: {
          conf: { mountPath: "/etc/app", configMap: { data: { "app.conf": "x=1" } } },
          existing: { mountPath: "/etc/shared", configMap: { name: "shared" } },
          certs: { mountPath: "/certs", secret: { secretName: "tls" } },
          cache: { mountPath: "/cache", emptyDir: { sizeLimit: "1024Mi", medium: "Memory" } },
          rw: { mountPath: "/rw", readOnly: false, configMap: { name: "rw" } },
        },
        sidecars: [
          {
            name: "proxy",
            image: "ghcr.io/acme/proxy:2.0.0",
            resources: requests(),
            volumeMounts: { certs: "/tls" },
          },
        ],
      }),
    );
    const pod = podOf(objects);
    expect(pod.volumes).toEqual([
      { name: "w0-tmp", emptyDir: {} },
      { name: "conf", configMap: { name: "app-conf" } },
      { name: "existing", configMap: { name: "shared" } },
      { name: "certs", secret: { secretName: "tls" } },
      { name: "cache", emptyDir: { sizeLimit: "1Gi", medium: "Memory" } },
      { name: "rw", configMap: { name: "rw" } },
    ]);
    expect(pod.containers[0].volumeMounts).toEqual([
      { name: "w0-tmp", mountPath: "/tmp" },
      { name: "conf", mountPath: "/etc/app", readOnly: true },
      { name: "existing", mountPath: "/etc/shared", readOnly: true },
      { name: "certs", mountPath: "/certs", readOnly: true },
      { name: "cache", mountPath: "/cache" },
      { name: "rw", mountPath: "/rw", readOnly: false },
    ]);
    expect(pod.containers[1].volumeMounts).toEqual([
      { name: "w0-tmp", mountPath: "/tmp" },
      { name: "certs", mountPath: "/tls" },
    ]);
    expect(find(objects, "ConfigMap", "app-conf").data).toEqual({ "app.conf": "x=1" });
    expect(podSecurityViolations(pod)).toEqual([]);
  });
});

describe("probes", () => {
  test.each([["web"], ["stateful"]])(
    "%s gets a TCP readiness probe on its first port by default",
    (kind) => {
      const svc = kind === "web" ? web({ ports: { http: 8080, metrics: 9090 } }) : stateful();
      const main = podOf(build(svc)).containers[0];
      expect(main.readinessProbe).toEqual({
        tcpSocket: { port: kind === "web" ? "http" : "postgres" },
      });
      expect(main.livenessProbe).toBeUndefined();
      expect(main.startupProbe).toBeUndefined();
    },
  );

  test.each([
    ["worker", worker()],
    ["cron", cron()],
  ])("%s gets no probe by default", (_kind, svc) => {
    const main = podOf(build(svc)).containers[0];
    expect(main.readinessProbe).toBeUndefined();
    expect(main.livenessProbe).toBeUndefined();
  });

  test("configured probes replace the default", () => {
    const main = podOf(
      build(
        web({
          ports: { http: 8080, admin: 9000 },
          probes: {
            readiness: { http: { path: "/ready", port: "admin" }, periodSeconds: 5 },
            liveness: { http: { path: "/live" }, failureThreshold: 6 },
            startup: { exec: { command: ["/bin/check"] }, initialDelaySeconds: 10 },
          },
        }),
      ),
    ).containers[0];
    expect(main.readinessProbe).toEqual({
      httpGet: { path: "/ready", port: "admin" },
      periodSeconds: 5,
    });
    expect(main.livenessProbe).toEqual({
      httpGet: { path: "/live", port: "http" },
      failureThreshold: 6,
    });
    expect(main.startupProbe).toEqual({
      exec: { command: ["/bin/check"] },
      initialDelaySeconds: 10,
    });
  });

  test("a worker may opt into a gRPC probe", () => {
    const main = podOf(build(worker({ probes: { liveness: { grpc: { port: 9000 } } } })))
      .containers[0];
    expect(main.livenessProbe).toEqual({ grpc: { port: 9000 } });
    expect(main.readinessProbe).toBeUndefined();
  });
});

describe("replicas, HPA and PDB", () => {
  test("without autoscale, spec.replicas is set (default 1)", () => {
    expect(find(build(web()), "Deployment").spec.replicas).toBe(1);
    expect(find(build(web({ replicas: 3 })), "Deployment").spec.replicas).toBe(3);
    expect(find(build(worker({ replicas: 0 })), "Deployment").spec.replicas).toBe(0);
  });

  test("with an HPA the Deployment has no spec.replicas", () => {
    const objects = build(web({ autoscale: { min: 2, max: 5, memory: 80 } }));
    expect("replicas" in find(objects, "Deployment").spec).toBe(false);
    expect(find(objects, "HorizontalPodAutoscaler").spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "app" },
      minReplicas: 2,
      maxReplicas: 5,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } },
        },
        {
          type: "Resource",
          resource: { name: "memory", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ],
    });
  });

  const PDB_SPEC = {
    maxUnavailable: 1,
    selector: { matchLabels: { "app.kubernetes.io/name": "app" } },
    unhealthyPodEvictionPolicy: "AlwaysAllow",
  };

  test.each([
    ["web with 2 replicas", web({ replicas: 2 })],
    ["web autoscaling 1..3", web({ autoscale: { min: 1, max: 3 } })],
    ["worker with 4 replicas", worker({ replicas: 4 })],
    ["stateful with 3 replicas", stateful({ replicas: 3 })],
  ])("a PDB with maxUnavailable 1 when more than one replica can run: %s", (_what, svc) => {
    expect(find(build(svc), "PodDisruptionBudget").spec).toEqual(PDB_SPEC);
  });

  test.each([
    ["web with 1 replica", web()],
    ["web autoscaling 1..1", web({ autoscale: { min: 1, max: 1 } })],
    ["stateful with 1 replica", stateful()],
    ["cron with parallelism 3", cron({ cron: { parallelism: 3 } })],
  ])("no PDB when at most one replica can run, or for jobs: %s", (_what, svc) => {
    expect(build(svc).some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });
});

describe("topology spread", () => {
  const pools = (zones: string[] | undefined) => ({
    nodePools: {
      general: {
        count: 2,
        ...(zones ? { zones } : {}),
        allocatable: { cpu: "4", memory: "16Gi", pods: 110 },
      },
    },
  });
  const spreadOf = (svc: Fields, zones?: string[]) =>
    podOf(build(svc, { cluster: pools(zones) })).topologySpreadConstraints;

  test("hostname spread is ScheduleAnyway; zone spread is DoNotSchedule only over more than one zone", () => {
    const selector = { matchLabels: { "app.kubernetes.io/name": "app" } };
    expect(spreadOf(web({ replicas: 3 }), ["a", "b", "c"])).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
        matchLabelKeys: ["pod-template-hash"],
      },
      {
        maxSkew: 1,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: selector,
        nodeTaintsPolicy: "Honor",
        matchLabelKeys: ["pod-template-hash"],
      },
    ]);
    for (const zones of [["a"], undefined]) {
      expect(spreadOf(web({ replicas: 3 }), zones).map((c: Json) => c.whenUnsatisfiable)).toEqual([
        "ScheduleAnyway",
        "ScheduleAnyway",
      ]);
    }
  });

  test("zones of several pools count together", () => {
    const { ctx } = parse(
      { app: web() },
      {
        cluster: {
          nodePools: {
            a: { count: 1, zones: ["a"], allocatable: { cpu: "4", memory: "16Gi", pods: 110 } },
            b: { count: 1, zones: ["b"], allocatable: { cpu: "4", memory: "16Gi", pods: 110 } },
          },
        },
      },
    );
    expect(ctx.multiZone).toBe(true);
  });

  test("StatefulSet pods spread without pod-template-hash (they have none)", () => {
    const spread = spreadOf(stateful({ replicas: 3 }), ["a", "b"]);
    expect(spread.map((c: Json) => c.matchLabelKeys)).toEqual([undefined, undefined]);
    expect(spread.map((c: Json) => c.whenUnsatisfiable)).toEqual([
      "ScheduleAnyway",
      "DoNotSchedule",
    ]);
  });

  test("no spread for a single replica or a job", () => {
    expect(spreadOf(web(), ["a", "b"])).toBeUndefined();
    expect(spreadOf(cron({ cron: { parallelism: 3 } }), ["a", "b"])).toBeUndefined();
  });
});

describe("secret checksum", () => {
  const KEY = "k".repeat(32);

  test("is an HMAC-SHA256 keyed by the stack's key, independent of value order", () => {
    const a = secretChecksum(KEY, "shop", "api", { A: "1", B: "2" });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(secretChecksum(KEY, "shop", "api", { B: "2", A: "1" })).toBe(a);
    expect(a).toBe(
      createHmac("sha256", KEY)
        .update('platform/secret-env/shop/api\n{"A":"1","B":"2"}')
        .digest("hex"),
    );
  });

  test("without the key, the values cannot be tested: the unkeyed hash does not match", () => {
    const sum = secretChecksum(KEY, "shop", "api", { A: "hunter2" });
    const guess = (key: string) => secretChecksum(key, "shop", "api", { A: "hunter2" });
    expect(
      createHash("sha256").update('platform/secret-env/shop/api\n{"A":"hunter2"}').digest("hex"),
    ).not.toBe(sum);
    expect(guess("")).not.toBe(sum);
    expect(guess("j".repeat(32))).not.toBe(sum);
  });

  test("changes with a value, the service, the namespace and the key", () => {
    const a = secretChecksum(KEY, "shop", "api", { A: "1" });
    expect(secretChecksum(KEY, "shop", "api", { A: "2" })).not.toBe(a);
    expect(secretChecksum(KEY, "shop", "web", { A: "1" })).not.toBe(a);
    expect(secretChecksum(KEY, "ops", "api", { A: "1" })).not.toBe(a);
    expect(secretChecksum("j".repeat(32), "shop", "api", { A: "1" })).not.toBe(a);
  });

  test("withPodAnnotation annotates the pod template of each pod owner, without mutating", () => {
    const [deploy] = build(web()).filter((m) => m.kind === "Deployment");
    const before = JSON.stringify(deploy);
    const annotated = withPodAnnotation(deploy, "checksum/secret-env", "abc");
    expect(JSON.stringify(deploy)).toBe(before);
    expect((annotated as Json).spec.template.metadata.annotations).toEqual({
      [CHECKSUM_ANNOTATION]: (deploy as Json).spec.template.metadata.annotations[
        CHECKSUM_ANNOTATION
      ],
      "checksum/secret-env": "abc",
    });
    expect((annotated as Json).spec.selector).toBe((deploy as Json).spec.selector);

    const [cronJob] = build(cron()).filter((m) => m.kind === "CronJob");
    expect(
      (withPodAnnotation(cronJob, "k", "v") as Json).spec.jobTemplate.spec.template.metadata
        .annotations.k,
    ).toBe("v");
    const [sts] = build(stateful()).filter((m) => m.kind === "StatefulSet");
    expect((withPodAnnotation(sts, "k", "v") as Json).spec.template.metadata.annotations.k).toBe(
      "v",
    );
    const [svc] = build(web()).filter((m) => m.kind === "Service");
    expect(withPodAnnotation(svc, "k", "v")).toBe(svc);
  });
});

describe("config checksum", () => {
  const checksumOf = (svc: Fields) =>
    templateOf(build(svc)).metadata.annotations[CHECKSUM_ANNOTATION] as string;
  const base = () =>
    web({
      env: { MODE: "a" },
      secretEnv: { TOKEN: "token" },
      volumes: { conf: { mountPath: "/etc/app", configMap: { data: { "app.conf": "x=1" } } } },
      sidecars: [
        {
          name: "proxy",
          image: "ghcr.io/acme/proxy:2.0.0",
          resources: requests(),
          env: { LEVEL: "info" },
        },
      ],
    });

  test("is a sha256 and stable", () => {
    expect(checksumOf(base())).toMatch(/^[0-9a-f]{64}$/);
    expect(checksumOf(base())).toBe(checksumOf(base()));
  });

  test.each([
    ["env", { env: { MODE: "b" } }],
    [
      "configMap data",
      { volumes: { conf: { mountPath: "/etc/app", configMap: { data: { "app.conf": "x=2" } } } } },
    ],
    ["secretEnv keys", { secretEnv: { TOKEN: "other-token" } }],
    [
      "sidecar env",
      {
        sidecars: [
          {
            name: "proxy",
            image: "ghcr.io/acme/proxy:2.0.0",
            resources: requests(),
            env: { LEVEL: "debug" },
          },
        ],
      },
    ],
  ])("changes when %s changes", (_what, change) => {
    expect(checksumOf({ ...base(), ...change })).not.toBe(checksumOf(base()));
  });

  test.each([
    ["replicas", { replicas: 5 }],
    ["resources", { resources: requests("200m", "256Mi") }],
    ["the order of env keys", { env: { MODE: "a" } }],
  ])("does not change when %s changes", (_what, change) => {
    expect(checksumOf({ ...base(), ...change })).toBe(checksumOf(base()));
  });
});

describe("rollouts", () => {
  test("web keeps full capacity (25% surge, 0 unavailable); workers may dip (25%/25%)", () => {
    expect(find(build(web()), "Deployment").spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: "25%", maxUnavailable: 0 },
    });
    expect(find(build(worker()), "Deployment").spec.strategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: "25%", maxUnavailable: "25%" },
    });
  });

  test("deployment defaults and overrides", () => {
    const spec = find(build(web()), "Deployment").spec;
    expect(spec.progressDeadlineSeconds).toBe(600);
    expect(spec.revisionHistoryLimit).toBe(5);
    expect(spec.minReadySeconds).toBeUndefined();
    expect(spec.selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "app" } });

    const custom = find(
      build(
        web({
          rollout: {
            maxSurge: 1,
            maxUnavailable: "10%",
            progressDeadlineSeconds: 120,
            minReadySeconds: 15,
          },
        }),
      ),
      "Deployment",
    ).spec;
    expect(custom.strategy.rollingUpdate).toEqual({ maxSurge: 1, maxUnavailable: "10%" });
    expect(custom.progressDeadlineSeconds).toBe(120);
    expect(custom.minReadySeconds).toBe(15);
  });
});

describe("StatefulSet", () => {
  test("Retain claims, a headless service, and a claim template with the tier's storage class", () => {
    const objects = build(stateful({ replicas: 2 }));
    const { template, ...spec } = find(objects, "StatefulSet").spec;
    expect(spec).toEqual({
      serviceName: "app-headless",
      replicas: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "app" } },
      podManagementPolicy: "OrderedReady",
      updateStrategy: { type: "RollingUpdate" },
      revisionHistoryLimit: 5,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels: { "app.kubernetes.io/name": "app" } },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "standard",
            resources: { requests: { storage: "10Gi" } },
          },
        },
      ],
    });
    expect(template.spec.containers[0].volumeMounts).toContainEqual({
      name: "data",
      mountPath: "/var/lib/postgresql/data",
    });
    expect(find(objects, "Service", "app-headless").spec).toEqual({
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: { "app.kubernetes.io/name": "app" },
      ports: [{ name: "postgres", port: 5432, targetPort: "postgres", protocol: "TCP" }],
    });
    expect(find(objects, "Service", "app").spec.type).toBe("ClusterIP");
  });

  const classOf = (svc: Fields, env: Env) =>
    find(build(svc, env), "StatefulSet").spec.volumeClaimTemplates[0].spec.storageClassName;

  test("prod uses the platform's Retain class", () => {
    expect(classOf(stateful(), { tier: "prod" })).toBe("platform-retain");
    expect(classOf(stateful(), { tier: "staging" })).toBe("standard");
  });

  test("cluster.storageClass, then storage.storageClass, override the profile", () => {
    expect(classOf(stateful(), { tier: "prod", cluster: { storageClass: "fast" } })).toBe("fast");
    expect(
      classOf(stateful({ storage: { size: "1Gi", mountPath: "/d", storageClass: "local" } }), {
        cluster: { storageClass: "fast" },
      }),
    ).toBe("local");
  });

  test("storage size is canonical", () => {
    const vct = find(
      build(stateful({ storage: { size: "10240Mi", mountPath: "/d" } })),
      "StatefulSet",
    ).spec.volumeClaimTemplates[0];
    expect(vct.spec.resources.requests.storage).toBe("10Gi");
  });
});

describe("Job (kind job)", () => {
  test("defaults: backoff 2, one pod, a 600 s deadline, restartPolicy Never, no TTL, no PDB or spread", () => {
    const objects = build(oneOffJob());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/app",
      "Job/app",
    ]);
    const { template, ...spec } = find(objects, "Job").spec;
    expect(spec).toEqual({
      backoffLimit: 2,
      parallelism: 1,
      completions: 1,
      activeDeadlineSeconds: 600,
    });
    expect(template.spec.restartPolicy).toBe("Never");
    expect(template.spec.topologySpreadConstraints).toBeUndefined();
    expect(template.metadata.labels["app.kubernetes.io/component"]).toBe("job");
  });

  test("job settings and parallelism: still no PDB or spread", () => {
    const objects = build(
      oneOffJob({ job: { backoffLimit: 0, parallelism: 3, activeDeadlineSeconds: 120 } }),
    );
    const spec = find(objects, "Job").spec;
    expect([spec.backoffLimit, spec.parallelism, spec.completions]).toEqual([0, 3, 3]);
    expect(spec.activeDeadlineSeconds).toBe(120);
    expect(spec.template.spec.topologySpreadConstraints).toBeUndefined();
    expect(objects.some((o) => o.kind === "PodDisruptionBudget")).toBe(false);
  });
});

describe("CronJob", () => {
  test("defaults: Forbid, 300s starting deadline, backoff 2, history 3, restartPolicy Never", () => {
    const objects = build(cron());
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "ServiceAccount/app",
      "CronJob/app",
    ]);
    const { jobTemplate, ...spec } = find(objects, "CronJob").spec;
    expect(spec).toEqual({
      schedule: "0 3 * * *",
      concurrencyPolicy: "Forbid",
      startingDeadlineSeconds: 300,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    const { template, ...job } = jobTemplate.spec;
    expect(job).toEqual({
      backoffLimit: 2,
      parallelism: 1,
      completions: 1,
      ttlSecondsAfterFinished: 86400,
    });
    expect(template.spec.restartPolicy).toBe("Never");
    expect(jobTemplate.metadata.labels["app.kubernetes.io/component"]).toBe("job");
  });

  test("the cron block overrides each default", () => {
    const { jobTemplate, ...spec } = find(
      build(
        cron({
          schedule: "@hourly",
          cron: {
            concurrencyPolicy: "Replace",
            startingDeadlineSeconds: 60,
            backoffLimit: 0,
            successfulJobsHistoryLimit: 1,
            failedJobsHistoryLimit: 5,
            parallelism: 2,
            activeDeadlineSeconds: 3600,
            timeZone: "Europe/Berlin",
          },
        }),
      ),
      "CronJob",
    ).spec;
    expect(spec).toEqual({
      schedule: "@hourly",
      concurrencyPolicy: "Replace",
      startingDeadlineSeconds: 60,
      successfulJobsHistoryLimit: 1,
      failedJobsHistoryLimit: 5,
      timeZone: "Europe/Berlin",
    });
    const { template: _template, ...job } = jobTemplate.spec;
    expect(job).toEqual({
      backoffLimit: 0,
      parallelism: 2,
      completions: 2,
      ttlSecondsAfterFinished: 86400,
      activeDeadlineSeconds: 3600,
    });
  });
});

describe("Tenant", () => {
  function tenant(namespace: Fields, env: Env = {}): Json[] {
    const { config, ctx } = parse({ app: web() }, { ...env, namespace });
    return buildTenant(ctx, "shop", tenantConfig("shop", config.namespaces.shop));
  }

  test("objects, in order", () => {
    expect(tenant({ quota: { pods: 10 } }).map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Namespace/shop",
      "ResourceQuota/quota",
      "LimitRange/defaults",
      "NetworkPolicy/default-deny",
      "NetworkPolicy/allow-dns",
    ]);
    expect(tenant({}).some((o) => o.kind === "ResourceQuota")).toBe(false);
  });

  test("the namespace enforces restricted Pod Security, and user labels cannot weaken it", () => {
    const ns = find(
      tenant({
        labels: { team: "shop", "pod-security.kubernetes.io/enforce": "privileged" },
        annotations: { owner: "shop-team" },
      }),
      "Namespace",
      "shop",
    );
    expect(ns.metadata.labels).toEqual({
      team: "shop",
      [TIER_LABEL]: "dev",
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "pulumi",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/warn": "restricted",
    });
    expect(ns.metadata.annotations).toEqual({ owner: "shop-team" });
  });

  test("access binds the team's groups to the built-in roles in this namespace only", () => {
    const bindings = tenant({
      access: { admin: ["shop-leads"], view: ["auditors", "auditors", "sre"] },
    }).filter((o) => o.kind === "RoleBinding");
    expect(bindings).toEqual([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: {
          name: "access-admin",
          namespace: "shop",
          labels: { "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "pulumi" },
        },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "shop-leads" }],
      },
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: {
          name: "access-view",
          namespace: "shop",
          labels: { "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "pulumi" },
        },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [
          { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "auditors" },
          { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "sre" },
        ],
      },
    ]);
    expect(tenant({}).some((o) => o.kind === "RoleBinding")).toBe(false);
  });

  test("access.deploy binds ServiceAccounts to the least-privilege deployer Role", () => {
    const objects = tenant({
      access: { deploy: ["ci/platform-deployer", "ci/platform-deployer"] },
    });
    const role = find(objects, "Role", "platform-deployer");
    expect(role.rules).toEqual(DEPLOYER_RULES);
    // Nothing cluster-scoped or role-granting beyond the three built-in roles it may bind.
    expect(JSON.stringify(role.rules)).not.toMatch(
      /"(namespaces|roles|clusterrolebindings)","?[^\]]*"create"/,
    );
    expect(find(objects, "RoleBinding", "platform-deployer")).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "platform-deployer" },
      subjects: [{ kind: "ServiceAccount", name: "platform-deployer", namespace: "ci" }],
    });
  });

  test("the tier label follows the stack", () => {
    expect(
      find(tenant({}, { tier: "prod" }), "Namespace", "shop").metadata.labels[TIER_LABEL],
    ).toBe("prod");
  });

  test("podSecurity baseline relaxes enforcement only; audit and warn stay restricted", () => {
    const labels = find(tenant({ podSecurity: "baseline" }), "Namespace", "shop").metadata.labels;
    expect(labels["pod-security.kubernetes.io/enforce"]).toBe("baseline");
    expect(labels["pod-security.kubernetes.io/audit"]).toBe("restricted");
    expect(labels["pod-security.kubernetes.io/warn"]).toBe("restricted");
  });

  test("the quota is canonicalised and sorted by key", () => {
    const quota = find(
      tenant({
        quota: {
          "requests.memory": "8192Mi",
          pods: 10,
          "limits.cpu": "6000m",
          "requests.cpu": 4,
          "requests.storage": "40960Mi",
        },
      }),
      "ResourceQuota",
      "quota",
    );
    expect(quota.metadata.namespace).toBe("shop");
    expect(Object.entries(quota.spec.hard)).toEqual([
      ["limits.cpu", "6"],
      ["pods", "10"],
      ["requests.cpu", "4"],
      ["requests.memory", "8Gi"],
      ["requests.storage", "40Gi"],
    ]);
  });

  test("LimitRange: platform defaults, overridden per resource, with max passed through", () => {
    expect(find(tenant({}), "LimitRange", "defaults").spec).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "100m", memory: "128Mi" },
          default: { cpu: "500m", memory: "512Mi" },
        },
      ],
    });
    expect(
      find(
        tenant({
          limits: {
            defaultRequest: { cpu: "50m" },
            default: { memory: "1024Mi" },
            max: { cpu: "2", memory: "4Gi" },
          },
        }),
        "LimitRange",
        "defaults",
      ).spec,
    ).toEqual({
      limits: [
        {
          type: "Container",
          defaultRequest: { cpu: "50m", memory: "128Mi" },
          default: { cpu: "500m", memory: "1Gi" },
          max: { cpu: "2", memory: "4Gi" },
        },
      ],
    });
  });

  test("platform defaults are fitted to the namespace's own limits (the API server rejects defaultRequest > default > max)", () => {
    // Only defaultRequest.memory raised: the platform's default limit (512Mi) must not stay below it.
    expect(
      find(tenant({ limits: { defaultRequest: { memory: "1Gi" } } }), "LimitRange", "defaults").spec
        .limits[0],
    ).toEqual({
      type: "Container",
      defaultRequest: { cpu: "100m", memory: "1Gi" },
      default: { cpu: "500m", memory: "1Gi" },
    });
    // Only max.cpu lowered: the platform's default limit (500m) must not stay above it.
    expect(
      find(tenant({ limits: { max: { cpu: "250m" } } }), "LimitRange", "defaults").spec.limits[0],
    ).toEqual({
      type: "Container",
      defaultRequest: { cpu: "100m", memory: "128Mi" },
      default: { cpu: "250m", memory: "512Mi" },
      max: { cpu: "250m" },
    });
  });

  test("default-deny for all pods, then DNS egress", () => {
    const objects = tenant({});
    const labels = {
      "app.kubernetes.io/part-of": "shop",
      "app.kubernetes.io/managed-by": "pulumi",
    };
    expect(find(objects, "NetworkPolicy", "default-deny")).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace: "shop", labels },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    expect(find(objects, "NetworkPolicy", "allow-dns")).toEqual({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-dns", namespace: "shop", labels },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      },
    });
  });
});

describe("a workload's own labels and pod annotations", () => {
  test("labels go on every object and on the pods, never on selectors; the platform's keys win", () => {
    const objects = build(
      web({
        labels: { "cost-center": "42", team: "shop" },
        podAnnotations: { "sidecar.istio.io/inject": "false" },
        autoscale: { min: 2, max: 4 },
        ingress: {
          host: "a.example.com",
          annotations: { "nginx.ingress.kubernetes.io/proxy-body-size": "8m" },
        },
      }),
    );
    for (const o of objects)
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).toMatchObject({
        "cost-center": "42",
        team: "shop",
        "app.kubernetes.io/name": "app",
      });
    const deployment = find(objects, "Deployment");
    expect(deployment.spec.selector).toEqual({ matchLabels: { "app.kubernetes.io/name": "app" } });
    expect(deployment.spec.template.metadata.labels).toMatchObject({ "cost-center": "42" });
    expect(deployment.spec.template.metadata.annotations).toMatchObject({
      "sidecar.istio.io/inject": "false",
      "checksum/config": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(find(objects, "Service").spec.selector).toEqual({ "app.kubernetes.io/name": "app" });
    expect(find(objects, "PodDisruptionBudget").spec.selector).toEqual({
      matchLabels: { "app.kubernetes.io/name": "app" },
    });
    expect(find(objects, "Ingress").metadata.annotations).toEqual({
      "nginx.ingress.kubernetes.io/proxy-body-size": "8m",
      "pulumi.com/skipAwait": "true",
    });
  });

  test("a CronJob's pods get them too", () => {
    const cronJob = find(
      build(cron({ labels: { team: "ops" }, podAnnotations: { a: "b" } })),
      "CronJob",
    );
    const template = cronJob.spec.jobTemplate.spec.template;
    expect(template.metadata.labels).toMatchObject({ team: "ops" });
    expect(template.metadata.annotations).toMatchObject({ a: "b" });
  });

  test("the platform's own labels cannot be set", () => {
    expect(() => build(web({ labels: { "app.kubernetes.io/name": "other" } }))).toThrowError(
      "services.app.labels.app.kubernetes.io/name: set by the platform on every object (app.kubernetes.io/name, app.kubernetes.io/component, app.kubernetes.io/part-of, app.kubernetes.io/managed-by); use another key",
    );
  });
});
