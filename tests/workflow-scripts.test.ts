/**
 * The shell scripts inside the workflows, run for real with a fake gh (tests/helpers/workflow-step):
 * the preview comment (which pull request, which comment, how big), the promotion pull request
 * (which token, and the preview dispatch when only the workflow token exists), and the review
 * stacks' comment and the sweep's list of open pull requests; the setup action's Pulumi settings.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, test } from "vitest";
import { parse } from "yaml";
import { PROJECT_DIR } from "../scripts/lib/stack-files";
import { runStep, stepScript, type StepResult } from "./helpers/workflow-step";

const results: StepResult[] = [];
afterEach(() => {
  for (const r of results.splice(0)) r.cleanup();
});
function run(...args: Parameters<typeof runStep>): StepResult {
  const r = runStep(...args);
  results.push(r);
  return r;
}

describe("preview-comment: Post or update the comment", () => {
  const script = stepScript("preview-comment.yml", "comment", "Post or update the comment");
  const SHA = "a".repeat(40);
  const env = {
    REPO: "acme/platform",
    SERVER: "https://github.com",
    RUN_ID: "42",
    GH_TOKEN: "wf",
    HEAD_OWNER: "forker",
    HEAD_BRANCH: "feature",
    HEAD_SHA: SHA,
  };
  const pull = (number: number, label: string, sha: string) => ({ number, head: { label, sha } });
  /** Open pulls: #17 is the fork's at this run's commit; others are decoys. */
  const pulls = [
    pull(17, "forker:feature", SHA),
    pull(18, "forker:other", SHA),
    pull(19, "acme:feature", SHA),
  ];
  const comment = (id: number, login: string, body: string) => ({ id, user: { login }, body });
  const fixtures = (comments: unknown[] = []) => ({
    "repos/acme/platform/pulls": pulls,
    "repos/acme/platform/issues/17/comments": comments,
  });
  const artifacts = {
    "previews/dev/diff.md": "dev diff",
    "previews/dev/rendered/capacity.md": "dev capacity",
    "previews/prod/diff.md": "prod diff",
  };

  test("finds the pull request from the run's head owner, branch and commit, and posts one marked comment", () => {
    const r = run(script, { env, files: artifacts, fixtures: fixtures() });
    expect(r.code, r.out).toBe(0);
    expect(r.file("comment.md")).toBe(
      "<!-- platform-preview -->\n## Offline preview\n\ndev diff\ndev capacity\nprod diff\n",
    );
    expect(r.gh).toEqual([
      `[wf] api -X GET repos/acme/platform/pulls -f state=open -f per_page=100 -f head=forker:feature --jq .[] | select(.head.sha == "${SHA}") | .number`,
      `[wf] api repos/acme/platform/issues/17/comments --paginate --jq .[] | select(.user.login == "github-actions[bot]" and (.body | startswith("<!-- platform-preview -->"))) | .id`,
      "[wf] api -X POST repos/acme/platform/issues/17/comments -F body=@comment.md",
    ]);
    expect(r.out).toContain("posted the preview comment on #17");
  });

  test("a PR number planted in the artifact is ignored: the comment goes to the run's own pull request", () => {
    const r = run(script, {
      env,
      files: { ...artifacts, "previews/pr-number": "19\n" },
      fixtures: fixtures(),
    });
    expect(r.code, r.out).toBe(0);
    expect(r.gh.filter((c) => c.includes("POST"))).toEqual([
      "[wf] api -X POST repos/acme/platform/issues/17/comments -F body=@comment.md",
    ]);
  });

  test("a branch pushed again since the run (head SHA differs) gets no comment", () => {
    const r = run(script, {
      env: { ...env, HEAD_SHA: "b".repeat(40) },
      files: artifacts,
      fixtures: fixtures(),
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain(
      `no open pull request from forker:feature at ${"b".repeat(40)} (pushed again since?); nothing to post`,
    );
    expect(r.gh).toHaveLength(1);
  });

  test("updates only the bot's own marked comment, never a user's comment carrying the marker", () => {
    const r = run(script, {
      env,
      files: artifacts,
      fixtures: fixtures([
        comment(7, "mallory", "<!-- platform-preview -->\nfake: no prod replacement"),
        comment(8, "github-actions[bot]", "<!-- other-bot -->"),
        comment(9, "github-actions[bot]", "<!-- platform-preview -->\nold"),
      ]),
    });
    expect(r.code, r.out).toBe(0);
    expect(r.gh.at(-1)).toBe(
      "[wf] api -X PATCH repos/acme/platform/issues/comments/9 -F body=@comment.md",
    );
    expect(r.gh.join("\n")).not.toContain("comments/7");
  });

  test("no preview artifact (no stack affected): posts nothing, succeeds", () => {
    const r = run(script, { env, fixtures: fixtures() });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("no preview artifact in run 42 (no stack affected); nothing to post");
    expect(r.gh.join("\n")).not.toContain("POST");
  });

  test("over GitHub's size limit, the largest stacks are summarised whole, never cut", () => {
    const big = (c: string, n: number) => `${c.repeat(n - 1)}\n`;
    const r = run(script, {
      env,
      files: {
        "previews/dev/diff.md": big("d", 1_000),
        "previews/prod/diff.md": big("p", 40_000),
        "previews/staging/diff.md": big("s", 30_000),
      },
      fixtures: fixtures(),
    });
    expect(r.code, r.out).toBe(0);
    const body = r.file("comment.md");
    expect(body.length).toBeLessThanOrEqual(60_100);
    // staging (30,001 bytes with its blank line) fits once prod is summarised; dev is whole too.
    expect(body).toContain(big("d", 1_000));
    expect(body).toContain(big("s", 30_000));
    expect(body).not.toContain("ppp");
    expect(body).toContain(
      "### prod\n\nThis stack's preview (40001 bytes) does not fit in one comment beside the others: read it in the summary of [the preview run](https://github.com/acme/platform/actions/runs/42).\n",
    );
  });
});

