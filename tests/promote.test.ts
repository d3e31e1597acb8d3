import { execFile } from "node:child_process";
import {
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { formatDiff, planPromotion, type PlanReady } from "../scripts/lib/promote";
import { readProjectFiles, readStack, type StackView } from "../scripts/lib/stack-view";
import { applyPromotion, EditError } from "../scripts/lib/stack-edit";
import { unifiedDiff } from "../scripts/lib/text-diff";
import { PROJECT_DIR } from "../scripts/lib/stack-files";
import { describeCounts, parsePromoteArgs, promote, UsageError } from "../scripts/promote";
import { commitAll, git } from "./helpers/git";
import { commitTree } from "../scripts/lib/git-tree";
import { directoryTree } from "../platform/source-tree";

const STACK_FILES = ["Pulumi.dev.yaml", "Pulumi.staging.yaml", "Pulumi.prod.yaml"];
const digest = (c: string) => `sha256:${c.repeat(64)}`;

/** Temporary directories, removed after the tests. */
const temporary: string[] = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "promote-test-"));
  temporary.push(dir);
  return dir;
}

/** The project these tests promote in: its own frozen copy of the sample app. */
const FIXTURE = join(__dirname, "fixtures", "shop");

/** A temporary project: copies of the fixture's Pulumi.yaml and three stack files, some replaced. */
function project(replace: Record<string, string> = {}): string {
  const dir = tempDir();
  for (const f of ["Pulumi.yaml", ...STACK_FILES]) copyFileSync(join(FIXTURE, f), join(dir, f));
  for (const [f, text] of Object.entries(replace)) writeFileSync(join(dir, f), text);
  return dir;
}

/**
 * A temporary project in a git repository: the fixture committed (HEAD is the release the first
 * stage runs), then the `replace` files written uncommitted, `{{HEAD}}` in them replaced by it.
 */
function repo(replace: Record<string, string> = {}): string {
  const dir = project();
  git(dir, "init", "-q");
  commitAll(dir, "fixture");
  const release = head(dir);
  for (const [f, text] of Object.entries(replace))
    writeFileSync(join(dir, f), text.replaceAll("{{HEAD}}", release));
  return dir;
}

/** The commit checked out in `dir`. */
const head = (dir: string) => git(dir, "rev-parse", "HEAD");

/** Every file in `dir` (not .git), as bytes. */
function snapshot(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const f of readdirSync(dir))
    if (f !== ".git" && statSync(join(dir, f)).isFile()) out[f] = readFileSync(join(dir, f));
  return out;
}

const read = (dir: string, file: string) => readFileSync(join(dir, file), "utf8");
const stackOf = (dir: string, stack: string): StackView =>
  readStack(read(dir, "Pulumi.yaml"), stack, read(dir, `Pulumi.${stack}.yaml`));

