/**
 * The promotion pipeline, defined once as data (`platform:stages` in Pulumi.yaml): an ordered
 * list of stages, each a stack and the GitHub Environment its jobs run in, each promoted into
 * from one earlier stage (by default the one listed before it). The first stage is the root:
 * changes to the shared program reach it first. promote, the CI scripts and the workflows read
 * this; no stack name is written anywhere else.
 *
 *   platform:stages:
 *     value:
 *       - { name: dev }
 *       - { name: qa }
 *       - { name: staging }
 *       - { name: prod, environment: production }
 *       - { name: eu-prod, from: staging, environment: production-eu }
 *
 * A stage's tier (its policy and strictness profile: dev, staging or prod) is its stack's
 * `platform:tier`, independent of its name.
 *
 * A stage may gate promotion into it, as Kargo's `requiredSoakTime` and Argo's analysis do:
 * `gate: { soak: 24h, verify: smoke }` lets a release in only once the source stage has run it
 * for the soak time, its rollouts are complete, and (optionally) the source's run of the
 * verification Job `smoke` (a `job` service of the application) succeeded for that release.
 */
import { z } from "zod";
import { parseWith } from "../../components/issues";
import { quotaHard } from "../../components/schema";
import { closest } from "../../components/suggest";
import { REVIEW_STACK } from "./review";

/** Pulumi's stack name rule (one part of org/project/stack). */
const STACK_NAME = /^[A-Za-z0-9_.-]+$/;

/** A GitHub Environment name. */
const ENVIRONMENT_NAME = /^[^'"`,;:\\\n]{1,255}$/;
const ENVIRONMENT_NAME_RULE =
  "must be a GitHub Environment name (1-255 characters, no quotes, ',', ';', ':')";

/** A duration: whole days, hours, minutes and seconds, largest first (`90m`, `1d12h`, `30s`). */
const DURATION = /^(?=\d)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** A duration's milliseconds, or undefined when it is not one (see DURATION). */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m) return undefined;
  const [d, h, min, sec] = m.slice(1).map((x) => Number(x ?? 0));
  return (((d * 24 + h) * 60 + min) * 60 + sec) * 1000;
}

/** A duration for messages: `1d 2h 3m`, `45s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 3).join(" ") || "0s";
}

const gateSchema = z
  .strictObject({
    soak: z
      .string()
      .regex(DURATION, { message: "must be a duration such as 30m, 24h or 1d12h" })
      .optional()
      .describe(
        "How long the source stage must have run a release (successfully deployed, nothing since) before it may be promoted here. @default 0s",
      ),
    verify: z
      .string()
      .optional()
      .describe(
        "A job service of the application, run by the source stage for each release (the program stamps it with the release); it must have succeeded for the release being promoted.",
      ),
  })
  .describe(
    "What promotion into this stage requires of the source: a soak time, complete rollouts and optionally a succeeded verification Job.",
  );

const reviewStageSchema = z
  .strictObject({
    ttl: z
      .string()
      .regex(DURATION, { message: "must be a duration such as 12h, 3d or 1d12h" })
      .optional()
      .describe(
        "How long a review stack may go without an update before the sweep destroys it. @default 3d",
      ),
    namespaceQuota: quotaHard
      .optional()
      .describe(
        "The ResourceQuota of each of a review stack's namespaces, in place of the stage's (bounds what one pull request takes). @default the stage's quotas",
      ),
    environment: z
      .string()
      .regex(ENVIRONMENT_NAME, { message: ENVIRONMENT_NAME_RULE })
      .optional()
      .describe(
        "The GitHub Environment review stacks' jobs run in. @default the stage's environment",
      ),
  })
  .describe(
    "Review stacks (pr-<n>) for same-repository pull requests, in this stage's cluster: npm run review and review.yml.",
  );

const stageSchema = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, {
      message: "must be lower-case letters, digits and '-' (e.g. qa, eu-prod)",
    })
    .max(40)
    .describe("The stage's name: what promote --from/--to and the workflows take."),
  stack: z
    .string()
    .regex(STACK_NAME, { message: "must be a stack name (letters, digits, '-', '_', '.')" })
    .optional()
    .describe("Its stack (Pulumi.<stack>.yaml). @default the stage's name"),
  environment: z
    .string()
    .regex(ENVIRONMENT_NAME, { message: ENVIRONMENT_NAME_RULE })
    .optional()
    .describe(
      "The GitHub Environment its deploy, drift and promotion jobs run in. @default the stage's name",
    ),
  from: z
    .string()
    .optional()
    .describe("The earlier stage it is promoted from. @default the stage listed before it"),
  gate: gateSchema.optional(),
  review: reviewStageSchema.optional(),
});

export const stagesSchema = z
  .array(stageSchema)
  .min(1, { message: "needs at least one stage" })
  .describe("The promotion pipeline: stages in order.");

/** One stage, with its defaults filled in. */
export interface Stage {
  readonly name: string;
  readonly stack: string;
  readonly environment: string;
  /** The stage it is promoted from; undefined for the root (the first stage). */
  readonly from?: string;
  /** What promotion into it requires of the source stage. */
  readonly gate?: Gate;
  /** Review stacks of pull requests, in its cluster (the first stage only). */
  readonly review?: ReviewStage;
}

