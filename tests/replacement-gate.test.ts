/**
 * The replacement gate's pure core and CLI, with previews shaped like the engine's (the steps
 * below are copied from a real `pulumi preview --json` of a selector change, trimmed). No
 * engine: the end-to-end test (tests/e2e/replacement-gate.test.ts) runs the real preview.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  applyAllowances,
  gate,
  parseGateArgs,
  PreviewFailed,
  replacementsIn,
  runPreview,
  UsageError,
  type GateOptions,
  type PreviewRun,
} from "../scripts/replacement-gate";

const PREFIX = "urn:pulumi:prod::platform::platform:index:Platform$platform:workloads:";
const WEB = `${PREFIX}WebService$kubernetes:apps/v1:Deployment::web-deploy`;
const API = `${PREFIX}WebService$kubernetes:apps/v1:Deployment::api-deploy`;
const PG = `${PREFIX}StatefulService$kubernetes:apps/v1:StatefulSet::postgres-sts`;
const STACK = "urn:pulumi:prod::platform::pulumi:pulumi:Stack::platform-prod";

const selectorReplace = {
  op: "replace",
  urn: WEB,
  replaceReasons: ['spec.selector.matchLabels["app.kubernetes.io/instance"]'],
  detailedDiff: {
    'spec.selector.matchLabels["app.kubernetes.io/instance"]': {
      kind: "add-replace",
      inputDiff: false,
    },
    'spec.template.metadata.labels["app.kubernetes.io/instance"]': {
      kind: "add",
      inputDiff: false,
    },
  },
  oldState: { type: "kubernetes:apps/v1:Deployment" },
  newState: { type: "kubernetes:apps/v1:Deployment" },
};

/** A preview document as `pulumi preview --json` prints it. */
function previewDoc(...steps: object[]) {
  return {
    config: {},
    steps: [{ op: "same", urn: STACK, detailedDiff: null }, ...steps],
    diagnostics: [],
    duration: 1,
    changeSummary: {},
  };
}

describe("replacementsIn", () => {
  test("finds the replaced Deployment of a selector change, with the reason", () => {
    expect(replacementsIn(previewDoc(selectorReplace))).toEqual([
      {
        urn: WEB,
        type: "kubernetes:apps/v1:Deployment",
        name: "web-deploy",
        ops: ["replace"],
        reasons: ['spec.selector.matchLabels["app.kubernetes.io/instance"]'],
        changed: [
          'spec.selector.matchLabels["app.kubernetes.io/instance"]',
          'spec.template.metadata.labels["app.kubernetes.io/instance"]',
        ],
      },
    ]);
  });

  test("ignores create, update, same and delete", () => {
    const doc = previewDoc(
      { op: "update", urn: API, detailedDiff: { "spec.replicas": { kind: "update" } } },
      {
        op: "create",
        urn: `${PREFIX}WebService$kubernetes:policy/v1:PodDisruptionBudget::web-pdb`,
      },
      { op: "delete", urn: `${PREFIX}Worker$kubernetes:apps/v1:Deployment::worker-deploy` },
    );
    expect(replacementsIn(doc)).toEqual([]);
  });

  test("merges the steps of a delete-before-replace and takes reasons from *-replace diffs", () => {
    const doc = previewDoc(
      {
        op: "delete-replaced",
        urn: PG,
        detailedDiff: { "spec.volumeClaimTemplates": { kind: "update-replace" } },
      },
      {
        op: "create-replacement",
        urn: PG,
        detailedDiff: { "spec.volumeClaimTemplates": { kind: "update-replace" } },
      },
    );
    const [r] = replacementsIn(doc);
    expect(r).toMatchObject({
      urn: PG,
      type: "kubernetes:apps/v1:StatefulSet",
      name: "postgres-sts",
      ops: ["delete-replaced", "create-replacement"],
      reasons: ["spec.volumeClaimTemplates"],
    });
    expect(replacementsIn(doc)).toHaveLength(1);
  });

  test("falls back to diffs when there is no detailed diff", () => {
    const [r] = replacementsIn(previewDoc({ op: "replace", urn: API, diffs: ["spec"] }));
    expect(r.reasons).toEqual([]);
    expect(r.changed).toEqual(["spec"]);
  });

  test("accepts the JSON text and rejects what is not a preview", () => {
    expect(replacementsIn(JSON.stringify(previewDoc(selectorReplace)))).toHaveLength(1);
    expect(() => replacementsIn({ diagnostics: [] })).toThrow(/no `steps` list/);
    expect(() => replacementsIn(null)).toThrow(/no `steps` list/);
  });
});

