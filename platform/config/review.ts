/**
 * Review stacks: a short-lived copy of the application for one pull request, in the cluster of
 * the stage that offers them (`review:` on a stage of `platform:stages`, usually dev). Its
 * stack, `pr-<n>`, is that stage's stack config plus `platform:review` (written by
 * `npm run review`), and the program derives it from the stage's config here, purely:
 *
 * - only the services asked for (by default those the pull request changes), with the services
 *   they depend on and the Jobs that run before them; the whole app when none are named;
 * - every namespace suffixed `-pr<n>` (the namespaced objects in them keep their names: no two
 *   stacks share a namespace, so nothing collides), and every reference to an application
 *   namespace renamed with it, so its NetworkPolicies admit only its own pods;
 * - every public host's first label suffixed `-pr<n>` (`shop.dev.example.com` becomes
 *   `shop-pr12.dev.example.com`, under the same wildcard DNS name and certificate);
 * - each namespace's quota replaced by the stage's `namespaceQuota`, when it sets one;
 * - the node pools' usable room reduced by `reserved`: the peaks of the base stage and of the
 *   other live review stacks, spread over each pool's nodes; the cluster fit is enforced, so a
 *   review stack that does not fit beside them is refused before anything is applied;
 * - no cluster-scoped objects: it uses the base stage's PriorityClasses and StorageClass and
 *   never creates or deletes them (see planPlatform).
 */
import { z } from "zod";
import { Quantity } from "../../components/quantity";
import { quotaHard } from "../../components/schema";
import { closest } from "../../components/suggest";
import type { NodePoolConfig, PlatformConfig } from "./schema";

/** A review stack's name: `pr-<pull request number>`. */
export const REVIEW_STACK = /^pr-([1-9][0-9]{0,8})$/;

export function reviewStackName(pullRequest: number): string {
  return `pr-${pullRequest}`;
}

/** The pull request a stack reviews, or undefined when it is not a review stack. */
export function reviewedPullRequest(stack: string): number | undefined {
  const m = REVIEW_STACK.exec(stack);
  return m ? Number(m[1]) : undefined;
}

const poolRoom = z.strictObject({
  cpu: z.string().optional(),
  memory: z.string().optional(),
  pods: z.number().int().nonnegative().optional(),
});

/** `platform:review` in a review stack's config (written by `npm run review`, not by hand). */
export const reviewSchema = z
  .strictObject({
    pullRequest: z
      .number()
      .int()
      .min(1)
      .max(999_999_999)
      .describe("The pull request this stack reviews: the stack is pr-<n>."),
    services: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        "The services to deploy, with what they depend on and the Jobs that run before them. @default every service",
      ),
    namespaceQuota: quotaHard
      .optional()
      .describe(
        "Each namespace's ResourceQuota in the review stack (the stage's review.namespaceQuota).",
      ),
    reserved: z
      .record(z.string(), poolRoom)
      .optional()
      .describe(
        "What the base stage and the other live review stacks request at peak, by node pool: taken off the pools' room.",
      ),
  })
  .describe("Makes this stack a review stack of a pull request (written by npm run review).");

export type ReviewConfig = z.output<typeof reviewSchema>;

/** The suffix of a review stack's namespaces and hosts' first labels. */
export function reviewSuffix(pullRequest: number): string {
  return `-pr${pullRequest}`;
}

/** A public host with its first label suffixed, or a problem when it cannot be. */
function reviewHost(host: string, suffix: string): { host?: string; problem?: string } {
  const dot = host.indexOf(".");
  const first = dot < 0 ? host : host.slice(0, dot);
  if (first === "*" || first === "")
    return {
      problem: `cannot suffix the host ${JSON.stringify(host)}: its first label is a wildcard`,
    };
  const label = `${first}${suffix}`;
  if (label.length > 63)
    return {
      problem: `the host ${JSON.stringify(host)} would start with ${JSON.stringify(label)}, longer than 63 characters (shorten its first label)`,
    };
  return { host: `${label}${dot < 0 ? "" : host.slice(dot)}` };
}

/**
 * The services a review deploys: those named, the services they depend on, and the Jobs that
 * run before any of them (with what those depend on), in the config's order.
 */
export function reviewedServices(
  services: PlatformConfig["services"],
  named: readonly string[] | undefined,
): string[] {
  if (named === undefined) return Object.keys(services);
  const jobsBefore = new Map<string, string[]>();
  for (const [name, svc] of Object.entries(services))
    for (const target of svc.before ?? [])
      jobsBefore.set(target, [...(jobsBefore.get(target) ?? []), name]);
  const chosen = new Set<string>();
  const visit = (name: string): void => {
    if (chosen.has(name) || services[name] === undefined) return;
    chosen.add(name);
    for (const dep of services[name].dependencies ?? []) visit(dep);
    for (const job of jobsBefore.get(name) ?? []) visit(job);
  };
  for (const name of named) visit(name);
  return Object.keys(services).filter((name) => chosen.has(name));
}

/** A pool's nodes: `count` in each of its zones, or in total when it names none. */
export function poolNodes(pool: NodePoolConfig): number {
  return pool.count * Math.max(1, pool.zones?.length ?? 0);
}

