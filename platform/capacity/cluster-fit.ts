/**
 * Cluster fit and failover: the node pools as nodes, every peak pod placed with the scheduler
 * emulation in `placement.ts`, then again without each node and each zone.
 */
import { isBatch, maxReplicas } from "../../components/podspec";
import { Quantity } from "../../components/quantity";
import type { NodePoolConfig, PlatformConfig } from "../config/schema";
import {
  type NodeSpec,
  type Placement,
  type PlacementStep,
  type PodGroup,
  admits,
  placePods,
} from "./placement";
import type { WorkloadFootprint } from "./footprint";
import type { CapacityFinding } from "./findings";
import { type Unit, formatAmount } from "./amounts";
import { type Planning, planning } from "./planning";

/** Per-node specs for the configured pools: `count` nodes in each zone, overhead reserved. */
export function nodesFromPools(
  pools: Readonly<Record<string, NodePoolConfig>>,
  zoneLabel = "topology.kubernetes.io/zone",
): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (const [pool, p] of Object.entries(pools)) {
    const zones: (string | undefined)[] = p.zones?.length ? p.zones : [undefined];
    const ephText = p.allocatable["ephemeral-storage"];
    const eph = ephText ? Quantity.parse(ephText).value() : undefined;
    const ephOverhead = p.overhead?.["ephemeral-storage"];
    for (const zone of zones) {
      for (let i = 1; i <= p.count; i++) {
        const name = zone === undefined ? `${pool}-${i}` : `${pool}-${zone}-${i}`;
        nodes.push({
          name,
          pool,
          ...(zone !== undefined ? { zone } : {}),
          cpu: Quantity.parse(p.allocatable.cpu).milliValue(),
          memory: Quantity.parse(p.allocatable.memory).value(),
          pods: p.allocatable.pods,
          ...(eph !== undefined ? { ephemeralStorage: eph } : {}),
          reserved: {
            cpu: p.overhead?.cpu ? Quantity.parse(p.overhead.cpu).milliValue() : 0,
            memory: p.overhead?.memory ? Quantity.parse(p.overhead.memory).value() : 0,
            pods: p.overhead?.pods ?? 0,
            ...(ephOverhead ? { ephemeralStorage: Quantity.parse(ephOverhead).value() } : {}),
          },
          labels: {
            ...(p.labels ?? {}),
            "kubernetes.io/hostname": name,
            ...(zone !== undefined ? { [zoneLabel]: zone } : {}),
          },
          taints: p.taints ?? [],
        });
      }
    }
  }
  return nodes;
}

/** Requested over usable (allocatable minus overhead). */
export interface Use {
  readonly used: string;
  readonly capacity: string;
  readonly ratio: number;
}

export interface PoolUse {
  readonly pool: string;
  readonly zones: readonly string[];
  readonly nodes: number;
  /** Nodes running at least one planned pod. */
  readonly nodesUsed: number;
  readonly cpu: Use;
  readonly memory: Use;
  readonly pods: Use;
  /** Only when the pool declares allocatable ephemeral-storage. */
  readonly ephemeralStorage?: Use;
}

export interface Unschedulable {
  readonly workload: string;
  readonly namespace: string;
  /** Peak pods of the workload. */
  readonly pods: number;
  /** Pods that fit nowhere, at peak and among the steady ones. */
  readonly unplaced: number;
  readonly unplacedSteady: number;
  /** kube-scheduler's FailedScheduling message. */
  readonly reason: string;
}

export interface ClusterFit {
  readonly scoring: "spread" | "binpack";
  readonly nodes: number;
  readonly pods: number;
  readonly placed: number;
  readonly pools: readonly PoolUse[];
  readonly unschedulable: readonly Unschedulable[];
}

export interface FailoverScenario {
  /** e.g. "without node general-a-1 (largest)" or "without zone eu-west-1a". */
  readonly scenario: string;
  readonly nodes: number;
  /**
   * Workloads with more unplaced pods than with every node up; `unplaced` and `unplacedSteady`
   * are what the scenario adds to that baseline.
   */
  readonly unschedulable: readonly Unschedulable[];
}

