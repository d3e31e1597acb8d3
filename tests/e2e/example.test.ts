/**
 * The consumer program (examples/typescript) through the real engine: the library installed
 * from its packed tarball and imported by package name, previewed and deployed in render mode
 * with a file backend.
 */
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { installedExample, type Consumer } from "../helpers/consumer";
import { countOps, describeEngine, engineEnv, explain, run, type RunResult } from "./helpers";
import { CHECKSUM_KEY } from "../helpers/secrets";

describeEngine("the example consumer program (library by package name)", () => {
  let consumer: Consumer;
  let env: NodeJS.ProcessEnv;
  const pulumi = (args: string[]): Promise<RunResult> =>
    run("pulumi", [...args, "--non-interactive"], {
      cwd: consumer.dir,
      env,
      timeoutMs: 240_000,
    });
  const ok = async (args: string[]) => {
    const r = await pulumi(args);
    if (r.code !== 0) throw new Error(explain(r));
    return r;
  };

  beforeAll(async () => {
    consumer = installedExample();
    const state = join(consumer.dir, "..", "state");
    mkdirSync(state);
    env = { ...(await engineEnv()), PULUMI_BACKEND_URL: `file://${state}` };
    await ok(["stack", "init", "dev"]);
    await ok(["config", "set", "renderYamlToDirectory", join(consumer.dir, "..", "rendered")]);
    await ok(["config", "set", "--secret", "dbPassword", "example-Secret-1"]);
    await ok(["config", "set", "--secret", "secretChecksumKey", CHECKSUM_KEY]);
  });
  afterAll(() => consumer?.cleanup());

  test("previews the tenant, the database and the API, every object a create", async () => {
    const r = await ok(["preview", "--json"]);
    const steps = (JSON.parse(r.stdout) as { steps: { op: string; urn: string }[] }).steps;
    expect(countOps(steps)).toEqual({ create: 23 });
    const types = new Set(steps.map((s) => s.urn.split("::")[2].split("$").pop()));
    expect([...types].sort()).toEqual([
      "kubernetes:apps/v1:Deployment",
      "kubernetes:apps/v1:StatefulSet",
      "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
      "kubernetes:core/v1:LimitRange",
      "kubernetes:core/v1:Namespace",
      "kubernetes:core/v1:ResourceQuota",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:Service",
      "kubernetes:core/v1:ServiceAccount",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "kubernetes:policy/v1:PodDisruptionBudget",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
      "platform:tenancy:Tenant",
      "platform:workloads:StatefulService",
      "platform:workloads:WebService",
      "pulumi:providers:kubernetes",
      "pulumi:pulumi:Stack",
    ]);
  });

  test("up renders every object, and a second up changes nothing", async () => {
    await ok(["up", "--yes", "--json"]);
    const rendered = readdirSync(join(consumer.dir, "..", "rendered"), { recursive: true });
    expect(rendered.filter((f) => String(f).endsWith(".yaml"))).toHaveLength(18);
    const again = await ok(["preview", "--json", "--show-sames"]);
    const steps = (JSON.parse(again.stdout) as { steps: { op: string; urn: string }[] }).steps;
    expect(countOps(steps)).toEqual({ same: 23 });
  });
});
