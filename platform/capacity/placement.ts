/**
 * A pure emulation of kube-scheduler's default profile, for capacity planning: pods are placed
 * one at a time onto nodes the way the scheduler's filter and score plugins would place them.
 *
 * Filters, in the scheduler's order (the first that fails names the node's reason):
 * TaintToleration (NoSchedule/NoExecute), NodeAffinity (nodeSelector), NodeResourcesFit (cpu,
 * memory, ephemeral-storage when the node declares it, pod count) and PodTopologySpread (the
 * zone constraint when it is DoNotSchedule).
 *
 * Scores, with the default weights: NodeResourcesFit ×1 (LeastAllocated for `spread`,
 * MostAllocated for `binpack`), NodeResourcesBalancedAllocation ×1, PodTopologySpread ×2 (the
 * ScheduleAnyway constraints, normalised as upstream) and TaintToleration ×3 (PreferNoSchedule).
 * Integer arithmetic follows upstream so ties break the same way; among equal totals the first
 * node wins (the scheduler picks one at random), and every node is scored (as with
 * `percentageOfNodesToScore: 100`). Preemption and pod priority are not modelled.
 *
 * Units are plain numbers for speed: cpu in millicores, memory and ephemeral-storage in bytes.
 * Like the scheduler's default profile, only cpu and memory are scored; ephemeral-storage only
 * filters.
 *
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/kube-scheduler/
 * @see https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/
 */

type TaintEffect = "NoSchedule" | "PreferNoSchedule" | "NoExecute";

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: "Exists" | "Equal";
  readonly value?: string;
  readonly effect?: TaintEffect;
}

export interface NodeSpec {
  readonly name: string;
  /** The node pool the node belongs to (for reports). */
  readonly pool: string;
  /** Value of the zone label; undefined when the node carries none. */
  readonly zone?: string;
  /** Allocatable cpu in millicores. */
  readonly cpu: number;
  /** Allocatable memory in bytes. */
  readonly memory: number;
  /** Allocatable pod count. */
  readonly pods: number;
  /** Allocatable ephemeral-storage in bytes; undefined when unknown (then it never filters). */
  readonly ephemeralStorage?: number;
  /** Requests already on the node before any planned pod (DaemonSets, system pods). */
  readonly reserved?: {
    readonly cpu?: number;
    readonly memory?: number;
    readonly pods?: number;
    readonly ephemeralStorage?: number;
  };
  /** Node labels, matched by nodeSelector (include the hostname and zone labels). */
  readonly labels?: Readonly<Record<string, string>>;
  readonly taints?: readonly Taint[];
}

/** Pods of one owner (a ReplicaSet, a StatefulSet, a Job): identical requests and constraints. */
export interface PodGroup {
  /** A name for reports, e.g. "api" or "api (surge)". */
  readonly name: string;
  /** Pod cpu request in millicores. */
  readonly cpu: number;
  /** Pod memory request in bytes. */
  readonly memory: number;
  /** Pod ephemeral-storage request in bytes. @default 0 */
  readonly ephemeralStorage?: number;
  readonly nodeSelector?: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
  /**
   * The topology spread we generate, maxSkew 1: over hostnames ScheduleAnyway, and over zones
   * with this policy. Omit for pods without spread constraints.
   */
  readonly zoneSpread?: "DoNotSchedule" | "ScheduleAnyway";
}

/** Place `count` more pods of `groups[group]`; steps run in order, like pods queued in turn. */
export interface PlacementStep {
  readonly group: number;
  readonly count: number;
}

export interface PlacementOptions {
  /** LeastAllocated (`spread`) or MostAllocated (`binpack`) resource scoring. @default spread */
  readonly scoring?: "spread" | "binpack";
}

export interface NodeUsage {
  readonly name: string;
  /** Requested cpu (millicores), memory and ephemeral-storage (bytes) and pods, reserved included. */
  readonly cpu: number;
  readonly memory: number;
  readonly ephemeralStorage: number;
  readonly pods: number;
  /** Planned pods on the node (reserved excluded). */
  readonly planned: number;
}

export interface GroupOutcome {
  readonly name: string;
  readonly placed: number;
  readonly unplaced: number;
  /** The scheduler's FailedScheduling message for the first pod that did not fit. */
  readonly reason?: string;
  /** Pods placed per node name (nodes with none are left out). */
  readonly byNode: Readonly<Record<string, number>>;
}

