/**
 * The library as a package: what `npm pack` ships, and a consumer program (examples/typescript,
 * the tsconfig `pulumi new typescript` writes) that installs the tarball, imports the library by
 * its package name, type-checks, and runs under Pulumi's mocks with its own @pulumi/pulumi.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { installedExample, sh, toolEnv, type Consumer } from "./helpers/consumer";
import { CHECKSUM_KEY } from "./helpers/secrets";

let consumer: Consumer;
beforeAll(() => {
  consumer = installedExample();
}, 600_000);
afterAll(() => consumer?.cleanup());

describe("the package", () => {
  test("ships the compiled library and nothing else", () => {
    const files = sh("tar", ["-tzf", consumer.tarball], consumer.dir)
      .stdout.trim()
      .split("\n")
      .map((f) => f.replace(/^package\//, ""))
      .sort();
    expect(files).toContain("dist/components/index.js");
    expect(files).toContain("dist/components/index.d.ts");
    expect(files).toContain("CHANGELOG.md");
    const others = files.filter((f) => !f.startsWith("dist/components/"));
    expect(others).toEqual(["CHANGELOG.md", "README.md", "package.json"]);
  });

  test("its declarations import nothing but @pulumi/* (any tsconfig can check them)", () => {
    const r = spawnSync(
      "grep",
      ["-rhoE", 'from "[^".][^"]*"', join(consumer.dir, "node_modules/k8s-platform/dist")],
      { encoding: "utf8" },
    );
    const imported = [...new Set(r.stdout.trim().split("\n"))].sort();
    // zod appears only in the two internal declarations (the schemas and their issue
    // formatting), which no declaration reachable from the entry point imports.
    expect(imported.filter((i) => !i.startsWith('from "@pulumi/'))).toEqual(['from "zod"']);
    const dist = join(consumer.dir, "node_modules/k8s-platform/dist/components");
    const grep = (pattern: string) =>
      spawnSync("grep", ["-lE", pattern, "-r", dist], { encoding: "utf8" })
        .stdout.split("\n")
        .filter((f) => f.endsWith(".d.ts"))
        .map((f) => f.split("/").pop())
        .sort();
    expect(grep('from "zod"')).toEqual(["issues.d.ts", "schema.d.ts"]);
    // ...and no declaration imports those two.
    expect(grep('from "\\./(issues|schema)"|import\\("\\./(issues|schema)"\\)')).toEqual([]);
  });

  test("the consumer's own @pulumi/pulumi serves the library too (one SDK in the program)", () => {
    const own = require.resolve("@pulumi/pulumi", { paths: [consumer.dir] });
    const library = require.resolve("@pulumi/pulumi", {
      paths: [join(consumer.dir, "node_modules", "k8s-platform")],
    });
    expect(library).toBe(own);
  });

  test("a big program's settings work from the package, on the consumer's SDK", () => {
    writeFileSync(
      join(consumer.dir, "big.js"),
      `const pulumi = require("@pulumi/pulumi");
const lib = require("k8s-platform");
// What would be sent to the engine; the SDK's runtime calls debug through its log module.
const sent = [];
pulumi.log.debug = async (message) => { sent.push(message); };
const off = lib.sdkRegistrationLogsOffForRun({});
const runtimeLog = require("@pulumi/pulumi/log");
runtimeLog.debug("Registering resource: t=kubernetes:core/v1:Service, n=api");
runtimeLog.debug("the program's own message");
const declared = lib.withoutStackTraces(() => pulumi.Resource.callsites(), { env: {} });
const kept = lib.withoutStackTraces(() => pulumi.Resource.callsites().length > 0, {
  env: { PLATFORM_STACK_TRACES: "1" },
});
let thrown;
try {
  lib.withoutStackTraces(() => { throw new TypeError("boom"); }, { env: {} });
} catch (e) { thrown = e.message; }
console.log(JSON.stringify({ off, sent, declared, kept, thrown }));
`,
    );
    expect(JSON.parse(sh("node", ["big.js"], consumer.dir).stdout)).toEqual({
      off: true,
      sent: ["the program's own message"],
      declared: [],
      kept: true,
      thrown:
        "boom (stack traces are off while resources are declared; run with PLATFORM_STACK_TRACES=1 to see where this came from)",
    });
  });
});

// Type-checking and compiling the consumer takes 5-25 s on a shared two-core machine.
describe("a consumer program, by package name", { timeout: 120_000 }, () => {
  test("type-checks with the tsconfig pulumi new typescript writes", () => {
    const r = spawnSync("npx", ["tsc", "-p", ".", "--pretty", "false"], {
      cwd: consumer.dir,
      env: toolEnv(),
      encoding: "utf8",
    });
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });

  test("a property of another kind or a bad value type is a type error there", () => {
    writeFileSync(
      join(consumer.dir, "wrong.ts"),
      [
        'import { Tenant, WebService } from "k8s-platform";',
        'const shop = new Tenant("shop", {});',
        'new WebService("api", { namespace: shop, image: "a:1", ports: { http: 80 },',
        '  resources: { requests: { cpu: "1", memory: "1Gi" } }, schedule: "0 3 * * *" });',
        'new WebService("web", { namespace: "shop", image: "a:1", replicas: "three",',
        '  resources: { requests: { cpu: "1", memory: "1Gi" } } });',
        "",
      ].join("\n"),
    );
    const r = spawnSync(
      "npx",
      [
        "tsc",
        "--noEmit",
        "--pretty",
        "false",
        "--strict",
        "--moduleResolution",
        "node",
        "wrong.ts",
      ],
      { cwd: consumer.dir, env: toolEnv(), encoding: "utf8" },
    );
    const errors = r.stdout.trim().split("\n");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      /^wrong\.ts\(4,\d+\): error TS2353: Object literal may only specify known properties, and 'schedule' does not exist in type/,
    );
    expect(errors[1]).toMatch(
      /^wrong\.ts\(5,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/,
    );
  });

  test("runs under mocks: the tenant, the database, the API and both sides of its path", () => {
    sh("npx", ["tsc", "-p", "."], consumer.dir);
    writeFileSync(
      join(consumer.dir, "mock-run.js"),
      `const pulumi = require("@pulumi/pulumi");
const registered = [];
pulumi.runtime.setMocks(
  {
    newResource: (a) => { registered.push(a.type + " " + a.name); return { id: a.name + "-id", state: a.inputs }; },
    call: (a) => { throw new Error("unexpected call " + a.token); },
  },
  "platform-example", "dev", false,
);
pulumi.runtime.setAllConfig(
  { "platform-example:dbPassword": "pw", "platform-example:secretChecksumKey": "${CHECKSUM_KEY}" },
  ["platform-example:dbPassword", "platform-example:secretChecksumKey"],
);
require("./bin/index.js");
require("@pulumi/pulumi/runtime/settings").waitForRPCs().then(() => console.log(JSON.stringify(registered.sort())));
`,
    );
    const registered = JSON.parse(sh("node", ["mock-run.js"], consumer.dir).stdout) as string[];
    expect(registered).toEqual([
      "kubernetes:apps/v1:Deployment api-deploy",
      "kubernetes:apps/v1:StatefulSet postgres-sts",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler api-hpa",
      "kubernetes:core/v1:LimitRange shop-limits-defaults",
      "kubernetes:core/v1:Namespace shop-ns",
      "kubernetes:core/v1:ResourceQuota shop-quota",
      "kubernetes:core/v1:Secret postgres-secret-env",
      "kubernetes:core/v1:Service api-svc",
      "kubernetes:core/v1:Service postgres-svc",
      "kubernetes:core/v1:Service postgres-svc-headless",
      "kubernetes:core/v1:ServiceAccount api-sa",
      "kubernetes:core/v1:ServiceAccount postgres-sa",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy api-netpol",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy api-netpol-postgres-from-api",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol-allow-dns",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy shop-netpol-default-deny",
      "kubernetes:policy/v1:PodDisruptionBudget api-pdb",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding shop-rb-access-edit",
      "platform:tenancy:Tenant shop",
      "platform:workloads:StatefulService postgres",
      "platform:workloads:WebService api",
      "pulumi:providers:kubernetes cluster",
    ]);
  });
});