describe("promote: Open the pull request", () => {
  const script = stepScript("promote.yml", "promote", "Open the pull request");

  /** A clone of a bare origin with one uncommitted promotion edit, as the Promote step leaves it. */
  function clone(): { dir: string; origin: string; cleanup: () => void } {
    const root = mkdtempSync(join(tmpdir(), "promote-pr-"));
    const origin = join(root, "origin.git");
    const dir = join(root, "work");
    const git = (cwd: string, ...a: string[]) => execFileSync("git", a, { cwd, stdio: "pipe" });
    git(root, "init", "-q", "--bare", "-b", "main", origin);
    git(root, "clone", "-q", origin, dir);
    execFileSync("sh", ["-c", "echo 'image: a' > Pulumi.prod.yaml"], { cwd: dir });
    git(dir, "add", ".");
    git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
    git(dir, "push", "-q", "origin", "main");
    execFileSync("sh", ["-c", "echo 'image: b' > Pulumi.prod.yaml"], { cwd: dir });
    return { dir, origin, cleanup: () => rmSync(root, { recursive: true, force: true }) };
  }

  function promote(tokens: { APP_TOKEN?: string; PROMOTION_TOKEN?: string }) {
    const repo = clone();
    const r = run(`cd "${repo.dir}"\n${script}`, {
      env: {
        APP_TOKEN: "",
        PROMOTION_TOKEN: "",
        ...tokens,
        WORKFLOW_TOKEN: "wf",
        FROM: "staging",
        TO: "prod",
        GITHUB_RUN_ID: "77",
        GITHUB_SERVER_URL: "https://github.com",
        RUNNER_TEMP: repo.dir,
      },
      files: {},
      fixtures: { "pr create": "https://github.com/acme/platform/pull/31" },
    });
    const branches = execFileSync("git", ["branch", "--list", "promote/*"], {
      cwd: repo.origin,
      encoding: "utf8",
    }).trim();
    repo.cleanup();
    return { ...r, branches };
  }
  test("with a promotion token: pushes and opens the pull request with it, dispatches nothing", () => {
    const r = promote({ PROMOTION_TOKEN: "pat" });
    expect(r.code, r.out).toBe(0);
    expect(r.branches).toBe("promote/staging-to-prod-77");
    expect(r.gh).toHaveLength(1);
    expect(r.gh[0]).toMatch(/^\[pat\] pr create --base main --head promote\/staging-to-prod-77 /);
    expect(r.out).not.toContain("::warning::");
  });

  test("a GitHub App token is preferred over the personal token", () => {
    const r = promote({ APP_TOKEN: "app", PROMOTION_TOKEN: "pat" });
    expect(r.code, r.out).toBe(0);
    expect(r.gh[0]).toMatch(/^\[app\] pr create /);
  });

  test("with only the workflow token: opens the pull request and dispatches its preview explicitly", () => {
    const r = promote({});
    expect(r.code, r.out).toBe(0);
    expect(r.gh[0]).toMatch(/^\[wf\] pr create /);
    expect(r.gh[1]).toBe("[wf] workflow run preview.yml --ref promote/staging-to-prod-77 -f pr=31");
    expect(r.out).toContain(
      "::warning::Opened with the workflow token, which starts no workflow: dispatching the preview for it.",
    );
  });
});

