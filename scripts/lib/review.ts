/**
 * The review stacks' decisions, pure (scripts/review.ts runs them against the engine):
 *
 * - which services a pull request's review stack deploys (`reviewSelection`): those whose
 *   definition in the base stage differs between the pull request's base and head, or all of
 *   them when the program itself or the stage's shared settings changed;
 * - what the base stage and the other live review stacks take of the node pools at peak
 *   (`reservedRoom`), from their `capacityFigures` outputs;
 * - the review stack's file, `Pulumi.pr-<n>.yaml`: the base stage's with `platform:review`
 *   (`reviewStackText`), never committed (.gitignore);
 * - which review stacks the sweep destroys (`sweepDecisions`).
 */
import { parseDocument } from "yaml";
import { Quantity } from "../../components/quantity";
import type { CapacityFigures } from "../../platform/capacity/figures";
import type { NodePoolConfig } from "../../platform/config";
import {
  poolNodes,
  type ReviewConfig,
  reviewedPullRequest,
  reviewStackName,
} from "../../platform/config/review";
import { formatDuration } from "../../platform/config/stages";
import type { StackView } from "./stack-view";

/** Paths whose change can alter every object the program makes. */
const PROGRAM = [
  /^components\//,
  /^platform\//,
  /^index\.ts$/,
  /^package(-lock)?\.json$/,
  /^tsconfig\.json$/,
];

/** Stack config keys a review stack does not take from a difference in (not the app's shape). */
const NOT_APPLICATION = new Set(["services", "overrides", "stages", "release", "applicationFiles"]);

export interface Selection {
  /** The services to deploy (with what they need, see reviewedServices); undefined: all. */
  readonly services?: readonly string[];
  /** Why, for the log and the PR comment. */
  readonly why: string;
}

