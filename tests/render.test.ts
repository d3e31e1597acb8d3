import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, test } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  parseRenderArgs,
  render,
  SECRET_CHECKSUM_PLACEHOLDER,
  UsageError,
  type RenderSummary,
} from "../scripts/render";
import { PROJECT_DIR, SECRET_PLACEHOLDER } from "../scripts/lib/stack-files";
import { fileTree } from "./helpers/files";
import { validateAgainstSchema, type K8sObject } from "./helpers/manifests";

const run = promisify(execFile);
const TSX = join(PROJECT_DIR, "node_modules", ".bin", "tsx");
/** The project rendered here: the suite's own frozen copy of the sample app. */
const FIXTURE = join(PROJECT_DIR, "tests", "fixtures", "shop");

async function renderInChild(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      TSX,
      [join(PROJECT_DIR, "scripts", "render.ts"), ...args],
      { cwd: PROJECT_DIR },
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe("render arguments", () => {
  test.each([
    [["--stack", "dev", "--bogus"], "Unknown option '--bogus'"],
    [[], "give --stack or --config"],
    [["--stack", "dev", "--config", "x.yaml"], "--stack and --config exclude each other"],
    [
      ["--config", "/nonexistent/Pulumi.x.yaml"],
      "--config /nonexistent/Pulumi.x.yaml: file not found",
    ],
    [
      ["--stack", "dev", "--project", "/nonexistent"],
      "--project /nonexistent: no Pulumi.yaml there",
    ],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parseRenderArgs(argv)).toThrowError(UsageError);
    expect(() => parseRenderArgs(argv)).toThrowError(message);
  });

  test("defaults the output to rendered/<stack>", () => {
    expect(parseRenderArgs(["--stack", "prod"])).toEqual({
      projectDir: PROJECT_DIR,
      stack: "prod",
      out: join(PROJECT_DIR, "rendered", "prod"),
    });
  });
});

describe("render of the dev stack", () => {
  let out: string;
  let summary: RenderSummary;
  let files: Record<string, string>;
  let second: { code: number; stdout: string; stderr: string };
  let secondOut: string;
  beforeAll(async () => {
    out = join(mkdtempSync(join(tmpdir(), "render-")), "dev");
    secondOut = join(mkdtempSync(join(tmpdir(), "render-")), "dev");
    // The second render runs in its own process (mocks run a program once per process).
    const child = renderInChild(["--project", FIXTURE, "--stack", "dev", "--out", secondOut]);
    summary = await render({ projectDir: FIXTURE, stack: "dev", out });
    files = fileTree(out);
    second = await child;
  }, 60_000);

  test("writes one YAML document per object, cluster-scoped first, and a summary", () => {
    const yamlFiles = Object.keys(files).filter((f) => f.endsWith(".yaml"));
    expect(yamlFiles).toHaveLength(summary.objects);
    expect(yamlFiles).toContain("cluster/namespace-shop.yaml");
    expect(yamlFiles).toContain("namespaces/shop/deployment-api.yaml");
    for (const f of yamlFiles) expect(parseAllDocuments(files[f]), f).toHaveLength(1);
    expect(JSON.parse(files["summary.json"])).toEqual(summary);
    expect(summary.byNamespace.shop.Deployment).toBe(3);
    expect(summary.secretsNotSet).toEqual(["db-password", "secretChecksumKey"]);
  });

  test("identities carry the whole ancestor type chain, as the engine's URNs do", () => {
    // The engine's URN for the api Deployment (Platform → WebService → Deployment) is
    // urn:pulumi:dev::platform::platform:index:Platform$platform:workloads:WebService$kubernetes:apps/v1:Deployment::api-deploy
    expect(summary.resources["Deployment/shop/api"]).toBe(
      "platform:index:Platform$platform:workloads:WebService$kubernetes:apps/v1:Deployment::api-deploy",
    );
    expect(summary.resources["Namespace/shop"]).toBe(
      "platform:index:Platform$platform:tenancy:Tenant$kubernetes:core/v1:Namespace::shop-ns",
    );
    expect(Object.keys(summary.resources)).toHaveLength(summary.objects);
    for (const [key, identity] of Object.entries(summary.resources)) {
      expect(identity, key).toMatch(
        /^platform:index:Platform(\$platform:(tenancy|workloads|images):[A-Za-z]+)?\$kubernetes:[^:$]+:[A-Za-z]+::[a-z0-9-]+$/,
      );
    }
  });

  test("every rendered object is a valid Kubernetes object", async () => {
    for (const [f, text] of Object.entries(files)) {
      if (!f.endsWith(".yaml")) continue;
      await expect(
        validateAgainstSchema(parseAllDocuments(text)[0].toJS() as K8sObject),
        f,
      ).resolves.toBeUndefined();
    }
  });

  test("secret values are replaced by a marked placeholder", () => {
    const secret = parseAllDocuments(files["namespaces/shop/secret-api-env.yaml"])[0].toJS();
    expect(secret.stringData).toEqual({ DB_PASSWORD: SECRET_PLACEHOLDER });
  });

  test("the secret checksum annotation is a placeholder offline, the config checksum is kept", () => {
    const deploy = parseAllDocuments(files["namespaces/shop/deployment-api.yaml"])[0].toJS();
    const annotations = deploy.spec.template.metadata.annotations;
    expect(annotations["checksum/secret-env"]).toBe(SECRET_CHECKSUM_PLACEHOLDER);
    expect(annotations["checksum/config"]).toMatch(/^[0-9a-f]{64}$/);
  });

  test("rendering twice gives byte-identical output", () => {
    expect(second.code).toBe(0);
    expect(fileTree(secondOut)).toEqual(files);
  });
});