describe("applyAllowances", () => {
  const found = replacementsIn(previewDoc(selectorReplace, { op: "replace", urn: API }));

  test("blocks what is not allowed, lets through what is, reports unused allowances", () => {
    const r = applyAllowances(found, new Set([API, PG]));
    expect(r.blocked.map((x) => x.name)).toEqual(["web-deploy"]);
    expect(r.allowed.map((x) => x.name)).toEqual(["api-deploy"]);
    expect(r.unusedAllowances).toEqual([PG]);
  });

  test("a Job's replacement (how it runs again) is never blocked, and needs no allowance", () => {
    const JOB = `${PREFIX}Task$kubernetes:batch/v1:Job::migrate-job`;
    const jobs = replacementsIn(
      previewDoc({
        op: "replace",
        urn: JOB,
        replaceReasons: ["spec.template"],
        detailedDiff: { "spec.template.spec.containers[0].image": { kind: "update-replace" } },
        oldState: { type: "kubernetes:batch/v1:Job" },
        newState: { type: "kubernetes:batch/v1:Job" },
      }),
    );
    const r = applyAllowances([...found, ...jobs], new Set([API]));
    expect(r.blocked.map((x) => x.name)).toEqual(["web-deploy"]);
    expect(r.allowed.map((x) => x.name)).toEqual(["api-deploy", "migrate-job"]);
    expect(r.unusedAllowances).toEqual([]);
  });

  test("all allows everything", () => {
    expect(applyAllowances(found, "all")).toMatchObject({ blocked: [], unusedAllowances: [] });
  });
});

describe("parseGateArgs", () => {
  test("reads the stack, allowances (comma-separated, repeatable), cwd and timeout", () => {
    const o = parseGateArgs([
      "--stack",
      "prod",
      "--allow",
      `${WEB},${API}`,
      "--allow",
      PG,
      "--cwd",
      "/tmp",
      "--timeout",
      "30",
    ]);
    expect(o).toMatchObject({ stack: "prod", cwd: "/tmp", timeoutMs: 30_000, help: false });
    expect([...(o.allow as Set<string>)]).toEqual([WEB, API, PG]);
    expect(parseGateArgs(["--stack", "prod", "--allow-all"]).allow).toBe("all");
  });

  test.each([
    [[], /give --stack/],
    [["--stack", "prod", "--allow", WEB, "--allow-all"], /exclude each other/],
    [["--stack", "prod", "--allow", "web-deploy"], /full URNs/],
    [["--stack", "prod", "--timeout", "soon"], /--timeout soon/],
    [["--stack", "prod", "--stak", "x"], /Unknown option/],
  ])("usage error: %j", (argv, message) => {
    expect(() => parseGateArgs(argv)).toThrow(UsageError);
    expect(() => parseGateArgs(argv)).toThrow(message);
  });
});