/** The review stacks a stage offers (see ./review). */
export interface ReviewStage {
  /** Milliseconds a review stack may go without an update before the sweep destroys it. */
  readonly ttlMs: number;
  /** Each review namespace's ResourceQuota, in place of the stage's. */
  readonly namespaceQuota?: Readonly<Record<string, string | number>>;
  /** The GitHub Environment of the review jobs. */
  readonly environment: string;
}

/** A review stack's time to live unless the stage sets `review.ttl`. */
export const DEFAULT_REVIEW_TTL = "3d";

/** A stage's promotion gate (see the file comment). */
export interface Gate {
  /** Milliseconds the source must have run the release. */
  readonly soakMs: number;
  /** The verification Job's service name, if any. */
  readonly verify?: string;
}

/**
 * Checks a raw `stages` value and fills in the defaults. Problems name the key path under `at`
 * (e.g. `stages[2].from: "stagign" is not a stage listed before qa (did you mean "staging"?)`).
 */
export function parseStages(
  raw: unknown,
  at = "stages",
): { readonly stages?: Stage[]; readonly problems: string[] } {
  const parsed = parseWith(stagesSchema, raw);
  if (!parsed.data)
    return {
      problems: parsed.problems.map((p) =>
        p.startsWith("(root)")
          ? `${at}${p.slice("(root)".length)}`
          : `${at}${p.startsWith("[") ? "" : "."}${p}`,
      ),
    };
  const problems: string[] = [];
  const stages: Stage[] = [];
  const seen = { names: new Map<string, number>(), stacks: new Map<string, number>() };
  parsed.data.forEach((s, i) => {
    const stack = s.stack ?? s.name;
    const earlier = stages.map((e) => e.name);
    if (seen.names.has(s.name))
      problems.push(
        `${at}[${i}].name: "${s.name}" is also ${at}[${seen.names.get(s.name)}]; stage names are unique`,
      );
    if (seen.stacks.has(stack))
      problems.push(
        `${at}[${i}].stack: "${stack}" is also the stack of ${at}[${seen.stacks.get(stack)}]; each stage is its own stack`,
      );
    seen.names.set(s.name, i);
    seen.stacks.set(stack, i);
    let from: string | undefined;
    if (i === 0) {
      if (s.from !== undefined)
        problems.push(
          `${at}[0].from: the first stage is where the pipeline starts and is promoted from nothing; remove from, or list "${s.from}" first`,
        );
    } else if (s.from === undefined) {
      from = earlier[i - 1];
    } else if (!earlier.includes(s.from)) {
      const hint = closest(s.from, earlier);
      problems.push(
        `${at}[${i}].from: "${s.from}" is not a stage listed before ${s.name} (${hint ? `did you mean "${hint}"?` : `earlier stages: ${earlier.join(", ")}`})`,
      );
    } else from = s.from;
    if (i > 0 && s.review !== undefined)
      problems.push(
        `${at}[${i}].review: review stacks run a pull request's program, which only the first stage runs (later stages run promoted releases); move review to ${at}[0]`,
      );
    if (REVIEW_STACK.test(stack))
      problems.push(
        `${at}[${i}].stack: "${stack}" has the form pr-<n>, kept for review stacks; name the stack otherwise`,
      );
    if (i === 0 && s.gate !== undefined)
      problems.push(
        `${at}[0].gate: the first stage takes no promotion, so nothing passes its gate; put the gate on the stage that is promoted from it`,
      );
    stages.push({
      name: s.name,
      stack,
      environment: s.environment ?? s.name,
      ...(from !== undefined ? { from } : {}),
      ...(s.gate
        ? {
            gate: {
              soakMs: parseDuration(s.gate.soak ?? "0s")!,
              ...(s.gate.verify !== undefined ? { verify: s.gate.verify } : {}),
            },
          }
        : {}),
      ...(s.review
        ? {
            review: {
              ttlMs: parseDuration(s.review.ttl ?? DEFAULT_REVIEW_TTL)!,
              ...(s.review.namespaceQuota ? { namespaceQuota: s.review.namespaceQuota } : {}),
              environment: s.review.environment ?? s.environment ?? s.name,
            },
          }
        : {}),
    });
  });
  return problems.length > 0 ? { problems } : { stages, problems };
}