/** The stack's settings besides its services: a change to them concerns every service. */
function sharedSettings(view: StackView): string {
  const rest = Object.fromEntries(
    Object.entries(view.raw)
      .filter(([key]) => !NOT_APPLICATION.has(key))
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const overrides = view.raw.overrides as { namespaces?: unknown } | undefined;
  return JSON.stringify({ ...rest, namespaceOverrides: overrides?.namespaces ?? null });
}

/**
 * The services a pull request changes in the base stage, from its changed paths and the stage's
 * view at the base and at the head (see the file comment).
 */
export function reviewSelection(
  changedPaths: readonly string[],
  base: StackView | undefined,
  head: StackView,
): Selection {
  const program = changedPaths.find((p) => PROGRAM.some((re) => re.test(p)));
  if (program) return { why: `the program changed (${program}): the whole app` };
  if (!base) return { why: `${head.stack} has no stack file at the base: the whole app` };
  if (sharedSettings(base) !== sharedSettings(head))
    return {
      why: `${head.stack}'s namespaces, cluster or defaults changed: the whole app`,
    };
  const changed = head.services.filter(
    (name) => JSON.stringify(base.definitions[name]) !== JSON.stringify(head.definitions[name]),
  );
  return {
    services: changed,
    why:
      changed.length === 0
        ? "no service changed"
        : `changed: ${changed.join(", ")} (with what they depend on)`,
  };
}

/** What one stack requests of each node pool at peak. */
export type PoolUse = Readonly<Record<string, { cpu: number; memory: number; pods: number }>>;

/**
 * A stack's use of each pool from its capacityFigures output: the quantities it requests, or
 * (outputs from before they were exported) its ratios of the pools' usable room.
 */
export function poolUse(
  figures: {
    readonly pools: readonly (Omit<CapacityFigures["pools"][number], "used"> &
      Partial<Pick<CapacityFigures["pools"][number], "used">>)[];
  },
  pools: Readonly<Record<string, NodePoolConfig>>,
): PoolUse {
  const use: Record<string, { cpu: number; memory: number; pods: number }> = {};
  for (const p of figures.pools) {
    if (p.used) {
      use[p.pool] = {
        cpu: Quantity.parse(p.used.cpu).milliValue(),
        memory: Quantity.parse(p.used.memory).value(),
        pods: Number(p.used.pods),
      };
      continue;
    }
    const pool = pools[p.pool];
    if (!pool) continue;
    const nodes = poolNodes(pool);
    const usable = (alloc: string, overhead: string | undefined, milli: boolean) => {
      const q = (t: string) => (milli ? Quantity.parse(t).milliValue() : Quantity.parse(t).value());
      return nodes * (q(alloc) - (overhead ? q(overhead) : 0));
    };
    use[p.pool] = {
      cpu: Math.ceil(p.cpu * usable(pool.allocatable.cpu, pool.overhead?.cpu, true)),
      memory: Math.ceil(p.memory * usable(pool.allocatable.memory, pool.overhead?.memory, false)),
      pods: Math.ceil(p.pods * nodes * (pool.allocatable.pods - (pool.overhead?.pods ?? 0))),
    };
  }
  return use;
}

/** The sum of stacks' pool use, as the review block's `reserved` quantities. */
export function reservedRoom(uses: readonly PoolUse[]): NonNullable<ReviewConfig["reserved"]> {
  const total: Record<string, { cpu: number; memory: number; pods: number }> = {};
  for (const use of uses)
    for (const [pool, u] of Object.entries(use)) {
      const t = (total[pool] ??= { cpu: 0, memory: 0, pods: 0 });
      t.cpu += u.cpu;
      t.memory += u.memory;
      t.pods += u.pods;
    }
  return Object.fromEntries(
    Object.entries(total).map(([pool, t]) => [
      pool,
      {
        cpu: Quantity.fromMillis(t.cpu).toString(),
        memory: Quantity.of(t.memory, "BinarySI").toString(),
        pods: t.pods,
      },
    ]),
  );
}

/**
 * The review stack's file: the base stage's stack file (`baseText`, its secrets provider and
 * encrypted values as they are, so they decrypt the same) with `<project>:review` set and any
 * release pin removed (a review stack runs the pull request's head).
 */
export function reviewStackText(
  baseText: string,
  baseStack: string,
  project: string,
  review: ReviewConfig,
): string {
  const doc = parseDocument(baseText);
  if (doc.errors.length > 0)
    throw new Error(`Pulumi.${baseStack}.yaml: ${doc.errors[0].message.split("\n")[0]}`);
  if (!doc.has("config")) doc.set("config", doc.createNode({}));
  doc.deleteIn(["config", `${project}:release`]);
  doc.setIn(["config", `${project}:review`], doc.createNode(review));
  doc.commentBefore = ` Written by npm run review: the review stack of pull request #${review.pullRequest}, derived from Pulumi.${baseStack}.yaml. Not committed (.gitignore); rewritten on every run.`;
  return doc.toString({ lineWidth: 0 });
}

/** A stack as `pulumi stack ls --json` lists it. */
export interface ListedStack {
  readonly name: string;
  readonly lastUpdate?: string;
  readonly updateInProgress?: boolean;
}

export interface SweepDecision {
  readonly stack: string;
  readonly pullRequest: number;
  /** Why it goes, or why it stays. */
  readonly reason: string;
  readonly destroy: boolean;
}

/** A stack's own name from `stack ls` (`org/project/pr-12` on some backends). */
export function stackName(listed: string): string {
  return listed.slice(listed.lastIndexOf("/") + 1);
}

/**
 * Which review stacks the sweep destroys: those not updated for `ttlMs`, and, when the open
 * pull requests are known, those whose pull request is closed. A stack being updated stays.
 */
export function sweepDecisions(
  stacks: readonly ListedStack[],
  now: Date,
  ttlMs: number,
  open?: ReadonlySet<number>,
): SweepDecision[] {
  const decisions: SweepDecision[] = [];
  for (const listed of stacks) {
    const stack = stackName(listed.name);
    const pullRequest = reviewedPullRequest(stack);
    if (pullRequest === undefined) continue;
    const last = listed.lastUpdate ? Date.parse(listed.lastUpdate) : NaN;
    const idle = Number.isNaN(last) ? undefined : now.getTime() - last;
    const decide = (destroy: boolean, reason: string) =>
      decisions.push({ stack, pullRequest, destroy, reason });
    if (listed.updateInProgress) decide(false, "an update is in progress");
    else if (open && !open.has(pullRequest)) decide(true, `pull request #${pullRequest} is closed`);
    else if (idle === undefined) decide(true, "never updated");
    else if (idle > ttlMs)
      decide(true, `not updated for ${formatDuration(idle)} (ttl ${formatDuration(ttlMs)})`);
    else decide(false, `updated ${formatDuration(idle)} ago (ttl ${formatDuration(ttlMs)})`);
  }
  return decisions.sort((a, b) => a.pullRequest - b.pullRequest);
}

/** The PR comment: the review stack's hosts and what it runs. */
export function reviewComment(
  pullRequest: number,
  hosts: readonly string[],
  services: readonly string[],
  why: string,
): string {
  const stack = reviewStackName(pullRequest);
  const lines = [
    `### Review stack \`${stack}\``,
    "",
    hosts.length > 0
      ? hosts.map((h) => `- https://${h}`).join("\n")
      : "No public hosts: the services it runs have no ingress or route.",
    "",
    `Runs ${services.map((s) => `\`${s}\``).join(", ")} (${why}). Destroyed when the pull request closes, or by the sweep when idle.`,
  ];
  return `${lines.join("\n")}\n`;
}
