import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { parse } from "yaml";
import {
  affectedStacks,
  applicationEntries,
  pinnedStacks,
  renderOnlyStacks,
} from "../scripts/ci/affected-stacks";
import { listStacks, PROJECT_DIR, readStages } from "../scripts/lib/stack-files";
import { parseStages, type Stage } from "../platform/config";

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
  test("exist: checks, preview, preview-comment, deploy, drift, promote, review, review-sweep", () => {
    expect(files.sort()).toEqual([
      "checks.yml",
      "deploy.yml",
      "drift.yml",
      "preview-comment.yml",
      "preview.yml",
      "promote.yml",
      "review-sweep.yml",
      "review.yml",
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
    expect(seen).toBe(6);
  });

  test("render-only stacks are rendered and diffed, never previewed against a backend", () => {
    const preview = workflow("preview.yml");
    expect(preview.jobs.offline.strategy.matrix.stack).toBe(
      "${{ fromJSON(needs.stacks.outputs.stacks) }}",
    );
    expect(preview.jobs.preview.strategy.matrix.include).toBe(
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
    // Environments: every stage's (the workflows take them from the pipeline) and the previews'.
    for (const stage of readStages(PROJECT_DIR))
      expect(guide, stage.name).toContain(`\`${stage.environment}\``);
    expect(guide).toContain("`preview-<stack>`");
    const environments = files.flatMap((f) =>
      Object.values<Any>(workflow(f).jobs ?? {}).flatMap((j) =>
        j.environment === undefined ? [] : [String(j.environment)],
      ),
    );
    expect([...new Set(environments)].sort()).toEqual([
      "${{ fromJSON(needs.stage.outputs.row).environment }}",
      "${{ fromJSON(needs.stages.outputs.from).environment }}",
      "${{ matrix.environment }}",
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
        // The release's tag as its project names it (azure/use-kubelogin tags v1.3, no patch).
        expect(comment, where).toMatch(/^v\d+\.\d+(\.\d+)?$/);
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

  test("every step that uses a stack's backend is given the state-compression switch with its URL", () => {
    // A CLI without the switch writes a compressed stack back uncompressed: all or none.
    const backendSteps = files.flatMap((f) =>
      Object.entries<Any>(workflow(f).jobs).flatMap(([name, job]) =>
        (job.steps as Any[])
          .filter((step) => step.env?.PULUMI_BACKEND_URL !== undefined)
          .map(
            (step) => [`${f} ${name}: ${step.name ?? step.uses ?? step.run}`, step.env] as const,
          ),
      ),
    );
    expect(backendSteps.length).toBeGreaterThanOrEqual(8);
    for (const [where, env] of backendSteps)
      expect(env.PULUMI_DIY_BACKEND_ZSTD, where).toBe("${{ vars.PULUMI_DIY_BACKEND_ZSTD }}");
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

  test("review stacks: same-repository pull requests only, one run per pull request, the sweep by the open ones", () => {
    const review = workflow("review.yml");
    expect(Object.keys(review.on)).toEqual(["pull_request"]);
    expect(review.on.pull_request.types).toEqual([
      "opened",
      "reopened",
      "synchronize",
      "labeled",
      "closed",
    ]);
    expect(review.jobs.stage.if).toContain(
      "github.event.pull_request.head.repo.full_name == github.repository",
    );
    const job = review.jobs.review;
    expect(job.needs).toBe("stage");
    expect(job.concurrency).toEqual({
      group: "review-${{ github.event.pull_request.number }}",
      "cancel-in-progress": false,
    });
    const run = (name: string) => job.steps.find((s: Any) => s.name === name);
    expect(run("Create or update the review stack").if).toBe("github.event.action != 'closed'");
    expect(run("Create or update the review stack").run).toContain(
      'npm run --silent review -- up --pr "$PR" "${scope[@]}"',
    );
    expect(run("Destroy the review stack").if).toBe("github.event.action == 'closed'");
    expect(run("Destroy the review stack").run).toBe(
      'npm run --silent review -- destroy --pr "$PR"',
    );
    // A closed pull request is destroyed with the base branch's tools, never its own.
    expect(job.steps[0].with.ref).toBe(
      "${{ github.event.action == 'closed' && github.event.pull_request.base.ref || '' }}",
    );
    const sweep = workflow("review-sweep.yml");
    expect(Object.keys(sweep.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    const steps: Any[] = sweep.jobs.sweep.steps;
    expect(steps.find((s) => s.id === "open")?.run).toContain("gh api --paginate");
    expect(steps.at(-1)?.run).toBe('npm run --silent review -- sweep --open "$OPEN"');
  });

  test("workflows grant permissions per job, none by default", () => {
    for (const f of ["preview-comment.yml", "promote.yml", "review.yml", "review-sweep.yml"])
      expect(workflow(f).permissions, f).toEqual({});
  });

  test("each stack previews and deploys in its own concurrency group, in its stage's environment", () => {
    expect(workflow("preview.yml").jobs.preview.concurrency.group).toBe(
      "preview-${{ matrix.stack }}-${{ needs.stacks.outputs.pr }}",
    );
    const up = workflow("deploy.yml").jobs.up;
    expect(up.concurrency).toEqual({
      group: "deploy-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
    expect(up.environment).toBe("${{ matrix.environment }}");
    expect(up.strategy.matrix).toEqual({ include: "${{ fromJSON(needs.stacks.outputs.stacks) }}" });
    const gate = up.steps.find((s: Any) => s.name === "Replacement gate (prod-tier stage)");
    expect(gate.if).toBe("matrix.replacementGate");
  });

  test("every engine run of a stack runs its release: the pinned commit's directory and PLATFORM_RELEASE", () => {
    const runs: [string, string][] = [
      ["deploy.yml", "up"],
      ["drift.yml", "drift"],
      ["preview.yml", "preview"],
    ];
    for (const [file, job] of runs) {
      const steps: Any[] = workflow(file).jobs[job].steps;
      const release = steps.findIndex((s) => s.id === "release");
      const engine = steps.findIndex((s) => String(s.uses).startsWith("pulumi/actions@"));
      expect(release, file).toBeGreaterThanOrEqual(0);
      expect(release, `${file}: the release is prepared before pulumi runs`).toBeLessThan(engine);
      expect(steps[release].run, file).toMatch(
        /^npm run --silent deploy -- --(stage|stack) "\$(STAGE|STACK)" --prepare >> "\$GITHUB_OUTPUT"$/,
      );
      expect(steps[engine].with["work-dir"], file).toBe("${{ steps.release.outputs.dir }}");
      expect(steps[engine].env.PLATFORM_RELEASE, file).toBe("${{ steps.release.outputs.release }}");
      // The pinned commit is in the history, so the checkout takes all of it.
      expect(steps[0].with["fetch-depth"], file).toBe(0);
    }
    // The policy pack's dependencies exist before the release borrows them.
    const up: Any[] = workflow("deploy.yml").jobs.up.steps;
    expect(up.findIndex((s) => String(s.run).includes("npm ci --prefix policy"))).toBeLessThan(
      up.findIndex((s) => s.id === "release"),
    );
  });

  test("promote: a refusal fails the job; the gate reads the source's backend and cluster; emergencies are flags", () => {
    const job = workflow("promote.yml").jobs.promote;
    const steps: Any[] = job.steps;
    const promote = steps.find((s) => s.name === "Promote")!;
    expect(promote.run).toMatch(/^set -o pipefail\n/);
    expect(promote.run).toContain(
      'if [ "$EMERGENCY_SKIP_GATE" = true ]; then args+=(--skip-gate); fi',
    );
    expect(promote.env.EMERGENCY_SKIP_GATE).toBe("${{ inputs.emergency-skip-gate }}");
    expect(Object.keys(promote.env)).toEqual(
      expect.arrayContaining([
        "PULUMI_ACCESS_TOKEN",
        "PULUMI_BACKEND_URL",
        "PULUMI_CONFIG_PASSPHRASE",
      ]),
    );
    const credentials = steps.findIndex(
      (s) => s.name === "Cluster credentials of the source stage",
    );
    expect(credentials).toBeGreaterThan(0);
    expect(credentials).toBeLessThan(steps.indexOf(promote));
    expect(job.environment).toBe("${{ fromJSON(needs.stages.outputs.from).environment }}");
    expect(
      workflow("promote.yml").on.workflow_dispatch.inputs["emergency-skip-gate"],
    ).toMatchObject({
      type: "boolean",
      default: false,
    });
  });

  test("every job that reaches a stack's cloud logs in to it with OIDC first, by the stack's cloud", () => {
    const jobs: [string, string, string][] = [
      ["deploy.yml", "up", "${{ matrix.cloud }}"],
      ["drift.yml", "drift", "${{ matrix.cloud }}"],
      ["preview.yml", "preview", "${{ matrix.cloud }}"],
      ["promote.yml", "promote", "${{ fromJSON(needs.stages.outputs.from).cloud }}"],
    ];
    for (const [file, name, cloud] of jobs) {
      const job = workflow(file).jobs[name];
      expect(job.permissions?.["id-token"], file).toBe("write");
      const steps: Any[] = job.steps;
      const login = steps.findIndex((st) => st.uses === "./.github/actions/cloud-login");
      const firstUse = steps.findIndex(
        (st) =>
          /KUBECONFIG|pulumi /.test(String(st.run)) ||
          (String(st.uses).startsWith("pulumi/actions@") && st.with?.command !== undefined),
      );
      expect(login, file).toBeGreaterThan(0);
      expect(login, `${file}: the login comes before the cluster or backend is used`).toBeLessThan(
        firstUse,
      );
      expect(steps[login].with.cloud, file).toBe(cloud);
      expect(steps[login].with["cluster-name"], file).toBe("${{ vars.CLUSTER_NAME }}");
    }
  });

  test("the cloud login refuses an unknown cloud and names a cloud's missing variables", () => {
    const action = parse(
      readFileSync(join(PROJECT_DIR, ".github", "actions", "cloud-login", "action.yml"), "utf8"),
    ) as Any;
    const check: Any = action.runs.steps[0];
    const run = (env: Record<string, string>) =>
      spawnSync("bash", ["-c", check.run], {
        encoding: "utf8",
        env: { PATH: process.env.PATH, ...env },
      });
    const none = run({ CLOUD: "kind" });
    expect(none.status).toBe(0);
    expect(none.stdout).toContain("cluster cloud kind: no cloud login");
    const missing = run({ CLOUD: "gke", CLUSTER_NAME: "prod", GCP_PROJECT: "acme-prod" });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain(
      "::error::cluster cloud gke needs the variables GCP_WORKLOAD_IDENTITY_PROVIDER GCP_SERVICE_ACCOUNT GKE_LOCATION in this environment (docs/ci-setup.md, Cloud logins)",
    );
    expect(run({ CLOUD: "openstack" }).stdout).toContain(
      "::error::unknown cluster cloud 'openstack'",
    );
    const eks = {
      CLOUD: "eks",
      CLUSTER_NAME: "staging",
      AWS_ROLE_ARN: "arn",
      AWS_REGION: "eu-west-1",
    };
    expect(run(eks).status).toBe(0);
    // Each cloud's steps run for that cloud only.
    const conditions = (action.runs.steps as Any[]).slice(1).map((st) => String(st.if));
    expect(new Set(conditions)).toEqual(
      new Set(["inputs.cloud == 'eks'", "inputs.cloud == 'gke'", "inputs.cloud == 'aks'"]),
    );
  });

  test("drift runs a refreshed preview that expects no changes on every stack", () => {
    const drift = workflow("drift.yml").jobs.drift;
    // Its own group: a queued drift run must never cancel a pending deploy of the same stack.
    expect(drift.concurrency).toEqual({
      group: "drift-${{ matrix.stack }}",
      "cancel-in-progress": false,
    });
    expect(drift.strategy.matrix).toEqual({
      include: "${{ fromJSON(needs.stages.outputs.stages) }}",
    });
    expect(workflow("drift.yml").jobs.stages.steps.at(-1).run).toContain(
      "npx tsx scripts/ci/stages.ts",
    );
    const step = drift.steps.find((s: Any) => String(s.uses).startsWith("pulumi/actions"));
    expect(step.with).toMatchObject({
      command: "preview",
      refresh: true,
      "expect-no-changes": true,
    });
  });
});

describe("stages as data", () => {
  test("the workflows' stage rows come from platform:stages", () => {
    const r = spawnSync(
      process.execPath,
      [join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/ci/stages.ts"],
      { cwd: PROJECT_DIR, encoding: "utf8" },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      {
        stage: "dev",
        stack: "dev",
        environment: "dev",
        from: "",
        tier: "dev",
        replacementGate: false,
        cloud: "kind",
        context: "kind-platform-dev",
      },
      {
        stage: "staging",
        stack: "staging",
        environment: "staging",
        from: "dev",
        tier: "staging",
        replacementGate: false,
        cloud: "eks",
        context: "arn:aws:eks:eu-west-1:123456789012:cluster/staging",
      },
      {
        stage: "prod",
        stack: "prod",
        environment: "production",
        from: "staging",
        tier: "prod",
        replacementGate: true,
        cloud: "gke",
        context: "gke_acme-prod_europe-west1_prod",
      },
    ]);
    const unknown = spawnSync(
      process.execPath,
      [
        join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"),
        "scripts/ci/stages.ts",
        "--stage",
        "stagin",
      ],
      { cwd: PROJECT_DIR, encoding: "utf8" },
    );
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe(
      'stages: "stagin" is not a stage of the pipeline (did you mean "staging"? dev → staging → prod; stages are defined in Pulumi.yaml, platform:stages)\n',
    );
  });

  test("no stack or environment name is written in the workflows or the scripts", () => {
    const stages = readStages(PROJECT_DIR);
    const names = [
      ...new Set([
        ...stages.flatMap((s) => [s.name, s.stack, s.environment]),
        ...listStacks(PROJECT_DIR),
      ]),
    ];
    const word = new RegExp(`(^|[^\\w./-])(${names.join("|")})(?![\\w-])`);
    const found: string[] = [];
    for (const f of files) {
      readFileSync(join(PROJECT_DIR, ".github", "workflows", f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          const code = line.replace(/(^|\s)#.*$/, ""); // comments may give examples
          if (word.test(code)) found.push(`${f}:${i + 1}: ${line.trim()}`);
        });
    }
    // Scripts: string literals only (comments and usage texts may give examples); a tier is
    // not a stack name, so lines about tiers are left alone.
    const literal = new RegExp(`["'\`](${names.join("|")})["'\`]`);
    const scripts = readdirSync(join(PROJECT_DIR, "scripts"), {
      recursive: true,
      encoding: "utf8",
    }).filter((f) => f.endsWith(".ts") && !f.startsWith("bench"));
    for (const f of scripts)
      readFileSync(join(PROJECT_DIR, "scripts", f), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (literal.test(line) && !/tier/i.test(line) && !/^\s*(\/\*\*|\*|\/\/)/.test(line))
            found.push(`scripts/${f}:${i + 1}: ${line.trim()}`);
        });
    expect(found).toEqual([]);
  });
});

describe("affected stacks", () => {
  const stacks = ["dev", "prod", "staging"];
  const pipeline = (...names: string[]): Stage[] =>
    parseStages(
      names.map((n) =>
        n.includes("<") ? { name: n.split("<")[0], from: n.split("<")[1] } : { name: n },
      ),
    ).stages!;
  const stages = pipeline("dev", "staging", "prod");

  test("render-only stacks are read from their config, and never previewed against a backend", () => {
    expect(renderOnlyStacks(PROJECT_DIR, ["dev", "local", "prod", "staging"])).toEqual(["local"]);
    const all = [...stacks, "local"];
    expect(
      affectedStacks(["platform/plan.ts"], all, stages, "preview", { renderOnly: ["local"] }),
    ).toEqual(["dev", "staging", "prod", "local"]);
    expect(
      affectedStacks(["platform/plan.ts"], all, stages, "engine", { renderOnly: ["local"] }),
    ).toEqual(["dev", "staging", "prod"]);
    expect(
      affectedStacks(["Pulumi.local.yaml"], all, stages, "engine", { renderOnly: ["local"] }),
    ).toEqual([]);
  });
  test("shared code previews every stack; a stack file only its stack", () => {
    expect(affectedStacks(["components/podspec.ts"], stacks, stages, "preview")).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    expect(affectedStacks(["Pulumi.staging.yaml"], stacks, stages, "preview")).toEqual(["staging"]);
    expect(affectedStacks(["README.md"], stacks, stages, "preview")).toEqual([]);
  });
  test("deploys send shared code to the first stage only, and a promotion to its stack", () => {
    expect(affectedStacks(["index.ts"], stacks, stages, "deploy")).toEqual(["dev"]);
    expect(affectedStacks(["Pulumi.prod.yaml"], stacks, stages, "deploy")).toEqual(["prod"]);
    expect(
      affectedStacks(["package.json", "Pulumi.staging.yaml"], stacks, stages, "deploy"),
    ).toEqual(["dev", "staging"]);
    expect(
      affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], stages, "deploy", {
        renderOnly: ["local"],
      }),
    ).toEqual([]);
    expect(affectedStacks(["Pulumi.local.yaml"], [...stacks, "local"], stages, "preview")).toEqual([
      "local",
    ]);
    expect(
      affectedStacks(["Pulumi.prod.yaml", "Pulumi.staging.yaml"], stacks, stages, "deploy"),
    ).toEqual(["staging", "prod"]);
  });
  test("shared code leaves the stages pinned to a release alone, unless their own file changes", () => {
    // staging and prod run their releases: a program change reaches them only by promotion.
    const pinned = ["staging", "prod"];
    for (const mode of ["preview", "engine"] as const)
      expect(affectedStacks(["components/podspec.ts"], stacks, stages, mode, { pinned })).toEqual([
        "dev",
      ]);
    expect(
      affectedStacks(["index.ts", "Pulumi.staging.yaml"], stacks, stages, "preview", { pinned }),
    ).toEqual(["dev", "staging"]);
    expect(pinnedStacks(PROJECT_DIR, stacks)).toEqual([]);
  });
  test("application entries are read per stack, normalised as the program reads them", () => {
    const project = mkdtempSync(join(tmpdir(), "entries-"));
    try {
      writeFileSync(
        join(project, "Pulumi.yaml"),
        "name: platform\nruntime: nodejs\nconfig:\n  platform:applicationFiles:\n    value: [apps/, ./teams\\shop.yaml]\n",
      );
      writeFileSync(join(project, "Pulumi.dev.yaml"), "config: {}\n");
      writeFileSync(
        join(project, "Pulumi.prod.yaml"),
        "config:\n  platform:applicationFiles: [prod-apps]\n",
      );
      expect(applicationEntries(project, ["dev", "prod"])).toEqual({
        dev: ["apps", "teams/shop.yaml"],
        prod: ["prod-apps"],
      });
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
  test("an application file's change reaches the stacks that read it, as Pulumi.yaml's does", () => {
    const application = { dev: ["apps"], staging: ["apps"], prod: ["apps/shop.yaml"] };
    expect(
      affectedStacks(["apps/search.yaml"], stacks, stages, "preview", { application }),
    ).toEqual(["dev", "staging"]);
    expect(affectedStacks(["apps/shop.yaml"], stacks, stages, "preview", { application })).toEqual([
      "dev",
      "staging",
      "prod",
    ]);
    // A pinned stage reads its release's copy; deploys send the change to the first stage only.
    expect(
      affectedStacks(["apps/shop.yaml"], stacks, stages, "preview", {
        application,
        pinned: ["staging", "prod"],
      }),
    ).toEqual(["dev"]);
    expect(affectedStacks(["apps/shop.yaml"], stacks, stages, "deploy", { application })).toEqual([
      "dev",
    ]);
    expect(affectedStacks(["apps2/x.yaml"], stacks, stages, "preview", { application })).toEqual(
      [],
    );
  });
  test("a qa stage and an eu-prod beside prod: the order follows the pipeline, not the names", () => {
    const grown = pipeline("dev", "qa", "staging", "prod", "eu-prod<staging");
    const all = ["dev", "eu-prod", "local", "prod", "qa", "staging"];
    expect(affectedStacks(["platform/plan.ts"], all, grown, "preview")).toEqual([
      "dev",
      "qa",
      "staging",
      "prod",
      "eu-prod",
      "local",
    ]);
    expect(
      affectedStacks(["Pulumi.eu-prod.yaml", "Pulumi.qa.yaml", "index.ts"], all, grown, "deploy"),
    ).toEqual(["dev", "qa", "eu-prod"]);
    // A different first stage gets the shared code.
    expect(affectedStacks(["index.ts"], all, pipeline("qa", "prod"), "deploy")).toEqual(["qa"]);
    // A stack that is not a stage never deploys, even when its file changes.
    expect(affectedStacks(["Pulumi.dev.yaml"], all, pipeline("qa", "prod"), "deploy")).toEqual([]);
  });
});
