/**
 * The escape hatch: JSON merge patches (RFC 7386) over generated objects, matched by kind and
 * name; a patch that matches nothing or changes an object's identity is an error naming it.
 */
import { describe, expect, test } from "vitest";
import { parsePlatformConfig } from "../platform/config";
import { buildContext } from "../platform/plan";
import { type Manifest } from "../components/context";
import { buildWorkload } from "../components/manifests";
import { applyPatches, mergePatch, type ManifestPatch } from "../components/patch";

// Deep access into generated plain objects.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("mergePatch follows RFC 7386", () => {
  // The test vectors of RFC 7386, Appendix A.
  test.each([
    [{ a: "b" }, { a: "c" }, { a: "c" }],
    [{ a: "b" }, { b: "c" }, { a: "b", b: "c" }],
    [{ a: "b" }, { a: null }, {}],
    [{ a: "b", b: "c" }, { a: null }, { b: "c" }],
    [{ a: ["b"] }, { a: "c" }, { a: "c" }],
    [{ a: "c" }, { a: ["b"] }, { a: ["b"] }],
    [{ a: { b: "c" } }, { a: { b: "d", c: null } }, { a: { b: "d" } }],
    [{ a: [{ b: "c" }] }, { a: [1] }, { a: [1] }],
    [
      ["a", "b"],
      ["c", "d"],
      ["c", "d"],
    ],
    [{ a: "b" }, ["c"], ["c"]],
    [{ a: "foo" }, null, null],
    [{ a: "foo" }, "bar", "bar"],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: "b", c: null }, { a: "b" }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])("%j patched with %j is %j", (target, patch, expected) => {
    expect(mergePatch(target, patch)).toEqual(expected);
  });

  test("neither the target nor the patch is mutated", () => {
    const target = { a: { b: 1, c: [1, 2] }, d: "x" };
    const patch = { a: { b: null, e: 2 }, d: null };
    const before = structuredClone({ target, patch });
    expect(mergePatch(target, patch)).toEqual({ a: { c: [1, 2], e: 2 } });
    expect({ target, patch }).toEqual(before);
  });
});

const IMAGE = "ghcr.io/acme/api:1.0.0";

function workload(name: string, svc: Record<string, unknown>): Manifest[] {
  const config = parsePlatformConfig({
    tier: "dev",
    cluster: { cloud: "kind", name: "c1" },
    namespaces: { shop: {} },
    services: {
      [name]: {
        namespace: "shop",
        image: IMAGE,
        resources: { requests: { cpu: "100m", memory: "128Mi" } },
        ...svc,
      },
      caller: {
        kind: "worker",
        namespace: "shop",
        image: IMAGE,
        resources: { requests: { cpu: "100m", memory: "128Mi" } },
        dependencies: [name],
      },
    },
  });
  return buildWorkload(buildContext(config, "shop"), name, config.services[name], { image: IMAGE });
}

const api = () => workload("api", { kind: "web", ports: { http: 3000 } });
const db = () =>
  workload("db", {
    kind: "stateful",
    ports: { pg: 5432 },
    storage: { size: "1Gi", mountPath: "/data" },
  });
