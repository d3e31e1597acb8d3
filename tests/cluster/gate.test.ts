/**
 * The promotion gate on a real control plane (scripts/cluster: kube-apiserver, controllers,
 * scheduler, kwok nodes) with the real engine: staging takes a release only once dev has run it
 * for the soak time, its rollouts are complete and its verification Job `smoke` succeeded for
 * that release.
 *
 *   - release 1's smoke Job fails (kwok fails pods labelled FAIL_POD_LABEL): `npm run deploy`
 *     succeeds (pulumi does not wait for a verification Job), and promotion is refused, naming
 *     the failed Job;
 *   - release 2's passes: promotion is refused until the soak time has passed, then allowed,
 *     with what passed in its notes.
 *
 * A small application of its own (a worker and the smoke Job) in a temporary copy of the project,
 * a git repository so that releases are commits. Skips, loudly, when the engine or the cluster
 * binaries are not built.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDocument, stringify } from "yaml";
import { FAIL_POD_LABEL, startCluster, type Cluster } from "../../scripts/cluster/cluster";
import { PROJECT_DIR } from "../../scripts/lib/stack-files";
import { explain, TempProject, type RunResult } from "../e2e/helpers";
import { commitAll, git } from "../helpers/git";

const SOAK_SECONDS = 10;
const POOL = {
  pool: { count: 1, allocatable: { cpu: "4", memory: "8Gi", pods: 110 } },
};

function built(script: string): boolean {
  return spawnSync("bash", [script, "--check"], { cwd: PROJECT_DIR, timeout: 60_000 }).status === 0;
}
const skip = !built("scripts/engine/bootstrap.sh") || !built("scripts/cluster/build.sh");
if (skip)
  console.warn(
    `\n${"!".repeat(100)}\n!! SKIPPED tests/cluster/gate: the engine or the cluster binaries are not built (bash scripts/engine/bootstrap.sh; bash scripts/cluster/build.sh)\n${"!".repeat(100)}\n`,
  );

/** The application: a worker, and the smoke Job that verifies each release (failing or not). */
function application(smokeFails: boolean): Record<string, unknown> {
  const resources = {
    requests: { cpu: "50m", memory: "32Mi", "ephemeral-storage": "16Mi" },
    limits: { "ephemeral-storage": "64Mi" },
  };
  return {
    "platform:stages": {
      value: [
        { name: "dev" },
        { name: "staging", gate: { soak: `${SOAK_SECONDS}s`, verify: "smoke" } },
      ],
    },
    "platform:namespaces": { value: { gate: {} } },
    "platform:services": {
      value: {
        hello: {
          kind: "worker",
          namespace: "gate",
          image: "busybox:1.37",
          securityContext: { runAsUser: 1000, runAsGroup: 1000 },
          command: ["sleep", "infinity"],
          resources,
        },
        smoke: {
          kind: "job",
          namespace: "gate",
          image: "busybox:1.37",
          securityContext: { runAsUser: 1000, runAsGroup: 1000 },
          command: ["true"],
          job: { backoffLimit: 0 },
          resources,
          ...(smokeFails ? { labels: { [FAIL_POD_LABEL]: "true" } } : {}),
        },
      },
    },
  };
}

