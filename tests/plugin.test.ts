/**
 * The multi-language package (plugin/): the packed library installed into a copy of it, its
 * schema written by @pulumi/pulumi's component analyzer (what `pulumi package get-schema` runs;
 * the engine tier runs the CLI itself), kept in step with the library's own schemas, and its
 * components, under mocks, registering exactly what the library's components register.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import type { z } from "zod";
import { environmentSchema, tenantSchema, workloadSchemas } from "../components/schema";
import {
  PLUGIN_DIR,
  PLUGIN_SCHEMA,
  installedCopy,
  pluginSchema,
  sh,
  type Installed,
} from "../scripts/lib/package-install";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

interface SchemaProperty {
  type?: string;
  $ref?: string;
  items?: SchemaProperty;
  additionalProperties?: SchemaProperty;
  plain?: boolean;
}
interface PackageSchema {
  name: string;
  version: string;
  resources: Record<string, { inputProperties: Record<string, SchemaProperty> }>;
  types: Record<string, { properties?: Record<string, SchemaProperty> }>;
}

let plugin: Installed;
let generated: string;
beforeAll(() => {
  plugin = installedCopy(PLUGIN_DIR);
  generated = pluginSchema(plugin.dir);
}, 600_000);
afterAll(() => plugin?.cleanup());

const schema = (): PackageSchema => JSON.parse(generated) as PackageSchema;

describe("the package", () => {
  test("is released with the library: same version, depending on exactly that version", () => {
    const read = (f: string) =>
      JSON.parse(readFileSync(f, "utf8")) as {
        version: string;
        dependencies: Record<string, string>;
      };
    const library = read(join(PROJECT_DIR, "package.json"));
    const pkg = read(join(PLUGIN_DIR, "package.json"));
    expect(pkg.version).toBe(library.version);
    expect(pkg.dependencies["k8s-platform"]).toBe(library.version);
    expect(readFileSync(join(PLUGIN_DIR, "PulumiPlugin.yaml"), "utf8")).toMatch(
      /^runtime: nodejs$/m,
    );
  });

  test("plugin/schema.json is the schema the analyzer writes (npm run plugin:schema)", () => {
    const committed = readFileSync(PLUGIN_SCHEMA, "utf8");
    expect(committed, "plugin/schema.json is stale: run `npm run plugin:schema`").toBe(generated);
  });

  test("offers the six components under k8s-platform:index tokens", () => {
    const s = schema();
    expect(s.name).toBe("k8s-platform");
    expect(Object.keys(s.resources).sort()).toEqual(
      ["CronTask", "StatefulService", "Task", "Tenant", "WebService", "Worker"].map(
        (c) => `k8s-platform:index:${c}`,
      ),
    );
    // What must be known before anything is registered is plain; image and secrets take Outputs.
    const web = s.resources["k8s-platform:index:WebService"].inputProperties;
    expect(web.namespace).toMatchObject({ type: "string", plain: true });
    expect(web.image).toEqual({ type: "string", description: expect.any(String) as string });
    expect(web.secrets.additionalProperties).toEqual({ type: "string" });
  });
});

// ---------------------------------------------------------------------------------------------
// Field for field: every key path the library's schema accepts, the package schema offers.
// Arrays add no segment and map values add `*`; below a map on either side nothing is compared
// (the package states a resource list as a map, the library as cpu/memory/...).
// ---------------------------------------------------------------------------------------------

interface ZodDef {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
}
const defOf = (s: z.ZodType): ZodDef => (s as unknown as { def: ZodDef }).def;

function zodPaths(s: z.ZodType, prefix = "", out = new Set<string>()): Set<string> {
  const def = defOf(s);
  if (["optional", "nullable", "default", "readonly"].includes(def.type))
    return zodPaths(def.innerType!, prefix, out);
  if (def.type === "pipe") return zodPaths(def.in!, prefix, out);
  if (def.type === "array") return zodPaths(def.element!, prefix, out);
  if (def.type === "record") {
    out.add(`${prefix}*`);
    return zodPaths(def.valueType!, `${prefix}*.`, out);
  }
  if (def.type === "object")
    for (const [k, v] of Object.entries(def.shape!)) {
      out.add(`${prefix}${k}`);
      zodPaths(v, `${prefix}${k}.`, out);
    }
  return out;
}

function schemaPaths(
  s: PackageSchema,
  props: Record<string, SchemaProperty>,
  prefix = "",
  out = new Set<string>(),
  seen = new Set<string>(),
): Set<string> {
  const walk = (p: SchemaProperty, at: string): void => {
    if (p.items) return walk(p.items, at);
    if (p.additionalProperties) {
      out.add(`${at}*`);
      return walk(p.additionalProperties, `${at}*.`);
    }
    if (p.$ref?.startsWith("#/types/") && !seen.has(`${at}${p.$ref}`)) {
      const type = s.types[p.$ref.replace("#/types/", "")];
      schemaPaths(s, type.properties ?? {}, at, out, new Set([...seen, `${at}${p.$ref}`]));
    }
  };
  for (const [k, p] of Object.entries(props)) {
    out.add(`${prefix}${k}`);
    walk(p, `${prefix}${k}.`);
  }
  return out;
}

/** Paths of `a` missing from `b`, ignoring what lies below a map in either. */
function missing(a: Set<string>, b: Set<string>): string[] {
  const maps = [...a, ...b].filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  const belowMap = (p: string) => maps.some((m) => p.startsWith(m) && p !== m.slice(0, -1));
  return [...a].filter((p) => !b.has(p) && !belowMap(p)).sort();
}