/** The stage named `name`, or the one whose stack is `name`. */
export function findStage(stages: readonly Stage[], name: string): Stage | undefined {
  return stages.find((s) => s.name === name) ?? stages.find((s) => s.stack === name);
}

/** Why `name` names no stage, with a did-you-mean and the pipeline. */
export function unknownStage(stages: readonly Stage[], name: string): string {
  const hint = closest(
    name,
    stages.map((s) => s.name),
  );
  return `"${name}" is not a stage of the pipeline (${hint ? `did you mean "${hint}"? ` : ""}${describePipeline(stages)}; stages are defined in Pulumi.yaml, platform:stages)`;
}

/** The stages from the root to `stage`, both included. */
export function pathTo(stages: readonly Stage[], stage: Stage): Stage[] {
  const path = [stage];
  for (let s = stage; s.from !== undefined;) {
    s = stages.find((x) => x.name === s.from)!;
    path.unshift(s);
  }
  return path;
}

/** The pipeline for messages: each path from the root to a last stage, e.g. `dev → qa → prod`. */
export function describePipeline(stages: readonly Stage[]): string {
  const feeding = new Set(stages.flatMap((s) => (s.from ? [s.from] : [])));
  return stages
    .filter((s) => !feeding.has(s.name))
    .map((leaf) =>
      pathTo(stages, leaf)
        .map((s) => s.name)
        .join(" → "),
    )
    .join("; ");
}

/**
 * Why promoting `from` into `to` is not the next step, or undefined when `to` takes its
 * releases from `from`. Names the path to take.
 */
export function promotionProblem(
  stages: readonly Stage[],
  from: Stage,
  to: Stage,
): string | undefined {
  if (to.from === from.name) return undefined;
  const pipeline = `the pipeline is ${describePipeline(stages)}`;
  if (from.name === to.name)
    return `${from.name} → ${to.name}: a stage is not promoted into itself`;
  const path = pathTo(stages, to).map((s) => s.name);
  const i = path.indexOf(from.name);
  if (i >= 0) {
    const skipped = path.slice(i + 1, -1);
    return `${from.name} → ${to.name} skips ${skipped.join(", ")} (${pipeline}); promote --from ${from.name} --to ${skipped[0]} first`;
  }
  if (pathTo(stages, from).some((s) => s.name === to.name))
    return `${from.name} → ${to.name} goes against the pipeline (${pipeline}); to put earlier images back use --rollback --to ${to.name}`;
  return `${to.name} takes its releases from ${to.from ?? "nothing (it is the first stage)"}, not from ${from.name} (${pipeline})`;
}
