/**
 * The capacity figures a reviewer compares between two versions of a stack, and the bars the
 * reports draw. Free of the planner and of Pulumi, so the diff tool loads it cheaply.
 */
import type { CapacityReport } from "./capacity";

/** A ratio as a percentage; ∞ when the quota is 0 and the use is not. */
export function percent(r: number | null): string {
  return r === null ? "∞" : `${Math.round(r * 100)}%`;
}

/** A ratio as a ten-cell bar with its percentage, flagged over 100%. */
export function bar(r: number | null): string {
  const filled = r === null ? 10 : Math.min(10, Math.round(r * 10));
  return `\`${"█".repeat(filled)}${"░".repeat(10 - filled)}\` ${percent(r)}${r === null || r > 1 ? " ⚠️" : ""}`;
}

/** What a reviewer compares between two versions of a stack: each quota's and pool's use. */
export interface CapacityFigures {
  readonly quotas: readonly {
    readonly namespace: string;
    readonly resource: string;
    readonly quota: string;
    readonly steadyRatio: number | null;
    readonly peakRatio: number | null;
  }[];
  readonly pools: readonly {
    readonly pool: string;
    readonly nodes: number;
    readonly nodesUsed: number;
    readonly cpu: number;
    readonly memory: number;
    readonly pods: number;
    /**
     * What the stack requests of the pool at peak (quantities): what review stacks take off
     * the room they share with it.
     */
    readonly used: { readonly cpu: string; readonly memory: string; readonly pods: string };
  }[];
  /** Each failover scenario and the workloads that would not fit in it. */
  readonly failover: readonly { readonly scenario: string; readonly unfit: readonly string[] }[];
  /** The monthly cost estimate, when the stack has prices. */
  readonly cost?: {
    readonly currency: string;
    readonly total: number;
    readonly byNamespace: Readonly<Record<string, number>>;
  };
}

/** The figures of a report (a small stack output: its size does not grow with workloads). */
export function capacityFigures(report: CapacityReport): CapacityFigures {
  return {
    quotas: report.namespaces.flatMap((ns) =>
      ns.quota.map((q) => ({
        namespace: ns.namespace,
        resource: q.resource,
        quota: q.quota,
        steadyRatio: q.steadyRatio,
        peakRatio: q.peakRatio,
      })),
    ),
    pools: (report.cluster?.pools ?? []).map((p) => ({
      pool: p.pool,
      nodes: p.nodes,
      nodesUsed: p.nodesUsed,
      cpu: p.cpu.ratio,
      memory: p.memory.ratio,
      pods: p.pods.ratio,
      used: { cpu: p.cpu.used, memory: p.memory.used, pods: p.pods.used },
    })),
    failover: report.failover.map((f) => ({
      scenario: f.scenario,
      unfit: f.unschedulable.map((u) => u.workload),
    })),
    ...(report.cost
      ? {
          cost: {
            currency: report.cost.currency,
            total: round2(report.cost.total),
            byNamespace: Object.fromEntries(
              Object.entries(report.cost.byNamespace).map(([ns, n]) => [ns, round2(n)]),
            ),
          },
        }
      : {}),
  };
}

const round2 = (n: number) => Math.round(n * 100) / 100;

/** One line of the capacity change: what, and its use before and after (undefined: absent). */
export interface CapacityDeltaRow {
  readonly what: string;
  readonly before: number | null | undefined;
  readonly after: number | null | undefined;
}

/**
 * What a change does to capacity: the quota rows (peak use) and pool resources whose use
 * changed by at least one percentage point, and the failover scenarios whose outcome changed.
 */
export function capacityDelta(
  before: CapacityFigures | undefined,
  after: CapacityFigures,
): { rows: CapacityDeltaRow[]; failover: string[]; cost: string[] } {
  const rows: CapacityDeltaRow[] = [];
  const moved = (a: number | null | undefined, b: number | null | undefined) =>
    a === undefined || b === undefined || a === null || b === null
      ? a !== b
      : Math.abs(Math.round(a * 100) - Math.round(b * 100)) >= 1;
  const quotaKey = (q: CapacityFigures["quotas"][number]) => `${q.namespace} ${q.resource}`;
  const beforeQuotas = new Map((before?.quotas ?? []).map((q) => [quotaKey(q), q]));
  const afterQuotas = new Map(after.quotas.map((q) => [quotaKey(q), q]));
  for (const key of [...new Set([...beforeQuotas.keys(), ...afterQuotas.keys()])].sort()) {
    const [b, a] = [beforeQuotas.get(key), afterQuotas.get(key)];
    if (moved(b?.peakRatio, a?.peakRatio))
      rows.push({
        what: `quota ${key} (peak, of ${(a ?? b)!.quota})`,
        before: b?.peakRatio,
        after: a?.peakRatio,
      });
  }
  const beforePools = new Map((before?.pools ?? []).map((p) => [p.pool, p]));
  for (const p of after.pools) {
    const b = beforePools.get(p.pool);
    for (const r of ["cpu", "memory", "pods"] as const)
      if (moved(b?.[r], p[r]))
        rows.push({ what: `pool ${p.pool} ${r} (peak placement)`, before: b?.[r], after: p[r] });
  }
  const outcome = (unfit: readonly string[] | undefined) =>
    unfit === undefined
      ? "not planned"
      : unfit.length === 0
        ? "everything fits"
        : `${unfit.join(", ")} would not fit`;
  const beforeFailover = new Map((before?.failover ?? []).map((f) => [f.scenario, f.unfit]));
  const failover = after.failover
    .filter((f) => outcome(beforeFailover.get(f.scenario)) !== outcome(f.unfit))
    .map((f) => `${f.scenario}: ${outcome(beforeFailover.get(f.scenario))} → ${outcome(f.unfit)}`);
  return { rows, failover, cost: costLines(before?.cost, after.cost) };
}

