/**
 * The CrossGuard pack (policy/index.ts) in a real preview: `--policy-pack policy` loads it (its
 * @pulumi/policy resolves from the root node_modules), the samples pass, and a change that
 * violates a mandatory rule is blocked in preview and in up, leaving state and manifests as
 * they were.
 */
import { beforeAll, expect, test } from "vitest";
import {
  describeEngine,
  explain,
  hashTree,
  nameOf,
  overrideOf,
  useProject,
  type StackDoc,
} from "./helpers";

const stack = "dev";

/** A JSON merge patch that puts web's pods on the host network: mandatory policies forbid it. */
function hostNetwork(doc: StackDoc): void {
  overrideOf(doc, "services", "web").patches = [
    { kind: "Deployment", patch: { spec: { template: { spec: { hostNetwork: true } } } } },
  ];
}

describeEngine("policy pack in a real preview (dev)", () => {
  const project = useProject("policy");

  beforeAll(async () => {
    const p = project();
    await p.initStack(stack);
    await p.upOk(stack);
  });

  test("the pack loads and the sample stack passes it", async () => {
    const r = await project().preview(stack, { policyPack: true });
    expect(r.code, explain(r)).toBe(0);
    const summary = r.events.find((e) => e.summaryEvent)?.summaryEvent;
    expect(summary?.result).toBe("succeeded");
    expect(Object.keys(summary?.PolicyPacks ?? {})).toEqual(["platform|local|policy"]);
    expect(r.events.filter((e) => e.policyEvent?.enforcementLevel === "mandatory")).toEqual([]);
  });

  test("a violating change fails preview, naming the rules and the resource", async () => {
    const p = project();
    const restore = p.editStack(stack, hostNetwork);
    try {
      const r = await p.preview(stack, { policyPack: true });
      expect(r.code, explain(r)).not.toBe(0);
      expect(r.events.find((e) => e.summaryEvent)?.summaryEvent?.result).toBe("failed");
      const violations = r.events
        .map((e) => e.policyEvent)
        .filter((v) => v !== undefined)
        .map((v) => `${v.enforcementLevel} ${v.policyName} ${nameOf(v.resourceUrn ?? "")}`)
        .sort();
      expect(violations).toEqual([
        "mandatory no-host-access web-deploy",
        "mandatory pod-security-restricted web-deploy",
      ]);
      const messages = r.events.map((e) => e.policyEvent?.message ?? "").join("\n");
      expect(messages).toContain("Deployment/shop/web: hostNetwork");
    } finally {
      restore();
    }
  });

  test("up with the pack is blocked too: state and manifests unchanged", async () => {
    const p = project();
    const stateBefore = await p.exportState(stack);
    const filesBefore = hashTree(p.renderDir(stack));
    const restore = p.editStack(stack, hostNetwork);
    try {
      // Text output: `up --json` reports only "preview failed", without the policy findings.
      const r = await p.pulumi([
        "up",
        "--yes",
        "--stack",
        stack,
        "--policy-pack",
        "policy",
        "--color",
        "never",
      ]);
      expect(r.code, explain(r)).not.toBe(0);
      const policies = (r.stdout + r.stderr).split("Policies:")[1] ?? "";
      expect(policies, explain(r)).toMatch(
        /\[mandatory\]\s+no-host-access\s+\(kubernetes:apps\/v1:Deployment: web-deploy\)/,
      );
    } finally {
      restore();
    }
    expect((await p.exportState(stack)).deployment.resources).toEqual(
      stateBefore.deployment.resources,
    );
    expect(hashTree(p.renderDir(stack))).toBe(filesBefore);
  });

  test("without the pack the same change would go through (the pack is what blocks it)", async () => {
    const p = project();
    const restore = p.editStack(stack, hostNetwork);
    try {
      const r = await p.preview(stack);
      expect(r.code, explain(r)).toBe(0);
      expect(r.steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${nameOf(s.urn)}`)).toEqual(
        ["update web-deploy"],
      );
    } finally {
      restore();
    }
  });
});