describe.skipIf(skip)("the promotion gate on a control plane", { timeout: 600_000 }, () => {
  let cluster: Cluster | undefined;
  let project: TempProject | undefined;
  const p = () => project!;

  /** Pulumi.yaml with this test's application; keeps the rest (name, runtime, main). */
  function writeApplication(smokeFails: boolean): void {
    const file = join(p().dir, "Pulumi.yaml");
    const doc = parseDocument(readFileSync(file, "utf8"));
    doc.set("config", application(smokeFails));
    writeFileSync(file, doc.toString({ lineWidth: 0 }));
  }

  async function deployDev(): Promise<void> {
    const r = await p().tsx(
      "scripts/deploy.ts",
      ["--stage", "dev", "--command", "up", "--", "--yes", "--skip-preview", "--non-interactive"],
      300_000,
    );
    if (r.code !== 0) throw new Error(explain(r));
  }

  /** Waits for the smoke Job of `release` to finish; returns its condition. */
  async function smokeFinished(release: string): Promise<string> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const r = await cluster!.kubectl(["get", "job", "smoke", "-n", "gate", "-o", "json"]);
      if (r.code === 0) {
        const job = JSON.parse(r.stdout) as {
          spec: { template: { metadata: { annotations?: Record<string, string> } } };
          status: { conditions?: { type: string; status: string }[] };
        };
        const done = (job.status.conditions ?? []).find(
          (c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
        );
        if (job.spec.template.metadata.annotations?.["platform/release"] === release && done)
          return done.type;
      }
      if (Date.now() > deadline) throw new Error(`the smoke Job of ${release} did not finish`);
      await new Promise((res) => setTimeout(res, 1_000));
    }
  }

  async function promote(): Promise<RunResult> {
    const outputs = join(p().root, "dev-outputs.json");
    writeFileSync(outputs, JSON.stringify(await p().outputs("dev")));
    return p().tsx("scripts/promote.ts", [
      "--from",
      "dev",
      "--to",
      "staging",
      "--from-outputs",
      outputs,
    ]);
  }

  let first: string;
  let second: string;
  let failedSmoke: string;
  let refusedForJob: RunResult;
  let stagingAfterRefusal: unknown;
  let passedSmoke: string;
  let refusedForSoak: RunResult | undefined;
  let allowed: RunResult;

  beforeAll(async () => {
    cluster = await startCluster({ nodePools: POOL, log: (l) => console.log(`[cluster] ${l}`) });
    project = await TempProject.create("cluster-gate");
    p().env.KUBECTL = cluster.binaries.kubectl;
    p().env.PLATFORM_RELEASES_DIR = join(p().root, "releases");
    writeApplication(true);
    const cluster0 = { cloud: "kind", name: "gate", nodePools: POOL };
    writeFileSync(
      p().stackFile("dev"),
      stringify({
        config: {
          "platform:tier": "dev",
          "platform:cluster": { ...cluster0, kubeconfig: cluster.kubeconfig },
        },
      }),
    );
    writeFileSync(
      p().stackFile("staging"),
      stringify({
        config: {
          "platform:tier": "staging",
          "platform:cluster": { ...cluster0, renderYamlToDirectory: p().renderDir("staging") },
        },
      }),
    );
    await p().stackInit(["--stack", "dev"]);
    git(p().dir, "init", "-q");

    // Release 1: its verification fails.
    first = commitAll(p().dir, "release 1: smoke fails");
    await deployDev();
    failedSmoke = await smokeFinished(first);
    refusedForJob = await promote();
    stagingAfterRefusal = p().readStack("staging").config["platform:release"];

    // Release 2: its verification passes; promotion waits for the soak time.
    writeApplication(false);
    second = commitAll(p().dir, "release 2: smoke passes");
    await deployDev();
    passedSmoke = await smokeFinished(second);
    const attempt = await promote();
    if (attempt.code === 0) allowed = attempt;
    else {
      refusedForSoak = attempt;
      const after = /promote after (\S+)/.exec(attempt.stderr)?.[1];
      if (!after) throw new Error(explain(attempt));
      await new Promise((res) => setTimeout(res, Date.parse(after) - Date.now() + 1_000));
      allowed = await promote();
    }
  }, 600_000);

  afterAll(async () => {
    try {
      await cluster?.stop();
    } finally {
      project?.cleanup();
    }
  }, 60_000);

  it("a failing verification Job blocks promotion, naming the Job and the release", () => {
    expect(failedSmoke).toBe("Failed");
    expect(refusedForJob.code, explain(refusedForJob)).toBe(1);
    expect(refusedForJob.stderr).toContain(
      `  - gate.verify: Job gate/smoke failed in dev for release ${first.slice(0, 12)} (BackoffLimitExceeded: Job has reached the specified backoff limit): the release is not verified; see kubectl logs -n gate job/smoke\n`,
    );
    expect(stagingAfterRefusal).toBeUndefined();
  });

  it("a passing one lets the release in once dev has run it for the soak time", () => {
    expect(passedSmoke).toBe("Complete");
    if (refusedForSoak)
      expect(refusedForSoak.stderr).toMatch(
        new RegExp(
          `dev has run release ${second.slice(0, 12)} for \\d+s \\(since \\S+\\); staging requires ${SOAK_SECONDS}s`,
        ),
      );
    expect(allowed.code, explain(allowed)).toBe(0);
    expect(allowed.stdout).toContain(
      `note: gate: verify: Job gate/smoke succeeded in dev for release ${second.slice(0, 12)}`,
    );
    expect(allowed.stdout).toMatch(/note: gate: rollouts: \d+ workloads? of dev complete/);
    expect(p().readStack("staging").config["platform:release"]).toBe(second);
  });
});
