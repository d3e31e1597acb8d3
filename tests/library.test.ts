/**
 * The components as a library user writes them: typed per-kind arguments, components wired to
 * each other, arguments checked before anything is registered. Own fixtures; no stack config.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeEach, describe, expect, test } from "vitest";
import { registered } from "./helpers/mocks";
import { waitForRegistrations } from "../scripts/lib/mock-run";
import {
  ArgumentError,
  CronTask,
  StatefulService,
  Task,
  Tenant,
  WebService,
  Worker,
  type WebServiceArgs,
} from "../components";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const requests = { requests: { cpu: "250m", memory: "256Mi" } };
const inputsOf = (type: string, name: string): Any =>
  registered.find((r) => r.type === `kubernetes:${type}` && r.name === name)!.inputs;

beforeEach(async () => {
  await waitForRegistrations(); // a previous test's registrations land before the count restarts
  registered.length = 0;
});

describe("a program written against the library", () => {
  test("tenant, database and web service wired by reference: both sides of each path open", async () => {
    const shop = new Tenant("shop", {
      quota: { "requests.cpu": "4" },
      access: { edit: ["shop-devs"] },
    });
    const db = new StatefulService("postgres", {
      namespace: shop,
      image: "postgres:17.6-bookworm",
      ports: { postgres: 5432 },
      resources: { requests: { cpu: "500m", memory: "1Gi" } },
      storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
    });
    const api = new WebService("api", {
      namespace: shop,
      image: "ghcr.io/acme/api:1.2.3",
      ports: { http: 3000 },
      dependencies: [db],
      resources: { requests: { cpu: "250m", memory: "2048Mi" } },
      autoscale: { min: 2, max: 6 },
      route: { hostnames: ["shop.example.com"], gateway: { name: "public", namespace: "gw" } },
    });
    await waitForRegistrations();

    expect(shop.namespaceName).toBe("shop");
    expect(shop.roleBindings.edit).toBeDefined();
    expect(api.route).toBeDefined();
    expect(api.namespaceName).toBe("shop");
    // The caller's egress, on the callee's ports.
    expect(inputsOf("networking.k8s.io/v1:NetworkPolicy", "api-netpol").spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
    ]);
    // The callee's side, owned by the caller.
    const edge = inputsOf("networking.k8s.io/v1:NetworkPolicy", "api-netpol-postgres-from-api");
    expect(edge.metadata).toMatchObject({ name: "postgres-from-api", namespace: "shop" });
    expect(edge.spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "api" } },
            },
          ],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
    // Quantities are canonical on this path too, and the HPA owns the replica count.
    const deploy = inputsOf("apps/v1:Deployment", "api-deploy");
    expect(deploy.spec.template.spec.containers[0].resources.requests).toEqual({
      cpu: "250m",
      memory: "2Gi",
    });
    expect(deploy.spec.replicas).toBeUndefined();
    // Defaults: a generic cluster in tier dev, labelled with the Pulumi project.
    expect(deploy.metadata.labels["app.kubernetes.io/part-of"]).toBe("platform");
    expect(
      inputsOf("apps/v1:StatefulSet", "postgres-sts").spec.volumeClaimTemplates[0].spec,
    ).not.toHaveProperty("storageClassName");
  });

  test("a caller that the callee lists already gets no second policy; a named peer is reached on any port", async () => {
    const worker = new Worker("jobs", {
      namespace: "shop",
      image: "ghcr.io/acme/jobs:1.0.0",
      resources: requests,
      dependencies: ["billing/ledger"],
    });
    new WebService("api", {
      namespace: "shop",
      image: "ghcr.io/acme/api:1.2.3",
      ports: { http: 3000 },
      resources: requests,
      callers: [worker],
    });
    new Worker("reporter", {
      namespace: "shop",
      image: "ghcr.io/acme/reporter:1.0.0",
      resources: requests,
      dependencies: [{ name: "api", ports: { http: 3000 } }],
    });
    await waitForRegistrations();
    expect(inputsOf("networking.k8s.io/v1:NetworkPolicy", "jobs-netpol").spec.egress).toEqual([
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "billing" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "ledger" } },
          },
        ],
        ports: [],
      },
    ]);
    expect(inputsOf("networking.k8s.io/v1:NetworkPolicy", "api-netpol").spec.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "shop" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "jobs" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 3000 }],
      },
    ]);
    expect(registered.filter((r) => r.name.includes("-from-"))).toEqual([]);
  });

  test("the environment sets the cloud, tier and part-of label", async () => {
    new StatefulService("db", {
      namespace: "data",
      image: "postgres:17.6-bookworm",
      ports: { postgres: 5432 },
      resources: requests,
      storage: { size: "10Gi", mountPath: "/data" },
      environment: { cloud: "gke", tier: "prod", partOf: "shop", multiZone: true },
    });
    await waitForRegistrations();
    const sts = inputsOf("apps/v1:StatefulSet", "db-sts");
    expect(sts.metadata.labels["app.kubernetes.io/part-of"]).toBe("shop");
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBe("platform-retain");
  });

  test("an env value may be another resource's Output; plain values are still checked", async () => {
    const address = pulumi.output("db.internal.example.com");
    new Worker("sync", {
      namespace: "shop",
      image: "ghcr.io/acme/sync:1.0.0",
      resources: requests,
      env: { DB_HOST: address, MODE: "full" },
    });
    await waitForRegistrations();
    const container = inputsOf("apps/v1:Deployment", "sync-deploy").spec.template.spec
      .containers[0];
    expect(container.env).toEqual([
      { name: "DB_HOST", value: "db.internal.example.com" },
      { name: "MODE", value: "full" },
    ]);
    expect(
      () =>
        new Worker("bad", {
          namespace: "shop",
          image: "ghcr.io/acme/sync:1.0.0",
          resources: requests,
          env: { DB_HOST: address, MODE: ["full"] as unknown as string },
        }),
    ).toThrowError('Worker "bad": env.MODE: a list is not valid here');
  });
});

describe("arguments are checked before anything is registered", () => {
  const web = (extra: Any = {}): WebServiceArgs =>
    ({
      namespace: "shop",
      image: "ghcr.io/acme/api:1.2.3",
      ports: { http: 3000 },
      resources: requests,
      ...extra,
    }) as WebServiceArgs;

  test("each problem names the component, the key path and the fix; schema problems together", async () => {
    expect(
      () =>
        new WebService(
          "api",
          web({
            resources: { requests: { cpu: "lots", memory: "256Mi" } },
            ports: { HTTP: 3000 },
          }),
        ),
    ).toThrowError(
      [
        'WebService "api": resources.requests.cpu: "lots" is not a Kubernetes quantity (examples: 500m, 2)',
        'WebService "api": ports.HTTP: a port name must be a DNS label: lower-case letters, digits and \'-\', starting and ending with a letter or digit (e.g. "shop", "web-api")',
      ].join("\n"),
    );
    expect(
      () => new WebService("api", web({ autoscale: { min: 5, max: 2 }, image: "nginx:latest" })),
    ).toThrowError(
      [
        'WebService "api": image: "nginx:latest" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested',
        'WebService "api": autoscale: min (5) is greater than max (2); make max at least 5',
      ].join("\n"),
    );
    // One ArgumentError, its problems listed for tools.
    let thrown: unknown;
    try {
      new WebService("api", web({ autoscale: { min: 5, max: 2 } }));
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ArgumentError);
    expect((thrown as ArgumentError).problems).toEqual([
      "autoscale: min (5) is greater than max (2); make max at least 5",
    ]);
    await waitForRegistrations();
    expect(registered).toEqual([]);
  });

  test("a field of another kind is named as such (and is a type error)", () => {
    expect(
      () =>
        // @ts-expect-error schedule belongs to CronTask
        new WebService("api", { ...web(), schedule: "0 3 * * *", replicsa: 2 }),
    ).toThrowError(
      [
        'WebService "api": schedule: not used by WebService (only CronTask); remove it',
        'WebService "api": replicsa: unknown key (did you mean "replicas"?)',
      ].join("\n"),
    );
    // @ts-expect-error a Task has no replicas
    expect(() => new Task("migrate", { ...web({ ports: undefined }), replicas: 2 })).toThrowError(
      'Task "migrate": replicas: not used by Task (only WebService, Worker, StatefulService); remove it',
    );
  });

  test("what a kind requires, references that name no workload, and a bad environment", () => {
    expect(
      () =>
        // @ts-expect-error storage is required
        new StatefulService("db", {
          namespace: "shop",
          image: "postgres:17.6",
          resources: requests,
        }),
    ).toThrowError(
      'StatefulService "db": storage: is required (expected object { size, mountPath, storageClass? })',
    );
    expect(
      () => new CronTask("backup", { ...web({ ports: undefined }), schedule: "daily" }),
    ).toThrowError(
      'CronTask "backup": schedule: "daily" is not a cron schedule (five fields, e.g. "0 3 * * *" or "@daily")',
    );
    expect(
      () =>
        new WebService(
          "api",
          web({ dependencies: ["shop/db/x"], environment: { cloud: "openstack" } }),
        ),
    ).toThrowError(
      [
        'WebService "api": dependencies[0]: "shop/db/x" is not a workload ("api", or "shop/api" in another namespace)',
        'WebService "api": environment.cloud: "openstack" is not allowed (expected one of: kind, eks, gke, aks, generic)',
      ].join("\n"),
    );
    expect(() => new WebService("API", web({ secretEnv: { TOKEN: "api-token" } }))).toThrowError(
      [
        `WebService "API": name: "API" must be a DNS label (lower-case letters, digits and '-')`,
        'WebService "API": secretEnv.TOKEN: no value for "api-token" in secrets',
        'WebService "API": secretChecksumKey: required with secretEnv, to roll the pods when a secret value changes: give one per-stack secret of at least 32 random characters (e.g. new pulumi.Config().requireSecret("secretChecksumKey")), or set restartOnSecretChange: false',
      ].join("\n"),
    );
  });

  test("secretChecksumKey: required to roll on secret changes, long enough when plain", async () => {
    const withSecret = (extra: Record<string, unknown>) =>
      web({ secretEnv: { TOKEN: "api-token" }, secrets: { "api-token": "t" }, ...extra });
    expect(() => new WebService("api", withSecret({ secretChecksumKey: "short" }))).toThrowError(
      'WebService "api": secretChecksumKey: 5 characters is too short to key the checksum; give at least 32 random characters (e.g. openssl rand -base64 32)',
    );
    await waitForRegistrations();
    expect(registered).toEqual([]);
    // Not needed when the pods do not roll on secret changes; an Output is taken as it is.
    new WebService("quiet", withSecret({ restartOnSecretChange: false }));
    new WebService("keyed", withSecret({ secretChecksumKey: pulumi.secret("k".repeat(8)) }));
    await waitForRegistrations();
    expect(registered.filter((r) => r.type === "kubernetes:apps/v1:Deployment").length).toBe(2);
  });

  test("a patch that matches nothing is an argument problem too: nothing is registered", async () => {
    expect(
      () =>
        new WebService(
          "api",
          web({ patches: [{ kind: "Deploymnet", patch: { spec: { minReadySeconds: 5 } } }] }),
        ),
    ).toThrowError(
      'WebService "api": patches[0]: matches no generated object (kind Deploymnet); generated: ServiceAccount/api, Deployment/api, Service/api',
    );
    await waitForRegistrations();
    expect(registered).toEqual([]);
  });

  test("a dependency on a component without ports is refused", () => {
    const jobs = new Worker("jobs", {
      namespace: "shop",
      image: "ghcr.io/acme/jobs:1.0.0",
      resources: requests,
    });
    expect(() => new WebService("api", web({ dependencies: [jobs] }))).toThrowError(
      'WebService "api": dependencies[0]: jobs exposes no ports, so nothing can call it; add ports to it or remove the dependency',
    );
  });

  test("a tenant's quota and defaults are checked too", async () => {
    expect(
      () =>
        new Tenant("shop", {
          quota: { "requests.cpu": "four", "requests.gpu": "1" },
          limits: { defaultRequest: { cpu: "2" }, default: { cpu: "1" } },
        }),
    ).toThrowError(
      [
        'Tenant "shop": quota.requests.gpu: is not a ResourceQuota key (e.g. requests.cpu, requests.memory, limits.cpu, limits.memory, pods, requests.storage, persistentvolumeclaims, count/deployments.apps)',
      ].join("\n"),
    );
    expect(() => new Tenant("shop", { quota: { "requests.cpu": "four" } })).toThrowError(
      'Tenant "shop": quota.requests.cpu: "four" is not a Kubernetes quantity (examples: 500m, 2, 512Mi, 1Gi)',
    );
    await waitForRegistrations();
    expect(registered).toEqual([]);
  });
});
