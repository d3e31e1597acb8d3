/**
 * Application files through the real engine: an application of 2,000 services, split into one
 * file per namespace, renders offline and previews (as stack config it would pass Linux's
 * 128 KiB limit on one environment string at about 270 services: "argument list too long");
 * and on a small one, an edit to a file is an ordinary one-service update while a bad file
 * fails the preview naming it, with nothing changed.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import {
  CHANGED_IMAGE,
  IMAGE,
  syntheticApplication,
  syntheticCluster,
  writeApplicationFiles,
} from "../../scripts/lib/synthetic";
import {
  changes,
  describeEngine,
  errorDiagnostics,
  explain,
  hashTree,
  isKubernetesObject,
  nameOf,
  typeOf,
  useProject,
} from "./helpers";

const BIG = 2_000;

describeEngine("application files", () => {
  const project = useProject("app-files");

  /** A stack whose application is the files below `dir`, replacing Pulumi.yaml's sample. */
  const initStack = async (stack: string, n: number, dir: string) => {
    const p = project();
    writeApplicationFiles(join(p.dir, dir), syntheticApplication(n));
    p.writeStack(stack, {
      config: {
        "platform:tier": "dev",
        "platform:cluster": syntheticCluster(n, p.renderDir(stack)),
        "platform:namespaces": {},
        "platform:services": {},
        "platform:applicationFiles": [dir],
      },
    });
    await p.pulumiOk(["stack", "init", stack], 60_000);
  };

  beforeAll(async () => {
    await initStack("big", BIG, "apps");
    await initStack("small", 3, "small-apps");
  }, 180_000);

  test(`${BIG} services in ${BIG / 100} files render offline and preview`, async () => {
    const p = project();
    // The stack file holds the environment and one path, whatever the application's size.
    expect(readFileSync(p.stackFile("big"), "utf8").length).toBeLessThan(1024);

    const { out, result } = await p.offlineRender("big");
    expect(result.code, explain(result)).toBe(0);
    const rendered = readdirSync(out, { recursive: true }).filter((f) =>
      String(f).endsWith(".yaml"),
    );
    expect(rendered.length).toBeGreaterThan(4 * BIG);

    const r = await p.preview("big", { timeoutMs: 900_000 });
    expect(r.code, explain(r)).toBe(0);
    const created = r.steps.filter((s) => s.op === "create" && isKubernetesObject(s.urn));
    const deployments = created.filter((s) => typeOf(s.urn) === "kubernetes:apps/v1:Deployment");
    expect(deployments.length).toBe(BIG);
    expect(deployments.map((s) => nameOf(s.urn))).toContain("svc-1999-deploy");
  }, 1_200_000);

  test("an edit to an application file is a one-service update", async () => {
    const p = project();
    await p.upOk("small");
    const file = join(p.dir, "small-apps", "bench-00.yaml");
    const text = readFileSync(file, "utf8");
    writeFileSync(file, text.replace(IMAGE, CHANGED_IMAGE)); // the first service only
    const r = await p.preview("small");
    expect(r.code, explain(r)).toBe(0);
    expect(changes(r.steps).filter((c) => !c.startsWith("same"))).toEqual([
      "update svc-0000-deploy",
    ]);
    await p.upOk("small");
  }, 600_000);

  test("a bad application file fails the preview and the up naming it; nothing changes", async () => {
    const p = project();
    const state = (await p.exportState("small")).deployment.resources;
    const files = hashTree(p.renderDir("small"));
    // The services defined a second time, in a file of their own.
    const extra = join(p.dir, "small-apps", "zz-copy.yaml");
    const original = readFileSync(join(p.dir, "small-apps", "bench-00.yaml"), "utf8");
    writeFileSync(extra, original.replace(/^namespaces:[\s\S]*?^services:/m, "services:"));
    const expected =
      "services.svc-0000: defined in both small-apps/bench-00.yaml and small-apps/zz-copy.yaml (define it once; a stack changes it with platform:overrides)";
    const preview = await p.preview("small");
    expect(preview.code, explain(preview)).not.toBe(0);
    expect(errorDiagnostics(preview.doc).join("\n")).toContain(expected);
    const up = await p.up("small");
    expect(up.code, explain(up)).not.toBe(0);
    expect(errorDiagnostics(up.doc, up.events).join("\n")).toContain(expected);
    expect((await p.exportState("small")).deployment.resources).toEqual(state);
    expect(hashTree(p.renderDir("small"))).toBe(files);
  }, 600_000);
});
