/**
 * The capacity planner: pure functions over the typed stack config that answer, before anything
 * is applied, whether the workloads fit their namespaces' ResourceQuotas and the cluster's node
 * pools, at rest, at HPA max, during rollouts and after losing a node or a zone.
 *
 * - Pod resources follow Kubernetes: per resource, the larger of the long-running containers' sum
 *   (sidecars and native sidecars included) and the largest init-container stage; LimitRange
 *   defaults fill what a container leaves unset.
 * - A workload's footprint is given three times: steady (replicas or HPA min; the runs that can
 *   overlap for a CronJob), at max (HPA max) and at peak (HPA max plus the rollout surge).
 * - Namespace fit checks every ResourceQuota key; cluster fit places every peak pod with the
 *   scheduler emulation in `placement.ts`; failover repeats that without a node or a zone.
 *
 * Amounts are numbers internally (cpu in millicores, memory and storage in bytes, each container
 * rounded up as the scheduler does) and are printed canonically through `Quantity`. The config
 * it is given is the plan's (platform/planned-values.ts: replicas, HPA range, rollout, resources,
 * claims and parallelism as the patched objects hold them). Not modelled: patches to fields other
 * than those (e.g. node selectors or tolerations), terminating pods that still count against
 * quota until their grace period ends, pod priority and preemption.
 *
 * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment
 */
import { Quantity } from "../../components/quantity";
import type { Tier, WorkloadKind } from "../../components/schema";
import type { PlatformConfig } from "../config/schema";
import { type CostEstimate, estimateCost } from "./cost";
import { placePods } from "./placement";
import type { CapacityFinding, CapacityPolicy, Severity } from "./findings";
import { formatAmount } from "./amounts";
import { type PlannedObjects, type Planning, planning, storageClassOf } from "./planning";
import { type NamespaceFit, fitNamespaces } from "./quota";
import {
  type ClusterFit,
  type FailoverScenario,
  clusterFindings,
  clusterModel,
  failoverScenarios,
  summarise,
} from "./cluster-fit";

// The planner's public API, from the modules that hold each part.
export {
  type ResourceName,
  type ResourceAmounts,
  type PodResources,
  type LimitRangeDefaults,
  limitRangeDefaults,
  podResources,
} from "./pod-resources";
export {
  scaledValue,
  type Fenceposts,
  resolveFenceposts,
  type Footprint,
  type WorkloadFootprint,
  workloadFootprint,
} from "./footprint";
export {
  type Severity,
  type FindingKind,
  type CapacityFinding,
  type CapacityPolicy,
  capacityPolicy,
} from "./findings";
export { type PlannedObjects } from "./planning";
export {
  type QuotaUse,
  type NamespaceFit,
  namespaceFit,
  autoQuota,
  DEFAULT_AUTO_HEADROOM,
  resolveQuotas,
} from "./quota";
export {
  nodesFromPools,
  type Use,
  type PoolUse,
  type Unschedulable,
  type ClusterFit,
  type FailoverScenario,
  clusterFit,
  failover,
} from "./cluster-fit";

const GIB = 2 ** 30;

/**
 * The cost estimate of a plan: the nodes its peak needs (`needed`, by pool), its volumes and load
 * balancers.
 */
function costOf(
  plan: Planning,
  cluster: ClusterFit | undefined,
  needed: ReadonlyMap<string, number> | undefined,
): CostEstimate | undefined {
  const prices = plan.config.capacity?.prices;
  const pools = plan.config.cluster.nodePools ?? {};
  return estimateCost({
    currency: prices?.currency ?? "USD",
    pools: (cluster?.pools ?? []).map((p) => {
      const cfg = pools[p.pool];
      return {
        pool: p.pool,
        nodes: needed?.get(p.pool) ?? 0,
        ...(cfg.price ? { price: cfg.price } : {}),
        vcpus: Quantity.parse(cfg.allocatable.cpu).milliValue() / 1000,
        memoryGiB: Quantity.parse(cfg.allocatable.memory).value() / GIB,
      };
    }),
    workloads: plan.footprints.map((w) => {
      const svc = plan.config.services[w.name];
      return {
        namespace: w.namespace,
        name: w.name,
        cpu: w.peak.requests.cpu / 1000,
        memoryGiB: w.peak.requests.memory / GIB,
        ...(w.steady.storage > 0
          ? { storage: { gib: w.steady.storage / GIB, className: storageClassOf(plan, svc) } }
          : {}),
        loadBalancers: svc.expose?.type === "LoadBalancer" ? 1 : 0,
      };
    }),
    storagePrices: prices?.storage ?? {},
    ...(prices?.loadBalancer !== undefined ? { loadBalancerPrice: prices.loadBalancer } : {}),
  });
}