describe("render exit codes", () => {
  test("a config error or a mandatory policy violation exits 1; an unknown stack exits 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "render-bad-"));
    const bad = join(dir, "Pulumi.bad.yaml");
    writeFileSync(
      bad,
      "config:\n  platform:tier: qa\n  platform:cluster: { cloud: kind, name: k }\n",
    );
    // prod with one image by tag instead of digest: rendered for review, then exit 1.
    const tagged = join(dir, "Pulumi.prodtag.yaml");
    writeFileSync(
      tagged,
      readFileSync(join(FIXTURE, "Pulumi.prod.yaml"), "utf8").replace(
        /image: nginxinc\/nginx-unprivileged:1.29.1-alpine@sha256:[a-f0-9]+/,
        "image: nginxinc/nginx-unprivileged:1.29.1-alpine",
      ),
    );
    const [configError, unknownStack, policyError] = await Promise.all([
      renderInChild(["--config", bad, "--out", join(dir, "out")]),
      renderInChild(["--stack", "nope"]),
      renderInChild(["--project", FIXTURE, "--config", tagged, "--out", join(dir, "tagged")]),
    ]);
    expect(policyError.code).toBe(1);
    expect(policyError.stderr).toContain(
      'render: mandatory policies failed for stack prodtag:\n  [mandatory] images-pinned: Deployment/shop/web container web image "nginxinc/nginx-unprivileged:1.29.1-alpine" has no sha256 digest',
    );
    expect(
      JSON.parse(readFileSync(join(dir, "tagged", "summary.json"), "utf8")).policy.mandatory,
    ).toBe(1);
    expect(configError.code).toBe(1);
    expect(configError.stderr).toContain(
      'tier: "qa" is not allowed (expected one of: dev, staging, prod)',
    );
    expect(unknownStack.code).toBe(2);
    expect(unknownStack.stderr).toContain('render: unknown stack "nope": no Pulumi.nope.yaml in');
    expect(unknownStack.stderr).toContain("(stacks: dev, local, prod, staging)");
  }, 60_000);
});
