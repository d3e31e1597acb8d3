/**
 * The plan is what gets registered: every object, the env Secret and the pod template's
 * checksum annotation included, built once; the Platform registers exactly those objects and
 * the capacity planner counts them once. Own fixtures.
 */
import { registered, valueOf } from "./helpers/mocks";
import { CHECKSUM_KEY } from "./helpers/secrets";
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, test } from "vitest";
import { SECRET_CHECKSUM_ANNOTATION, secretChecksum } from "../components/podspec";
import type { Manifest } from "../components/context";
import { planCapacity } from "../platform/capacity/capacity";
import { parsePlatformConfig } from "../platform/config";
import { planPlatform } from "../platform/plan";
import { Platform } from "../platform/platform";

const config = (web: Record<string, unknown> = {}, quota: Record<string, unknown> = {}) =>
  parsePlatformConfig({
    tier: "dev",
    cluster: { cloud: "kind", name: "c" },
    namespaces: { shop: { quota: { "requests.cpu": "2", ...quota } } },
    services: {
      web: {
        kind: "web",
        namespace: "shop",
        image: "ghcr.io/acme/web:1.0.0",
        ports: { http: 8080 },
        resources: { requests: { cpu: "250m", memory: "128Mi" } },
        secretEnv: { DB_PASSWORD: "db-password" },
        ...web,
      },
    },
  });
const inputs = {
  secrets: { "db-password": pulumi.secret("s3cret-Value") },
  secretChecksumKey: pulumi.secret(CHECKSUM_KEY),
};
const template = (m: Manifest) =>
  (m.spec as { template: { metadata: { annotations?: Record<string, unknown> } } }).template;

describe("the plan holds the env Secret and the checksum annotation", () => {
  test("the Secret comes first, with the values as secrets; the pods carry the checksum", async () => {
    const [first, ...rest] = planPlatform(config(), "shop", inputs).workloads.web;
    expect(first).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "web-env", namespace: "shop", labels: { "app.kubernetes.io/name": "web" } },
      type: "Opaque",
    });
    const value = (first.stringData as Record<string, pulumi.Output<string>>).DB_PASSWORD;
    expect(await valueOf(value)).toBe("s3cret-Value");
    expect(await pulumi.isSecret(value)).toBe(true);
    const deployment = rest.find((m) => m.kind === "Deployment")!;
    const checksum = template(deployment).metadata.annotations?.[SECRET_CHECKSUM_ANNOTATION];
    expect(await valueOf(checksum as pulumi.Output<string>)).toBe(
      secretChecksum(CHECKSUM_KEY, "shop", "web", { DB_PASSWORD: "s3cret-Value" }),
    );
  });

  test("restartOnSecretChange: false plans the Secret without the annotation", () => {
    const objects = planPlatform(config({ restartOnSecretChange: false }), "shop", inputs).workloads
      .web;
    expect(objects[0].kind).toBe("Secret");
    const deployment = objects.find((m) => m.kind === "Deployment")!;
    expect(template(deployment).metadata.annotations?.[SECRET_CHECKSUM_ANNOTATION]).toBe(undefined);
  });

  test("planned without the values (capacity only): the Secret is there, empty, no checksum", () => {
    const objects = planPlatform(config(), "shop").workloads.web;
    expect(objects[0]).toMatchObject({ kind: "Secret", stringData: {} });
    const deployment = objects.find((m) => m.kind === "Deployment")!;
    expect(template(deployment).metadata.annotations?.[SECRET_CHECKSUM_ANNOTATION]).toBe(undefined);
  });

  test("without the stack's checksum key there is no annotation (nothing to key it with)", () => {
    const objects = planPlatform(config(), "shop", { secrets: inputs.secrets }).workloads.web;
    const deployment = objects.find((m) => m.kind === "Deployment")!;
    expect(template(deployment).metadata.annotations?.[SECRET_CHECKSUM_ANNOTATION]).toBe(undefined);
  });

  test("capacity counts the planned Secret once against a `secrets` quota", () => {
    const p = planPlatform(config({}, { secrets: 1 }), "shop", inputs);
    const row = planCapacity(p.config, p).namespaces[0].quota.find((q) => q.resource === "secrets");
    expect(row).toMatchObject({ steady: "1", peak: "1" });
    expect(planCapacity(p.config, p).errors).toEqual([]);
  });
});

test("the Platform registers exactly the planned objects, the env Secret included", async () => {
  registered.length = 0;
  const c = config();
  const platform = new Platform("plan-test", { config: c, ...inputs, project: "shop" });
  await valueOf(platform.images);
  await new Promise((r) => setTimeout(r, 50));
  const planned = [
    ...Object.values(platform.plan.tenants).flat(),
    ...Object.values(platform.plan.workloads).flat(),
    ...platform.plan.cluster,
  ]
    .map((m) => `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`)
    .sort();
  const objects = registered
    .filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:"))
    .filter((r) => r.type !== "pulumi:providers:kubernetes" && r.inputs.metadata)
    .map((r) => {
      const kind = r.type.split(":").pop()!;
      const meta = r.inputs.metadata as { name: string; namespace?: string };
      return `${kind}/${meta.namespace ?? ""}/${meta.name}`;
    })
    .sort();
  expect(objects).toEqual(planned);
  expect(objects).toContain("Secret/shop/web-env");
});

test("the Platform refuses services that roll on secret changes without a key; nothing is registered", () => {
  registered.length = 0;
  expect(
    () => new Platform("plan-test", { config: config(), secrets: inputs.secrets, project: "shop" }),
  ).toThrow(
    "Platform: secretChecksumKey is required: web rolls its pods when a secretEnv value changes, through a checksum keyed by it (the program reads the secret stack config key secretChecksumKey, created by: npm run stack:init -- --stack <stack>)",
  );
  expect(registered).toEqual([]);
});