/** Pod groups and placement steps: steady pods first, then HPA scale-out, then rollout surges. */
interface ClusterModel {
  readonly nodes: NodeSpec[];
  readonly groups: PodGroup[];
  readonly steps: PlacementStep[];
  /** For each step: its workload and whether its pods are steady ones. */
  readonly owners: { readonly workload: WorkloadFootprint; readonly steady: boolean }[];
}

export function clusterModel(plan: Planning): ClusterModel | undefined {
  const pools = plan.config.cluster.nodePools;
  if (!pools || Object.keys(pools).length === 0) return undefined;
  const groups: PodGroup[] = [];
  const phases: { step: PlacementStep; owner: ClusterModel["owners"][number] }[][] = [[], [], []];
  for (const w of plan.footprints) {
    const svc = plan.config.services[w.name];
    const spread = maxReplicas(svc) > 1 && !isBatch(svc);
    const group: PodGroup = {
      name: w.name,
      cpu: w.pod.requests.cpu,
      memory: w.pod.requests.memory,
      ephemeralStorage: w.pod.requests["ephemeral-storage"],
      ...(svc.nodeSelector ? { nodeSelector: svc.nodeSelector } : {}),
      ...(svc.tolerations ? { tolerations: svc.tolerations } : {}),
      ...(spread
        ? {
            zoneSpread: plan.context.multiZone
              ? ("DoNotSchedule" as const)
              : ("ScheduleAnyway" as const),
          }
        : {}),
    };
    const current = groups.push(group) - 1;
    phases[0].push({
      step: { group: current, count: w.steady.pods },
      owner: { workload: w, steady: true },
    });
    phases[1].push({
      step: { group: current, count: w.max.pods - w.steady.pods },
      owner: { workload: w, steady: false },
    });
    if (w.peak.pods > w.max.pods) {
      // The new ReplicaSet's pods: a separate owner, spread among themselves (pod-template-hash).
      const surge = groups.push({ ...group, name: `${w.name} (surge)` }) - 1;
      phases[2].push({
        step: { group: surge, count: w.peak.pods - w.max.pods },
        owner: { workload: w, steady: false },
      });
    }
  }
  const ordered = phases.flat().filter((p) => p.step.count > 0);
  return {
    nodes: nodesFromPools(pools, plan.context.profile.zoneLabel),
    groups,
    steps: ordered.map((p) => p.step),
    owners: ordered.map((p) => p.owner),
  };
}

function unschedulableOf(model: ClusterModel, placement: Placement): Unschedulable[] {
  const byWorkload = new Map<
    string,
    { w: WorkloadFootprint; unplaced: number; unplacedSteady: number; reason: string }
  >();
  placement.steps.forEach((outcome, i) => {
    if (outcome.unplaced === 0) return;
    const { workload: w, steady } = model.owners[i];
    const entry = byWorkload.get(w.name) ?? {
      w,
      unplaced: 0,
      unplacedSteady: 0,
      reason: placement.groups[model.steps[i].group].reason ?? "",
    };
    entry.unplaced += outcome.unplaced;
    if (steady) entry.unplacedSteady += outcome.unplaced;
    byWorkload.set(w.name, entry);
  });
  return [...byWorkload.values()].map(({ w, unplaced, unplacedSteady, reason }) => ({
    workload: w.name,
    namespace: w.namespace,
    pods: w.peak.pods,
    unplaced,
    unplacedSteady,
    reason,
  }));
}

function usage(unit: Unit, used: number, capacity: number): Use {
  return {
    used: formatAmount(unit, used),
    capacity: formatAmount(unit, capacity),
    ratio: capacity > 0 ? used / capacity : 0,
  };
}

