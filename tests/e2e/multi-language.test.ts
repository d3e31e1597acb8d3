/**
 * The components from another Pulumi language, through the real engine: the multi-language
 * package (plugin/, the packed library installed into a copy) answers `pulumi package
 * get-schema`, and the Pulumi YAML program of examples/yaml renders (renderYamlToDirectory) the
 * same bytes as a TypeScript program that gives the library the same arguments.
 */
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { parseDocument } from "yaml";
import {
  PLUGIN_DIR,
  PLUGIN_SCHEMA,
  installedCopy,
  type Installed,
} from "../../scripts/lib/package-install";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";
import { fileTree } from "../helpers/files";
import { SDK_DEBUG_LOGS_ENV } from "../../components/sdk-debug-logs";
import { CHECKSUM_KEY } from "../helpers/secrets";
import { countOps, describeEngine, engineEnv, explain, run, type RunResult } from "./helpers";

/** The TypeScript twin of examples/yaml: the library's components, the same arguments. */
const TWIN = `import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StatefulService, Tenant, WebService } from "k8s-platform";

const config = new pulumi.Config();
const provider = new k8s.Provider("cluster", { renderYamlToDirectory: config.require("renderYamlToDirectory") });
const shop = new Tenant("shop", {
  quota: { "requests.cpu": "4", "requests.memory": "8Gi", pods: 20 },
  access: { edit: ["shop-developers"] },
}, { provider });
new StatefulService("postgres", {
  namespace: shop,
  image: "postgres:17.6-bookworm",
  ports: { postgres: 5432 },
  callers: ["api"],
  securityContext: { runAsUser: 999, fsGroup: 999 },
  resources: { requests: { cpu: "500m", memory: "1Gi" } },
  storage: { size: "10Gi", mountPath: "/var/lib/postgresql/data" },
  env: { PGDATA: "/var/lib/postgresql/data/pgdata" },
  secretEnv: { POSTGRES_PASSWORD: "db-password" },
  secrets: { "db-password": config.requireSecret("dbPassword") },
  secretChecksumKey: config.requireSecret("secretChecksumKey"),
  writablePaths: ["/tmp", "/var/run/postgresql"],
}, { provider });
new WebService("api", {
  namespace: shop,
  image: "nginxinc/nginx-unprivileged:1.29.1-alpine",
  ports: { http: 8080 },
  securityContext: { runAsUser: 101 },
  dependencies: ["postgres"],
  resources: { requests: { cpu: "250m", memory: "256Mi" } },
  autoscale: { min: 2, max: 6 },
  probes: { readiness: { http: { path: "/", port: "http" } } },
}, { provider });
`;

