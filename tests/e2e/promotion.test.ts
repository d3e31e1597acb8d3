/**
 * Releases through the engine, in a git repository with two program commits: `npm run deploy`
 * runs dev as main and every later stage as the release its stack file pins; promote copies the
 * release and the images dev (then staging) deployed. A program change merged to main reaches
 * staging and prod only by promotion, in order; a preview of staging after promotion shows only
 * what the promotion changes. Staging is gated: dev must have run a release for SOAK_SECONDS,
 * read from dev's update history in the backend.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, expect, test } from "vitest";
import {
  changes,
  describeEngine,
  explain,
  nameOf,
  overrideOf,
  parsePulumiJson,
  readManifests,
  useProject,
  type RunResult,
  type Step,
  type TempProject,
} from "./helpers";
import { commitAll, git } from "../helpers/git";

const DIGEST = `sha256:${"5".repeat(64)}`;
const NEW_API_IMAGE = `node:24.12.0-alpine3.22@${DIGEST}`;
const BASE_API_IMAGE = "node:24.11.1-alpine3.22";
const MARKER = 'export const programMarker = "the second release";\n';
const SOAK_SECONDS = 15;

/** `npm run deploy` of a stage with `pulumi up --yes --json`; throws unless it succeeded. */
async function deployUp(p: TempProject, stage: string): Promise<RunResult> {
  const r = await p.tsx(
    "scripts/deploy.ts",
    ["--stage", stage, "--command", "up", "--", "--yes", "--json", "--non-interactive"],
    600_000,
  );
  if (r.code !== 0) throw new Error(explain(r));
  return r;
}

/**
 * Promotes dev → staging with dev's outputs once dev has soaked: a refusal for the soak time is
 * waited out (once) until the time it names. Returns the refusal, if there was one, and the run.
 */
async function promoteWhenSoaked(
  p: TempProject,
): Promise<{ refused?: RunResult; promoted: RunResult }> {
  const args = ["--from", "dev", "--to", "staging", "--from-outputs", await saveOutputs(p, "dev")];
  const first = await p.tsx("scripts/promote.ts", args);
  if (first.code === 0) return { promoted: first };
  const after = /promote after (\S+)/.exec(first.stderr)?.[1];
  if (first.code !== 1 || !after) throw new Error(explain(first));
  await new Promise((r) => setTimeout(r, Math.max(0, Date.parse(after) - Date.now()) + 1_000));
  return { refused: first, promoted: await p.tsx("scripts/promote.ts", args) };
}

/** Promotes the api from staging's deployed outputs into prod. */
async function promoteToProd(p: TempProject, ...extra: string[]): Promise<RunResult> {
  return p.tsx("scripts/promote.ts", [
    ...["--from", "staging", "--to", "prod", "--only", "api"],
    ...["--from-outputs", await saveOutputs(p, "staging"), ...extra],
  ]);
}

async function saveOutputs(p: TempProject, stack: string): Promise<string> {
  const file = join(p.root, `${stack}-outputs.json`);
  writeFileSync(file, JSON.stringify(await p.outputs(stack), null, 2));
  return file;
}

