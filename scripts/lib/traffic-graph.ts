/**
 * A picture of allowed traffic for a pull request: a Mermaid flowchart (GitHub renders it in the
 * comment) of the services a change touches and their direct neighbours, edges from the
 * services' NetworkPolicies, public entry points from the internet, and what the change adds
 * (green, thick) or removes (red, dashed). Mermaid becomes unreadable, then fails, on big graphs:
 * at most `maxNodes` nodes, the touched services first, the rest counted in a note. Pure.
 */
import type { Render } from "./diff";
import { serviceCards, serviceViews, type ServiceView } from "./service-cards";

interface Edge {
  readonly from: string;
  readonly to: string;
  readonly label: string;
}

/** Edges of a render: each service's allowed traffic (both ends' policies agree on one edge). */
function edgesOf(views: ReadonlyMap<string, ServiceView>): Map<string, Edge> {
  const edges = new Map<string, Edge>();
  const add = (from: string, to: string, label: string) =>
    edges.set(`${from} -> ${to} ${label}`, { from, to, label });
  for (const v of views.values()) {
    for (const t of v.traffic) {
      const m = /^(ingress from|egress to) (.+) on (.+)$/.exec(t);
      if (!m) continue;
      const peer = m[2];
      const ports = m[3];
      if (m[1] === "ingress from") add(peer, v.key, ports);
      else add(v.key, peer, ports);
    }
    for (const x of v.exposure) {
      const host = /^public host (\S+)/.exec(x)?.[1];
      add("internet", v.key, host ?? x);
    }
  }
  return edges;
}

/**
 * The Mermaid source of the traffic around what changed between two renders, or undefined when
 * no service changed.
 */
export function trafficGraph(base: Render, head: Render, maxNodes = 50): string | undefined {
  const cards = serviceCards(base, head);
  if (cards.length === 0) return undefined;
  const before = edgesOf(serviceViews(base));
  const after = edgesOf(serviceViews(head));
  const touched = new Set(cards.map((c) => c.service));
  const all = [...new Map([...before, ...after]).entries()];
  const near = all.filter(([, e]) => touched.has(e.from) || touched.has(e.to));
  // Nodes: the touched services first, then their neighbours, up to maxNodes.
  const order = [
    ...[...touched].sort(),
    ...[...new Set(near.flatMap(([, e]) => [e.from, e.to]))].filter((n) => !touched.has(n)).sort(),
  ];
  const nodes = order.slice(0, maxNodes);
  const shown = near.filter(([, e]) => nodes.includes(e.from) && nodes.includes(e.to));
  const id = (n: string) => `n${nodes.indexOf(n)}`;
  const label = (n: string) => n.replace(/"/g, "'");
  const added = new Set(cards.filter((c) => c.change === "added").map((c) => c.service));
  const removed = new Set(cards.filter((c) => c.change === "removed").map((c) => c.service));
  const lines = ["flowchart LR"];
  for (const n of nodes) {
    const shape =
      n === "internet"
        ? `${id(n)}(("internet"))`
        : /^\d|^namespace |^anywhere/.test(n)
          ? `${id(n)}[/"${label(n)}"/]`
          : `${id(n)}["${label(n)}"]`;
    lines.push(`  ${shape}`);
  }
  const styles: string[] = [];
  shown.forEach(([key, e], i) => {
    const isNew = !before.has(key);
    const isGone = !after.has(key);
    const arrow = isGone ? "-.->" : isNew ? "==>" : "-->";
    lines.push(`  ${id(e.from)} ${arrow}|"${label(e.label)}"| ${id(e.to)}`);
    if (isNew) styles.push(`  linkStyle ${i} stroke:#1a7f37,stroke-width:3px`);
    if (isGone) styles.push(`  linkStyle ${i} stroke:#cf222e`);
  });
  lines.push(
    "  classDef added fill:#dafbe1,stroke:#1a7f37,stroke-width:2px",
    "  classDef removed fill:#ffebe9,stroke:#cf222e,stroke-dasharray:4",
    "  classDef changed stroke:#9a6700,stroke-width:2px",
  );
  for (const n of nodes.filter((x) => touched.has(x)))
    lines.push(
      `  class ${id(n)} ${added.has(n) ? "added" : removed.has(n) ? "removed" : "changed"}`,
    );
  lines.push(...styles);
  const left = order.length - nodes.length;
  return [
    "```mermaid",
    ...lines,
    "```",
    ...(left > 0
      ? [
          `_${left} more service${left === 1 ? "" : "s"} around the change not drawn (at most ${maxNodes} nodes)._`,
        ]
      : []),
  ].join("\n");
}
