/**
 * The capacity report as text: the one readable table with fixes that a CapacityError carries,
 * the warnings logged during preview, the full terminal table and the Markdown for PR comments.
 */
import type { PlatformConfig } from "../config";
import { planCapacity, type CapacityFinding, type CapacityReport } from "./capacity";
import { bar, percent } from "./figures";
import { formatMoney } from "./cost";

// ---------------------------------------------------------------------------------------------
// Formatting

/** Left-aligned text columns, right-aligned figures, two spaces apart. */
function textTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  numeric: readonly number[] = [],
): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) =>
        numeric.includes(i)
          ? c.padStart(widths[i])
          : i === cells.length - 1
            ? c
            : c.padEnd(widths[i]),
      )
      .join("  ")
      .trimEnd();
  return [line(headers), ...rows.map(line)];
}

/** The findings as the one table (namespace, resource, quota, steady, peak, over by) and their fixes. */
function findingsText(findings: readonly CapacityFinding[]): string {
  const tabled = findings.filter((f) => f.quota !== undefined);
  const other = findings.filter((f) => f.quota === undefined);
  const lines: string[] = [];
  if (tabled.length > 0) {
    const rows = tabled.map((f) => [
      f.namespace ?? "",
      f.resource ?? "",
      f.quota ?? "",
      f.steady ?? "",
      f.peak ?? "",
      f.overBy ?? "",
      f.message,
    ]);
    lines.push(
      ...textTable(
        ["namespace", "resource", "quota", "steady", "peak", "over by", "problem"],
        rows,
        [2, 3, 4, 5],
      ).map((l) => `  ${l}`),
    );
  }
  if (other.length > 0) {
    if (lines.length > 0) lines.push("");
    lines.push(...other.map((f) => `  ${f.message}`));
  }
  const fixes = [...new Set(findings.map((f) => f.fixes.join(", or ")).filter((f) => f !== ""))];
  if (fixes.length > 0) lines.push("", "  Fixes:", ...fixes.map((f) => `  - ${f}`));
  return lines.join("\n");
}

/** The warnings of a report in the same form as a CapacityError, for `pulumi.log.warn`. */
export function formatCapacityWarnings(report: CapacityReport): string {
  const n = report.warnings.length;
  return n === 0 ? "" : `Capacity warnings (${n}):\n\n${findingsText(report.warnings)}`;
}

/** Thrown when the capacity plan has errors: one message, the table and the fixes. */
export class CapacityError extends Error {
  constructor(readonly report: CapacityReport) {
    const n = report.errors.length;
    super(
      `Capacity check failed (${n} error${n === 1 ? "" : "s"}); nothing was created:\n\n${findingsText(report.errors)}`,
    );
    this.name = "CapacityError";
  }
}

/** Plans capacity and throws a CapacityError when there are errors; returns the report otherwise. */
export function checkCapacity(config: PlatformConfig): CapacityReport {
  const report = planCapacity(config);
  if (report.errors.length > 0) throw new CapacityError(report);
  return report;
}

function policyLine(report: CapacityReport): string {
  const p = report.policy;
  return `tier ${report.tier}; peak over quota: ${p.peakOverQuota}; cluster fit: ${p.clusterFit}; scoring: ${p.scoring}`;
}