/** The cost change: the total and each namespace that moved by a cent or more. */
function costLines(before: CapacityFigures["cost"], after: CapacityFigures["cost"]): string[] {
  if (!after || !before || before.currency !== after.currency) return [];
  const money = (n: number | undefined) =>
    n === undefined ? "—" : `${n.toFixed(2)} ${after.currency}`;
  const change = (a: number | undefined, b: number | undefined) => {
    const d = (b ?? 0) - (a ?? 0);
    return `${money(a)} → ${money(b)} (${d >= 0 ? "+" : "−"}${Math.abs(d).toFixed(2)})`;
  };
  if (Math.abs(after.total - before.total) < 0.01) return [];
  const namespaces = [
    ...new Set([...Object.keys(before.byNamespace), ...Object.keys(after.byNamespace)]),
  ]
    .sort()
    .filter((ns) => Math.abs((after.byNamespace[ns] ?? 0) - (before.byNamespace[ns] ?? 0)) >= 0.01);
  return [
    `cost a month: ${change(before.total, after.total)}`,
    ...namespaces.map(
      (ns) => `cost a month of ${ns}: ${change(before.byNamespace[ns], after.byNamespace[ns])}`,
    ),
  ];
}

/** The capacity change as text lines (empty when nothing moved). */
export function formatCapacityDeltaText(delta: ReturnType<typeof capacityDelta>): string[] {
  if (delta.rows.length === 0 && delta.failover.length === 0 && delta.cost.length === 0) return [];
  const use = (r: number | null | undefined) => (r === undefined ? "—" : percent(r));
  return [
    "capacity, before → after:",
    ...delta.rows.map((r) => `  ${r.what}: ${use(r.before)} → ${use(r.after)}`),
    ...delta.failover.map((f) => `  ${f}`),
    ...delta.cost.map((c) => `  ${c}`),
  ];
}

/** The capacity change as a Markdown table with bars (empty when nothing moved). */
export function formatCapacityDeltaMarkdown(delta: ReturnType<typeof capacityDelta>): string {
  if (delta.rows.length === 0 && delta.failover.length === 0 && delta.cost.length === 0) return "";
  const use = (r: number | null | undefined) => (r === undefined ? "—" : bar(r));
  return [
    "#### Capacity, before → after",
    "",
    ...(delta.rows.length > 0
      ? [
          "| | before | after |",
          "|---|---|---|",
          ...delta.rows.map((r) => `| ${r.what} | ${use(r.before)} | ${use(r.after)} |`),
          "",
        ]
      : []),
    ...delta.failover.map((f) => `- ${f}`),
    ...delta.cost.map((c) => `- ${c}`),
  ].join("\n");
}

/**
 * One line for the terminal after a render: the fullest quota at peak, each pool's fullest
 * resource, how failover went and the cost, so a plan that fits still says how close it is.
 */
export function capacityHeadline(f: CapacityFigures): string {
  const parts: string[] = [];
  const quotas = f.quotas.filter((q) => q.peakRatio !== 0);
  const fullest = [...quotas].sort(
    (a, b) => (b.peakRatio ?? Infinity) - (a.peakRatio ?? Infinity),
  )[0];
  if (fullest)
    parts.push(
      `fullest quota at peak: ${fullest.namespace} ${fullest.resource} ${percent(fullest.peakRatio)} of ${fullest.quota}`,
    );
  for (const p of f.pools) {
    const [resource, ratio] = (["cpu", "memory", "pods"] as const)
      .map((r) => [r, p[r]] as const)
      .sort((a, b) => b[1] - a[1])[0];
    parts.push(`pool ${p.pool}: ${resource} ${percent(ratio)} at peak`);
  }
  if (f.failover.length > 0) {
    const failing = f.failover.filter((s) => s.unfit.length > 0);
    parts.push(
      failing.length === 0
        ? `failover: everything fits in ${f.failover.length} scenario${f.failover.length === 1 ? "" : "s"}`
        : `failover: ${failing.length} of ${f.failover.length} scenarios leave workloads unplaced`,
    );
  }
  if (f.cost) parts.push(`cost ${f.cost.total.toFixed(2)} ${f.cost.currency} a month`);
  return `capacity: ${parts.join("; ") || "no quotas or node pools to check"} (capacity.md)`;
}
