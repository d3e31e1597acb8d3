/**
 * Upgrading is safe: every sample stack deployed by the previous release's program, then
 * previewed with this one, changes nothing: no replace, no delete, not even an update. The
 * library/program split and the components' new arguments keep every URN and every object.
 */
import { beforeAll, expect, test } from "vitest";
import { countOps, describeEngine, explain, useProject, type Step } from "./helpers";

/** The commit of release 0.1.0 (tagged v0.1.0 where tags are pushed); override to test another. */
const BASE = process.env.UPGRADE_BASE ?? "fccd1f9";
const STACKS = ["dev", "staging", "prod"] as const;

describeEngine(`upgrading from ${BASE}: no replace, no delete`, () => {
  const project = useProject("upgrade", BASE);

  beforeAll(async () => {
    const p = project();
    for (const stack of STACKS) {
      await p.initStack(stack);
      await p.upOk(stack);
    }
    p.upgradeToWorkTree();
  });

  test.each(STACKS)("%s: the new program previews no change at all", async (stack) => {
    const r = await project().pulumi(["preview", "--json", "--show-sames", "--stack", stack]);
    expect(r.code, explain(r)).toBe(0);
    const { steps } = JSON.parse(r.stdout) as { steps: Step[] };
    const changed = steps.filter((s) => s.op !== "same").map((s) => `${s.op} ${s.urn}`);
    expect(changed, JSON.stringify(countOps(steps))).toEqual([]);
    expect(countOps(steps).same).toBeGreaterThan(30);
  });
});