describe("review: Comment the review stack's hosts", () => {
  const script = stepScript("review.yml", "review", "Comment the review stack's hosts");
  const env = { PR: "12", REPO: "acme/platform", GH_TOKEN: "wf" };

  test("edits the last comment (or posts one) with what npm run review wrote", () => {
    const r = run(`RUNNER_TEMP="$PWD"\n${script}`, {
      env,
      files: { "review.md": "### Review stack `pr-12`\n" },
    });
    expect(r.code, r.out).toBe(0);
    expect(r.gh).toEqual([
      `[wf] pr comment 12 --repo acme/platform --body-file ${r.dir}/review.md --edit-last --create-if-none`,
    ]);
  });

  test("no review stack (nothing changed): says nothing", () => {
    const r = run(`RUNNER_TEMP="$PWD"\n${script}`, { env });
    expect(r.code, r.out).toBe(0);
    expect(r.gh).toEqual([]);
  });
});

describe("review-sweep: The open pull requests", () => {
  const doc = stepScript("review-sweep.yml", "sweep", "The open pull requests");
  const endpoint = "repos/acme/platform/pulls?state=open&per_page=100";
  const env = { REPO: "acme/platform", GH_TOKEN: "wf", GITHUB_OUTPUT: ".out" };

  test("lists every open pull request's number for sweep --open", () => {
    const r = run(doc, { env, fixtures: { [endpoint]: [{ number: 3 }, { number: 12 }] } });
    expect(r.code, r.out).toBe(0);
    expect(r.file(".out")).toBe("open=3,12\n");
  });

  test("none open: an empty list (every review stack's pull request is closed)", () => {
    const r = run(doc, { env, fixtures: { [endpoint]: [] } });
    expect(r.code, r.out).toBe(0);
    expect(r.file(".out")).toBe("open=\n");
  });

  test("a failed listing fails the step and gives the sweep nothing", () => {
    const r = run(doc, { env, fixtures: {} });
    expect(r.code).not.toBe(0);
    expect(r.file(".out")).toBe("");
  });
});

describe("setup action: Pulumi settings for large stacks", () => {
  const action = parse(
    readFileSync(join(PROJECT_DIR, ".github", "actions", "setup", "action.yml"), "utf8"),
  ) as {
    runs: { steps: { name?: string; run?: string }[] };
  };
  const script = action.runs.steps.find((s) => s.name === "Pulumi settings for large stacks")!.run!;

  test("on a fresh runner: the automatic log is off (a file where its directory goes), transpile only", () => {
    const r = run(script, { env: { GITHUB_ENV: "github.env" } });
    expect(r.code, r.out).toBe(0);
    expect(statSync(join(r.dir, ".pulumi", "logs")).isFile()).toBe(true);
    expect(r.file("github.env")).toBe("PULUMI_NODEJS_TRANSPILE_ONLY=true\n");
  });

  test("a logs directory left by an earlier command is replaced", () => {
    const r = run(`mkdir -p ~/.pulumi/logs && touch ~/.pulumi/logs/old.log\n${script}`, {
      env: { GITHUB_ENV: "github.env" },
    });
    expect(r.code, r.out).toBe(0);
    expect(statSync(join(r.dir, ".pulumi", "logs")).isFile()).toBe(true);
  });
});
