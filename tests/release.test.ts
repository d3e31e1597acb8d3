/**
 * Releases: the program refuses a pinned stack run as another commit, and `npm run deploy` runs
 * each stage as its release (the checkout for the first stage, the pinned commit's worktree for
 * the others). pulumi here is a stand-in that records how it was called; the real engine runs
 * the same command in tests/e2e/promotion.test.ts.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import {
  ConfigError,
  parsePlatformConfig,
  RELEASE_ENV,
  type ParseOptions,
  type RawConfig,
} from "../platform/config";
import { main, parseDeployArgs } from "../scripts/deploy";
import { UsageError } from "../scripts/lib/cli";
import { applyPromotion } from "../scripts/lib/stack-edit";
import { PROJECT_DIR } from "../scripts/lib/stack-files";
import { commitAll, git } from "./helpers/git";

const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});
function tempDir(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${label}-`));
  temporary.push(dir);
  return dir;
}

const A = "a".repeat(40);
const B = "b".repeat(40);

describe("the program runs a pinned stack only as its release", () => {
  const raw = (extra: RawConfig = {}): RawConfig => ({
    tier: "staging",
    cluster: { cloud: "kind", name: "staging" },
    namespaces: { shop: {} },
    services: {},
    ...extra,
  });
  function problemsOf(config: RawConfig, options: ParseOptions): readonly string[] {
    try {
      parsePlatformConfig(config, options);
      return [];
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
  }
  const how =
    "run it with `npm run deploy -- --stage staging --command up`, which checks that commit out";

  test("the pinned release itself runs; an unpinned stack runs whatever the program is", () => {
    expect(problemsOf(raw({ release: A }), { stack: "staging", program: { release: A } })).toEqual(
      [],
    );
    expect(problemsOf(raw(), { stack: "staging", program: { release: `${B}-dirty` } })).toEqual([]);
    expect(problemsOf(raw(), { stack: "staging", program: { release: undefined } })).toEqual([]);
  });

  test("another commit, or a program that does not know its commit, is refused", () => {
    expect(problemsOf(raw({ release: A }), { stack: "staging", program: { release: B } })).toEqual([
      `release: staging runs release ${"a".repeat(12)}, but this program is ${"b".repeat(12)}; ${how}, or promote the newer release into staging`,
    ]);
    expect(
      problemsOf(raw({ release: A }), { stack: "staging", program: { release: undefined } }),
    ).toEqual([
      `release: staging runs release ${"a".repeat(12)} only and this program does not know its own commit (${RELEASE_ENV} is not set); ${how}`,
    ]);
  });

  test("a malformed pin or release is named with its fix; the tools (no program) check the format only", () => {
    expect(problemsOf(raw({ release: "main" }), { stack: "staging" })).toEqual([
      'release: expected a full commit id (40 lowercase hex digits), got "main"; promote writes it (npm run promote), do not edit it by hand',
    ]);
    expect(problemsOf(raw({ release: A }), { stack: "staging" })).toEqual([]);
    expect(problemsOf(raw(), { stack: "staging", program: { release: "v1.2" } })).toEqual([
      `${RELEASE_ENV}="v1.2": expected a full commit id, maybe with -dirty (npm run deploy sets it; unset it to run without a release)`,
    ]);
  });
});

describe("deploy arguments", () => {
  test("--stage is required, --command is up, preview or refresh, and what follows -- goes to pulumi", () => {
    expect(parseDeployArgs(["--stage", "dev", "--command", "up", "--", "--yes", "-s"])).toEqual({
      name: "dev",
      byStack: false,
      command: "up",
      cwd: process.cwd(),
      mode: "run",
      pulumiArgs: ["--yes", "-s"],
    });
    expect(parseDeployArgs(["--stage", "dev"]).command).toBe("preview");
    expect(parseDeployArgs(["--stack", "local", "--prepare"])).toMatchObject({
      name: "local",
      byStack: true,
      mode: "prepare",
    });
    expect(() => parseDeployArgs([])).toThrow(UsageError);
    expect(() => parseDeployArgs(["--stage", "dev", "--stack", "dev"])).toThrow(
      "give --stage <name> or --stack <name>",
    );
    expect(() => parseDeployArgs(["--stage", "dev", "--dry-run", "--prepare"])).toThrow(
      "--dry-run and --prepare exclude each other",
    );
    expect(() => parseDeployArgs(["--stage", "dev", "--command", "destroy"])).toThrow(
      '--command "destroy": give one of up, preview, refresh (destroy and others: run pulumi yourself)',
    );
    expect(() => parseDeployArgs(["--stag", "dev"])).toThrow("(did you mean --stage?)");
  });
});

describe("npm run deploy runs each stage as its release", () => {
  const stackFile = (tier: string, release?: string) =>
    `config:\n  platform:tier: ${tier}\n${release ? `  platform:release: ${release}\n` : ""}`;

  let repo: string;
  let first: string;
  let second: string;
  let calls: string;
  let errors: string[];
  const savedPath = process.env.PATH;
  const savedReleases = process.env.PLATFORM_RELEASES_DIR;

  beforeEach(() => {
    repo = tempDir("deploy-repo");
    writeFileSync(
      join(repo, "Pulumi.yaml"),
      "name: platform\nruntime: nodejs\nconfig:\n  platform:stages:\n    value:\n      - name: dev\n      - name: staging\n      - name: prod\n        environment: production\n",
    );
    git(repo, "init", "-q");
    writeFileSync(join(repo, ".gitignore"), "node_modules\n");
    writeFileSync(join(repo, "package.json"), '{ "name": "p", "private": true }\n');
    writeFileSync(join(repo, "package-lock.json"), '{ "lockfileVersion": 3 }\n');
    mkdirSync(join(repo, "node_modules"));
    writeFileSync(join(repo, "program.txt"), "first\n");
    for (const [stack, tier] of [
      ["dev", "dev"],
      ["staging", "staging"],
      ["prod", "prod"],
    ])
      writeFileSync(join(repo, `Pulumi.${stack}.yaml`), stackFile(tier));
    first = commitAll(repo, "first release");
    writeFileSync(join(repo, "program.txt"), "second\n");
    second = commitAll(repo, "second release");

    // A stand-in pulumi: records its directory, arguments, release and program version.
    const bin = tempDir("deploy-bin");
    calls = join(bin, "calls.txt");
    writeFileSync(
      join(bin, "pulumi"),
      `#!/bin/sh\nprintf '%s|%s|%s|%s\\n' "$(pwd -P)" "$*" "$${RELEASE_ENV}" "$(cat program.txt)" >> "${calls}"\nexit "\${FAKE_PULUMI_EXIT:-0}"\n`,
    );
    chmodSync(join(bin, "pulumi"), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    process.env.PLATFORM_RELEASES_DIR = tempDir("deploy-releases");
    errors = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => errors.push(line));
    vi.spyOn(console, "log").mockImplementation((line: string) => errors.push(line));
  });
  afterEach(() => {
    process.env.PATH = savedPath;
    if (savedReleases === undefined) delete process.env.PLATFORM_RELEASES_DIR;
    else process.env.PLATFORM_RELEASES_DIR = savedReleases;
    vi.restoreAllMocks();
  });
  const recorded = () =>
    existsSync(calls)
      ? readFileSync(calls, "utf8")
          .trim()
          .split("\n")
          .map((l) => l.split("|"))
      : [];
  const deploy = (...argv: string[]) => main(["--cwd", repo, ...argv]);

  test("the first stage runs the checkout and names its commit, -dirty with uncommitted changes", async () => {
    expect(await deploy("--stage", "dev", "--command", "up", "--", "--yes")).toBe(0);
    writeFileSync(join(repo, "scratch.ts"), "// not committed\n");
    expect(await deploy("--stage", "dev")).toBe(0);
    expect(recorded()).toEqual([
      [realpathSync(repo), "up --stack dev --yes", second, "second"],
      [realpathSync(repo), "preview --stack dev", `${second}-dirty`, "second"],
    ]);
    expect(errors).toContain(
      `deploy: dev is the first stage: running this checkout, release ${second.slice(0, 12)}-dirty (uncommitted changes: this release cannot be promoted)`,
    );
  });

  test("a later stage runs its pinned commit in a worktree, with its stack file from the checkout", async () => {
    writeFileSync(join(repo, "Pulumi.staging.yaml"), stackFile("staging", first));
    expect(await deploy("--stage", "staging", "--command", "up", "--", "--yes")).toBe(0);
    const [[dir, args, release, program]] = recorded();
    expect(dir).not.toBe(realpathSync(repo));
    expect([args, release, program]).toEqual(["up --stack staging --yes", first, "first"]);
    expect(git(dir, "rev-parse", "HEAD")).toBe(first);
    expect(readFileSync(join(dir, "Pulumi.staging.yaml"), "utf8")).toBe(
      stackFile("staging", first),
    );
    // Same lockfile: the checkout's node_modules, linked.
    expect(lstatSync(join(dir, "node_modules")).isSymbolicLink()).toBe(true);
    expect(realpathSync(join(dir, "node_modules"))).toBe(realpathSync(join(repo, "node_modules")));
    // A second run reuses the worktree, reset to the commit.
    writeFileSync(join(dir, "program.txt"), "tampered\n");
    expect(await deploy("--stage", "staging")).toBe(0);
    expect(recorded()[1]).toEqual([dir, "preview --stack staging", first, "first"]);
  });

  test("pulumi's exit code is deploy's", async () => {
    process.env.FAKE_PULUMI_EXIT = "255";
    try {
      expect(await deploy("--stage", "dev", "--", "--expect-no-changes")).toBe(255);
    } finally {
      delete process.env.FAKE_PULUMI_EXIT;
    }
  });

  test("refusals run nothing and name the fix", async () => {
    expect(await deploy("--stage", "staging", "--command", "up")).toBe(1);
    expect(errors.at(-1)).toBe(
      "deploy refused; nothing was run:\n  staging has no release pinned (Pulumi.staging.yaml has no platform:release): a stage after the first runs only what dev ran, so its first release comes by promotion: npm run promote -- --from dev --to staging",
    );
    writeFileSync(join(repo, "Pulumi.staging.yaml"), stackFile("staging", "c".repeat(40)));
    expect(await deploy("--stage", "staging")).toBe(1);
    expect(errors.at(-1)).toBe(
      `deploy refused; nothing was run:\n  release cccccccccccc (Pulumi.staging.yaml, platform:release) is not a commit of this clone: fetch the history (actions/checkout with fetch-depth: 0, or git fetch origin ${"c".repeat(40)})`,
    );
    writeFileSync(join(repo, "Pulumi.dev.yaml"), stackFile("dev", first));
    expect(await deploy("--stage", "dev")).toBe(1);
    expect(errors.at(-1)).toBe(
      "deploy refused; nothing was run:\n  Pulumi.dev.yaml pins platform:release, but dev is the first stage: it runs the checkout (main); remove the pin",
    );
    writeFileSync(join(repo, "Pulumi.prod.yaml"), stackFile("prod", "HEAD"));
    expect(await deploy("--stage", "prod")).toBe(1);
    expect(errors.at(-1)).toContain(
      'Pulumi.prod.yaml: release: expected a full commit id (40 lowercase hex digits), got "HEAD"',
    );
    expect(await deploy("--stage", "stagin")).toBe(2);
    expect(errors.at(-1)).toBe(
      'deploy: "stagin" is not a stage of the pipeline (did you mean "staging"? dev → staging → prod; stages are defined in Pulumi.yaml, platform:stages)',
    );
    expect(recorded()).toEqual([]);
  });

  test("--prepare readies the release's directory for the workflows' pulumi step and runs nothing", async () => {
    writeFileSync(join(repo, "Pulumi.staging.yaml"), stackFile("staging", first));
    const printed: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => printed.push(line));
    expect(await deploy("--stack", "staging", "--prepare")).toBe(0);
    const fields = Object.fromEntries(
      printed
        .join("\n")
        .split("\n")
        .map((l) => l.split("=")),
    );
    expect(fields.release).toBe(first);
    expect(fields.stack).toBe("staging");
    expect(git(fields.dir, "rev-parse", "HEAD")).toBe(first);
    expect(readFileSync(join(fields.dir, "Pulumi.staging.yaml"), "utf8")).toBe(
      stackFile("staging", first),
    );
    // A stack outside the pipeline runs the checkout.
    writeFileSync(join(repo, "Pulumi.perf.yaml"), stackFile("staging"));
    printed.length = 0;
    expect(await deploy("--stack", "perf", "--prepare")).toBe(0);
    expect(printed.join("\n")).toBe(`dir=${repo}\nrelease=${second}-dirty\nstack=perf`);
    expect(await deploy("--stack", "nope", "--prepare")).toBe(2);
    expect(recorded()).toEqual([]);
  });

  test("--dry-run says what would run and runs nothing; --help answers first", async () => {
    writeFileSync(join(repo, "Pulumi.staging.yaml"), stackFile("staging", first));
    expect(await deploy("--stage", "staging", "--dry-run")).toBe(0);
    expect(errors.at(-1)).toBe(
      `deploy: staging runs release ${first.slice(0, 12)}; nothing was run (--dry-run)`,
    );
    expect(await main(["--help", "--bogus"])).toBe(0);
    expect(errors.at(-1)).toMatch(/^usage: npm run deploy -- \(--stage <name> \| --stack <name>\)/);
    expect(recorded()).toEqual([]);
  });
});

describe("npm run render renders a pinned stack as its release", () => {
  test("the pinned commit's application, not the checkout's; without a pin, the checkout's", () => {
    // A copy of this project in a repository of its own: the release is its first commit, then
    // the checkout moves on (a new web image in Pulumi.yaml).
    const dir = tempDir("render-release");
    const files = execFileSync("git", ["ls-files", "-z", "-co", "--exclude-standard"], {
      cwd: PROJECT_DIR,
      encoding: "utf8",
    })
      .split("\0")
      .filter((f) => f && !f.startsWith("rendered/") && existsSync(join(PROJECT_DIR, f)));
    for (const f of files) {
      mkdirSync(dirname(join(dir, f)), { recursive: true });
      copyFileSync(join(PROJECT_DIR, f), join(dir, f));
    }
    symlinkSync(join(PROJECT_DIR, "node_modules"), join(dir, "node_modules"), "dir");
    git(dir, "init", "-q");
    const release = commitAll(dir, "the release");
    const OLD = "nginxinc/nginx-unprivileged:1.29.1-alpine";
    const NEW = "nginxinc/nginx-unprivileged:1.29.2-alpine";
    const project = readFileSync(join(dir, "Pulumi.yaml"), "utf8");
    expect(project).toContain(`image: ${OLD}`);
    writeFileSync(join(dir, "Pulumi.yaml"), project.replace(`image: ${OLD}`, `image: ${NEW}`));
    commitAll(dir, "a newer web image on main");

    const stackFile = join(dir, "Pulumi.staging.yaml");
    const unpinned = readFileSync(stackFile, "utf8");
    const render = (out: string) => {
      const r = spawnSync(
        process.execPath,
        [
          join(dir, "node_modules", "tsx", "dist", "cli.mjs"),
          "scripts/render.ts",
          "--stack",
          "staging",
          "--out",
          out,
        ],
        {
          cwd: dir,
          encoding: "utf8",
          timeout: 180_000,
          env: {
            ...process.env,
            PLATFORM_RELEASES_DIR: join(dir, "..", `${basename(dir)}-releases`),
          },
        },
      );
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(out, "namespaces", "shop", "deployment-web.yaml"), "utf8");
    };
    expect(render(join(dir, "out-checkout"))).toContain(`image: ${NEW}`);
    writeFileSync(stackFile, applyPromotion(unpinned, [], { release }));
    expect(render(join(dir, "out-release"))).toContain(`image: ${OLD}`);
  });
});