/** The whole report as terminal text. */
export function formatCapacityTable(report: CapacityReport): string {
  const out: string[] = [`Capacity plan (${policyLine(report)})`, ""];
  out.push(
    "Workloads",
    ...textTable(
      [
        "workload",
        "namespace",
        "kind",
        "pod cpu",
        "pod memory",
        "steady",
        "max",
        "peak",
        "peak cpu",
        "peak memory",
      ],
      report.workloads.map((w) => [
        w.name,
        w.namespace,
        w.kind,
        w.podCpu,
        w.podMemory,
        String(w.steadyPods),
        String(w.maxPods),
        String(w.peakPods),
        w.peakCpu,
        w.peakMemory,
      ]),
      [3, 4, 5, 6, 7, 8, 9],
    ),
  );
  const quotaRows = report.namespaces.flatMap((ns) =>
    ns.quota.map((q) => [
      ns.namespace,
      q.resource,
      q.quota,
      q.steady,
      q.max,
      q.peak,
      percent(q.peakRatio),
    ]),
  );
  if (quotaRows.length > 0) {
    out.push(
      "",
      "Namespace quotas",
      ...textTable(
        ["namespace", "resource", "quota", "steady", "max", "peak", "peak use"],
        quotaRows,
        [2, 3, 4, 5, 6],
      ),
    );
  }
  const c = report.cluster;
  if (c) {
    const eph = c.pools.some((p) => p.ephemeralStorage);
    out.push(
      "",
      `Cluster (${c.nodes} node${c.nodes === 1 ? "" : "s"}, ${c.scoring} scoring): ${c.placed} of ${c.pods} peak pod${c.pods === 1 ? "" : "s"} placed`,
      ...textTable(
        ["pool", "zones", "nodes used", "cpu", "memory", "pods", ...(eph ? ["ephemeral"] : [])],
        c.pools.map((p) => [
          p.pool,
          p.zones.join(",") || "-",
          `${p.nodesUsed}/${p.nodes}`,
          `${percent(p.cpu.ratio)} of ${p.cpu.capacity}`,
          `${percent(p.memory.ratio)} of ${p.memory.capacity}`,
          `${p.pods.used}/${p.pods.capacity}`,
          ...(eph
            ? [
                p.ephemeralStorage
                  ? `${percent(p.ephemeralStorage.ratio)} of ${p.ephemeralStorage.capacity}`
                  : "-",
              ]
            : []),
        ]),
        eph ? [3, 4, 5, 6] : [3, 4, 5],
      ),
    );
    for (const u of c.unschedulable)
      out.push(`  unschedulable: ${u.workload} ${u.unplaced} of ${u.pods}: ${u.reason}`);
  }
  if (report.failover.length > 0) {
    out.push("", "Failover");
    for (const s of report.failover) {
      out.push(
        `  ${s.scenario}: ${s.unschedulable.length === 0 ? "everything fits" : s.unschedulable.map((u) => `${u.workload} (${u.unplaced})`).join(", ") + " would not fit"}`,
      );
    }
  }
  if (report.errors.length > 0)
    out.push("", `Errors (${report.errors.length})`, findingsText(report.errors));
  if (report.warnings.length > 0)
    out.push("", `Warnings (${report.warnings.length})`, findingsText(report.warnings));
  return out.join("\n");
}

/** The cost section of the Markdown report, or the note saying how to get one. */
function costMarkdown(report: CapacityReport): string[] {
  const c = report.cost;
  if (!c)
    return [
      "_Cost: no prices configured. Give the node pools a `price` (perNodeHour, or perVcpuHour and perGiBHour) and `capacity.prices` (storage per GiB-month by class, loadBalancer per month) for an offline monthly estimate._",
    ];
  const money = (n: number) => formatMoney(n, c.currency);
  return [
    `#### Cost: ${money(c.total)} a month (offline estimate)`,
    "",
    `Nodes the peak placement needs ${money(c.nodes)}, volumes ${money(c.volumes)}, load balancers ${money(c.loadBalancers)}; by namespace: ${Object.entries(
      c.byNamespace,
    )
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([ns, n]) => `${ns} ${money(n)}`)
      .join(", ")}. Node cost is shared by peak requests.`,
    ...(c.unpriced.length
      ? ["", "Not in the total (no price):", ...c.unpriced.map((u) => `- ${u}`)]
      : []),
  ];
}

/** GitHub rejects PR comments over 65,536 characters; stay well below. */
const MARKDOWN_LIMIT = 60_000;