export interface Placement {
  readonly nodes: readonly NodeUsage[];
  readonly groups: readonly GroupOutcome[];
  /** Placed and unplaced pods of each step, in step order. */
  readonly steps: ReadonlyArray<{ readonly placed: number; readonly unplaced: number }>;
}

const MAX_SCORE = 100;
const WEIGHT_FIT = 1;
const WEIGHT_BALANCED = 1;
const WEIGHT_SPREAD = 2;
const WEIGHT_TAINT = 3;

/** Whether a toleration tolerates a taint (k8s.io/api/core/v1 `Toleration.ToleratesTaint`). */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect !== undefined && t.effect !== taint.effect) return false;
  if (t.key !== undefined && t.key !== "" && t.key !== taint.key) return false;
  if (t.operator === "Exists") return true;
  return (t.value ?? "") === (taint.value ?? "");
}

/** Per-group node facts that do not change while placing. */
interface GroupState {
  /** 0: passes taints and nodeSelector; 1: untolerated taint; 2: nodeSelector mismatch. */
  readonly blocked: Uint8Array;
  /** Untolerated PreferNoSchedule taints per node, or undefined when there are none. */
  readonly preferPenalty: Uint16Array | undefined;
  /** Zones holding a node the pods select and tolerate (spread domains, nodeTaintsPolicy Honor). */
  readonly domains: Uint8Array;
  readonly perNode: Int32Array;
  readonly perZone: Int32Array;
  placed: number;
  unplaced: number;
  /** Set once a pod found no node: placement only adds load, so later pods cannot fit either. */
  reason: string | undefined;
}

function untoleratedTaint(
  taints: readonly Taint[],
  tolerations: readonly Toleration[],
): Taint | undefined {
  return taints.find(
    (taint) => taint.effect !== "PreferNoSchedule" && !tolerations.some((t) => tolerates(t, taint)),
  );
}

/** Whether a group's pods pass the TaintToleration and NodeAffinity (nodeSelector) filters on a node. */
export function admits(node: NodeSpec, group: PodGroup): boolean {
  return (
    untoleratedTaint(node.taints ?? [], group.tolerations ?? []) === undefined &&
    matchesSelector(node.labels ?? {}, group.nodeSelector ?? {})
  );
}

function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: Readonly<Record<string, string>>,
): boolean {
  for (const key in selector) if (labels[key] !== selector[key]) return false;
  return true;
}

/**
 * Places pods onto nodes as kube-scheduler's default profile would, one pod at a time, in step
 * order. Returns per-node usage, per-group outcomes (with the scheduler's message for pods that
 * fit nowhere) and per-step counts. Cost: O(pods × nodes).
 */
