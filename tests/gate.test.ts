/**
 * Promotion gates: the `gate` of a stage (soak time, complete rollouts, a verification Job),
 * the evidence read from a stack's update history and its cluster, and the verdict, as pure
 * functions with their own fixtures. Through the engine: tests/e2e/promotion.test.ts; on the
 * control plane, with a failing and a passing verification Job: tests/cluster/gate.test.ts.
 */
import { describe, expect, test } from "vitest";
import {
  ConfigError,
  formatDuration,
  parseDuration,
  parsePlatformConfig,
  parseStages,
  RELEASE_ANNOTATION,
  verificationJobs,
  withReleaseStamp,
  type PlatformConfig,
  type RawConfig,
  type Stage,
} from "../platform/config";
import {
  evaluateGate,
  parseClusterObjects,
  parseHistory,
  type GateEvidence,
  type UpdateRecord,
} from "../scripts/lib/gate";

const R1 = "1".repeat(40);
const R2 = "2".repeat(40);
const HOUR = 3_600_000;
const NOW = Date.parse("2026-12-02T12:00:00Z");

const stages = parseStages([
  { name: "dev" },
  { name: "staging", gate: { soak: "1h" } },
  { name: "prod", gate: { soak: "1d", verify: "smoke" } },
]).stages!;
const [, staging, prod] = stages as [Stage, Stage, Stage];

describe("the gate of a stage", () => {
  test("durations: days, hours, minutes and seconds, largest first", () => {
    expect(parseDuration("90m")).toBe(90 * 60_000);
    expect(parseDuration("1d12h")).toBe(36 * HOUR);
    expect(parseDuration("30s")).toBe(30_000);
    for (const bad of ["", "1h1d", "1.5h", "h", "10"])
      expect(parseDuration(bad), bad).toBeUndefined();
    expect(formatDuration(26 * HOUR + 5 * 60_000 + 7_000)).toBe("1d 2h 5m");
    expect(formatDuration(0)).toBe("0s");
  });

  test("parses with defaults; the first stage takes no gate; a bad soak is named", () => {
    expect(staging.gate).toEqual({ soakMs: HOUR });
    expect(prod.gate).toEqual({ soakMs: 24 * HOUR, verify: "smoke" });
    expect(parseStages([{ name: "dev", gate: { soak: "1h" } }]).problems).toEqual([
      "stages[0].gate: the first stage takes no promotion, so nothing passes its gate; put the gate on the stage that is promoted from it",
    ]);
    expect(
      parseStages([{ name: "dev" }, { name: "prod", gate: { soak: "a day" } }]).problems,
    ).toEqual(['stages[1].gate.soak: "a day" must be a duration such as 30m, 24h or 1d12h']);
  });

  test("the source stage must run the verification Job as a job service", () => {
    const raw = (services: Record<string, unknown>): RawConfig => ({
      tier: "staging",
      cluster: { cloud: "kind", name: "staging" },
      namespaces: { shop: {} },
      services,
      stages: [{ name: "dev" }, { name: "staging" }, { name: "prod", gate: { verify: "smoke" } }],
    });
    const job = {
      kind: "job",
      namespace: "shop",
      image: "busybox:1.37",
      command: ["true"],
      resources: { requests: { cpu: "10m", memory: "16Mi" } },
    };
    const problems = (services: Record<string, unknown>, stack: string) => {
      try {
        parsePlatformConfig(raw(services), { stack });
        return [];
      } catch (e) {
        if (e instanceof ConfigError) return e.problems;
        throw e;
      }
    };
    expect(problems({ smoke: job }, "staging")).toEqual([]);
    expect(problems({ smok: job }, "staging")).toEqual([
      'stages[2].gate.verify: "smoke" is not a service of staging; prod takes releases from staging, which must run it as a job service (its jobs: smok)',
    ]);
    // Only staging (prod's source) must run it.
    expect(problems({ smok: job }, "dev")).toEqual([]);
    expect(verificationJobs(stages, "staging")).toEqual(["smoke"]);
    expect(verificationJobs(stages, "dev")).toEqual([]);
  });

  test("the program stamps the verification Job's pods with the release it runs, and does not wait for it", () => {
    const config = {
      services: { smoke: { kind: "job", podAnnotations: { team: "shop" } }, web: { kind: "web" } },
    } as unknown as PlatformConfig;
    const stamped = withReleaseStamp(config, ["smoke"], R1);
    expect(stamped.services.smoke.podAnnotations).toEqual({
      team: "shop",
      [RELEASE_ANNOTATION]: R1,
    });
    // The deploy does not wait for it: the gate judges its result.
    expect(stamped.services.smoke.patches).toEqual([
      {
        kind: "Job",
        patch: { metadata: { annotations: { "pulumi.com/waitFor": "jsonpath={.metadata.name}" } } },
      },
    ]);
    expect(stamped.services.web).toBe(config.services.web);
    expect(withReleaseStamp(config, ["smoke"], undefined)).toBe(config);
  });
});

