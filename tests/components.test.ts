import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, test } from "vitest";
import { internals, registered, valueOf } from "./helpers/mocks";
import { CHECKSUM_KEY } from "./helpers/secrets";
import { waitForRegistrations } from "../scripts/lib/mock-run";
// Components register nothing at import time, so a static import after the mocks is safe.
import * as c from "../components";
import * as p from "../platform";
import type * as Components from "../components";
import type * as Program from "../platform";

const raw = (tier: "dev" | "prod") => ({
  tier,
  cluster: {
    cloud: "gke",
    name: "test",
    nodePools: {
      general: {
        count: 1,
        zones: ["a", "b", "c"],
        allocatable: { cpu: "8", memory: "32Gi", pods: 110 },
      },
    },
    priorityClasses: { "shop-critical": { value: 100000 } },
  },
  namespaces: { shop: { quota: { "requests.cpu": "8", pods: 40 } } },
  services: {
    api: {
      priorityClassName: "shop-critical",
      kind: "web",
      namespace: "shop",
      image: "ghcr.io/acme/api:1.2.3",
      ports: { http: 3000 },
      resources: { requests: { cpu: "250m", memory: "2048Mi" } },
      autoscale: { min: 2, max: 6 },
      secretEnv: { DB_PASSWORD: "db-password" },
      dependencies: ["db"],
    },
    db: {
      kind: "stateful",
      namespace: "shop",
      image: "postgres:17.6-bookworm",
      ports: { postgres: 5432 },
      resources: { requests: { cpu: "500m", memory: "1Gi" } },
      storage: { size: "20Gi", mountPath: "/var/lib/postgresql/data" },
    },
  },
});

describe("Platform under mocks", () => {
  let platform: Program.Platform;
  beforeAll(async () => {
    registered.length = 0;
    const config = p.parsePlatformConfig(raw("prod"));
    platform = new p.Platform("prod", {
      config,
      project: "shop",
      secrets: { "db-password": "pw" },
      secretChecksumKey: CHECKSUM_KEY,
    });
    await waitForRegistrations();
  });

  test("registers components and children with the expected type tokens", () => {
    const types = registered.map((r) => r.type);
    expect(types).toContain("platform:index:Platform");
    expect(types).toContain("platform:tenancy:Tenant");
    expect(types).toContain("platform:workloads:WebService");
    expect(types).toContain("platform:workloads:StatefulService");
    expect(types.filter((t) => t === "pulumi:providers:kubernetes")).toHaveLength(1);
  });

  test("children are parented: Platform > WebService > Deployment", () => {
    const web = platform.workloads.api as Components.WebService;
    expect(internals(web.deployment).parent).toBe(web);
    expect(internals(web).parent).toBe(platform);
    expect(internals(platform.tenants.shop.namespace).parent).toBe(platform.tenants.shop);
  });

  test("the WebService exposes its typed children", () => {
    const web = platform.workloads.api as Components.WebService;
    expect(web.autoscaler).toBeInstanceOf(k8s.autoscaling.v2.HorizontalPodAutoscaler);
    expect(web.disruptionBudget).toBeDefined();
    expect(web.ingress).toBeUndefined();
  });

  test("prod protects the Namespace, stateful data and cluster objects, not stateless workloads", () => {
    const db = platform.workloads.db as Components.StatefulService;
    const web = platform.workloads.api as Components.WebService;
    expect(internals(platform.tenants.shop.namespace).protect).toBe(true);
    expect(internals(db.statefulSet).protect).toBe(true);
    expect(internals(web.deployment).protect).toBeFalsy();
    expect(platform.clusterObjects.map((r) => [r.constructor.name, internals(r).protect])).toEqual([
      ["StorageClass", true],
      ["PriorityClass", true],
    ]);
  });

  test("a secretEnv value is in the pod template only as a checksum, and not as a secret", () => {
    const deploy = registered.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "api-deploy",
    )!;
    const secret = registered.find(
      (r) => r.type === "kubernetes:core/v1:Secret" && r.name === "api-secret-env",
    )!;
    const annotations = deploy.inputs.spec.template.metadata.annotations;
    expect(annotations["checksum/secret-env"]).toBe(
      c.secretChecksum(CHECKSUM_KEY, "shop", "api", { DB_PASSWORD: "pw" }),
    );
    // Mocks keep Pulumi's secret marker: the Secret's data has it, the checksum does not.
    expect(Object.keys(secret.inputs.stringData)).toContain("4dabf18193072939515e22adb298388d");
    expect(typeof annotations["checksum/secret-env"]).toBe("string");
    expect(JSON.stringify(deploy.inputs)).not.toContain('"pw"');
  });

  test("restartOnSecretChange: false leaves the checksum out", async () => {
    new c.Worker("quiet", {
      namespace: "shop",
      image: "ghcr.io/acme/quiet:1.0.0",
      resources: { requests: { cpu: "100m", memory: "128Mi" } },
      secretEnv: { TOKEN: "db-password" },
      restartOnSecretChange: false,
      secrets: { "db-password": "pw" },
      secretChecksumKey: CHECKSUM_KEY,
    });
    await waitForRegistrations();
    const deploy = registered.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "quiet-deploy",
    )!;
    expect(Object.keys(deploy.inputs.spec.template.metadata.annotations)).toEqual([
      "checksum/config",
    ]);
  });

  test("quantities are emitted canonically, so 2048Mi never diffs against 2Gi", () => {
    const deploy = registered.find(
      (r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === "api-deploy",
    )!;
    expect(deploy.inputs.spec.template.spec.containers[0].resources).toEqual({
      requests: { cpu: "250m", memory: "2Gi" },
      limits: { cpu: "250m", memory: "2Gi" },
    });
  });

  test("outputs: endpoints and images", async () => {
    expect(await valueOf(platform.endpoints)).toEqual({
      api: "api.shop.svc.cluster.local:3000",
      db: "db.shop.svc.cluster.local:5432",
    });
    expect(await valueOf(platform.images)).toEqual({
      api: "ghcr.io/acme/api:1.2.3",
      db: "postgres:17.6-bookworm",
    });
  });
});