describe("the package's arguments are the library's, field for field", () => {
  // What a component takes besides its kind's fields (WorkloadCommonArgs), and what it does not
  // offer to other languages: objects built beforehand (`manifests`).
  const COMMON = [
    "image",
    "callers",
    "secrets",
    "secrets.*",
    "secretChecksumKey",
    "environment",
    "protect",
  ];
  const kinds = {
    web: "WebService",
    worker: "Worker",
    stateful: "StatefulService",
    cron: "CronTask",
    job: "Task",
  } as const;

  for (const [kind, component] of Object.entries(kinds) as [keyof typeof kinds, string][])
    test(`${component}`, () => {
      const s = schema();
      const offered = schemaPaths(
        s,
        s.resources[`k8s-platform:index:${component}`].inputProperties,
      );
      const env = new Set([...zodPaths(environmentSchema, "environment.")]);
      const library = new Set([...zodPaths(workloadSchemas[kind]), ...COMMON, ...env]);
      library.add("dependencies"); // the kind schema lists dependencies by name, as the package does
      expect({ notOffered: missing(library, offered), unknown: missing(offered, library) }).toEqual(
        { notOffered: [], unknown: [] },
      );
    });

  test("Tenant", () => {
    const s = schema();
    const offered = schemaPaths(s, s.resources["k8s-platform:index:Tenant"].inputProperties);
    const library = new Set([
      ...zodPaths(tenantSchema),
      ...zodPaths(environmentSchema, "environment."),
      "environment",
      "protect",
    ]);
    expect({ notOffered: missing(library, offered), unknown: missing(offered, library) }).toEqual({
      notOffered: [],
      unknown: [],
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Under mocks, with the package's own @pulumi/pulumi
// ---------------------------------------------------------------------------------------------

/**
 * Runs `body` (JavaScript, with `lib` = the library, `pkg` = the package's classes) under
 * Pulumi's mocks in the installed package; once every registration has finished, returns
 * `report()` (which the body may replace; `registered` holds what was registered).
 */
function underMocks(body: string): unknown {
  writeFileSync(
    join(plugin.dir, "mock-run.js"),
    `const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => { registered.push({ type: a.type, name: a.name, inputs: a.inputs }); return { id: a.name + "-id", state: a.inputs }; },
    call: (a) => { throw new Error("unexpected call " + a.token); },
  },
  "shop", "dev", false,
);
const lib = require("k8s-platform");
const pkg = require("./.schema-build/index.js");
let report = () => ({});
${body}
require("@pulumi/pulumi/runtime/settings").waitForRPCs().then(() => console.log(JSON.stringify(report())));
`,
  );
  return JSON.parse(sh("node", ["mock-run.js"], plugin.dir).stdout);
}

describe("the package's components, under mocks", { timeout: 60_000 }, () => {
  test("register exactly the library's Kubernetes objects for the same arguments", () => {
    const out = underMocks(`
new pkg.Tenant("a-shop", { quota: { "requests.cpu": "4", pods: "20" }, access: { edit: ["devs"] } });
new pkg.StatefulService("a-db", { namespace: "a-shop", image: "postgres:17", ports: { pg: 5432 },
  resources: { requests: { cpu: "500m", memory: "1Gi" } }, storage: { size: "10Gi", mountPath: "/data" },
  callers: ["a-api"], rollout: { maxUnavailable: "1" }, probes: { readiness: { tcp: { port: "5432" } } } });
new pkg.WebService("a-api", { namespace: "a-shop", image: "nginx:1.29", ports: { http: 8080 },
  resources: { requests: { cpu: "250m", memory: "256Mi" } }, autoscale: { min: 2, max: 6 },
  dependencies: ["a-db"], rollout: { maxSurge: "1" }, probes: { readiness: { http: { path: "/", port: "http" } } } });
const shop = new lib.Tenant("b-shop", { quota: { "requests.cpu": "4", pods: 20 }, access: { edit: ["devs"] } });
new lib.StatefulService("b-db", { namespace: "b-shop", image: "postgres:17", ports: { pg: 5432 },
  resources: { requests: { cpu: "500m", memory: "1Gi" } }, storage: { size: "10Gi", mountPath: "/data" },
  callers: ["b-api"], rollout: { maxUnavailable: 1 }, probes: { readiness: { tcp: { port: 5432 } } } });
new lib.WebService("b-api", { namespace: shop, image: "nginx:1.29", ports: { http: 8080 },
  resources: { requests: { cpu: "250m", memory: "256Mi" } }, autoscale: { min: 2, max: 6 },
  dependencies: ["b-db"], rollout: { maxSurge: 1 }, probes: { readiness: { http: { path: "/", port: "http" } } } });
// The two sets differ only in their a-/b- prefix.
const unprefixed = (x) => JSON.parse(JSON.stringify(x).replace(/"[ab]-(shop|db|api)/g, '"$1'));
const objects = (prefix) => unprefixed(registered
  .filter((r) => r.type.startsWith("kubernetes:") && r.name.startsWith(prefix))
  .map((r) => ({ type: r.type, name: r.name, inputs: r.inputs })))
  .sort((x, y) => (x.type + x.name).localeCompare(y.type + y.name));
report = () => ({
  package: objects("a-"),
  library: objects("b-"),
  components: registered.filter((r) => !r.type.startsWith("kubernetes:")).map((r) => r.type + " " + r.name).sort(),
});
`) as { package: unknown[]; library: unknown[]; components: string[] };
    expect(out.package).toHaveLength(17);
    expect(out.package).toEqual(out.library);
    expect(out.components).toEqual([
      "k8s-platform:index:StatefulService a-db",
      "k8s-platform:index:Tenant a-shop",
      "k8s-platform:index:WebService a-api",
      "platform:tenancy:Tenant a-shop",
      "platform:tenancy:Tenant b-shop",
      "platform:workloads:StatefulService a-db",
      "platform:workloads:StatefulService b-db",
      "platform:workloads:WebService a-api",
      "platform:workloads:WebService b-api",
    ]);
  });

  test("a bad argument throws the library's message, and nothing is registered", () => {
    const out = underMocks(`
const out = { registered: 0 };
report = () => ({ ...out, registered: registered.length });
for (const [make, label] of [
  [() => new pkg.WebService("api", { namespace: "shop", image: "nginx:1.29",
     resources: { requests: { cpu: "lots", memory: "1Gi" } }, expose: { type: "Public" } }), "web"],
  [() => new pkg.Tenant("shop", { podSecurity: "privileged", environment: { cloud: "moon" } }), "tenant"],
  [() => new pkg.Worker("w", { namespace: "shop", image: "a:1", resources: { requests: { cpu: "1", memory: "1Gi" } },
     ports: { http: 8080 }, probes: { readiness: { http: { path: "/", port: "metrics" } } } }), "worker"],
  [() => new pkg.Task("t", { namespace: { name: "shop" }, image: "a:1", resources: { requests: { cpu: "1", memory: "1Gi" } } }), "task"],
]) {
  try { make(); out[label] = "no error"; } catch (e) { out[label] = e.message; }
}
`) as Record<string, unknown>;
    expect(out.web).toBe(
      [
        'WebService "api": resources.requests.cpu: "lots" is not a Kubernetes quantity (examples: 500m, 2)',
        'WebService "api": expose.type: "Public" is not allowed (expected one of: ClusterIP, LoadBalancer, NodePort)',
      ].join("\n"),
    );
    expect(out.tenant).toBe(
      [
        'Tenant "shop": podSecurity: "privileged" is not allowed (expected one of: restricted, baseline)',
        'Tenant "shop": environment.cloud: "moon" is not allowed (expected one of: kind, eks, gke, aks, generic)',
      ].join("\n"),
    );
    expect(out.worker).toBe(
      'Worker "w": probes.readiness: port "metrics" is not one of this service\'s ports (http)',
    );
    expect(out.task).toBe(
      'Task "t": namespace: must be a plain string (a Tenant\'s name); order the two with dependsOn',
    );
    expect(out.registered).toBe(0);
  });
});

test("the package's sources type-check in its own setup", () => {
  expect(sh("npx", ["tsc", "--noEmit", "-p", "."], plugin.dir).stdout).toBe("");
});