const update = (
  hoursAgo: number,
  release = R1,
  more: Partial<UpdateRecord> = {},
): UpdateRecord => ({
  kind: "update",
  result: "succeeded",
  endTime: NOW - hoursAgo * HOUR,
  release,
  config: "{}",
  ...more,
});
const evidence = (history: UpdateRecord[], more: Partial<GateEvidence> = {}): GateEvidence => ({
  source: "dev",
  release: R1,
  history,
  ...more,
});

describe("evaluateGate", () => {
  test("soak: the trailing run of successful updates that ran the same release and config", () => {
    // Two no-op re-deploys of R1 after it first ran 3h ago (a refresh in between is ignored).
    const ran = [
      update(0.5),
      update(1),
      { ...update(1.5), kind: "refresh" },
      update(3),
      update(5, R2),
    ];
    expect(evaluateGate(staging, evidence(ran), NOW)).toEqual({
      problems: [],
      passed: [
        "soak: dev has run release 111111111111 for 3h (since 2026-12-02T09:00:00Z; staging requires 1h)",
        "rollouts: dev renders YAML (no cluster): nothing rolls out",
      ],
    });
    // A config change 20 minutes ago starts the clock again.
    const changed = [update(0.2), { ...update(3), config: '[["platform:tier","dev"]]' }];
    expect(evaluateGate(staging, evidence(changed), NOW).problems).toEqual([
      "dev has run release 111111111111 for 12m (since 2026-12-02T11:48:00Z); staging requires 1h: promote after 2026-12-02T12:48:00Z",
    ]);
  });

  test("a failed or running latest update, or outputs of another release, block it", () => {
    expect(
      evaluateGate(staging, evidence([{ ...update(0.1), result: "failed" }, update(3)]), NOW)
        .problems,
    ).toEqual([
      "dev's latest update failed (2026-12-02T11:54:00Z): what it runs now is not verified; deploy it successfully, then promote",
    ]);
    expect(
      evaluateGate(
        staging,
        evidence([{ ...update(0), result: "in-progress", endTime: undefined }, update(3)]),
        NOW,
      ).problems,
    ).toEqual([
      "dev's latest update is still running: what it runs now is not verified; deploy it successfully, then promote",
    ]);
    expect(evaluateGate(staging, evidence([update(3, R2)]), NOW).problems).toEqual([
      "dev's latest update ran 222222222222, but its outputs name release 111111111111: deploy it with npm run deploy -- --stage dev --command up",
    ]);
    expect(evaluateGate(staging, evidence([]), NOW).problems).toEqual([
      "dev has no successful update in its history: deploy it (npm run deploy -- --stage dev --command up) before promoting out of it",
    ]);
  });

  test("rollouts and the verification Job, from the source's cluster", () => {
    const ok = { rollouts: [{ kind: "Deployment", namespace: "shop", name: "web" }], jobs: [] };
    const job = (more: object) => ({
      namespace: "shop",
      name: "smoke",
      service: "smoke",
      release: R1,
      state: "succeeded" as const,
      ...more,
    });
    const at = (cluster: GateEvidence["cluster"]) =>
      evaluateGate(prod, evidence([update(30)], { source: "staging", cluster }), NOW);
    expect(at({ ...ok, jobs: [job({})] })).toEqual({
      problems: [],
      passed: [
        "soak: staging has run release 111111111111 for 1d 6h (since 2026-12-01T06:00:00Z; prod requires 1d)",
        "rollouts: 1 workload of staging complete",
        "verify: Job shop/smoke succeeded in staging for release 111111111111",
      ],
    });
    expect(
      at({
        ...ok,
        jobs: [
          job({
            state: "failed",
            detail: "BackoffLimitExceeded: Job has reached the specified backoff limit",
          }),
        ],
      }).problems,
    ).toEqual([
      "gate.verify: Job shop/smoke failed in staging for release 111111111111 (BackoffLimitExceeded: Job has reached the specified backoff limit): the release is not verified; see kubectl logs -n shop job/smoke",
    ]);
    expect(at({ ...ok, jobs: [job({ state: "running" })] }).problems).toEqual([
      "gate.verify: Job shop/smoke in staging has not finished for release 111111111111; promote once it succeeded",
    ]);
    expect(at({ ...ok, jobs: [job({ release: R2 })] }).problems).toEqual([
      "gate.verify: Job shop/smoke in staging ran for release 222222222222, not 111111111111; deploy staging with npm run deploy, which re-runs it for its release",
    ]);
    expect(at(ok).problems).toEqual([
      "gate.verify: no Job of service smoke in staging's cluster; it must be a job service that staging runs",
    ]);
    expect(
      at({
        rollouts: [
          { kind: "StatefulSet", namespace: "shop", name: "db", pending: "1 of 3 replicas ready" },
        ],
        jobs: [job({})],
      }).problems,
    ).toEqual([
      "staging: StatefulSet shop/db has not finished rolling out (1 of 3 replicas ready); promote once it has",
    ]);
    expect(at(undefined).problems).toEqual([
      "gate.verify: staging has no cluster (it renders YAML), so its verification Job smoke cannot have run; remove verify from prod's gate or give staging a cluster",
    ]);
  });
});

