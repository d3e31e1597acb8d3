/**
 * The pipeline as data (`platform:stages`): parsing with defaults, the problems it names, and
 * which promotion is the next step. Own fixtures; promote on a grown pipeline: promote.test.ts.
 */
import { describe, expect, test } from "vitest";
import {
  describePipeline,
  findStage,
  parsePlatformConfig,
  parseStages,
  promotionProblem,
  type Stage,
} from "../platform/config";

const grown = parseStages([
  { name: "dev" },
  { name: "qa" },
  { name: "staging" },
  { name: "prod", environment: "production" },
  { name: "eu-prod", from: "staging", stack: "prod-eu", environment: "production-eu" },
]).stages!;
const stage = (name: string): Stage => findStage(grown, name)!;

describe("parseStages", () => {
  test("fills in the defaults: stack and environment are the name, from is the stage before", () => {
    expect(grown).toEqual([
      { name: "dev", stack: "dev", environment: "dev" },
      { name: "qa", stack: "qa", environment: "qa", from: "dev" },
      { name: "staging", stack: "staging", environment: "staging", from: "qa" },
      { name: "prod", stack: "prod", environment: "production", from: "staging" },
      { name: "eu-prod", stack: "prod-eu", environment: "production-eu", from: "staging" },
    ]);
    expect(describePipeline(grown)).toBe("dev → qa → staging → prod; dev → qa → staging → eu-prod");
    expect(findStage(grown, "prod-eu")?.name).toBe("eu-prod"); // by its stack too
  });

  test.each([
    [[], ["stages: a list needs at least one stage"]],
    [{ dev: {} }, ["stages: expected array, got an object"]],
    [
      [{ name: "Dev" }],
      ["stages[0].name: \"Dev\" must be lower-case letters, digits and '-' (e.g. qa, eu-prod)"],
    ],
    [[{ name: "dev", stage: "x" }], ['stages[0].stage: unknown key (did you mean "stack"?)']],
    [
      [{ name: "dev", from: "qa" }, { name: "qa" }],
      [
        'stages[0].from: the first stage is where the pipeline starts and is promoted from nothing; remove from, or list "qa" first',
      ],
    ],
    [
      [{ name: "dev" }, { name: "staging" }, { name: "prod", from: "stagign" }],
      ['stages[2].from: "stagign" is not a stage listed before prod (did you mean "staging"?)'],
    ],
    [
      [{ name: "dev" }, { name: "prod", from: "eu-prod" }, { name: "eu-prod" }],
      ['stages[1].from: "eu-prod" is not a stage listed before prod (earlier stages: dev)'],
    ],
    [
      [{ name: "dev" }, { name: "dev" }],
      [
        'stages[1].name: "dev" is also stages[0]; stage names are unique',
        'stages[1].stack: "dev" is also the stack of stages[0]; each stage is its own stack',
      ],
    ],
    [
      [{ name: "dev" }, { name: "qa", stack: "dev" }],
      ['stages[1].stack: "dev" is also the stack of stages[0]; each stage is its own stack'],
    ],
  ])("%j: %j", (raw, problems) => {
    const parsed = parseStages(raw);
    expect(parsed.stages).toBeUndefined();
    expect(parsed.problems).toEqual(problems);
  });

  test("the program checks the pipeline with the rest of the config", () => {
    expect(() =>
      parsePlatformConfig({
        stages: [{ name: "dev" }, { name: "prod", from: "stagign" }],
        tier: "dev",
        cluster: { cloud: "kind", name: "c" },
        namespaces: {},
        services: {},
      }),
    ).toThrowError(
      'stages[1].from: "stagign" is not a stage listed before prod (earlier stages: dev)',
    );
  });
});

describe("promotionProblem: the next step only", () => {
  test("each stage takes releases from the stage it names", () => {
    for (const [from, to] of [
      ["dev", "qa"],
      ["qa", "staging"], // qa and staging may share tier staging: the pipeline decides
      ["staging", "prod"],
      ["staging", "eu-prod"],
    ])
      expect(promotionProblem(grown, stage(from), stage(to)), `${from} → ${to}`).toBeUndefined();
  });

  test("skips name the path; reversals point to rollback; a side branch names its source", () => {
    const pipeline = "the pipeline is dev → qa → staging → prod; dev → qa → staging → eu-prod";
    expect(promotionProblem(grown, stage("qa"), stage("prod"))).toBe(
      `qa → prod skips staging (${pipeline}); promote --from qa --to staging first`,
    );
    expect(promotionProblem(grown, stage("dev"), stage("eu-prod"))).toBe(
      `dev → eu-prod skips qa, staging (${pipeline}); promote --from dev --to qa first`,
    );
    expect(promotionProblem(grown, stage("prod"), stage("qa"))).toBe(
      `prod → qa goes against the pipeline (${pipeline}); to put earlier images back use --rollback --to qa`,
    );
    expect(promotionProblem(grown, stage("prod"), stage("eu-prod"))).toBe(
      `eu-prod takes its releases from staging, not from prod (${pipeline})`,
    );
    expect(promotionProblem(grown, stage("qa"), stage("qa"))).toBe(
      "qa → qa: a stage is not promoted into itself",
    );
  });
});