export interface WorkloadSummary {
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  /** One pod's requests, canonical. */
  readonly podCpu: string;
  readonly podMemory: string;
  readonly steadyPods: number;
  readonly maxPods: number;
  readonly peakPods: number;
  readonly peakCpu: string;
  readonly peakMemory: string;
}

/** Everything the planner found, as plain JSON-serialisable data (a stack output). */
export interface CapacityReport {
  readonly tier: Tier;
  readonly policy: CapacityPolicy;
  readonly workloads: readonly WorkloadSummary[];
  readonly namespaces: readonly NamespaceFit[];
  /** Absent when no `cluster.nodePools` are configured. */
  readonly cluster?: ClusterFit;
  readonly failover: readonly FailoverScenario[];
  /** The monthly cost estimate; absent when no price is configured (./cost). */
  readonly cost?: CostEstimate;
  /** Every finding, errors first. */
  readonly findings: readonly CapacityFinding[];
  readonly errors: readonly CapacityFinding[];
  readonly warnings: readonly CapacityFinding[];
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/**
 * Runs every check: footprints, namespace fit, cluster fit and failover, in one report. Give the
 * plan's config and objects (planPlatform) to check what will be registered; without objects,
 * they are built from the config.
 */
export function planCapacity(config: PlatformConfig, objects?: PlannedObjects): CapacityReport {
  const plan = planning(config, objects);
  const namespaces = fitNamespaces(plan);
  const model = clusterModel(plan);
  let cluster: ClusterFit | undefined;
  let scenarios: FailoverScenario[] = [];
  const findings = namespaces.flatMap((ns) => ns.findings);
  // The nodes the peak needs, for the cost: placed as a cluster autoscaler packs them (most-
  // allocated scoring, the spread constraints still honoured); spread scoring touches every node.
  let needed: Map<string, number> | undefined;
  if (model) {
    const placement = placePods(model.nodes, model.groups, model.steps, {
      scoring: plan.policy.scoring,
    });
    const packed =
      plan.policy.scoring === "binpack"
        ? placement
        : placePods(model.nodes, model.groups, model.steps, { scoring: "binpack" });
    needed = new Map();
    model.nodes.forEach((node, i) => {
      if (packed.nodes[i].planned > 0) needed!.set(node.pool, (needed!.get(node.pool) ?? 0) + 1);
    });
    cluster = summarise(plan, model, placement);
    scenarios = failoverScenarios(plan, model, cluster.unschedulable);
    findings.push(...clusterFindings(plan, model, cluster, scenarios));
  }
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const cost = costOf(plan, cluster, needed);
  return {
    tier: config.tier,
    policy: plan.policy,
    workloads: plan.footprints.map((w) => ({
      name: w.name,
      namespace: w.namespace,
      kind: w.kind,
      podCpu: formatAmount("cpu", w.pod.requests.cpu),
      podMemory: formatAmount("bytes", w.pod.requests.memory),
      steadyPods: w.steady.pods,
      maxPods: w.max.pods,
      peakPods: w.peak.pods,
      peakCpu: formatAmount("cpu", w.peak.requests.cpu),
      peakMemory: formatAmount("bytes", w.peak.requests.memory),
    })),
    namespaces,
    ...(cluster ? { cluster } : {}),
    failover: scenarios,
    ...(cost ? { cost } : {}),
    findings,
    errors: findings.filter((f) => f.severity === "error"),
    warnings: findings.filter((f) => f.severity === "warning"),
  };
}