export function summarise(plan: Planning, model: ClusterModel, placement: Placement): ClusterFit {
  const pools = new Map<
    string,
    {
      zones: Set<string>;
      nodes: number;
      used: number;
      cpu: [number, number];
      memory: [number, number];
      pods: [number, number];
      /** Undefined when the pool's nodes declare no ephemeral-storage. */
      eph?: [number, number];
    }
  >();
  model.nodes.forEach((node, i) => {
    const p = pools.get(node.pool) ?? {
      zones: new Set<string>(),
      nodes: 0,
      used: 0,
      cpu: [0, 0],
      memory: [0, 0],
      pods: [0, 0],
    };
    const after = placement.nodes[i];
    const reserved = {
      cpu: node.reserved?.cpu ?? 0,
      memory: node.reserved?.memory ?? 0,
      pods: node.reserved?.pods ?? 0,
    };
    if (node.zone !== undefined) p.zones.add(node.zone);
    p.nodes++;
    if (after.planned > 0) p.used++;
    p.cpu[0] += after.cpu - reserved.cpu;
    p.cpu[1] += node.cpu - reserved.cpu;
    p.memory[0] += after.memory - reserved.memory;
    p.memory[1] += node.memory - reserved.memory;
    p.pods[0] += after.planned;
    p.pods[1] += node.pods - reserved.pods;
    if (node.ephemeralStorage !== undefined) {
      const reservedEph = node.reserved?.ephemeralStorage ?? 0;
      p.eph ??= [0, 0];
      p.eph[0] += after.ephemeralStorage - reservedEph;
      p.eph[1] += node.ephemeralStorage - reservedEph;
    }
    pools.set(node.pool, p);
  });
  const pods = model.steps.reduce((sum, s) => sum + s.count, 0);
  return {
    scoring: plan.policy.scoring,
    nodes: model.nodes.length,
    pods,
    placed: placement.steps.reduce((sum, s) => sum + s.placed, 0),
    pools: [...pools].map(([pool, p]) => ({
      pool,
      zones: [...p.zones],
      nodes: p.nodes,
      nodesUsed: p.used,
      cpu: usage("cpu", p.cpu[0], p.cpu[1]),
      memory: usage("bytes", p.memory[0], p.memory[1]),
      pods: usage("count", p.pods[0], p.pods[1]),
      ...(p.eph ? { ephemeralStorage: usage("bytes", p.eph[0], p.eph[1]) } : {}),
    })),
    unschedulable: unschedulableOf(model, placement),
  };
}

/**
 * Places every peak pod onto the configured node pools as the scheduler would (see
 * `placement.ts`) and reports unschedulable pods, nodes used per pool and utilisation. Returns
 * undefined when the stack configures no `cluster.nodePools`.
 */
export function clusterFit(config: PlatformConfig): ClusterFit | undefined {
  const plan = planning(config);
  const model = clusterModel(plan);
  return (
    model &&
    summarise(
      plan,
      model,
      placePods(model.nodes, model.groups, model.steps, { scoring: plan.policy.scoring }),
    )
  );
}

/**
 * Repeats the cluster fit without the largest node and without each zone (when the pools span
 * more than one), naming the workloads that would then not fit.
 */
export function failover(config: PlatformConfig): FailoverScenario[] {
  const plan = planning(config);
  const model = clusterModel(plan);
  return model
    ? failoverScenarios(
        plan,
        model,
        unschedulableOf(
          model,
          placePods(model.nodes, model.groups, model.steps, { scoring: plan.policy.scoring }),
        ),
      )
    : [];
}

export function failoverScenarios(
  plan: Planning,
  model: ClusterModel,
  baseline: readonly Unschedulable[],
): FailoverScenario[] {
  if (model.nodes.length === 0) return [];
  const largest = model.nodes.reduce((best, node) =>
    node.cpu > best.cpu || (node.cpu === best.cpu && node.memory > best.memory) ? node : best,
  );
  const zones = [
    ...new Set(model.nodes.flatMap((node) => (node.zone === undefined ? [] : [node.zone]))),
  ];
  const scenarios: { scenario: string; keep: (node: NodeSpec) => boolean }[] = [
    { scenario: `without node ${largest.name} (largest)`, keep: (node) => node !== largest },
    ...(zones.length > 1
      ? zones.map((zone) => ({
          scenario: `without zone ${zone}`,
          keep: (node: NodeSpec) => node.zone !== zone,
        }))
      : []),
  ];
  const before = new Map(baseline.map((u) => [u.workload, u]));
  return scenarios.map(({ scenario, keep }) => {
    const nodes = model.nodes.filter(keep);
    const placement = placePods(nodes, model.groups, model.steps, { scoring: plan.policy.scoring });
    // What losing the node or zone adds: pods that do not fit even with every node up (a surge
    // that never fits, say) are the baseline's findings, not this scenario's.
    const unschedulable = unschedulableOf({ ...model, nodes }, placement).flatMap((u) => {
      const base = before.get(u.workload);
      const unplaced = u.unplaced - (base?.unplaced ?? 0);
      if (unplaced <= 0) return [];
      return [
        {
          ...u,
          unplaced,
          unplacedSteady: Math.max(0, u.unplacedSteady - (base?.unplacedSteady ?? 0)),
        },
      ];
    });
    return { scenario, nodes: nodes.length, unschedulable };
  });
}