describeEngine(
  "releases: deploy runs each stage's pinned commit; promotion moves it in order",
  () => {
    const project = useProject("promotion");
    let first: string;
    let second: string;
    let unpinned: RunResult;
    let stagingFirst: Record<string, unknown>;
    let prodAfterFirst: string | undefined;
    let devSecond: Record<string, unknown>;
    let stagingBeforeSecond: Record<string, unknown>;
    let promoted: RunResult;
    let soakRefusal: RunResult | undefined;
    let firstPromotion: RunResult;
    let preview: { code: number | null; steps: Step[]; result: RunResult };
    let stagingSecond: Record<string, unknown>;

    beforeAll(async () => {
      const p = project();
      p.env.PLATFORM_RELEASES_DIR = join(p.root, "releases");
      const ok = (r: RunResult) => {
        if (r.code !== 0) throw new Error(explain(r));
        return r;
      };
      await p.initStack("dev", (doc) => {
        overrideOf(doc, "services", "api").image = `${BASE_API_IMAGE}@${DIGEST}`;
      });
      await p.initStack("staging");
      // Staging takes a release only once dev has run it for SOAK_SECONDS.
      const projectFile = join(p.dir, "Pulumi.yaml");
      const projectText = readFileSync(projectFile, "utf8");
      if (!projectText.includes("      - name: staging\n")) throw new Error("no staging stage");
      writeFileSync(
        projectFile,
        projectText.replace(
          "      - name: staging\n",
          `      - name: staging\n        gate: { soak: ${SOAK_SECONDS}s }\n`,
        ),
      );
      git(p.dir, "init", "-q");
      first = commitAll(p.dir, "the first release");

      // The first release: dev runs main; staging has had no promotion, so it cannot run.
      await deployUp(p, "dev");
      unpinned = await p.tsx("scripts/deploy.ts", ["--stage", "staging", "--command", "up"]);
      const soaked = await promoteWhenSoaked(p);
      soakRefusal = soaked.refused;
      firstPromotion = ok(soaked.promoted);
      commitAll(p.dir, "promote dev to staging");
      await deployUp(p, "staging");
      stagingFirst = await p.outputs("staging");
      ok(await promoteToProd(p));
      prodAfterFirst = p.readStack("prod").config["platform:release"] as string | undefined;
      commitAll(p.dir, "promote staging to prod");

      // A program change and a new api image merged to main: dev runs them at once.
      appendFileSync(join(p.dir, "index.ts"), MARKER);
      p.editStack("dev", (doc) => {
        overrideOf(doc, "services", "api").image = NEW_API_IMAGE;
      });
      second = commitAll(p.dir, "the second release");
      await deployUp(p, "dev");
      devSecond = await p.outputs("dev");
      // Staging still runs the first release: deploying it changes nothing.
      await deployUp(p, "staging");
      stagingBeforeSecond = await p.outputs("staging");

      promoted = ok((await promoteWhenSoaked(p)).promoted);
      commitAll(p.dir, "promote the second release to staging");
      const r = await p.tsx(
        "scripts/deploy.ts",
        ["--stage", "staging", "--command", "preview", "--", "--json", "--non-interactive"],
        600_000,
      );
      preview = { code: r.code, steps: parsePulumiJson(r.stdout).doc?.steps ?? [], result: r };
      await deployUp(p, "staging");
      stagingSecond = await p.outputs("staging");
    });

    test("dev runs main and records the commit; a later stage without a promotion is refused", () => {
      expect(unpinned.code, explain(unpinned)).toBe(1);
      expect(unpinned.stderr).toContain(
        "staging has no release pinned (Pulumi.staging.yaml has no platform:release): a stage after the first runs only what dev ran, so its first release comes by promotion: npm run promote -- --from dev --to staging",
      );
      expect(stagingFirst.release).toBe(first);
      expect(stagingFirst.programMarker).toBeUndefined();
      expect(prodAfterFirst).toBe(first);
    });

    test("the gate: dev's fresh release is refused until it soaked, read from its update history", () => {
      // The first attempt came right after dev's first deploy.
      expect(soakRefusal?.code, soakRefusal && explain(soakRefusal)).toBe(1);
      expect(soakRefusal?.stderr).toMatch(
        new RegExp(
          `  - dev has run release ${first.slice(0, 12)} for \\d+s \\(since \\S+\\); staging requires ${SOAK_SECONDS}s: promote after \\S+\\n  - in an emergency, --skip-gate promotes anyway`,
        ),
      );
      expect(firstPromotion.stdout).toMatch(
        new RegExp(`note: gate: soak: dev has run release ${first.slice(0, 12)} for \\d+s`),
      );
      expect(firstPromotion.stdout).toContain(
        "note: gate: rollouts: dev renders YAML (no cluster): nothing rolls out",
      );
    });

    test("a program change on main runs in dev only; staging keeps running its release", () => {
      expect(devSecond.release).toBe(second);
      expect(devSecond.programMarker).toBe("the second release");
      expect((devSecond.images as Record<string, string>).api).toBe(NEW_API_IMAGE);
      expect(stagingBeforeSecond.release).toBe(first);
      expect(stagingBeforeSecond.programMarker).toBeUndefined();
      expect((stagingBeforeSecond.images as Record<string, string>).api).toBe(
        `${BASE_API_IMAGE}@${DIGEST}`,
      );
    });

    test("promotion pins dev's release and image in staging; its preview shows only the image change", () => {
      expect(promoted.stdout).toContain(
        `  release ${first.slice(0, 12)} → ${second.slice(0, 12)} (dev's deployed outputs in dev-outputs.json)`,
      );
      const staging = project().readStack("staging").config;
      expect(staging["platform:release"]).toBe(second);
      expect(preview.code, explain(preview.result)).toBe(0);
      expect(changes(preview.steps)).toEqual(["update api-deploy"]);
      const step = preview.steps.find((s) => nameOf(s.urn) === "api-deploy");
      expect(Object.keys(step?.detailedDiff ?? {})).toEqual([
        "spec.template.spec.containers[0].image",
      ]);
    });

    test("staging then runs the second release; only now can prod take it", async () => {
      expect(stagingSecond.release).toBe(second);
      expect(stagingSecond.programMarker).toBe("the second release");
      const p = project();
      const deployment = readManifests(p.renderDir("staging")).get("Deployment/shop/api")
        ?.object as unknown as {
        spec: { template: { spec: { containers: { image: string }[] } } };
      };
      expect(deployment.spec.template.spec.containers[0].image).toBe(NEW_API_IMAGE);
      const toProd = await promoteToProd(p, "--dry-run");
      expect(toProd.code, explain(toProd)).toBe(0);
      expect(toProd.stdout).toContain(`  release ${first.slice(0, 12)} → ${second.slice(0, 12)}`);
    });
  },
);