describe("reading the evidence", () => {
  test("pulumi stack history --json: newest first, the commit and the config of each update", () => {
    const history = parseHistory([
      {
        version: 1,
        kind: "update",
        startTime: "2026-12-01T10:00:00.000Z",
        endTime: "2026-12-01T10:02:00.000Z",
        result: "succeeded",
        environment: { "git.head": R1, "git.dirty": "true" },
        config: {
          "platform:tier": { value: "staging", secret: false },
          "platform:db-password": { secret: true },
        },
      },
      {
        version: 2,
        kind: "refresh",
        startTime: "2026-12-01T11:00:00.000Z",
        result: "in-progress",
        environment: {},
        config: {},
      },
    ]);
    expect(history).toEqual([
      {
        kind: "refresh",
        result: "in-progress",
        endTime: undefined,
        release: undefined,
        config: "[]",
      },
      {
        kind: "update",
        result: "succeeded",
        endTime: Date.parse("2026-12-01T10:02:00.000Z"),
        release: R1,
        config: '[["platform:db-password","[secret]"],["platform:tier","staging"]]',
      },
    ]);
    expect(() => parseHistory({})).toThrow("not a list of updates");
  });

  test("kubectl get -o json: rollouts complete or not, and Jobs with their release", () => {
    const meta = (name: string, generation = 2) => ({ name, namespace: "shop", generation });
    const { rollouts, jobs } = parseClusterObjects({
      items: [
        {
          kind: "Deployment",
          metadata: meta("web"),
          spec: { replicas: 2 },
          status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
        },
        {
          kind: "Deployment",
          metadata: meta("api"),
          spec: { replicas: 2 },
          status: { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 },
        },
        {
          kind: "Deployment",
          metadata: meta("worker"),
          spec: { replicas: 1 },
          status: { observedGeneration: 1 },
        },
        {
          kind: "StatefulSet",
          metadata: meta("db"),
          spec: { replicas: 1 },
          status: {
            observedGeneration: 2,
            updatedReplicas: 1,
            readyReplicas: 0,
            currentRevision: "db-2",
            updateRevision: "db-2",
          },
        },
        {
          kind: "Job",
          metadata: { ...meta("smoke"), labels: { "app.kubernetes.io/name": "smoke" } },
          spec: { template: { metadata: { annotations: { [RELEASE_ANNOTATION]: R1 } } } },
          status: {
            conditions: [
              {
                type: "Failed",
                status: "True",
                reason: "BackoffLimitExceeded",
                message: "too many",
              },
            ],
          },
        },
        {
          kind: "Job",
          metadata: { ...meta("migrate"), labels: { "app.kubernetes.io/name": "migrate" } },
          spec: { template: {} },
          status: { conditions: [{ type: "Complete", status: "True" }] },
        },
      ],
    });
    expect(rollouts).toEqual([
      { kind: "Deployment", namespace: "shop", name: "web" },
      {
        kind: "Deployment",
        namespace: "shop",
        name: "api",
        pending: "1 old replica still running",
      },
      {
        kind: "Deployment",
        namespace: "shop",
        name: "worker",
        pending: "the controller has not seen its latest spec",
      },
      { kind: "StatefulSet", namespace: "shop", name: "db", pending: "0 of 1 replicas ready" },
    ]);
    expect(jobs).toEqual([
      {
        namespace: "shop",
        name: "smoke",
        service: "smoke",
        release: R1,
        state: "failed",
        detail: "BackoffLimitExceeded: too many",
      },
      {
        namespace: "shop",
        name: "migrate",
        service: "migrate",
        release: undefined,
        state: "succeeded",
      },
    ]);
  });
});