describeEngine("the components from Pulumi YAML (the multi-language package)", () => {
  let plugin: Installed;
  let env: NodeJS.ProcessEnv;
  let root: string;
  /** pulumi in a program's directory, with its own file backend beside it. */
  const pulumi = (
    cwd: string,
    args: string[],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<RunResult> => {
    mkdirSync(`${cwd}.state`, { recursive: true });
    return run("pulumi", [...args, "--non-interactive"], {
      cwd,
      env: { ...env, ...extraEnv, PULUMI_BACKEND_URL: `file://${cwd}.state` },
      timeoutMs: 300_000,
    });
  };
  const ok = async (cwd: string, args: string[]) => {
    const r = await pulumi(cwd, args);
    if (r.code !== 0) throw new Error(explain(r));
    return r;
  };

  beforeAll(async () => {
    plugin = installedCopy(PLUGIN_DIR);
    root = join(plugin.dir, "..");
    env = await engineEnv();
  }, 600_000);
  afterAll(() => plugin?.cleanup());

  test("pulumi package get-schema gives plugin/schema.json", async () => {
    const r = await ok(root, ["package", "get-schema", plugin.dir]);
    const got = JSON.parse(r.stdout) as Record<string, unknown>;
    const committed = JSON.parse(readFileSync(PLUGIN_SCHEMA, "utf8")) as Record<string, unknown>;
    expect(got).toEqual(committed);
  });

  test("the YAML program renders byte for byte what the TypeScript program renders", async () => {
    // examples/yaml, with its package pointing at the installed copy.
    const yamlDir = join(root, "yaml");
    cpSync(join(PROJECT_DIR, "examples", "yaml"), yamlDir, { recursive: true });
    const project = parseDocument(readFileSync(join(yamlDir, "Pulumi.yaml"), "utf8"));
    project.setIn(["packages", "k8s-platform"], plugin.dir);
    writeFileSync(join(yamlDir, "Pulumi.yaml"), project.toString());
    // The twin: the same project name (the part-of label), the library from the same install.
    const twinDir = join(root, "twin");
    mkdirSync(twinDir);
    writeFileSync(join(twinDir, "Pulumi.yaml"), "name: shop\nruntime: nodejs\nmain: index.ts\n");
    writeFileSync(join(twinDir, "index.ts"), TWIN);
    writeFileSync(
      join(twinDir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { strict: true, module: "commonjs", moduleResolution: "node" },
        files: ["index.ts"],
      }),
    );
    writeFileSync(join(twinDir, "package.json"), '{ "name": "twin", "private": true }\n');
    symlinkSync(join(plugin.dir, "node_modules"), join(twinDir, "node_modules"));

    const rendered: Record<string, Record<string, string>> = {};
    for (const [name, dir] of [
      ["yaml", yamlDir],
      ["typescript", twinDir],
    ] as const) {
      await ok(dir, ["stack", "init", "dev"]);
      await ok(dir, ["config", "set", "renderYamlToDirectory", join(root, `rendered-${name}`)]);
      await ok(dir, ["config", "set", "--secret", "dbPassword", "multi-Language-7"]);
      await ok(dir, ["config", "set", "--secret", "secretChecksumKey", CHECKSUM_KEY]);
      await ok(dir, ["up", "--yes", "--skip-preview"]);
      rendered[name] = fileTree(join(root, `rendered-${name}`));
      // Deployed, then nothing left to change.
      const again = await ok(dir, ["preview", "--json", "--show-sames"]);
      const steps = (JSON.parse(again.stdout) as { steps: { op: string; urn: string }[] }).steps;
      expect(Object.keys(countOps(steps)), name).toEqual(["same"]);
    }
    expect(Object.keys(rendered.yaml)).toHaveLength(18);
    expect(rendered.yaml).toEqual(rendered.typescript);
  });

  test(`the provider sends no debug message per registration unless ${SDK_DEBUG_LOGS_ENV}=1`, async () => {
    // The YAML program deployed above; its Kubernetes objects are registered by the provider.
    const yamlDir = join(root, "yaml");
    const registered = (r: RunResult) =>
      new Set(
        `${r.stdout}\n${r.stderr}`
          .split("\n")
          .filter((l) => /debug: Registering resource: t=kubernetes:/.test(l))
          .map((l) => l.slice(l.indexOf("debug: "))),
      );
    const off = await pulumi(yamlDir, ["preview", "--debug"]);
    const on = await pulumi(yamlDir, ["preview", "--debug"], { [SDK_DEBUG_LOGS_ENV]: "1" });
    for (const r of [off, on]) expect(r.code, explain(r)).toBe(0);
    // One message per rendered object with the switch, none without.
    expect(registered(on).size, explain(on)).toBe(18);
    expect([...registered(off)]).toEqual([]);
  });

  test("a bad argument from YAML fails with the library's message, and nothing is created", async () => {
    const dir = join(root, "bad");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "Pulumi.yaml"),
      [
        "name: bad",
        "runtime: yaml",
        "packages:",
        `  k8s-platform: ${plugin.dir}`,
        "resources:",
        "  cluster:",
        "    type: pulumi:providers:kubernetes",
        "    properties:",
        `      renderYamlToDirectory: ${join(root, "rendered-bad")}`,
        "  api:",
        "    type: k8s-platform:index:WebService",
        "    properties:",
        "      namespace: shop",
        "      image: nginx:1.29",
        "      resources:",
        "        requests: { cpu: lots, memory: 1Gi }",
        "    options:",
        "      providers:",
        "        - ${cluster}",
        "",
      ].join("\n"),
    );
    await ok(dir, ["stack", "init", "dev"]);
    const r = await pulumi(dir, ["up", "--yes", "--skip-preview"]);
    expect(r.code).not.toBe(0);
    expect(`${r.stdout}${r.stderr}`).toContain(
      'WebService "api": resources.requests.cpu: "lots" is not a Kubernetes quantity (examples: 500m, 2)',
    );
    const state = await ok(dir, ["stack", "export"]);
    const resources =
      (JSON.parse(state.stdout) as { deployment: { resources?: { type: string }[] } }).deployment
        .resources ?? [];
    expect(
      resources.filter((x) => x.type.startsWith("kubernetes:") || x.type.includes("WebService")),
    ).toEqual([]);
  });
});
