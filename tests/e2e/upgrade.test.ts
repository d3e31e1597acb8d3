/**
 * Upgrading is safe: every sample stack deployed by an earlier release's program, then
 * previewed with this one, changes nothing but what 0.4.0 documents: the `checksum/secret-env`
 * annotation became an HMAC keyed by the stack's `secretChecksumKey`, so the new program first
 * asks for that key (created by `npm run stack:init`), then rolls the pods that read secrets once
 * (the migrate Job, whose template is immutable, runs again). The cloud stacks' owners add
 * the config 0.4.0 asks of them (the ALB's subnets, the cluster's CIDRs), which changes exactly
 * their Ingress and NetworkPolicies. No delete, no other replace, no other update: the
 * library/program split, the components' new arguments and the plan holding the env Secret
 * keep every URN and every object.
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

/**
 * The config 0.4.0 asks of the cloud stacks (CHANGELOG, "Breaking (clouds)"), as their owners
 * add it, and what it changes: the ALB's annotations and subnets, HTTPS egress of the API's
 * identity, Google's ranges beside the gateway namespace.
 */
const CLOUD_UPGRADE: Record<
  string,
  {
    edit: (
      cluster: Record<string, unknown>,
      services: Record<string, Record<string, unknown>>,
    ) => void;
    changes: string[];
  }
> = {
  dev: { edit: () => {}, changes: [] },
  staging: {
    edit: (cluster, services) => {
      cluster.loadBalancerSources = ["10.0.0.0/22", "10.0.4.0/22", "10.0.8.0/22"];
      cluster.clusterCidrs = ["10.0.0.0/16", "172.20.0.0/16"];
      cluster.certificateArn =
        "arn:aws:acm:eu-west-1:123456789012:certificate/5f1c3b2a-8d4e-4f6a-9b7c-2e1d0a9f8c7b";
      delete (services.web.ingress as Record<string, unknown>).tlsSecret;
    },
    changes: ["update api-netpol", "update web-ingress", "update web-netpol"],
  },
  prod: {
    edit: (cluster) => {
      cluster.clusterCidrs = ["10.4.0.0/14", "10.8.0.0/20"];
    },
    changes: ["update api-netpol", "update web-netpol"],
  },
};

for (const [release, base] of Object.entries(BASES))
  describeEngine(`upgrading from ${release} (${base}): no replace, no delete`, () => {
    const project = useProject(`upgrade-${release}`, base);

    beforeAll(async () => {
      const p = project();
      for (const stack of STACKS) {
        // The release's own stack files: what its users had.
        await p.initStack(stack, undefined, { stackInit: false, own: true });
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
        p.editStack(stack, (doc) => {
          const cluster = doc.config["platform:cluster"] as Record<string, unknown>;
          const overrides = doc.config["platform:overrides"] as {
            services: Record<string, Record<string, unknown>>;
          };
          CLOUD_UPGRADE[stack].edit(cluster, overrides?.services ?? {});
        });
        const r = await p.pulumi(["preview", "--json", "--show-sames", "--stack", stack]);
        expect(r.code, explain(r)).toBe(0);
        const { steps } = JSON.parse(r.stdout) as { steps: Step[] };
        const changed = steps
          .filter((s) => s.op !== "same")
          .map((s) => `${s.op} ${s.urn.split("::").pop()}`)
          .sort();
        expect(changed, JSON.stringify(countOps(steps))).toEqual(
          [...ROLLED, ...CLOUD_UPGRADE[stack].changes].sort(),
        );
        // Each rolled pod owner's update is that one annotation.
        const rolled = new Set(ROLLED.map((c) => c.split(" ")[1]));
        for (const s of steps.filter(
          (x) => x.op === "update" && rolled.has(x.urn.split("::").pop()!),
        )) {
          const paths = Object.keys(s.detailedDiff ?? {});
          expect(paths.length, s.urn).toBe(1);
          expect(paths[0], s.urn).toMatch(/template\.metadata\.annotations\.checksum\/secret-env$/);
        }
        expect(countOps(steps).same).toBeGreaterThan(30);
      },
    );
  });