/** Each pool's reserved room spread over its nodes, added to the per-node overhead. */
function withReserved(
  pool: NodePoolConfig,
  room: NonNullable<ReviewConfig["reserved"]>[string],
): NodePoolConfig {
  const nodes = poolNodes(pool);
  if (nodes === 0) return pool;
  const per = (total: number) => Math.ceil(total / nodes);
  const overhead = pool.overhead ?? {};
  const cpu =
    (overhead.cpu ? Quantity.parse(overhead.cpu).milliValue() : 0) +
    per(room.cpu ? Quantity.parse(room.cpu).milliValue() : 0);
  const memory =
    (overhead.memory ? Quantity.parse(overhead.memory).value() : 0) +
    per(room.memory ? Quantity.parse(room.memory).value() : 0);
  return {
    ...pool,
    overhead: {
      ...overhead,
      cpu: `${cpu}m`,
      memory: `${memory}`,
      pods: (overhead.pods ?? 0) + per(room.pods ?? 0),
    },
  };
}

/** Problems with a quantity the review block gives, by key path. */
function quantityProblems(review: ReviewConfig): string[] {
  const problems: string[] = [];
  for (const [pool, room] of Object.entries(review.reserved ?? {}))
    for (const key of ["cpu", "memory"] as const) {
      const text = room[key];
      if (text === undefined) continue;
      try {
        Quantity.parse(text);
      } catch {
        problems.push(
          `review.reserved.${pool}.${key}: ${JSON.stringify(text)} is not a quantity (e.g. 1500m, 2Gi)`,
        );
      }
    }
  return problems;
}

/**
 * The review stack's config derived from its base stage's (see the file comment), or the
 * problems that prevent it, each naming its key.
 */
export function reviewConfig(
  config: PlatformConfig,
  review: ReviewConfig,
): { readonly config?: PlatformConfig; readonly problems: string[] } {
  const problems = quantityProblems(review);
  const names = Object.keys(config.services);
  for (const [i, name] of (review.services ?? []).entries()) {
    if (config.services[name] !== undefined) continue;
    const hint = closest(name, names);
    problems.push(
      `review.services[${i}]: ${JSON.stringify(name)} is not a service of the application${hint ? ` (did you mean "${hint}"?)` : ` (services: ${names.join(", ")})`}`,
    );
  }
  const pools = config.cluster.nodePools ?? {};
  for (const pool of Object.keys(review.reserved ?? {}))
    if (pools[pool] === undefined)
      problems.push(
        `review.reserved.${pool}: not a node pool of this stack (pools: ${Object.keys(pools).join(", ") || "none"})`,
      );
  if (problems.length > 0) return { problems };

  const suffix = reviewSuffix(review.pullRequest);
  const renamed = new Map<string, string>();
  for (const ns of Object.keys(config.namespaces)) {
    const name = `${ns}${suffix}`;
    if (name.length > 63)
      problems.push(
        `namespaces.${ns}: its review namespace ${JSON.stringify(name)} is longer than 63 characters (shorten the namespace name)`,
      );
    renamed.set(ns, name);
  }
  const rename = (ns: string) => renamed.get(ns) ?? ns;
  const host = (where: string, h: string): string => {
    const r = reviewHost(h, suffix);
    if (r.problem) problems.push(`${where}: ${r.problem}`);
    return r.host ?? h;
  };

  const chosen = reviewedServices(config.services, review.services);
  const services: PlatformConfig["services"] = {};
  for (const name of chosen) {
    const svc = config.services[name];
    services[name] = {
      ...svc,
      namespace: rename(svc.namespace),
      ...(svc.ingressFrom
        ? { ingressFrom: svc.ingressFrom.map((f) => ({ ...f, namespace: rename(f.namespace) })) }
        : {}),
      ...(svc.ingress
        ? {
            ingress: {
              ...svc.ingress,
              host: host(`services.${name}.ingress.host`, svc.ingress.host),
            },
          }
        : {}),
      ...(svc.route
        ? {
            route: {
              ...svc.route,
              hostnames: svc.route.hostnames.map((h, i) =>
                host(`services.${name}.route.hostnames[${i}]`, h),
              ),
            },
          }
        : {}),
    } as PlatformConfig["services"][string];
  }
  const used = new Set(chosen.map((name) => config.services[name].namespace));
  const namespaces: PlatformConfig["namespaces"] = {};
  for (const [ns, nsConfig] of Object.entries(config.namespaces)) {
    if (!used.has(ns)) continue;
    namespaces[rename(ns)] = review.namespaceQuota
      ? { ...nsConfig, quota: review.namespaceQuota }
      : nsConfig;
  }
  const nodePools = Object.fromEntries(
    Object.entries(pools).map(([name, pool]) => {
      const room = review.reserved?.[name];
      return [name, room ? withReserved(pool, room) : pool];
    }),
  );
  if (problems.length > 0) return { problems };
  return {
    problems,
    config: {
      ...config,
      cluster: {
        ...config.cluster,
        ...(config.cluster.nodePools ? { nodePools } : {}),
      },
      namespaces,
      services,
      // A review stack that does not fit beside the others is refused, never squeezed in.
      capacity: { ...config.capacity, clusterFit: "enforce" },
      review,
    },
  };
}