function run(dir: string, ...argv: string[]): { code: number; out: string; err: string } {
  const out: string[] = [];
  const err: string[] = [];
  const code = promote(argv, { projectDir: dir, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Lines removed and added between two texts. */
function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const lines = unifiedDiff("f", before, after).split("\n").slice(2);
  return {
    removed: lines.filter((l) => l.startsWith("-")).map((l) => l.slice(1)),
    added: lines.filter((l) => l.startsWith("+")).map((l) => l.slice(1)),
  };
}

/** Pins images in a stack file of `dir` (test setup). */
function pin(dir: string, stack: string, images: Record<string, string>): void {
  const file = `Pulumi.${stack}.yaml`;
  const changes = Object.entries(images).map(([service, image]) => ({ service, image }));
  writeFileSync(join(dir, file), applyPromotion(read(dir, file), changes));
}

// The real CLI in a child process, started first so it runs while the other tests do.
const realFiles = Object.fromEntries(
  ["Pulumi.yaml", ...STACK_FILES].map((f) => [f, readFileSync(join(PROJECT_DIR, f))]),
);
const realCli = promisify(execFile)(
  join(PROJECT_DIR, "node_modules", ".bin", "tsx"),
  [join(PROJECT_DIR, "scripts", "promote.ts"), "--from", "dev", "--to", "prod", "--dry-run"],
  { cwd: PROJECT_DIR },
).then(
  () => ({ code: 0, stderr: "" }),
  (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
);

describe("applyPromotion edits only the image values", () => {
  const X = `ghcr.io/acme/web:1.2@${digest("a")}`;
  const Y = `ghcr.io/acme/api:2.0@${digest("b")}`;
  const Z = `ghcr.io/acme/worker@${digest("c")}`;

  test("replaces existing values in place, keeping their quotes and comments", () => {
    const text = [
      "config:",
      "  platform:overrides:",
      "    services:",
      "      web:",
      '        image: "nginx:1.0" # pinned by promote',
      "        replicas: 2",
      "      api: { image: 'node:24', replicas: 1 }",
      "",
    ].join("\n");
    const after = applyPromotion(text, [
      { service: "web", image: X },
      { service: "api", image: Y },
    ]);
    expect(after).toBe(text.replace('"nginx:1.0"', `"${X}"`).replace("'node:24'", `'${Y}'`));
  });

  test("adds image after the last key of a block map, and new maps at the file's indentation", () => {
    const text = [
      "# staging: comments, odd spacing and flow maps stay as they are",
      "config:",
      "  platform:tier: staging   # the tier",
      "  platform:overrides:",
      "    services:",
      "      web:",
      "        replicas: 2",
      "        ingress: { host: a.example.com,   tlsSecret: tls }   # public",
      "      # the API scales itself",
      "      api:",
      "        autoscale: {min: 2, max: 4}",
      "",
      "  # trailing comment",
      "",
    ].join("\n");
    // The Document API alone would reformat this file.
    expect(parseDocument(text).toString()).not.toBe(text);
    const after = applyPromotion(text, [
      { service: "web", image: X },
      { service: "api", image: Y },
      { service: "worker", image: Z },
    ]);
    expect(after).toBe(
      [
        "# staging: comments, odd spacing and flow maps stay as they are",
        "config:",
        "  platform:tier: staging   # the tier",
        "  platform:overrides:",
        "    services:",
        "      web:",
        "        replicas: 2",
        "        ingress: { host: a.example.com,   tlsSecret: tls }   # public",
        `        image: ${X}`,
        "      # the API scales itself",
        "      api:",
        "        autoscale: {min: 2, max: 4}",
        `        image: ${Y}`,
        "      worker:",
        `        image: ${Z}`,
        "",
        "  # trailing comment",
        "",
      ].join("\n"),
    );
  });

  test("creates platform:overrides in block style with the file's 4-space indent, even without a final newline", () => {
    const text =
      "config:\n    platform:tier: dev\n    platform:cluster:\n        cloud: kind\n        name: k";
    expect(applyPromotion(text, [{ service: "api", image: Y }])).toBe(
      `${text}\n    platform:overrides:\n        services:\n            api:\n                image: ${Y}`,
    );
  });

  test("keeps CRLF line endings and fills an empty value", () => {
    const text =
      "config:\r\n  platform:overrides:\r\n    services:\r\n      web:\r\n        image: # to be promoted\r\n";
    expect(
      applyPromotion(text, [
        { service: "web", image: X },
        { service: "api", image: Y },
      ]),
    ).toBe(
      `config:\r\n  platform:overrides:\r\n    services:\r\n      web:\r\n        image: ${X} # to be promoted\r\n      api:\r\n        image: ${Y}\r\n`,
    );
  });

  test("writes into flow maps in flow style", () => {
    expect(
      applyPromotion("config:\n  platform:overrides: { services: { web: { replicas: 2 } } }\n", [
        { service: "web", image: X },
        { service: "api", image: Y },
      ]),
    ).toBe(
      `config:\n  platform:overrides: { services: { web: { replicas: 2, image: ${X} }, api: { image: ${Y} } } }\n`,
    );
    expect(
      applyPromotion("config:\n  platform:overrides: { namespaces: {} }\n", [
        { service: "api", image: Y },
      ]),
    ).toBe(
      `config:\n  platform:overrides: { namespaces: {}, services: { api: { image: ${Y} } } }\n`,
    );
    expect(
      applyPromotion("config:\n  platform:overrides:\n    services: {}\n", [
        { service: "api", image: Y },
      ]),
    ).toBe(`config:\n  platform:overrides:\n    services: { api: { image: ${Y} } }\n`);
  });

  test("replaces a build override by the reference", () => {
    const text =
      "config:\n  platform:overrides:\n    services:\n      api:\n        image:\n          build: { repository: ghcr.io/acme/api, context: ./api }\n        replicas: 1\n";
    expect(applyPromotion(text, [{ service: "api", image: Y }])).toBe(
      `config:\n  platform:overrides:\n    services:\n      api:\n        image: ${Y}\n        replicas: 1\n`,
    );
  });

  test("refuses to edit through a YAML alias or an anchored node an alias reuses", () => {
    const text = [
      "config:",
      "  platform:overrides:",
      "    services:",
      "      web: &scaled",
      "        replicas: 3",
      "      worker: *scaled",
      "",
    ].join("\n");
    expect(() => applyPromotion(text, [{ service: "web", image: X }])).toThrowError(
      "config.platform:overrides.services.web is anchored (&scaled) and reused by an alias elsewhere, so setting its image would change those too; write the aliased copies out in full, then promote",
    );
    expect(() => applyPromotion(text, [{ service: "worker", image: X }])).toThrowError(
      "config.platform:overrides.services.worker is an alias (*scaled) of another node; write its settings out in full, then promote it",
    );
    // An anchor nothing reuses is an ordinary node.
    const lone = text.replace("      worker: *scaled\n", "");
    expect(applyPromotion(lone, [{ service: "web", image: X }])).toContain(`image: ${X}`);
  });

  test("refuses a path through something other than a mapping", () => {
    const text = "config:\n  platform:overrides:\n    services: [web]\n";
    expect(() => applyPromotion(text, [{ service: "web", image: X }])).toThrowError(EditError);
    expect(() => applyPromotion(text, [{ service: "web", image: X }])).toThrowError(
      "config.platform:overrides.services is not a mapping",
    );
  });
});

describe("diff output", () => {
  test("unifiedDiff prints hunks with 3 lines of context, as diff -u does", () => {
    const a = Array.from({ length: 20 }, (_, i) => `l${i + 1}`).join("\n") + "\n";
    const b = a.replace("l2\n", "L2\n").replace("l18\n", "l18\nnew\n");
    expect(unifiedDiff("f.yaml", a, b)).toBe(
      [
        "--- a/f.yaml",
        "+++ b/f.yaml",
        "@@ -1,5 +1,5 @@",
        " l1",
        "-l2",
        "+L2",
        " l3",
        " l4",
        " l5",
        "@@ -16,5 +16,6 @@",
        " l16",
        " l17",
        " l18",
        "+new",
        " l19",
        " l20",
      ].join("\n"),
    );
  });

  test("formatDiff lists each service before → after, then the file diff", () => {
    const before =
      "config:\n  platform:overrides:\n    services:\n      api:\n        image: node:24\n";
    const after = before.replace("node:24", `node:24@${digest("d")}`);
    const plan: PlanReady = {
      ok: true,
      title: "promote staging → prod",
      stack: "prod",
      file: "Pulumi.prod.yaml",
      changes: [
        {
          service: "api",
          before: "node:24",
          beforePinned: true,
          after: `node:24@${digest("d")}`,
          origin: "staging's deployed outputs in out.json",
        },
        {
          service: "web",
          before: "nginx:1",
          beforePinned: false,
          after: "nginx:1",
          origin: "staging config",
        },
      ],
      release: {
        before: "1".repeat(40),
        after: "2".repeat(40),
        origin: "staging's deployed outputs in out.json",
      },
      pinnedRelease: "2".repeat(40),
      before,
      after,
      warnings: [],
      notes: [],
    };
    expect(formatDiff(plan)).toBe(
      [
        "promote staging → prod: Pulumi.prod.yaml",
        "  release 111111111111 → 222222222222 (staging's deployed outputs in out.json)",
        '  api  "node:24"',
        `     → "node:24@${digest("d")}" (staging's deployed outputs in out.json)`,
        '  web  "nginx:1" (from Pulumi.yaml)',
        '     → "nginx:1" (staging config) (same image, now pinned in the stack file)',
        "",
        "--- a/Pulumi.prod.yaml",
        "+++ b/Pulumi.prod.yaml",
        "@@ -2,4 +2,4 @@",
        "   platform:overrides:",
        "     services:",
        "       api:",
        "-        image: node:24",
        `+        image: node:24@${digest("d")}`,
      ].join("\n"),
    );
  });
});

describe("counts that count what changed", () => {
  test("one image that moved among eight only now pinned is one image, not nine", () => {
    const change = (service: string, before: string, after: string) => ({
      service,
      before,
      beforePinned: false,
      after,
      origin: "dev config",
    });
    const plan = (release: boolean, changes: ReturnType<typeof change>[]): PlanReady => ({
      ok: true,
      title: "promote dev → qa",
      stack: "qa",
      file: "Pulumi.qa.yaml",
      changes,
      ...(release ? { release: { before: undefined, after: "a".repeat(40), origin: "x" } } : {}),
      pinnedRelease: undefined,
      before: "",
      after: "",
      warnings: [],
      notes: [],
    });
    const same = Array.from({ length: 8 }, (_, i) => change(`s${i}`, "img:1", "img:1"));
    expect(describeCounts(plan(false, [change("api", "api:1", "api:2"), ...same]))).toBe(
      "1 image and 8 images it already ran, now pinned",
    );
    expect(describeCounts(plan(true, [change("api", "api:1", "api:2")]))).toBe(
      "the release and 1 image",
    );
    expect(describeCounts(plan(true, []))).toBe("the release");
  });
});

describe("promotion on copies of the stack files", () => {
  test("dev → staging pins the release and every service's image, changes no other byte, and a second run is a no-op", () => {
    const dir = repo();
    const release = head(dir);
    const before = snapshot(dir);
    const dev = stackOf(dir, "dev");
    const first = run(dir, "--from", "dev", "--to", "staging");
    expect(first.code).toBe(0);
    const after = read(dir, "Pulumi.staging.yaml");
    const { removed, added } = changedLines(before["Pulumi.staging.yaml"].toString("utf8"), after);
    expect(removed).toEqual([]);
    for (const line of added)
      expect(line).toMatch(/^ +(image: \S+|[a-z0-9-]+:|platform:release: [0-9a-f]{40})$/);
    expect(added).toContain(`  platform:release: ${release}`);
    // Independently of the diff: taking the added lines out gives the original bytes back.
    const rest = [...added];
    const kept = after.split("\n").filter((l) => (l === rest[0] ? (rest.shift(), false) : true));
    expect(kept.join("\n")).toBe(before["Pulumi.staging.yaml"].toString("utf8"));
    expect(stackOf(dir, "staging").pins).toEqual(
      Object.fromEntries(dev.services.map((s) => [s, dev.images[s]])),
    );
    for (const f of ["Pulumi.yaml", "Pulumi.dev.yaml", "Pulumi.prod.yaml"])
      expect(read(dir, f)).toBe(before[f].toString("utf8"));
    expect(first.out).toContain("--- a/Pulumi.staging.yaml\n+++ b/Pulumi.staging.yaml\n@@ ");
    expect(first.out).toContain("(same image, now pinned in the stack file)");
    expect(first.out).toContain(
      `  release none pinned → ${release.slice(0, 12)} (this checkout's commit)\n`,
    );
    expect(first.out).toContain(
      `note: release: dev runs main; without its outputs the release is this checkout's commit, ${release.slice(0, 12)} (--from-outputs <dev outputs.json> promotes the one it ran)`,
    );
    expect(first.out).toContain(
      "wrote Pulumi.staging.yaml (changed: the release and 6 images it already ran, now pinned); commit it to record the promotion",
    );
    // One warning for all the tags, not one per service.
    expect(first.err).toBe(
      `warning: services ${dev.services.map((svc) => `${svc} ("${String(dev.images[svc])}")`).join(", ")}: no digests (dev config); copied to staging as tags, which can move — pass --from-outputs <dev outputs.json> or pin a digest in Pulumi.dev.yaml to promote exactly what dev runs`,
    );

    const written = snapshot(dir);
    const second = run(dir, "--from", "dev", "--to", "staging");
    expect(second.code).toBe(0);
    expect(second.err).toBe("");
    expect(second.out.split("\n").at(-1)).toBe(
      `nothing to do: Pulumi.staging.yaml already has release ${release.slice(0, 12)} and these images (promote dev → staging); no file changed`,
    );
    expect(snapshot(dir)).toEqual(written);
  });

  test("--dry-run prints the diff and writes nothing", () => {
    const dir = project();
    const before = snapshot(dir);
    const result = run(dir, "--from", "dev", "--to", "staging", "--only", "api", "--dry-run");
    expect(result.code).toBe(0);
    expect(result.out).toContain(`\n+        image: ${stackOf(dir, "dev").images.api}\n`);
    expect(result.out).toContain(
      "dry run: Pulumi.staging.yaml not written (would change: 1 image it already ran, now pinned)",
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test("--only promotes just the named services", () => {
    const dir = project();
    const before = read(dir, "Pulumi.staging.yaml");
    const result = run(dir, "--from", "dev", "--to", "staging", "--only", "api");
    expect(result.code).toBe(0);
    expect(result.err).toContain(
      `warning: services.api.image: "${String(stackOf(dir, "dev").images.api)}" (dev config) has no digest; copied to staging as a tag, which can move`,
    );
    const { removed, added } = changedLines(before, read(dir, "Pulumi.staging.yaml"));
    expect(removed).toEqual([]);
    expect(added.map((l) => l.trim())).toEqual([`image: ${stackOf(dir, "dev").images.api}`]);
  });

  test("--from-outputs promotes the deployed release and digests into prod; a newer digest replaces only the digest", () => {
    const dir = repo();
    const staging = stackOf(dir, "staging");
    const prod = stackOf(dir, "prod");
    const services = staging.services.filter((s) => prod.services.includes(s));
    const outputs = (d: string) =>
      JSON.stringify({
        release: head(dir),
        namespaces: ["shop"],
        images: Object.fromEntries(services.map((s) => [s, `${String(staging.images[s])}@${d}`])),
      });
    writeFileSync(join(dir, "out.json"), outputs(digest("e")));
    const first = run(
      dir,
      "--from",
      "staging",
      "--to",
      "prod",
      "--from-outputs",
      join(dir, "out.json"),
    );
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(stackOf(dir, "prod").pins).toEqual(
      Object.fromEntries(services.map((s) => [s, `${String(staging.images[s])}@${digest("e")}`])),
    );
    expect(stackOf(dir, "prod").release).toBe(head(dir));

    const once = read(dir, "Pulumi.prod.yaml");
    writeFileSync(join(dir, "out.json"), outputs(digest("f")));
    expect(
      run(dir, "--from", "staging", "--to", "prod", "--from-outputs", join(dir, "out.json")).code,
    ).toBe(0);
    expect(read(dir, "Pulumi.prod.yaml")).toBe(once.replaceAll(digest("e"), digest("f")));
    const again = run(
      dir,
      "--from",
      "staging",
      "--to",
      "prod",
      "--from-outputs",
      join(dir, "out.json"),
    );
    expect(again.out).toBe(
      `nothing to do: Pulumi.prod.yaml already has release ${head(dir).slice(0, 12)} and these images (promote staging → prod); no file changed`,
    );
  });

  test("an image built in dev promotes the digest its outputs record", () => {
    const dir = repo({ "Pulumi.dev.yaml": BUILD_DEV });
    const ref = `ghcr.io/acme/api@${digest("a")}`;
    writeFileSync(
      join(dir, "out.json"),
      JSON.stringify({ release: head(dir), images: { api: ref } }),
    );
    const result = run(
      dir,
      "--from",
      "dev",
      "--to",
      "staging",
      "--only",
      "api",
      "--from-outputs",
      join(dir, "out.json"),
    );
    expect(result.err).toBe("");
    expect(result.code).toBe(0);
    expect(stackOf(dir, "staging").images.api).toBe(ref);
  });

  test("dev → prod with --allow-skip and digests from the outputs", () => {
    const dir = repo();
    const dev = stackOf(dir, "dev");
    writeFileSync(
      join(dir, "out.json"),
      JSON.stringify({
        release: head(dir),
        images: { api: `${String(dev.images.api)}@${digest("9")}` },
      }),
    );
    const result = run(
      dir,
      "--from",
      "dev",
      "--to",
      "prod",
      "--only",
      "api",
      "--allow-skip",
      "--from-outputs",
      join(dir, "out.json"),
    );
    expect(result.code).toBe(0);
    expect(stackOf(dir, "prod").pins.api).toBe(`${String(dev.images.api)}@${digest("9")}`);
    // Never silent: the skip is a warning, which promote.yml puts in the pull request.
    expect(result.err).toContain(
      "EMERGENCY (--allow-skip): dev → prod skips staging (the pipeline is dev → staging → prod); promote --from dev --to staging first",
    );
  });
});

describe("a grown pipeline: qa between dev and staging, eu-prod beside prod", () => {
  /** The fixture with only the stage definition changed and two stack files added. */
  function grown(): string {
    const dir = repo();
    const projectFile = join(dir, "Pulumi.yaml");
    const text = readFileSync(projectFile, "utf8");
    const stages = `  platform:stages:
    value:
      - name: dev
      - name: staging
      - name: prod
        environment: production
`;
    expect(text).toContain(stages);
    writeFileSync(
      projectFile,
      text.replace(
        stages,
        `  platform:stages:
    value:
      - name: dev
      - name: qa
      - name: staging
      - name: prod
        environment: production
      - name: eu-prod
        from: staging
        environment: production-eu
`,
      ),
    );
    // qa is a copy of staging (tier staging too), eu-prod of prod.
    copyFileSync(join(dir, "Pulumi.staging.yaml"), join(dir, "Pulumi.qa.yaml"));
    copyFileSync(join(dir, "Pulumi.prod.yaml"), join(dir, "Pulumi.eu-prod.yaml"));
    return dir;
  }
  const outputsOf = (dir: string, stack: string) => {
    const images = Object.fromEntries(
      Object.entries(stackOf(dir, stack).images).map(([svc, ref]) => [
        svc,
        typeof ref === "string" ? `${ref.split("@")[0]}@${digest("7")}` : ref,
      ]),
    );
    writeFileSync(join(dir, `${stack}.json`), JSON.stringify({ release: head(dir), images }));
    return join(dir, `${stack}.json`);
  };

  test("dev → qa → staging → prod and staging → eu-prod are the steps; qa and staging share a tier", () => {
    const dir = grown();
    expect(run(dir, "--from", "dev", "--to", "qa").code).toBe(0);
    expect(run(dir, "--from", "qa", "--to", "staging").code).toBe(0);
    expect(stackOf(dir, "staging").pins).toEqual(stackOf(dir, "qa").pins);
    const fromStaging = outputsOf(dir, "staging");
    expect(run(dir, "--from", "staging", "--to", "prod", "--from-outputs", fromStaging).code).toBe(
      0,
    );
    expect(
      run(dir, "--from", "staging", "--to", "eu-prod", "--from-outputs", fromStaging).code,
    ).toBe(0);
    expect(stackOf(dir, "eu-prod").pins).toEqual(stackOf(dir, "prod").pins);
  });

  test("skipping qa or staging, or feeding eu-prod from prod, is refused with the path to take", () => {
    const dir = grown();
    const before = snapshot(dir);
    const pipeline = "the pipeline is dev → qa → staging → prod; dev → qa → staging → eu-prod";
    expect(run(dir, "--from", "dev", "--to", "staging").err).toBe(
      `promote dev → staging refused; nothing was changed:\n  - dev → staging skips qa (${pipeline}); promote --from dev --to qa first, or pass --allow-skip in an emergency (recorded in the pull request)`,
    );
    expect(run(dir, "--from", "qa", "--to", "prod").err).toBe(
      `promote qa → prod refused; nothing was changed:\n  - qa → prod skips staging (${pipeline}); promote --from qa --to staging first, or pass --allow-skip in an emergency (recorded in the pull request)`,
    );
    expect(run(dir, "--from", "prod", "--to", "eu-prod").err).toBe(
      `promote prod → eu-prod refused; nothing was changed:\n  - eu-prod takes its releases from staging, not from prod (${pipeline})`,
    );
    expect(snapshot(dir)).toEqual(before);
  });
});

const BUILD_DEV = `# dev builds the API from source.
config:
  platform:tier: dev
  platform:cluster:
    cloud: kind
    name: kind-dev
  platform:overrides:
    services:
      api:
        image: { build: { repository: ghcr.io/acme/api, context: ./api } }
`;

describe("releases travel the pipeline: the program's commit, the application and the images", () => {
  const MAILER = `      mailer:
        kind: worker
        namespace: shop
        image: node:24.11.1-alpine3.22
        securityContext: { runAsUser: 1000, runAsGroup: 1000 }
        command: [node, -e, "setInterval(() => {}, 1000)"]
        resources:
          requests: { cpu: 50m, memory: 64Mi, ephemeral-storage: 64Mi }
          limits: { ephemeral-storage: 128Mi }
`;
  /** Adds the mailer service to Pulumi.yaml and commits it: a new release of the application. */
  function addMailer(dir: string): string {
    const file = join(dir, "Pulumi.yaml");
    const text = read(dir, "Pulumi.yaml");
    const at = text.indexOf("      # PostgreSQL as UID 999");
    expect(at).toBeGreaterThan(0);
    writeFileSync(file, `${text.slice(0, at)}${MAILER}${text.slice(at)}`);
    commitAll(dir, "add the mailer");
    return head(dir);
  }
  const outputs = (dir: string, stack: string, release: string, d: string) => {
    const view = stackOf(dir, stack);
    const file = join(dir, `${stack}.json`);
    const images = Object.fromEntries(
      view.services.map((s) => [s, `${String(view.images[s]).split("@")[0]}@${digest(d)}`]),
    );
    writeFileSync(file, JSON.stringify({ release, images }));
    return file;
  };

  test("a service new in the application reaches prod by promotion alone, and no stage skips", () => {
    const dir = repo();
    const first = head(dir);
    expect(run(dir, "--from", "dev", "--to", "staging").code).toBe(0);
    expect(
      run(
        dir,
        "--from",
        "staging",
        "--to",
        "prod",
        "--from-outputs",
        outputs(dir, "staging", first, "1"),
      ).code,
    ).toBe(0);
    commitAll(dir, "promote the first release");

    const second = addMailer(dir);
    // Staging and prod run the first release: its application has no mailer.
    const stagingNow = run(dir, "--from", "dev", "--to", "staging", "--only", "mailer");
    expect(stagingNow.code).toBe(0); // --only names a service of the release being promoted
    expect(stagingNow.out).toContain(`  release ${first.slice(0, 12)} → ${second.slice(0, 12)}`);
    expect(stackOf(dir, "staging").release).toBe(second);
    commitAll(dir, "promote the second release to staging");
    // Prod still runs the first release; promoting dev straight into it is refused.
    expect(stackOf(dir, "prod").release).toBe(first);
    expect(run(dir, "--from", "dev", "--to", "prod").err).toContain(
      "dev → prod skips staging (the pipeline is dev → staging → prod)",
    );
    const toProd = run(
      dir,
      "--from",
      "staging",
      "--to",
      "prod",
      "--from-outputs",
      outputs(dir, "staging", second, "2"),
    );
    expect(toProd.err).toBe("");
    expect(toProd.code).toBe(0);
    const prod = stackOf(dir, "prod");
    expect(prod.release).toBe(second);
    expect(prod.pins.mailer).toBe(`node:24.11.1-alpine3.22@${digest("2")}`);
  });

  test("with application files, a pinned stage's services are those of its release's files", () => {
    const dir = repo();
    // The sample application moved from Pulumi.yaml into apps/shop.yaml.
    const pulumiYaml = parseDocument(read(dir, "Pulumi.yaml"));
    const take = (key: string) => {
      const value = (
        pulumiYaml.getIn(["config", `platform:${key}`, "value"]) as { toJSON(): unknown }
      ).toJSON();
      pulumiYaml.deleteIn(["config", `platform:${key}`]);
      return value;
    };
    const app = { namespaces: take("namespaces"), services: take("services") };
    pulumiYaml.setIn(
      ["config", "platform:applicationFiles"],
      pulumiYaml.createNode({ value: ["apps"] }),
    );
    writeFileSync(join(dir, "Pulumi.yaml"), pulumiYaml.toString());
    mkdirSync(join(dir, "apps"));
    writeFileSync(join(dir, "apps", "shop.yaml"), JSON.stringify(app, null, 2));
    commitAll(dir, "application files");
    const first = head(dir);
    expect(run(dir, "--from", "dev", "--to", "staging").code).toBe(0);
    commitAll(dir, "promote the first release");

    // A new service, in a file of its own.
    const mailer = MAILER.split("\n")
      .map((l) => l.slice(4))
      .join("\n");
    writeFileSync(join(dir, "apps", "mailer.yaml"), `services:\n${mailer}`);
    const second = commitAll(dir, "add the mailer");
    const stagingAt = (tree: Parameters<typeof readStack>[3]) =>
      readStack(read(dir, "Pulumi.yaml"), "staging", read(dir, "Pulumi.staging.yaml"), tree);
    expect(stagingAt(commitTree(dir, first)).services).not.toContain("mailer");
    expect(stagingAt(directoryTree(dir)).services).toContain("mailer");

    const toStaging = run(dir, "--from", "dev", "--to", "staging", "--only", "mailer");
    expect(toStaging.err).not.toMatch(/could not be read|cannot read application files/);
    expect(toStaging.code).toBe(0);
    expect(toStaging.out).toContain(`  release ${first.slice(0, 12)} → ${second.slice(0, 12)}`);
    const staging = stackOf(dir, "staging");
    expect(staging.release).toBe(second);
    expect(staging.pins.mailer).toBe("node:24.11.1-alpine3.22");
  });

  test("rollback walks back through the releases a stage ran: twice is two steps; --release picks one", () => {
    const dir = repo();
    const releases = [head(dir)];
    expect(run(dir, "--from", "dev", "--to", "staging").code).toBe(0);
    commitAll(dir, "staging runs release 1");
    for (const n of [2, 3]) {
      writeFileSync(join(dir, `program-${n}.txt`), `${n}\n`);
      commitAll(dir, `program change ${n}`);
      releases.push(head(dir));
      expect(run(dir, "--from", "dev", "--to", "staging").code).toBe(0);
      commitAll(dir, `staging runs release ${n}`);
    }
    const pinned = () => stackOf(dir, "staging").release;
    expect(pinned()).toBe(releases[2]);
    const back = run(dir, "--rollback", "--to", "staging");
    expect(back.code).toBe(0);
    expect(back.out).toContain(
      `  release ${releases[2].slice(0, 12)} → ${releases[1].slice(0, 12)}`,
    );
    expect(pinned()).toBe(releases[1]);
    commitAll(dir, "roll staging back");
    expect(run(dir, "--rollback", "--to", "staging").code).toBe(0);
    expect(pinned()).toBe(releases[0]);
    git(dir, "checkout", "-q", "--", "Pulumi.staging.yaml");

    expect(
      run(dir, "--rollback", "--to", "staging", "--release", releases[0].slice(0, 8)).code,
    ).toBe(0);
    expect(pinned()).toBe(releases[0]);
    git(dir, "checkout", "-q", "--", "Pulumi.staging.yaml");
    expect(
      run(dir, "--rollback", "--to", "staging", "--release", "abcd1234", "--only", "api").err,
    ).toContain("--release and --only exclude each other");
    const unknown = run(dir, "--rollback", "--to", "staging", "--release", "abcd1234");
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain(
      `no earlier commit of Pulumi.staging.yaml pins a release starting with abcd1234 (`,
    );
  });
});

describe("a gated stage takes a release only once the source has soaked and is healthy", () => {
  /** The fixture with staging gated: dev must have run a release for an hour. */
  function gated(): string {
    const dir = repo();
    const file = join(dir, "Pulumi.yaml");
    const text = read(dir, "Pulumi.yaml");
    expect(text).toContain("      - name: staging\n");
    writeFileSync(
      file,
      text.replace(
        "      - name: staging\n",
        "      - name: staging\n        gate: { soak: 1h }\n",
      ),
    );
    return dir;
  }
  const NOW = Date.parse("2026-12-02T12:00:00Z");
  const request = (dir: string, minutesAgo: number, more: object = {}) => {
    const dev = stackOf(dir, "dev");
    return {
      from: "dev",
      to: "staging",
      outputs: {
        file: "dev.json",
        json: {
          release: head(dir),
          images: Object.fromEntries(dev.services.map((s) => [s, `node:24@${digest("a")}`])),
        },
      },
      gate: {
        source: "dev",
        release: head(dir),
        history: [
          {
            kind: "update",
            result: "succeeded",
            endTime: NOW - minutesAgo * 60_000,
            release: head(dir),
            config: "[]",
          },
        ],
      },
      now: NOW,
      ...more,
    };
  };

  test("refused before the soak time, naming when; passed after it, with what passed", () => {
    const dir = gated();
    const early = planPromotion(readProjectFiles(dir), request(dir, 20));
    expect(early).toEqual({
      ok: false,
      message: [
        "promote dev → staging refused; nothing was changed:",
        `  - dev has run release ${head(dir).slice(0, 12)} for 20m (since 2026-12-02T11:40:00Z); staging requires 1h: promote after 2026-12-02T12:40:00Z`,
        "  - in an emergency, --skip-gate promotes anyway (recorded in the pull request)",
      ].join("\n"),
    });
    const late = planPromotion(readProjectFiles(dir), request(dir, 90));
    expect(late.ok).toBe(true);
    expect(late.ok && late.notes).toContain(
      `gate: soak: dev has run release ${head(dir).slice(0, 12)} for 1h 30m (since 2026-12-02T10:30:00Z; staging requires 1h)`,
    );
  });

  test("without outputs there is nothing to check: refused; --skip-gate goes through, loudly", () => {
    const dir = gated();
    const plain = planPromotion(readProjectFiles(dir), { from: "dev", to: "staging" });
    expect(plain.ok || plain.message).toBe(
      "promote dev → staging refused; nothing was changed:\n  - staging has a gate (soak 1h, complete rollouts), checked against what dev deployed: pass --from-outputs <dev outputs.json>",
    );
    const skipped = planPromotion(readProjectFiles(dir), { ...request(dir, 5), skipGate: true });
    expect(skipped.ok && skipped.warnings).toContain(
      "EMERGENCY (--skip-gate): staging's gate (soak 1h, complete rollouts) was not checked",
    );
    expect(run(dir, "--from", "dev", "--to", "staging", "--skip-gate", "--dry-run").err).toContain(
      "warning: EMERGENCY (--skip-gate): staging's gate (soak 1h, complete rollouts) was not checked",
    );
  });
});

describe("refusals name the problem and the fix, and change no file", () => {
  const refusals: [
    string,
    Record<string, string>,
    (dir: string) => string[],
    (dir: string) => string,
  ][] = [
    [
      "a tag without a digest going to prod",
      { "Pulumi.staging.yaml": "{{STAGING}}" },
      () => ["--from", "staging", "--to", "prod", "--only", "api"],
      (dir) =>
        `promote staging → prod refused; nothing was changed:\n  - services.api.image: "${String(stackOf(dir, "staging").images.api)}" (staging config) has no digest; prod takes digests only — pass --from-outputs <staging outputs.json> or pin a digest in the source stack (Pulumi.staging.yaml)`,
    ],
    [
      "a stage that has had no promotion yet",
      {},
      () => ["--from", "staging", "--to", "prod"],
      () =>
        "promote staging → prod refused; nothing was changed:\n  - staging has no release pinned (Pulumi.staging.yaml has no platform:release): promote into it first (npm run promote -- --from dev --to staging)",
    ],
    [
      "outputs without a release",
      { "out.json": JSON.stringify({ images: { api: `node:24@${digest("a")}` } }) },
      (dir) => ["--from", "dev", "--to", "staging", "--from-outputs", join(dir, "out.json")],
      (dir) =>
        `promote dev → staging refused; nothing was changed:\n  - ${join(dir, "out.json")} has no release: dev was not deployed with \`npm run deploy\`, which records the commit it runs; deploy it with \`npm run deploy -- --stage dev --command up\`, then promote with its new outputs`,
    ],
    [
      "outputs of uncommitted changes",
      {
        "out.json": JSON.stringify({
          release: "{{HEAD}}-dirty",
          images: { api: `node:24@${digest("a")}` },
        }),
      },
      (dir) => ["--from", "dev", "--to", "staging", "--from-outputs", join(dir, "out.json")],
      (dir) =>
        `promote dev → staging refused; nothing was changed:\n  - release ${head(dir).slice(0, 12)}-dirty (dev's deployed outputs in out.json): dev ran uncommitted changes, which are no release; deploy dev from a clean checkout, then promote with its new outputs`,
    ],
    [
      "an unknown stage",
      {},
      () => ["--from", "dev", "--to", "stagin"],
      () =>
        `promote dev → stagin refused; nothing was changed:\n  - "stagin" is not a stage of the pipeline (did you mean "staging"? dev → staging → prod; stages are defined in Pulumi.yaml, platform:stages)`,
    ],
    [
      "an unknown workload",
      {},
      () => ["--from", "dev", "--to", "staging", "--only", "wbe,api"],
      (dir) =>
        `promote dev → staging refused; nothing was changed:\n  - unknown workload "wbe" in dev (did you mean "web"? services: ${stackOf(dir, "dev").services.join(", ")})`,
    ],
    [
      "skipping an environment",
      {},
      () => ["--from", "dev", "--to", "prod"],
      () =>
        "promote dev → prod refused; nothing was changed:\n  - dev → prod skips staging (the pipeline is dev → staging → prod); promote --from dev --to staging first, or pass --allow-skip in an emergency (recorded in the pull request)",
    ],
    [
      "promoting backwards",
      {},
      () => ["--from", "prod", "--to", "staging"],
      () =>
        "promote prod → staging refused; nothing was changed:\n  - prod → staging goes against the pipeline (the pipeline is dev → staging → prod); to put earlier images back use --rollback --to staging",
    ],
    [
      "a built image without --from-outputs",
      { "Pulumi.dev.yaml": BUILD_DEV },
      () => ["--from", "dev", "--to", "staging"],
      () =>
        "promote dev → staging refused; nothing was changed:\n  - services.api.image in dev is a build of ghcr.io/acme/api, not a reference; its digest is known only once dev is deployed — pass --from-outputs <dev outputs.json>",
    ],
    [
      "outputs without the service",
      {
        "out.json": JSON.stringify({
          release: "{{HEAD}}",
          images: { api: `node:24@${digest("a")}` },
        }),
      },
      (dir) => [
        "--from",
        "dev",
        "--to",
        "staging",
        "--only",
        "api,web",
        "--from-outputs",
        join(dir, "out.json"),
      ],
      (dir) =>
        `promote dev → staging refused; nothing was changed:\n  - ${join(dir, "out.json")} has no images.web: use the output of \`pulumi stack output --json --stack dev\` (the program exports images: { <service>: <ref> })`,
    ],
    [
      "outputs that are not JSON",
      { "out.json": "images: {}" },
      (dir) => ["--from", "dev", "--to", "staging", "--from-outputs", join(dir, "out.json")],
      (dir) =>
        `promote dev → staging refused; nothing was changed:\n  - --from-outputs ${join(dir, "out.json")}: not JSON (Unexpected token 'i', "images: {}" is not valid JSON); save it with \`pulumi stack output --json --stack dev > ${join(dir, "out.json")}\``,
    ],
  ];

  test.each(refusals)("%s", (_name, replace, argv, message) => {
    const dir = repo(replace);
    if (replace["Pulumi.staging.yaml"] === "{{STAGING}}")
      // Staging after its first promotion: the fixture's file with the release pinned.
      writeFileSync(
        join(dir, "Pulumi.staging.yaml"),
        applyPromotion(readFileSync(join(FIXTURE, "Pulumi.staging.yaml"), "utf8"), [], {
          release: head(dir),
        }),
      );
    const before = snapshot(dir);
    const result = run(dir, ...argv(dir));
    expect(result).toEqual({ code: 1, out: "", err: message(dir) });
    expect(snapshot(dir)).toEqual(before);
  });

  test("every tag going to prod is listed at once", () => {
    const dir = project();
    const before = snapshot(dir);
    const result = run(dir, "--from", "dev", "--to", "prod", "--allow-skip");
    expect(result.code).toBe(1);
    const dev = stackOf(dir, "dev");
    expect(result.err.split("\n").slice(1)).toEqual(
      dev.services.map(
        (s) =>
          `  - services.${s}.image: "${String(dev.images[s])}" (dev config) has no digest; prod takes digests only — pass --from-outputs <dev outputs.json> or pin a digest in the source stack (Pulumi.dev.yaml)`,
      ),
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test("a target that fails the config schema after the edit", () => {
    const dir = repo({
      "out.json": JSON.stringify({ release: "{{HEAD}}", images: { api: "Not An Image" } }),
    });
    const before = snapshot(dir);
    const result = run(
      dir,
      "--from",
      "dev",
      "--to",
      "staging",
      "--only",
      "api",
      "--from-outputs",
      join(dir, "out.json"),
    );
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      'promote dev → staging refused; nothing was changed:\n  - Pulumi.staging.yaml would fail the config schema after the edit:\n    - services.api.image: "Not An Image" is not an image reference',
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test("a missing outputs file is a usage error", () => {
    const dir = project();
    expect(
      run(dir, "--from", "dev", "--to", "staging", "--from-outputs", join(dir, "nope.json")),
    ).toEqual({
      code: 2,
      out: "",
      err: `promote: --from-outputs ${join(dir, "nope.json")}: file not found`,
    });
  });
});

describe("promote arguments", () => {
  test.each([
    [["--from", "dev", "--to", "staging", "--bogus"], "Unknown option '--bogus'"],
    [[], "give --to <stack>"],
    [["--to", "staging"], "give --from <stack> (or --rollback)"],
    [
      ["--from", "dev", "--to", "dev"],
      '--from and --to are both "dev"; promotion copies images to another stack',
    ],
    [
      ["--rollback", "--to", "staging", "--from", "dev"],
      "--rollback and --from exclude each other",
    ],
    [
      ["--rollback", "--to", "staging", "--allow-skip"],
      "--rollback and --allow-skip exclude each other",
    ],
    [
      ["--from", "dev", "--to", "staging", "--only", "web,,api"],
      '--only "web,,api": give service names separated by commas',
    ],
    [
      ["--rollback", "--to", "staging", "--release", "main"],
      '--release "main": give a commit id or a prefix of at least 4 hex digits, as platform:release holds it',
    ],
    [
      ["--rollback", "--to", "staging", "--release", "abcd", "--steps", "2"],
      "--steps and --release exclude each other (give one)",
    ],
    [["--from", "dev", "--to", "staging", "--release", "abcd"], "--release goes with --rollback"],
    [
      ["--rollback", "--to", "staging", "--skip-gate"],
      "--rollback and --skip-gate exclude each other",
    ],
  ])("%j is a usage error", (argv, message) => {
    expect(() => parsePromoteArgs(argv)).toThrowError(UsageError);
    expect(() => parsePromoteArgs(argv)).toThrowError(message);
    expect(run(project(), ...argv).code).toBe(2);
  });

  test("--only is split, trimmed and deduplicated", () => {
    expect(
      parsePromoteArgs(["--from", "dev", "--to", "staging", "--only", "web, api,web", "--dry-run"]),
    ).toEqual({
      mode: "promote",
      from: "dev",
      to: "staging",
      only: ["web", "api"],
      allowSkip: false,
      skipGate: false,
      dryRun: true,
      help: false,
    });
    expect(parsePromoteArgs(["--rollback", "--to", "prod"])).toEqual({
      mode: "rollback",
      to: "prod",
      allowSkip: false,
      skipGate: false,
      dryRun: false,
      help: false,
    });
  });
});

describe("rollback from the stack file's git history", () => {
  let template: string;
  let base: string;
  /** Shown for a commit in messages: short sha, date and subject. */
  const at = (dir: string, rev: string) => {
    const [sha, date, subject] = git(dir, "log", "-1", "--format=%H%x09%cs%x09%s", rev)
      .trim()
      .split("\t");
    return `${sha.slice(0, 7)} (${date}, "${subject}")`;
  };

  beforeAll(() => {
    // Staging: initial, api pinned to digest 1, a note, api pinned to digest 2. Prod in between:
    // api pinned to its tag, then to digest 4.
    template = project();
    git(template, "init", "-q");
    base = String(stackOf(template, "staging").images.api);
    commitAll(template, "initial");
    pin(template, "staging", { api: `${base}@${digest("1")}` });
    commitAll(template, "promote A");
    writeFileSync(
      join(template, "Pulumi.staging.yaml"),
      `${read(template, "Pulumi.staging.yaml")}# a later note\n`,
    );
    commitAll(template, "add a note");
    pin(template, "prod", { api: base });
    commitAll(template, "prod by tag");
    pin(template, "prod", { api: `${base}@${digest("4")}` });
    commitAll(template, "prod by digest");
    pin(template, "staging", { api: `${base}@${digest("2")}` });
    commitAll(template, "promote B");
  });

  /** A fresh copy of the template repository. */
  function history(): string {
    const dir = tempDir();
    cpSync(template, dir, { recursive: true });
    return dir;
  }

  test("a committed rollback walks further back, never back to the images it left; --steps walks several", () => {
    const dir = history();
    const staging = () => String(stackOf(dir, "staging").images.api);
    expect(staging()).toBe(`${base}@${digest("2")}`);
    expect(run(dir, "--rollback", "--to", "staging").code).toBe(0);
    expect(staging()).toBe(`${base}@${digest("1")}`);
    commitAll(dir, "roll staging back");
    // Not a toggle back to digest 2: one more step, to the images before digest 1.
    const second = run(dir, "--rollback", "--to", "staging");
    expect(second.code).toBe(0);
    expect(second.err).toContain("has no digest; restored as a tag, which can move");
    expect(staging()).toBe(base);
    commitAll(dir, "roll staging back again");
    expect(run(dir, "--rollback", "--to", "staging")).toEqual({
      code: 1,
      out: "",
      err: expect.stringContaining(
        "no earlier commit of Pulumi.staging.yaml (or Pulumi.yaml) has another release or other images than HEAD",
      ) as unknown as string,
    });

    const again = history();
    expect(run(again, "--rollback", "--to", "staging", "--steps", "2").code).toBe(0);
    expect(String(stackOf(again, "staging").images.api)).toBe(base);
    expect(run(again, "--rollback", "--to", "staging", "--steps", "0").err).toContain(
      "--steps 0: give a whole number of steps back, 1 or more",
    );
  });

  test("restores the images of the most recent earlier commit whose images differ; a second run is a no-op", () => {
    const dir = history();
    const atHead = read(dir, "Pulumi.staging.yaml");
    const first = run(dir, "--rollback", "--to", "staging");
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    expect(first.out).toContain(
      `rollback staging to the images of ${at(dir, "HEAD~3")}: Pulumi.staging.yaml`,
    );
    // Only the digest changes; the later note stays.
    expect(read(dir, "Pulumi.staging.yaml")).toBe(
      atHead.replace(`${base}@${digest("2")}`, `${base}@${digest("1")}`),
    );

    const written = snapshot(dir);
    const second = run(dir, "--rollback", "--to", "staging");
    expect(second).toEqual({
      code: 0,
      out: `nothing to do: Pulumi.staging.yaml already has these images (rollback staging to the images of ${at(dir, "HEAD~3")}); no file changed`,
      err: "",
    });
    expect(snapshot(dir)).toEqual(written);
  });

  test("--dry-run writes nothing", () => {
    const dir = history();
    const before = snapshot(dir);
    const result = run(dir, "--rollback", "--to", "staging", "--dry-run");
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `\n-        image: ${base}@${digest("2")}\n+        image: ${base}@${digest("1")}\n`,
    );
    expect(result.out).toContain(
      "dry run: Pulumi.staging.yaml not written (would change: 1 image)",
    );
    expect(snapshot(dir)).toEqual(before);
  });

  test("back to an image from Pulumi.yaml: the base tag is pinned, with a warning", () => {
    const dir = history();
    git(dir, "reset", "-q", "--hard", "HEAD~4"); // initial, promote A
    const atHead = read(dir, "Pulumi.staging.yaml");
    const result = run(dir, "--rollback", "--to", "staging", "--only", "api");
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      `warning: services.api.image: "${base}" (commit ${at(dir, "HEAD~1").slice(0, 7)}) has no digest; restored as a tag, which can move`,
    );
    expect(read(dir, "Pulumi.staging.yaml")).toBe(atHead.replace(`${base}@${digest("1")}`, base));
  });

  const rollbackRefusals: [string, (dir: string) => void, string[], (dir: string) => string][] = [
    [
      "uncommitted image changes",
      (dir) => pin(dir, "staging", { api: `${base}@${digest("3")}` }),
      ["--rollback", "--to", "staging"],
      (dir) =>
        `rollback staging to the images of ${at(dir, "HEAD~3")} refused; nothing was changed:\n  - services.api.image in Pulumi.staging.yaml has uncommitted changes ("${base}@${digest("3")}", committed "${base}@${digest("2")}"); commit them or discard them (git checkout -- Pulumi.staging.yaml) before rolling back`,
    ],
    [
      "no earlier images for the service",
      () => undefined,
      ["--rollback", "--to", "staging", "--only", "web"],
      () =>
        "rollback staging refused; nothing was changed:\n  - no earlier commit of Pulumi.staging.yaml (or Pulumi.yaml) has another release or other images for web than HEAD (4 commits searched); nothing to roll back to",
    ],
    [
      "a tag going back into prod",
      () => undefined,
      ["--rollback", "--to", "prod", "--only", "api"],
      (dir) =>
        `rollback prod to the images of ${at(dir, "HEAD~2")} refused; nothing was changed:\n  - services.api.image: "${base}" (commit ${at(dir, "HEAD~2").slice(0, 7)}) has no digest; prod takes digests only — pin the digest that ran then by hand, or promote a digest from the previous stack`,
    ],
  ];

  test.each(rollbackRefusals)("refuses %s, changing no file", (_name, setup, argv, message) => {
    const dir = history();
    setup(dir);
    const before = snapshot(dir);
    expect(run(dir, ...argv)).toEqual({ code: 1, out: "", err: message(dir) });
    expect(snapshot(dir)).toEqual(before);
  });

  test("refuses outside a git repository", () => {
    const dir = project();
    const before = snapshot(dir);
    expect(run(dir, "--rollback", "--to", "staging")).toEqual({
      code: 1,
      out: "",
      err: `rollback staging refused; nothing was changed:\n  - ${dir} is not in a git repository; --rollback restores images from Pulumi.staging.yaml's git history`,
    });
    expect(snapshot(dir)).toEqual(before);
  });
});

describe("the promote CLI", () => {
  test("npm run promote refuses dev → prod in the real project and writes nothing", async () => {
    const result = await realCli;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      "dev → prod skips staging (the pipeline is dev → staging → prod)",
    );
    for (const f of ["Pulumi.yaml", ...STACK_FILES])
      expect(readFileSync(join(PROJECT_DIR, f)), f).toEqual(realFiles[f]);
  });
});