export function clusterFindings(
  plan: Planning,
  model: ClusterModel,
  fit: ClusterFit,
  scenarios: readonly FailoverScenario[],
): CapacityFinding[] {
  const enforce = plan.policy.clusterFit === "enforce";
  const perPod = new Map(plan.footprints.map((w) => [w.name, w.pod.requests]));
  const findings: CapacityFinding[] = fit.unschedulable.map((u) => {
    const group = model.groups.find((g) => g.name === u.workload)!;
    const pods =
      u.unplacedSteady > 0
        ? `${u.unplaced} of ${u.pods} peak pods (${u.unplacedSteady} steady)`
        : `${u.unplaced} of ${u.pods} peak pods`;
    return {
      severity: enforce ? "error" : "warning",
      kind: "unschedulable",
      namespace: u.namespace,
      workload: u.workload,
      message: `${u.workload}: ${pods} cannot be scheduled: ${u.reason}`,
      fixes: [addNodesFix(plan, model, group, u.unplaced)],
    };
  });
  for (const s of scenarios) {
    if (s.unschedulable.length === 0) continue;
    const missing = { cpu: 0, memory: 0 };
    for (const u of s.unschedulable) {
      missing.cpu += u.unplaced * perPod.get(u.workload)!.cpu;
      missing.memory += u.unplaced * perPod.get(u.workload)!.memory;
    }
    findings.push({
      severity: enforce ? "warning" : "info",
      kind: "failover",
      message: `${s.scenario}: ${s.unschedulable.map((u) => `${u.workload} (${u.unplaced} pod${u.unplaced === 1 ? "" : "s"})`).join(", ")} would not fit`,
      fixes: [
        `keep about ${formatAmount("cpu", missing.cpu)} cpu and ${formatAmount("bytes", missing.memory)} memory more free on the remaining nodes`,
      ],
    });
  }
  return findings;
}

/**
 * "raise cluster.nodePools.general.count to at least 5": a lower bound from the unplaced pods and
 * how many fit on an empty node of the first pool that admits them (spread may need more).
 */
function addNodesFix(
  plan: Planning,
  model: ClusterModel,
  group: PodGroup,
  unplaced: number,
): string {
  const node = model.nodes.find((n) => admits(n, group));
  if (!node) {
    return `no node pool admits ${group.name}: add one with matching labels and taints, or change services.${group.name}.nodeSelector or tolerations`;
  }
  const free = (total: number, reserved = 0) => Math.max(total - reserved, 0);
  const perNode = Math.min(
    group.cpu > 0 ? Math.floor(free(node.cpu, node.reserved?.cpu) / group.cpu) : Infinity,
    group.memory > 0
      ? Math.floor(free(node.memory, node.reserved?.memory) / group.memory)
      : Infinity,
    free(node.pods, node.reserved?.pods),
    (group.ephemeralStorage ?? 0) > 0 && node.ephemeralStorage !== undefined
      ? Math.floor(
          free(node.ephemeralStorage, node.reserved?.ephemeralStorage) / group.ephemeralStorage!,
        )
      : Infinity,
  );
  if (perNode < 1) {
    return `use bigger nodes in pool ${node.pool} or lower services.${group.name}.resources.requests: one pod does not fit an empty node`;
  }
  const pool = plan.config.cluster.nodePools![node.pool];
  const perZone = Math.ceil(Math.ceil(unplaced / perNode) / Math.max(pool.zones?.length ?? 1, 1));
  return `raise cluster.nodePools.${node.pool}.count to at least ${pool.count + perZone}`;
}