describe("gate (the CLI) with a recorded preview", () => {
  function io(run: PreviewRun | Error) {
    const out: string[] = [];
    const err: string[] = [];
    let calls = 0;
    return {
      out,
      err,
      calls: () => calls,
      io: {
        out: (l: string) => out.push(l),
        err: (l: string) => err.push(l),
        preview: async (_: GateOptions) => {
          calls++;
          if (run instanceof Error) throw run;
          return run;
        },
      },
    };
  }
  const ok = (doc: object): PreviewRun => ({ code: 0, stdout: JSON.stringify(doc), stderr: "" });

  test("exit 0 when nothing is replaced", async () => {
    const t = io(ok(previewDoc({ op: "update", urn: API })));
    expect(await gate(["--stack", "prod"], t.io)).toBe(0);
    expect(t.out.join("\n")).toContain("a preview of prod replaces nothing");
  });

  test("exit 1 listing the replacement, its reason and how to allow it", async () => {
    const t = io(ok(previewDoc(selectorReplace)));
    expect(await gate(["--stack", "prod"], t.io)).toBe(1);
    const report = t.err.join("\n");
    expect(report).toContain("would replace 1 resource:");
    expect(report).toContain(
      'kubernetes:apps/v1:Deployment web-deploy: replaced because of spec.selector.matchLabels["app.kubernetes.io/instance"]',
    );
    expect(report).toContain(`--allow ${WEB}`);
  });

  test("exit 0 when the replacement is explicitly allowed", async () => {
    const t = io(ok(previewDoc(selectorReplace)));
    expect(await gate(["--stack", "prod", "--allow", WEB], t.io)).toBe(0);
    expect(t.out.join("\n")).toContain("1 allowed replacement in prod");
    expect(
      await gate(["--stack", "prod", "--allow-all"], io(ok(previewDoc(selectorReplace))).io),
    ).toBe(0);
  });

  test("a failed preview that planned a replacement (protected resource) still exits 1", async () => {
    const doc = {
      ...previewDoc({ ...selectorReplace, urn: PG, replaceReasons: ["spec.volumeClaimTemplates"] }),
      diagnostics: [
        {
          urn: PG,
          message: "error: unable to replace resource ... marked for protection\n",
          severity: "error",
        },
        { message: "error: preview failed\n", severity: "error" },
      ],
    };
    const t = io({ code: 255, stdout: JSON.stringify(doc), stderr: "" });
    expect(await gate(["--stack", "prod"], t.io)).toBe(1);
    expect(t.err.join("\n")).toContain(
      "postgres-sts: replaced because of spec.volumeClaimTemplates",
    );
    expect(t.err.join("\n")).toContain("marked for protection");
  });

  test("exit 3 when the preview failed for another reason (nothing checked)", async () => {
    const doc = {
      ...previewDoc(),
      diagnostics: [{ message: "error: Capacity check failed (1 error)\n", severity: "error" }],
    };
    const t = io({ code: 255, stdout: JSON.stringify(doc), stderr: "" });
    expect(await gate(["--stack", "prod"], t.io)).toBe(3);
    expect(t.err.join("\n")).toContain("Capacity check failed");
    expect(t.err.join("\n")).toContain("nothing was checked");
    const garbled = io({ code: 0, stdout: "not json", stderr: "" });
    expect(await gate(["--stack", "prod"], garbled.io)).toBe(3);
  });

  test("exit 2 on a usage error, without running a preview", async () => {
    const t = io(ok(previewDoc()));
    expect(await gate(["--allow-all"], t.io)).toBe(2);
    expect(t.calls()).toBe(0);
    expect(t.err.join("\n")).toContain("give --stack");
  });

  test("passes through the preview runner's failure (pulumi missing: exit 2)", async () => {
    const t = io(new PreviewFailed("`pulumi` is not on PATH", 2));
    expect(await gate(["--stack", "prod"], t.io)).toBe(2);
    expect(t.err.join("\n")).toContain("not on PATH");
  });
});

describe("runPreview (no engine needed)", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const opts = (timeoutMs: number): GateOptions => ({
    stack: "prod",
    allow: new Set(),
    cwd: tmpdir(),
    timeoutMs,
    policyPacks: [],
    help: false,
  });

  test("fails fast with a clear message when pulumi is not on PATH", async () => {
    const started = Date.now();
    const e = await runPreview(opts(60_000), { PATH: "/nonexistent" }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(PreviewFailed);
    expect((e as PreviewFailed).exitCode).toBe(2);
    expect((e as Error).message).toMatch(/`pulumi` is not on PATH.*scripts\/engine/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test("kills a preview that does not finish in time (never hangs)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-fake-pulumi-"));
    dirs.push(dir);
    writeFileSync(join(dir, "pulumi"), "#!/bin/sh\nsleep 60\n");
    chmodSync(join(dir, "pulumi"), 0o755);
    const started = Date.now();
    const e = await runPreview(opts(300), { PATH: `${dir}:/usr/bin:/bin` }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(PreviewFailed);
    expect((e as PreviewFailed).exitCode).toBe(3);
    expect((e as Error).message).toContain("did not finish within 0.3 s");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  test("returns the preview's exit code and output", async () => {
    const dir = mkdtempSync(join(tmpdir(), "gate-fake-pulumi-"));
    dirs.push(dir);
    writeFileSync(
      join(dir, "pulumi"),
      `#!/bin/sh\necho "$*" >&2\necho '${JSON.stringify(previewDoc())}'\n`,
    );
    chmodSync(join(dir, "pulumi"), 0o755);
    const r = await runPreview(
      { ...opts(10_000), policyPacks: ["policy"] },
      { PATH: `${dir}:/usr/bin:/bin` },
    );
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe(
      "preview --json --non-interactive --stack prod --policy-pack policy",
    );
    expect(replacementsIn(r.stdout)).toEqual([]);
  });
});
