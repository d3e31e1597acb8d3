import { describe, expect, test } from "vitest";
import { buildContext, parsePlatformConfig } from "../platform";
import { tenantConfig } from "../platform/config";
import { planPlatform } from "../platform/plan";
import { buildTenant, buildWorkload } from "../components";
import { kindOfType, stackObjects, toStackPolicy } from "../policy/policies";
import { evaluatePolicies, POLICIES, type Obj, type Violation } from "../policy/rules";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const DIGEST = "@sha256:" + "a".repeat(64);

function stack(tier: "dev" | "prod", services: Any = {}): Obj[] {
  const config = parsePlatformConfig({
    tier,
    cluster: {
      cloud: "gke",
      name: "c",
      ...(tier === "prod" ? { priorityClasses: { high: { value: 10 } } } : {}),
    },
    namespaces: { shop: { quota: { "requests.cpu": "8" } } },
    services: {
      api: {
        kind: "web",
        namespace: "shop",
        image: `ghcr.io/acme/api:1.0${tier === "prod" ? DIGEST : ""}`,
        ports: { http: 8080 },
        resources: { requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" } },
        autoscale: { min: 2, max: 4 },
        ...(tier === "prod" ? { priorityClassName: "high" } : {}),
      },
      db: {
        kind: "stateful",
        namespace: "shop",
        image: `postgres:17.6${tier === "prod" ? DIGEST : ""}`,
        ports: { pg: 5432 },
        resources: { requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" } },
        storage: { size: "1Gi", mountPath: "/data" },
        ...(tier === "prod" ? { priorityClassName: "high" } : {}),
      },
      ...services,
    },
  } as Any);
  const ctx = buildContext(config, "shop");
  const objects = [
    ...buildTenant(ctx, "shop", tenantConfig("shop", config.namespaces.shop)),
    ...Object.entries(config.services).flatMap(([n, s]) =>
      buildWorkload(ctx, n, s, { image: s.image as string }),
    ),
  ];
  if (tier === "prod") {
    objects.push({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: { name: "platform-retain" },
      reclaimPolicy: "Retain",
    });
  }
  return JSON.parse(JSON.stringify(objects)) as Obj[];
}

const find = (objects: Obj[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name)! as Any;
const only = (v: Violation[], policy: string) =>
  v.filter((x) => x.policy === policy).map((x) => `${x.object}: ${x.message}`);

describe("the generated objects pass every policy", () => {
  test.each(["dev", "prod"] as const)("%s", (tier) => {
    expect(evaluatePolicies(stack(tier))).toEqual([]);
  });
});

describe("each policy catches its violation", () => {
  test("pod-security-restricted", () => {
    const objects = stack("dev");
    find(
      objects,
      "Deployment",
      "api",
    ).spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    delete find(objects, "Deployment", "api").spec.template.spec.securityContext.runAsUser;
    expect(only(evaluatePolicies(objects), "pod-security-restricted")).toEqual([
      "Deployment/shop/api: container api: allowPrivilegeEscalation must be false",
      "Deployment/shop/api: container api: no numeric runAsUser (a user name in the image makes runAsNonRoot fail at start)",
    ]);
  });

  test("no-host-access", () => {
    const objects = stack("dev");
    const pod = find(objects, "Deployment", "api").spec.template.spec;
    pod.hostNetwork = true;
    pod.volumes.push({ name: "docker", hostPath: { path: "/var/run/docker.sock" } });
    expect(only(evaluatePolicies(objects), "no-host-access")).toEqual([
      "Deployment/shop/api: hostNetwork is set",
      "Deployment/shop/api: volume docker mounts hostPath /var/run/docker.sock",
    ]);
  });

  test("resources-set", () => {
    const objects = stack("dev");
    delete find(objects, "StatefulSet", "db").spec.template.spec.containers[0].resources.limits;
    expect(only(evaluatePolicies(objects), "resources-set")).toEqual([
      "StatefulSet/shop/db: container db sets no limits.cpu, limits.memory",
    ]);
  });

  test("images-pinned: latest and untagged everywhere, digests in prod", () => {
    const dev = stack("dev");
    find(dev, "Deployment", "api").spec.template.spec.containers[0].image =
      "ghcr.io/acme/api:latest";
    find(dev, "StatefulSet", "db").spec.template.spec.containers[0].image = "postgres";
    expect(only(evaluatePolicies(dev), "images-pinned")).toEqual([
      'Deployment/shop/api: container api image "ghcr.io/acme/api:latest" uses the latest tag; pin a version',
      'StatefulSet/shop/db: container db image "postgres" has no tag or digest (means latest); pin a version',
    ]);
    const prod = stack("prod");
    find(prod, "Deployment", "api").spec.template.spec.containers[0].image = "ghcr.io/acme/api:1.0";
    expect(only(evaluatePolicies(prod), "images-pinned")).toEqual([
      'Deployment/shop/api: container api image "ghcr.io/acme/api:1.0" has no sha256 digest; prod runs digests only (promote with npm run promote)',
    ]);
  });

  test("readiness-probe-when-served", () => {
    const objects = stack("dev");
    delete find(objects, "Deployment", "api").spec.template.spec.containers[0].readinessProbe;
    expect(only(evaluatePolicies(objects), "readiness-probe-when-served")).toEqual([
      "Deployment/shop/api: container api is served by Service api but has no readinessProbe",
    ]);
  });

  test("disruption-budget: missing, or one that allows no disruption", () => {
    const missing = stack("dev").filter(
      (o) => !(o.kind === "PodDisruptionBudget" && o.metadata.name === "api"),
    );
    expect(only(evaluatePolicies(missing), "disruption-budget")).toEqual([
      "Deployment/shop/api: can run 4 replicas but no PodDisruptionBudget selects it",
    ]);
    const blocking = stack("dev");
    find(blocking, "PodDisruptionBudget", "api").spec = {
      minAvailable: 2,
      selector: { matchLabels: { "app.kubernetes.io/name": "api" } },
    };
    expect(only(evaluatePolicies(blocking), "disruption-budget")).toEqual([
      "Deployment/shop/api: PodDisruptionBudget api allows no voluntary disruption, which blocks node drains; use maxUnavailable: 1",
    ]);
  });

  test("hpa-owns-replicas", () => {
    const objects = stack("dev");
    find(objects, "Deployment", "api").spec.replicas = 3;
    expect(only(evaluatePolicies(objects), "hpa-owns-replicas")).toEqual([
      "Deployment/shop/api: sets spec.replicas (3) although HorizontalPodAutoscaler api scales it; remove replicas",
    ]);
  });

  test("namespace-isolation", () => {
    const objects = stack("dev").filter(
      (o) => o.kind !== "ResourceQuota" && o.metadata.name !== "default-deny",
    );
    expect(only(evaluatePolicies(objects), "namespace-isolation")).toEqual([
      "Namespace/shop: has no default-deny ingress NetworkPolicy",
      "Namespace/shop: has no default-deny egress NetworkPolicy",
      "Namespace/shop: has no ResourceQuota",
    ]);
  });

  test("network-policy-peers: a patch that opens a NetworkPolicy to everything fails", () => {
    const config = parsePlatformConfig({
      tier: "dev",
      cluster: { cloud: "gke", name: "c" },
      namespaces: { shop: { quota: { "requests.cpu": "8" } } },
      services: {
        web: {
          kind: "web",
          namespace: "shop",
          image: "ghcr.io/acme/web:1.0",
          ports: { http: 8080 },
          resources: { requests: { cpu: "100m", memory: "128Mi" } },
          ingressFrom: [{ namespace: "monitoring" }],
          patches: [
            {
              kind: "NetworkPolicy",
              name: "web",
              patch: { spec: { ingress: [{}], egress: [{ to: [{ namespaceSelector: {} }] }] } },
            },
          ],
        },
      },
    });
    // The planned objects are what gets registered, patches applied.
    const plan = planPlatform(config, "shop");
    const objects = [...plan.tenants.shop, ...plan.workloads.web];
    expect(only(evaluatePolicies(objects), "network-policy-peers")).toEqual([
      "NetworkPolicy/shop/web: ingress[0] admits every source; name the pods, namespaces or addresses (from)",
      "NetworkPolicy/shop/web: egress[0] admits every destination; name the pods, namespaces or addresses (to)",
    ]);
  });

  test("external-exposure-opt-in: the config's expose passes, a hand-made LoadBalancer fails", () => {
    const exposed = stack("dev", {});
    find(exposed, "Service", "api").spec.type = "LoadBalancer";
    expect(only(evaluatePolicies(exposed), "external-exposure-opt-in")).toEqual([
      'Service/shop/api: is a LoadBalancer without the platform/expose: "true" opt-in; set services.<name>.expose in config',
    ]);
    const optedIn = stack("dev", {
      edge: {
        kind: "web",
        namespace: "shop",
        image: "nginx:1.29",
        ports: { http: 80 },
        resources: { requests: { cpu: "1", memory: "1Gi", "ephemeral-storage": "1Gi" } },
        expose: { type: "LoadBalancer" },
      },
    });
    expect(only(evaluatePolicies(optedIn), "external-exposure-opt-in")).toEqual([]);
  });

  test("prod-stateful-retained", () => {
    const objects = stack("prod").filter((o) => o.kind !== "StorageClass");
    find(objects, "StatefulSet", "db").spec.persistentVolumeClaimRetentionPolicy.whenDeleted =
      "Delete";
    expect(only(evaluatePolicies(objects), "prod-stateful-retained")).toEqual([
      "StatefulSet/shop/db: persistentVolumeClaimRetentionPolicy.whenDeleted is not Retain",
      "StatefulSet/shop/db: volume data uses storage class platform-retain, not known to retain volumes; use the platform's Retain class",
    ]);
    expect(
      only(
        evaluatePolicies(objects, { retainStorageClasses: ["platform-retain"] }),
        "prod-stateful-retained",
      ),
    ).toHaveLength(1);
  });

  test("advisory: topology spread, prod priority class, ephemeral-storage requests", () => {
    const objects = stack("prod");
    const pod = find(objects, "Deployment", "api").spec.template.spec;
    delete pod.topologySpreadConstraints;
    delete pod.priorityClassName;
    delete pod.containers[0].resources.requests["ephemeral-storage"];
    const v = evaluatePolicies(objects);
    expect(v.every((x) => x.enforcement === "advisory")).toBe(true);
    expect(v.map((x) => `${x.policy} ${x.object}`)).toEqual([
      "topology-spread Deployment/shop/api",
      "prod-priority-class Deployment/shop/api",
      "ephemeral-storage-requests Deployment/shop/api",
    ]);
  });
});

describe("the CrossGuard adapter", () => {
  test("maps Pulumi type tokens to apiVersion and kind", () => {
    expect(kindOfType("kubernetes:apps/v1:Deployment")).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
    });
    expect(kindOfType("kubernetes:core/v1:Service")).toEqual({ apiVersion: "v1", kind: "Service" });
    expect(kindOfType("platform:workloads:WebService")).toBeUndefined();
  });

  test("reports a stack validation's findings against the offending resource's URN", () => {
    const objects = stack("dev");
    find(objects, "Deployment", "api").spec.replicas = 2;
    const resources = objects.map((o) => ({
      type:
        o.kind === "HTTPRoute"
          ? "kubernetes:apiextensions.k8s.io:CustomResource"
          : `kubernetes:${o.apiVersion.includes("/") ? o.apiVersion : `core/${o.apiVersion}`}:${o.kind}`,
      urn: `urn:pulumi:dev::platform::x$${o.kind}::${o.metadata.name}`,
      props: o,
    }));
    expect(stackObjects(resources).objects).toHaveLength(objects.length);
    const policy = toStackPolicy(POLICIES.find((p) => p.name === "hpa-owns-replicas")!);
    expect(policy.enforcementLevel).toBe("mandatory");
    const reported: [string, string | undefined][] = [];
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    void policy.validateStack({ resources, getConfig: () => ({}) } as any, (message, urn) =>
      reported.push([message, urn]),
    );
    expect(reported).toEqual([
      [
        "Deployment/shop/api: sets spec.replicas (2) although HorizontalPodAutoscaler api scales it; remove replicas",
        "urn:pulumi:dev::platform::x$Deployment::api",
      ],
    ]);
  });
});