/** The report as Markdown with utilisation bars, for PR comments (kept under GitHub's limit). */
export function formatCapacityMarkdown(report: CapacityReport): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const out: string[] = [
    `### Capacity plan: ${report.errors.length} error${report.errors.length === 1 ? "" : "s"}, ${report.warnings.length} warning${report.warnings.length === 1 ? "" : "s"}`,
    "",
    `_${policyLine(report)}_`,
  ];
  const findings = report.findings.filter((f) => f.severity !== "info");
  if (findings.length > 0) {
    out.push(
      "",
      "| | namespace | resource | quota | steady | peak | over by | problem | fix |",
      "|---|---|---|--:|--:|--:|--:|---|---|",
    );
    for (const f of findings) {
      const icon = f.severity === "error" ? "❌" : "⚠️";
      out.push(
        `| ${icon} | ${[f.namespace ?? "", f.resource ?? "", f.quota ?? "", f.steady ?? "", f.peak ?? "", f.overBy ?? "", f.message, f.fixes.join(", or ")].map(cell).join(" | ")} |`,
      );
    }
  }
  const quotaRows = report.namespaces.flatMap((ns) =>
    ns.quota.map((q) => ({ ns: ns.namespace, q })),
  );
  if (quotaRows.length > 0) {
    out.push(
      "",
      "#### Namespace quotas",
      "",
      "| namespace | resource | quota | steady | peak | steady use | peak use |",
      "|---|---|--:|--:|--:|---|---|",
    );
    for (const { ns, q } of quotaRows)
      out.push(
        `| ${ns} | ${q.resource} | ${q.quota} | ${q.steady} | ${q.peak} | ${bar(q.steadyRatio)} | ${bar(q.peakRatio)} |`,
      );
  }
  const c = report.cluster;
  if (c) {
    const eph = c.pools.some((p) => p.ephemeralStorage);
    out.push(
      "",
      `#### Cluster: ${c.placed} of ${c.pods} peak pod${c.pods === 1 ? "" : "s"} placed on ${c.nodes} node${c.nodes === 1 ? "" : "s"} (${c.scoring} scoring)`,
      "",
      eph
        ? "| pool | zones | nodes used | cpu | memory | pods | ephemeral-storage |"
        : "| pool | zones | nodes used | cpu | memory | pods |",
      eph ? "|---|---|--:|---|---|---|---|" : "|---|---|--:|---|---|---|",
    );
    for (const p of c.pools) {
      const ephCell = eph
        ? ` ${p.ephemeralStorage ? `${bar(p.ephemeralStorage.ratio)} of ${p.ephemeralStorage.capacity}` : "-"} |`
        : "";
      out.push(
        `| ${p.pool} | ${p.zones.join(", ") || "-"} | ${p.nodesUsed}/${p.nodes} | ${bar(p.cpu.ratio)} of ${p.cpu.capacity} | ${bar(p.memory.ratio)} of ${p.memory.capacity} | ${bar(p.pods.ratio)} of ${p.pods.capacity} |${ephCell}`,
      );
    }
  }
  if (report.failover.length > 0) {
    out.push("", "#### Failover", "");
    for (const s of report.failover) {
      out.push(
        `- ${s.scenario}: ${s.unschedulable.length === 0 ? "everything fits" : s.unschedulable.map((u) => `**${u.workload}** (${u.unplaced})`).join(", ") + " would not fit"}`,
      );
    }
  }
  out.push("", ...costMarkdown(report));
  // Last, so that a stack too big for one comment loses this table first.
  if (report.workloads.length > 0) {
    const cost = report.cost;
    out.push(
      "",
      "#### Workloads",
      "",
      `| namespace | workload | kind | pod requests | pods (steady / max / peak) | peak requests |${cost ? " monthly cost |" : ""}`,
      `|---|---|---|---|--:|---|${cost ? "--:|" : ""}`,
    );
    for (const w of report.workloads)
      out.push(
        `| ${w.namespace} | ${w.name} | ${w.kind} | ${w.podCpu} cpu, ${w.podMemory} | ${w.steadyPods} / ${w.maxPods} / ${w.peakPods} | ${w.peakCpu} cpu, ${w.peakMemory} |${cost ? ` ${formatMoney(cost.byWorkload[`${w.namespace}/${w.name}`] ?? 0, cost.currency)} |` : ""}`,
      );
  }
  const text = out.join("\n");
  if (text.length <= MARKDOWN_LIMIT) return text;
  return `${text.slice(0, text.lastIndexOf("\n", MARKDOWN_LIMIT))}\n\n_(truncated; the full report is in the stack output)_`;
}