describe("Platform with a cluster from the same program", () => {
  const renderFree = () => {
    const base = raw("dev");
    return p.parsePlatformConfig(base);
  };

  test("a given provider is used for every object; the platform creates none", async () => {
    registered.length = 0;
    const provider = new k8s.Provider("eks-cluster", { kubeconfig: "{}" });
    const platform = new p.Platform("dev", {
      config: renderFree(),
      project: "shop",
      provider,
      secrets: { "db-password": "pw" },
      secretChecksumKey: CHECKSUM_KEY,
    });
    await waitForRegistrations();
    expect(platform.provider).toBe(provider);
    expect(
      registered.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => r.name),
    ).toEqual(["eks-cluster"]);
    const objects = registered.filter((r) => r.type.startsWith("kubernetes:"));
    expect(objects.length).toBeGreaterThan(10);
    expect(objects.every((r) => r.provider?.includes("::eks-cluster::"))).toBe(true);
  });

  test("a kubeconfig Output reaches the provider the platform creates", async () => {
    registered.length = 0;
    const kubeconfig = pulumi.secret("apiVersion: v1\nkind: Config\n");
    new p.Platform("dev", {
      config: renderFree(),
      project: "shop",
      kubeconfig,
      secrets: { "db-password": "pw" },
      secretChecksumKey: CHECKSUM_KEY,
    });
    await waitForRegistrations();
    const provider = registered.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.name).toBe("dev-k8s");
    // Still a secret when it reaches the provider (the mocks keep Pulumi's secret marker).
    expect(provider.inputs.kubeconfig).toEqual({
      "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
      value: "apiVersion: v1\nkind: Config\n",
    });
  });

  test("a provider and cluster settings from the config exclude each other; nothing is registered", async () => {
    registered.length = 0;
    const config = p.parsePlatformConfig({
      ...raw("dev"),
      cluster: { ...raw("dev").cluster, context: "prod-admin" },
    });
    expect(
      () =>
        new p.Platform("dev", {
          config,
          kubeconfig: "{}",
          provider: new k8s.Provider("x", {}),
          secretChecksumKey: CHECKSUM_KEY,
        }),
    ).toThrowError(
      [
        "Invalid stack configuration (2 problems); nothing was created:",
        "  - Platform: provider and kubeconfig exclude each other; give one of them",
        "  - Platform: provider and kubeconfig given, so cluster.context in the config would be ignored; remove it from the config",
      ].join("\n"),
    );
    await waitForRegistrations();
    expect(registered.map((r) => r.name)).toEqual(["x"]);
  });
});
