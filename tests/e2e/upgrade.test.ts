/**
 * Upgrading is safe: every sample stack deployed by an earlier release's program, then
 * previewed with this one, changes nothing but what 0.4.0 documents: the `checksum/secret-env`
 * annotation became an HMAC keyed by the stack's `secretChecksumKey`, so the new program first
 * asks for that key (created by `npm run stack:init`), then rolls the pods that read secrets once
 * (the migrate Job, whose template is immutable, runs again). No delete, no other replace, no
 * other update: the library/program split, the components' new arguments and the plan holding
 * the env Secret keep every URN and every object.
 */
import { beforeAll, expect, test } from "vitest";
import { countOps, describeEngine, explain, useProject, type Step } from "./helpers";

/**
 * The commits of the releases (tagged v0.1.0 to v0.3.0 where tags are pushed): the first one
 * and the previous one. UPGRADE_BASE tests another.
 */
const RELEASES: Record<string, string> = { "0.1.0": "fccd1f9", "0.3.0": "dcf1235" };
const BASES = process.env.UPGRADE_BASE
  ? { [process.env.UPGRADE_BASE]: process.env.UPGRADE_BASE }
  : RELEASES;
const STACKS = ["dev", "staging", "prod"] as const;

/** What moving to the keyed checksum changes: the pod owners that read db-password. */
const ROLLED = [
  "replace migrate-job",
  "update api-deploy",
  "update backup-cron",
  "update postgres-sts",
  "update worker-deploy",
];

for (const [release, base] of Object.entries(BASES))
  describeEngine(`upgrading from ${release} (${base}): no replace, no delete`, () => {
    const project = useProject(`upgrade-${release}`, base);

    beforeAll(async () => {
      const p = project();
      for (const stack of STACKS) {
        await p.initStack(stack, undefined, { stackInit: false });
        await p.upOk(stack);
      }
      p.upgradeToWorkTree();
    });

    test.each(STACKS)(
      "%s: the new program asks for the checksum key, then rolls only the pods that read secrets",
      async (stack) => {
        const p = project();
        const refused = await p.pulumi(["preview", "--stack", stack]);
        expect(refused.code).not.toBe(0);
        expect(refused.stdout + refused.stderr).toContain(
          `secretChecksumKey: not set; api, backup, migrate, postgres, worker roll their pods when a secretEnv value changes, through a checksum keyed by it. Create it with: npm run stack:init -- --stack ${stack}`,
        );
        await p.stackInit(["--stack", stack]);
        const r = await p.pulumi(["preview", "--json", "--show-sames", "--stack", stack]);
        expect(r.code, explain(r)).toBe(0);
        const { steps } = JSON.parse(r.stdout) as { steps: Step[] };
        const changed = steps
          .filter((s) => s.op !== "same")
          .map((s) => `${s.op} ${s.urn.split("::").pop()}`)
          .sort();
        expect(changed, JSON.stringify(countOps(steps))).toEqual(ROLLED);
        // Each update is that one annotation.
        for (const s of steps.filter((x) => x.op === "update")) {
          const paths = Object.keys(s.detailedDiff ?? {});
          expect(paths.length, s.urn).toBe(1);
          expect(paths[0], s.urn).toMatch(/template\.metadata\.annotations\.checksum\/secret-env$/);
        }
        expect(countOps(steps).same).toBeGreaterThan(30);
      },
    );
  });