export function placePods(
  nodes: readonly NodeSpec[],
  groups: readonly PodGroup[],
  steps: readonly PlacementStep[],
  options: PlacementOptions = {},
): Placement {
  const n = nodes.length;
  const binpack = options.scoring === "binpack";
  const capCpu = new Float64Array(n);
  const capMem = new Float64Array(n);
  const capPods = new Float64Array(n);
  const usedCpu = new Float64Array(n);
  const usedMem = new Float64Array(n);
  const capEph = new Float64Array(n);
  const usedEph = new Float64Array(n);
  const usedPods = new Float64Array(n);
  const planned = new Int32Array(n);
  const zoneIndex = new Map<string, number>();
  const nodeZone = new Int32Array(n);
  nodes.forEach((node, i) => {
    capCpu[i] = node.cpu;
    capMem[i] = node.memory;
    capPods[i] = node.pods;
    usedCpu[i] = node.reserved?.cpu ?? 0;
    usedMem[i] = node.reserved?.memory ?? 0;
    capEph[i] = node.ephemeralStorage ?? Infinity;
    usedEph[i] = node.reserved?.ephemeralStorage ?? 0;
    usedPods[i] = node.reserved?.pods ?? 0;
    if (node.zone === undefined) nodeZone[i] = -1;
    else {
      if (!zoneIndex.has(node.zone)) zoneIndex.set(node.zone, zoneIndex.size);
      nodeZone[i] = zoneIndex.get(node.zone)!;
    }
  });
  const zoneCount = zoneIndex.size;

  const states = groups.map((group): GroupState => {
    const blocked = new Uint8Array(n);
    const domains = new Uint8Array(zoneCount);
    const tolerations = group.tolerations ?? [];
    const preferTolerations = tolerations.filter(
      (t) => t.effect === undefined || t.effect === "PreferNoSchedule",
    );
    let preferPenalty: Uint16Array | undefined;
    nodes.forEach((node, i) => {
      const taints = node.taints ?? [];
      const selected = matchesSelector(node.labels ?? {}, group.nodeSelector ?? {});
      const untolerated = untoleratedTaint(taints, tolerations) !== undefined;
      // Our spread constraints set nodeTaintsPolicy: Honor, so nodes the pods cannot tolerate
      // (a zone that is down and tainted, a dedicated pool) are not spread domains.
      if (selected && !untolerated && nodeZone[i] >= 0) domains[nodeZone[i]] = 1;
      blocked[i] = untolerated ? 1 : selected ? 0 : 2;
      const prefer = taints.filter(
        (t) =>
          t.effect === "PreferNoSchedule" && !preferTolerations.some((tol) => tolerates(tol, t)),
      ).length;
      if (prefer > 0) (preferPenalty ??= new Uint16Array(n))[i] = prefer;
    });
    return {
      blocked,
      preferPenalty,
      domains,
      perNode: new Int32Array(n),
      perZone: new Int32Array(zoneCount),
      placed: 0,
      unplaced: 0,
      reason: undefined,
    };
  });

  // Scratch space for one scheduling cycle.
  const feasible = new Int32Array(n);
  const baseScore = new Float64Array(n);
  const spreadRaw = new Float64Array(n);
  const zoneSeen = new Int32Array(zoneCount);
  let cycle = 0;

  /** One scheduling cycle: filter, score, bind. Returns false when no node fits. */
  const placeOne = (g: number): boolean => {
    const group = groups[g];
    const st = states[g];
    const cpu = group.cpu;
    const mem = group.memory;
    const eph = group.ephemeralStorage ?? 0;
    const hardZone = group.zoneSpread === "DoNotSchedule";
    const softZone = group.zoneSpread === "ScheduleAnyway";
    const soft = group.zoneSpread !== undefined;
    let minMatch = 0;
    if (hardZone) {
      minMatch = Infinity;
      for (let z = 0; z < zoneCount; z++)
        if (st.domains[z] === 1 && st.perZone[z] < minMatch) minMatch = st.perZone[z];
    }

    // Filter, and the resource scores that need no normalisation.
    let count = 0;
    for (let i = 0; i < n; i++) {
      if (st.blocked[i] !== 0) continue;
      const z = nodeZone[i];
      if (hardZone && (z < 0 || st.perZone[z] + 1 - minMatch > 1)) continue;
      if (usedPods[i] + 1 > capPods[i]) continue;
      const reqCpu = usedCpu[i] + cpu;
      if (reqCpu > capCpu[i]) continue;
      const reqMem = usedMem[i] + mem;
      if (reqMem > capMem[i]) continue;
      if (usedEph[i] + eph > capEph[i]) continue;
      feasible[count] = i;
      const cpuCap = capCpu[i];
      const memCap = capMem[i];
      const fit = binpack
        ? Math.floor(
            (Math.floor((reqCpu * MAX_SCORE) / cpuCap) +
              Math.floor((reqMem * MAX_SCORE) / memCap)) /
              2,
          )
        : Math.floor(
            (Math.floor(((cpuCap - reqCpu) * MAX_SCORE) / cpuCap) +
              Math.floor(((memCap - reqMem) * MAX_SCORE) / memCap)) /
              2,
          );
      const std = Math.abs(Math.min(1, reqCpu / cpuCap) - Math.min(1, reqMem / memCap)) / 2;
      baseScore[count] = WEIGHT_FIT * fit + WEIGHT_BALANCED * Math.trunc((1 - std) * MAX_SCORE);
      count++;
    }
    if (count === 0) return false;

    // PodTopologySpread scoring over the ScheduleAnyway constraints. Every constraint's key must
    // be on the node (requireAllTopologies), so with a soft zone constraint zone-less nodes score 0.
    let spreadMin = Infinity;
    let spreadMax = 0;
    if (soft) {
      cycle++;
      let scored = 0;
      let zones = 0;
      for (let k = 0; k < count; k++) {
        const z = nodeZone[feasible[k]];
        if (softZone && z < 0) continue;
        scored++;
        if (softZone && zoneSeen[z] !== cycle) {
          zoneSeen[z] = cycle;
          zones++;
        }
      }
      const hostWeight = Math.log(scored + 2);
      const zoneWeight = Math.log(zones + 2);
      for (let k = 0; k < count; k++) {
        const i = feasible[k];
        const z = nodeZone[i];
        if (softZone && z < 0) {
          spreadRaw[k] = -1;
          continue;
        }
        const raw = Math.round(
          st.perNode[i] * hostWeight + (softZone ? st.perZone[z] * zoneWeight : 0),
        );
        spreadRaw[k] = raw;
        if (raw < spreadMin) spreadMin = raw;
        if (raw > spreadMax) spreadMax = raw;
      }
    }
    let penaltyMax = 0;
    const penalty = st.preferPenalty;
    if (penalty)
      for (let k = 0; k < count; k++) penaltyMax = Math.max(penaltyMax, penalty[feasible[k]]);

    let best = -1;
    let bestScore = -Infinity;
    for (let k = 0; k < count; k++) {
      let score = baseScore[k];
      if (soft) {
        const raw = spreadRaw[k];
        const spread =
          raw < 0
            ? 0
            : spreadMax === 0
              ? MAX_SCORE
              : Math.floor((MAX_SCORE * (spreadMax + spreadMin - raw)) / spreadMax);
        score += WEIGHT_SPREAD * spread;
      }
      const taint =
        penalty && penaltyMax > 0
          ? MAX_SCORE - Math.floor((MAX_SCORE * penalty[feasible[k]]) / penaltyMax)
          : MAX_SCORE;
      score += WEIGHT_TAINT * taint;
      if (score > bestScore) {
        bestScore = score;
        best = feasible[k];
      }
    }

    usedCpu[best] += cpu;
    usedMem[best] += mem;
    usedEph[best] += eph;
    usedPods[best] += 1;
    planned[best] += 1;
    st.perNode[best] += 1;
    if (nodeZone[best] >= 0) st.perZone[nodeZone[best]] += 1;
    return true;
  };

  /** kube-scheduler's message: "0/6 nodes are available: 3 Insufficient cpu, 3 Too many pods." */
  const diagnose = (g: number): string => {
    const group = groups[g];
    const st = states[g];
    const reasons = new Map<string, number>();
    const add = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    let minMatch = Infinity;
    for (let z = 0; z < zoneCount; z++)
      if (st.domains[z] === 1 && st.perZone[z] < minMatch) minMatch = st.perZone[z];
    for (let i = 0; i < n; i++) {
      const taint = untoleratedTaint(nodes[i].taints ?? [], group.tolerations ?? []);
      if (taint) {
        add(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ""}}`);
        continue;
      }
      if (st.blocked[i] === 2) {
        add("node(s) didn't match Pod's node affinity/selector");
        continue;
      }
      const misfits = [
        usedPods[i] + 1 > capPods[i] ? "Too many pods" : "",
        usedCpu[i] + group.cpu > capCpu[i] ? "Insufficient cpu" : "",
        usedMem[i] + group.memory > capMem[i] ? "Insufficient memory" : "",
        usedEph[i] + (group.ephemeralStorage ?? 0) > capEph[i]
          ? "Insufficient ephemeral-storage"
          : "",
      ].filter((reason) => reason !== "");
      misfits.forEach(add);
      if (misfits.length > 0 || group.zoneSpread !== "DoNotSchedule") continue;
      const z = nodeZone[i];
      if (z < 0)
        add("node(s) didn't match pod topology spread constraints (missing required label)");
      else if (st.perZone[z] + 1 - minMatch > 1)
        add("node(s) didn't match pod topology spread constraints");
    }
    const histogram = [...reasons].map(([reason, count]) => `${count} ${reason}`).sort();
    return `0/${n} nodes are available${histogram.length ? `: ${histogram.join(", ")}` : ""}.`;
  };

  const stepOutcomes = steps.map(({ group, count }) => {
    const st = states[group];
    let placed = 0;
    for (let k = 0; k < count && st.reason === undefined; k++) {
      if (placeOne(group)) placed++;
      else st.reason = diagnose(group);
    }
    st.placed += placed;
    st.unplaced += count - placed;
    return { placed, unplaced: count - placed };
  });

  return {
    nodes: nodes.map((node, i) => ({
      name: node.name,
      cpu: usedCpu[i],
      memory: usedMem[i],
      ephemeralStorage: usedEph[i],
      pods: usedPods[i],
      planned: planned[i],
    })),
    groups: groups.map((group, g) => {
      const st = states[g];
      const byNode: Record<string, number> = {};
      st.perNode.forEach((c, i) => {
        if (c > 0) byNode[nodes[i].name] = c;
      });
      return {
        name: group.name,
        placed: st.placed,
        unplaced: st.unplaced,
        ...(st.reason ? { reason: st.reason } : {}),
        byNode,
      };
    }),
    steps: stepOutcomes,
  };
}