const get = (objects: Manifest[], kind: string, name: string): Json =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe("applyPatches", () => {
  test("merges into the matching object and leaves everything else as generated", () => {
    const before = api();
    const after = applyPatches(
      before,
      [
        {
          kind: "Deployment",
          patch: {
            spec: { revisionHistoryLimit: 10, progressDeadlineSeconds: null, paused: true },
          },
        },
      ],
      "services.api",
    );
    const deployment = get(after, "Deployment", "api");
    expect(deployment.spec.revisionHistoryLimit).toBe(10);
    expect(deployment.spec.paused).toBe(true);
    expect("progressDeadlineSeconds" in deployment.spec).toBe(false);
    expect(deployment.spec.template).toEqual(get(before, "Deployment", "api").spec.template);
    expect(deployment.metadata).toEqual(get(before, "Deployment", "api").metadata);
    for (const kind of ["ServiceAccount", "Service", "NetworkPolicy"])
      expect(get(after, kind, "api")).toBe(get(before, kind, "api"));
    expect(after.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(
      before.map((o) => `${o.kind}/${o.metadata.name}`),
    );
  });

  test("does not mutate the generated objects", () => {
    const before = api();
    const snapshot = structuredClone(before);
    applyPatches(
      before,
      [
        {
          kind: "Service",
          patch: { metadata: { annotations: { a: "b" } }, spec: { type: "NodePort" } },
        },
      ],
      "services.api",
    );
    expect(before).toEqual(snapshot);
  });

  test("lists replace: a patched container list is the patch's list", () => {
    const containers = [{ name: "api", image: IMAGE, args: ["--debug"] }];
    const after = applyPatches(
      api(),
      [{ kind: "Deployment", patch: { spec: { template: { spec: { containers } } } } }],
      "services.api",
    );
    expect(get(after, "Deployment", "api").spec.template.spec.containers).toEqual(containers);
  });

  test("without a name every object of the kind is patched; with one, only that object", () => {
    const annotate = (value: string): ManifestPatch["patch"] => ({
      metadata: { annotations: { note: value } },
    });
    const all = applyPatches(db(), [{ kind: "Service", patch: annotate("both") }], "services.db");
    expect(get(all, "Service", "db").metadata.annotations).toEqual({ note: "both" });
    expect(get(all, "Service", "db-headless").metadata.annotations).toEqual({ note: "both" });

    const one = applyPatches(
      db(),
      [{ kind: "Service", name: "db-headless", patch: annotate("headless") }],
      "services.db",
    );
    expect(get(one, "Service", "db").metadata.annotations).toBeUndefined();
    expect(get(one, "Service", "db-headless").metadata.annotations).toEqual({ note: "headless" });
  });

  test("patches apply in order, each over the previous result", () => {
    const after = applyPatches(
      api(),
      [
        { kind: "Deployment", patch: { spec: { minReadySeconds: 5, revisionHistoryLimit: 2 } } },
        { kind: "Deployment", name: "api", patch: { spec: { minReadySeconds: null } } },
      ],
      "services.api",
    );
    const spec = get(after, "Deployment", "api").spec;
    expect(spec.revisionHistoryLimit).toBe(2);
    expect("minReadySeconds" in spec).toBe(false);
  });

  test("no patches: the same objects", () => {
    const before = api();
    expect(applyPatches(before, [], "services.api")).toEqual(before);
  });

  test("a patch matching nothing names services.<name>.patches[i] and lists the generated objects", () => {
    const patches: ManifestPatch[] = [
      { kind: "Deployment", patch: { spec: { paused: true } } },
      { kind: "Deployment", name: "api-v2", patch: { spec: { paused: true } } },
    ];
    expect(() => applyPatches(api(), patches, "services.api")).toThrowError(
      "services.api.patches[1]: matches no generated object (kind Deployment, name api-v2); generated: ServiceAccount/api, Deployment/api, Service/api, NetworkPolicy/api",
    );
    expect(() =>
      applyPatches(db(), [{ kind: "Deploymnet", patch: {} }], "services.db"),
    ).toThrowError(
      "services.db.patches[0]: matches no generated object (kind Deploymnet); generated: ServiceAccount/db, StatefulSet/db, Service/db-headless, Service/db, NetworkPolicy/db",
    );
  });

  test.each([
    ["kind", { kind: "StatefulSet" }],
    ["apiVersion", { apiVersion: "apps/v1beta1" }],
    ["metadata.name", { metadata: { name: "api-2" } }],
    ["metadata.namespace", { metadata: { namespace: "other" } }],
    ["metadata.name, by removal", { metadata: { name: null } }],
    ["the whole metadata", { metadata: null }],
  ])("a patch changing %s throws", (_what, patch) => {
    expect(() => applyPatches(api(), [{ kind: "Deployment", patch }], "services.api")).toThrowError(
      "services.api.patches[0]: a patch cannot change apiVersion, kind, metadata.name or metadata.namespace",
    );
  });

  test("restating the identity unchanged is allowed", () => {
    const after = applyPatches(
      api(),
      [
        {
          kind: "Deployment",
          patch: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: "api", namespace: "shop", labels: { extra: "1" } },
          },
        },
      ],
      "services.api",
    );
    expect(get(after, "Deployment", "api").metadata.labels).toMatchObject({
      extra: "1",
      "app.kubernetes.io/name": "api",
    });
  });
});
