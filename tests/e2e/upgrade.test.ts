/**
 * Upgrading is safe: every sample stack deployed by an earlier release's program, then
 * previewed with this one, changes nothing: no replace, no delete, not even an update. The
 * library/program split, the components' new arguments and the plan holding the env Secret keep
 * every URN and every object.
 */
import { beforeAll, expect, test } from "vitest";
import { countOps, describeEngine, explain, useProject, type Step } from "./helpers";

/**
 * The commits of the releases (tagged v0.1.0 and v0.2.0 where tags are pushed): the first one
 * and the previous one. UPGRADE_BASE tests another.
 */
const RELEASES: Record<string, string> = { "0.1.0": "fccd1f9", "0.2.0": "916ab16" };
const BASES = process.env.UPGRADE_BASE
  ? { [process.env.UPGRADE_BASE]: process.env.UPGRADE_BASE }
  : RELEASES;
const STACKS = ["dev", "staging", "prod"] as const;

for (const [release, base] of Object.entries(BASES))
  describeEngine(`upgrading from ${release} (${base}): no replace, no delete`, () => {
    const project = useProject(`upgrade-${release}`, base);

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
