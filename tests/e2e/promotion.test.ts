/**
 * Promotion round trip through the engine: up dev (running a newer api image), promote dev's
 * deployed images to staging (scripts/promote.ts --from-outputs, as promote.yml does), and a
 * preview of staging shows only that image change.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import {
  changes,
  describeEngine,
  explain,
  nameOf,
  overrideOf,
  readManifests,
  useProject,
  type PreviewResult,
  type RunResult,
} from "./helpers";

const NEW_API_IMAGE = "node:24.12.0-alpine3.22";
const BASE_API_IMAGE = "node:24.11.1-alpine3.22";

describeEngine("promotion dev -> staging through the engine", () => {
  const project = useProject("promotion");
  let outputsFile: string;
  let promoted: RunResult;
  let stagingFileBefore: string;
  let preview: PreviewResult;

  beforeAll(async () => {
    const p = project();
    await p.initStack("dev", (doc) => {
      overrideOf(doc, "services", "api").image = NEW_API_IMAGE;
    });
    await p.initStack("staging");
    await p.upOk("dev");
    await p.upOk("staging");
    outputsFile = join(p.root, "dev-outputs.json");
    writeFileSync(outputsFile, JSON.stringify(await p.outputs("dev"), null, 2));
    stagingFileBefore = JSON.stringify(p.readStack("staging"));
    promoted = await p.tsx("scripts/promote.ts", [
      "--from",
      "dev",
      "--to",
      "staging",
      "--from-outputs",
      outputsFile,
    ]);
    preview = await p.preview("staging");
  });

  test("dev's deployed outputs carry the new image", async () => {
    const images = (await project().outputs("dev")).images as Record<string, string>;
    expect(images.api).toBe(NEW_API_IMAGE);
    expect(images.worker).toBe(BASE_API_IMAGE);
  });

  test("promote pins dev's deployed images in Pulumi.staging.yaml and changes nothing else", async () => {
    expect(promoted.code, explain(promoted)).toBe(0);
    expect(promoted.stdout).toContain("wrote Pulumi.staging.yaml");
    const deployed = (await project().outputs("dev")).images as Record<string, string>;
    type Doc = { config: Record<string, unknown> };
    const servicesOf = (doc: Doc) =>
      (doc.config["platform:overrides"] as { services?: Record<string, Record<string, unknown>> })
        .services ?? {};
    const after = project().readStack("staging") as Doc;
    // --from-outputs pins every service to what dev runs (only api differs from staging's).
    expect(
      Object.fromEntries(Object.entries(servicesOf(after)).map(([k, v]) => [k, v.image])),
    ).toEqual(deployed);
    // Without the image keys the file is what it was.
    const withoutImages = (doc: Doc) => {
      const copy = structuredClone(doc);
      for (const [name, svc] of Object.entries(servicesOf(copy))) {
        delete svc.image;
        if (Object.keys(svc).length === 0) delete servicesOf(copy)[name];
      }
      return copy;
    };
    expect(withoutImages(after)).toEqual(withoutImages(JSON.parse(stagingFileBefore) as Doc));
  });

  test("a preview of staging shows only the image change", () => {
    expect(preview.code, explain(preview)).toBe(0);
    expect(changes(preview.steps)).toEqual(["update api-deploy"]);
    const step = preview.steps.find((s) => nameOf(s.urn) === "api-deploy");
    expect(Object.keys(step?.detailedDiff ?? {})).toEqual([
      "spec.template.spec.containers[0].image",
    ]);
  });

  test("up staging runs the promoted image; promoting again changes nothing", async () => {
    const p = project();
    const up = await p.upOk("staging");
    expect(up.summary?.resourceChanges).toMatchObject({ update: 1 });
    const deployment = readManifests(p.renderDir("staging")).get("Deployment/shop/api")
      ?.object as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0].image).toBe(NEW_API_IMAGE);
    expect(((await p.outputs("staging")).images as Record<string, string>).api).toBe(NEW_API_IMAGE);

    const fileBefore = JSON.stringify(p.readStack("staging"));
    const again = await p.tsx("scripts/promote.ts", [
      "--from",
      "dev",
      "--to",
      "staging",
      "--from-outputs",
      outputsFile,
    ]);
    expect(again.code, explain(again)).toBe(0);
    expect(again.stdout).toContain("nothing to do");
    expect(JSON.stringify(p.readStack("staging"))).toBe(fileBefore);
  });
});
