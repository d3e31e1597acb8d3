import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import { affectedStacks, renderOnlyStacks } from "../scripts/ci/affected-stacks";
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
  test("exist: checks, preview, preview-comment, deploy, drift, promote", () => {
    expect(files.sort()).toEqual([
      "checks.yml",
      "deploy.yml",
      "drift.yml",
      "preview-comment.yml",
      "preview.yml",
      "promote.yml",
    ]);
  });

  /** The pinned linters (scripts/ci/workflow-linters.sh; scripts/test.sh installs them). */
  const linters = (() => {
    const r = spawnSync("bash", [join(PROJECT_DIR, "scripts/ci/workflow-linters.sh"), "--check"], {
      encoding: "utf8",
    });
    return r.status === 0 ? r.stdout.trim() : undefined;
  })();
  const lint = (tool: string, args: string[]) => {
    if (!linters)
      throw new Error("workflow linters not installed: run bash scripts/ci/workflow-linters.sh");
    return spawnSync(join(linters, tool), args, { cwd: PROJECT_DIR, encoding: "utf8" });
  };

  test("pull requests run typecheck, lint, formatting and the unit tier, without secrets", () => {
    const checks = workflow("checks.yml");
    expect(Object.keys(checks.on)).toContain("pull_request");
    const steps = checks.jobs.checks.steps as Any[];
    const runs = steps.map((st) => st.run).filter(Boolean);
    expect(runs).toEqual([
      "npm run typecheck",
      "npm run lint",
      "npm run format:check",
      "bash scripts/test.sh",
    ]);
    expect(steps.find((st) => st.run === "bash scripts/test.sh")?.env).toEqual({
      SKIP_SLOW_TIERS: "1",
    });
    expect(text("checks.yml")).not.toContain("secrets.");
  });

  test("every pulumi/actions step runs the Pulumi CLI pinned in versions.json", () => {
    const setup = parse(readFileSync(join(actionsDir, "setup", "action.yml"), "utf8")) as Any;
    expect(setup.outputs["pulumi-version"].value).toBe("${{ steps.versions.outputs.pulumi }}");
    const versionsStep = (setup.runs.steps as Any[]).find((st) => st.id === "versions");
    expect(versionsStep?.run).toContain('require("./versions.json").pulumi');
    let seen = 0;
    for (const f of files)
      for (const job of Object.values<Any>(workflow(f).jobs ?? {})) {
        const steps = (job.steps ?? []) as Any[];
        for (const st of steps.filter((x) => String(x.uses).startsWith("pulumi/actions@"))) {
          seen++;
          expect(st.with?.["pulumi-version"], f).toBe("${{ steps.setup.outputs.pulumi-version }}");
          expect(
            steps.some((x) => x.id === "setup" && x.uses === "./.github/actions/setup"),
            f,
          ).toBe(true);
        }
      }
    expect(seen).toBe(4);
  });

  test("render-only stacks are rendered and diffed, never previewed against a backend", () => {
    const preview = workflow("preview.yml");
    expect(preview.jobs.offline.strategy.matrix.stack).toBe(
      "${{ fromJSON(needs.stacks.outputs.stacks) }}",
    );
    expect(preview.jobs.preview.strategy.matrix.stack).toBe(
      "${{ fromJSON(needs.stacks.outputs.engine) }}",
    );
    expect(preview.jobs.stacks.steps.find((st: Any) => st.id === "affected").run).toContain(
      "--mode engine",
    );
  });

  test("the CI setup guide lists every secret, variable and environment the workflows read", () => {
    const guide = readFileSync(join(PROJECT_DIR, "docs", "ci-setup.md"), "utf8");
    const all = yamlFiles.map((f) => readFileSync(join(PROJECT_DIR, f), "utf8")).join("\n");
    const names = [...all.matchAll(/\b(?:secrets|vars)\.([A-Za-z_]+)/g)].map((m) => m[1]);
    expect(new Set(names).size).toBeGreaterThan(5);
    for (const n of new Set(names)) expect(guide, n).toContain(`\`${n}\``);
    // Environments: literal names and the patterns of the expressions.
    for (const env of ["`dev`", "`staging`", "`production`", "`preview-<stack>`"])
      expect(guide).toContain(env);
    const environments = files.flatMap((f) =>
      Object.values<Any>(workflow(f).jobs ?? {}).flatMap((j) =>
        j.environment === undefined ? [] : [String(j.environment)],
      ),
    );
    expect([...new Set(environments)].sort()).toEqual([
      "${{ inputs.from }}",
      "${{ matrix.stack == 'prod' && 'production' || matrix.stack }}",
      "preview-${{ matrix.stack }}",
    ]);
  });

  test("actionlint, with shellcheck on every run script, reports nothing", () => {
    const r = lint("actionlint", ["-no-color", "-shellcheck", join(linters ?? "", "shellcheck")]);
    expect(`${r.stdout}${r.stderr}`).toBe("");
    expect(r.status).toBe(0);
  });

  test("actionlint really runs shellcheck (a planted unquoted variable is reported)", () => {
    const planted =
      "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $HOME\n";
    const r = spawnSync(
      join(linters ?? "", "actionlint"),
      ["-no-color", "-shellcheck", join(linters ?? "", "shellcheck"), "-"],
      { cwd: PROJECT_DIR, encoding: "utf8", input: planted },
    );
    expect(r.stdout).toContain("SC2086");
  });

  test("zizmor (workflow security audit, offline) reports nothing", () => {
    const r = lint("zizmor", ["--offline", "--no-progress", "--format", "plain", ".github"]);
    expect(r.stdout).toContain("No findings to report.");
    expect(r.status, r.stdout + r.stderr).toBe(0);
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

  test("secrets are given to the steps that use them, never to a job (so never to npm ci)", () => {
    for (const f of files) {
      const doc = workflow(f);
      expect(JSON.stringify(doc.env ?? {}), f).not.toContain("secrets.");
      for (const [name, job] of Object.entries<Any>(doc.jobs)) {
        expect(JSON.stringify(job.env ?? {}), `${f} ${name}`).not.toContain("secrets.");
        for (const step of job.steps as Any[]) {
          const installs =
            /\bnpm (ci|install)\b/.test(step.run ?? "") || step.uses === "./.github/actions/setup";
          if (installs) expect(JSON.stringify(step), `${f} ${name}`).not.toContain("secrets.");
        }
      }
    }
  });

  test("every checkout leaves no credentials behind (persist-credentials: false)", () => {
    let checkouts = 0;
    for (const f of files)
      for (const job of Object.values<Any>(workflow(f).jobs))
        for (const step of job.steps as Any[])
          if (String(step.uses).startsWith("actions/checkout@")) {
            checkouts++;
            expect(step.with?.["persist-credentials"], f).toBe(false);
          }
    expect(checkouts).toBeGreaterThan(0);
  });

  test("the policy pack installs from its lockfile, which matches its package.json", () => {
    for (const f of files) {
      expect(text(f), f).not.toMatch(/npm install/);
      if (text(f).includes("--prefix policy"))
        expect(text(f)).toContain("npm ci --prefix policy --no-audit --no-fund");
    }
    const pkg = JSON.parse(readFileSync(join(PROJECT_DIR, "policy", "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(join(PROJECT_DIR, "policy", "package-lock.json"), "utf8"));
    expect(lock.packages[""].dependencies).toEqual(pkg.dependencies);
  });

  test("workflows grant permissions per job, none by default", () => {
    for (const f of ["preview-comment.yml", "promote.yml"])
      expect(workflow(f).permissions, f).toEqual({});
  });

  test("each stack previews and deploys in its own concurrency group; prod needs the production environment", () => {
    expect(workflow("preview.yml").jobs.preview.concurrency.group).toBe(
      "preview-${{ matrix.stack }}-${{ needs.stacks.outputs.pr }}",
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
    // Its own group: a queued drift run must never cancel a pending deploy of the same stack.
    expect(drift.concurrency).toEqual({
      group: "drift-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
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
  test("render-only stacks are read from their config, and never previewed against a backend", () => {
    expect(renderOnlyStacks(PROJECT_DIR, ["dev", "local", "prod", "staging"])).toEqual(["local"]);
    const all = [...stacks, "local"];
    expect(affectedStacks(["platform/plan.ts"], all, "preview", ["local"])).toEqual([
      "dev",
      "staging",
      "prod",
      "local",
    ]);
    expect(affectedStacks(["platform/plan.ts"], all, "engine", ["local"])).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    expect(affectedStacks(["Pulumi.local.yaml"], all, "engine", ["local"])).toEqual([]);
  });
  test("shared code previews every stack; a stack file only its stack", () => {
    expect(affectedStacks(["components/podspec.ts"], stacks, "preview")).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    expect(affectedStacks(["platform/plan.ts"], stacks, "preview")).toEqual([
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
    expect(
      affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], "deploy", ["local"]),
    ).toEqual([]);
    expect(affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], "preview")).toEqual([
      "local",
    ]);
    expect(affectedStacks(["Pulumi.prod.yaml", "Pulumi.staging.yaml"], stacks, "deploy")).toEqual([
      "staging",
      "prod",
    ]);
  });
});
