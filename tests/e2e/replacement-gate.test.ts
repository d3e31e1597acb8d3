/**
 * The replacement gate (scripts/replacement-gate.ts) against a deployed prod stack in render
 * mode: a clean preview passes, a Deployment selector change is caught and blocks, and an
 * explicit allowance lets it through.
 */
import { beforeAll, expect, test } from "vitest";
import { describeEngine, explain, overrideOf, useProject, type RunResult } from "./helpers";

const stack = "prod";
const WEB_DEPLOY_URN =
  "urn:pulumi:prod::platform::platform:index:Platform$platform:workloads:WebService$kubernetes:apps/v1:Deployment::web-deploy";

/** A selector change: an extra selector label (and the pod label it must match). */
const SELECTOR_PATCH = {
  kind: "Deployment",
  patch: {
    spec: {
      selector: { matchLabels: { "app.kubernetes.io/instance": "web" } },
      template: { metadata: { labels: { "app.kubernetes.io/instance": "web" } } },
    },
  },
};

describeEngine("replacement gate on prod (real pulumi preview)", () => {
  const project = useProject("gate");

  beforeAll(async () => {
    const p = project();
    await p.initStack(stack);
    await p.upOk(stack);
  });

  const gate = (...args: string[]): Promise<RunResult> =>
    project().tsx(
      "scripts/replacement-gate.ts",
      ["--stack", stack, "--cwd", project().dir, ...args],
      300_000,
    );

  /** Runs `fn` with web's Deployment selector patched in the prod stack file. */
  async function withSelectorChange<T>(fn: () => Promise<T>): Promise<T> {
    const restore = project().editStack(stack, (doc) => {
      overrideOf(doc, "services", "web").patches = [SELECTOR_PATCH];
    });
    try {
      return await fn();
    } finally {
      restore();
    }
  }

  test("a preview that replaces nothing passes (exit 0)", async () => {
    const r = await gate();
    expect(r.code, explain(r)).toBe(0);
    expect(r.stdout).toContain("a preview of prod replaces nothing");
  });

  test("a selector change is caught: exit 1, naming the Deployment and the selector", async () => {
    const r = await withSelectorChange(() => gate());
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toContain("would replace 1 resource");
    expect(r.stderr).toContain("kubernetes:apps/v1:Deployment web-deploy");
    expect(r.stderr).toContain('spec.selector.matchLabels["app.kubernetes.io/instance"]');
    expect(r.stderr).toContain(WEB_DEPLOY_URN);
  });

  test("the same change passes when explicitly allowed (--allow <urn>, --allow-all)", async () => {
    const [allowed, allowAll, otherAllowed] = await withSelectorChange(async () => [
      await gate("--allow", WEB_DEPLOY_URN),
      await gate("--allow-all"),
      await gate("--allow", WEB_DEPLOY_URN.replace("web-deploy", "api-deploy")),
    ]);
    expect(allowed.code, explain(allowed)).toBe(0);
    expect(allowed.stdout).toContain("1 allowed replacement in prod");
    expect(allowAll.code, explain(allowAll)).toBe(0);
    // Allowing a different resource does not let this one through.
    expect(otherAllowed.code, explain(otherAllowed)).toBe(1);
    expect(otherAllowed.stderr).toContain("matched no replacement");
  });

  test("a replacement the engine refuses (protected StatefulSet, new claim size) is still reported: exit 1", async () => {
    const restore = project().editStack(stack, (doc) => {
      overrideOf(doc, "services", "postgres").storage = { size: "200Gi" }; // prod: 100Gi
    });
    let r: RunResult;
    try {
      r = await gate();
    } finally {
      restore();
    }
    expect(r.code, explain(r)).toBe(1);
    expect(r.stderr).toContain("kubernetes:apps/v1:StatefulSet postgres-sts");
    expect(r.stderr).toContain("spec.volumeClaimTemplates");
    expect(r.stderr).toContain("marked for protection");
  });

  test("a usage error exits 2 without running pulumi", async () => {
    const r = await project().tsx("scripts/replacement-gate.ts", [
      "--stack",
      stack,
      "--allow",
      "web-deploy",
    ]);
    expect(r.code, explain(r)).toBe(2);
    expect(r.stderr).toContain("--allow takes full URNs");
  });
});
