/**
 * Lists and NetworkPolicies as a reviewer reads them: items compared by value (canonical JSON),
 * what a list gained and lost, and a NetworkPolicy as the traffic it allows, one line per
 * direction, peer and rule. Pure.
 */
import type { Manifest } from "../../components/context";

/** Whether a value is a JSON object (not an array, not null). */
export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value as canonical JSON (object keys sorted), so equal items compare equal. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    isObject(x)
      ? Object.fromEntries(
          Object.keys(x)
            .sort()
            .map((k) => [k, x[k]]),
        )
      : x,
  );
}

/** Items of `after` not in `before` (+) and of `before` not in `after` (-), counting repeats. */
export function setDiff(
  before: readonly string[],
  after: readonly string[],
): { op: "+" | "-"; text: string }[] {
  const left = [...before];
  const added: string[] = [];
  for (const x of after) {
    const i = left.indexOf(x);
    if (i >= 0) left.splice(i, 1);
    else added.push(x);
  }
  return [
    ...left.map((text) => ({ op: "-" as const, text })),
    ...added.map((text) => ({ op: "+" as const, text })),
  ];
}

type Json = Record<string, unknown>;

/** A peer of a rule as it reads: `shop/worker`, `namespace shop`, `10.0.0.0/16 except ...`. */
function describePeer(peer: Json, policyNamespace: string): string {
  const labels = (sel: unknown) =>
    isObject(sel) && isObject(sel.matchLabels) ? (sel.matchLabels as Record<string, string>) : {};
  const exprs = (sel: unknown) =>
    isObject(sel) && Array.isArray(sel.matchExpressions) && sel.matchExpressions.length > 0;
  const selector = (sel: unknown) => {
    const l = labels(sel);
    const name = l["app.kubernetes.io/name"];
    const rest = Object.entries(l).filter(([k]) => k !== "app.kubernetes.io/name");
    if (name !== undefined && rest.length === 0 && !exprs(sel)) return name;
    if (Object.keys(l).length === 0 && !exprs(sel)) return "*";
    return `pods ${canonical(sel)}`;
  };
  if (isObject(peer.ipBlock)) {
    const except = Array.isArray(peer.ipBlock.except) ? peer.ipBlock.except.map(String) : [];
    return `${String(peer.ipBlock.cidr)}${except.length ? ` except ${except.join(", ")}` : ""}`;
  }
  const ns = peer.namespaceSelector;
  const pods = peer.podSelector === undefined ? undefined : selector(peer.podSelector);
  if (ns === undefined) return `${policyNamespace}/${pods ?? "*"}`;
  const nsName = labels(ns)["kubernetes.io/metadata.name"];
  const where =
    nsName !== undefined && Object.keys(labels(ns)).length === 1 && !exprs(ns)
      ? nsName
      : Object.keys(labels(ns)).length === 0 && !exprs(ns)
        ? "*"
        : `namespaces ${canonical(ns)}`;
  return pods === undefined ? `namespace ${where}` : `${where}/${pods}`;
}

/**
 * A NetworkPolicy's allowed traffic, one line per direction, peer and rule, e.g.
 * `ingress from shop/web on 3000/TCP`, `egress to 0.0.0.0/0 except 10.0.0.0/16 on 443/TCP`.
 */
export function networkPolicyTraffic(policy: Manifest): string[] {
  const spec = (policy as { spec?: Json }).spec ?? {};
  const ns = policy.metadata.namespace ?? "default";
  const lines: string[] = [];
  for (const [direction, peersKey, word] of [
    ["ingress", "from", "from"],
    ["egress", "to", "to"],
  ] as const) {
    const rules = Array.isArray(spec[direction]) ? (spec[direction] as Json[]) : [];
    for (const rule of rules) {
      const ports = Array.isArray(rule.ports) ? (rule.ports as Json[]) : [];
      const on = ports.length
        ? ` on ${ports
            .map(
              (p) =>
                `${p.port ?? "any port"}${p.endPort !== undefined ? `-${String(p.endPort)}` : ""}/${String(p.protocol ?? "TCP")}`,
            )
            .join(", ")}`
        : " on any port";
      const peers = Array.isArray(rule[peersKey]) ? (rule[peersKey] as Json[]) : [];
      if (peers.length === 0) lines.push(`${direction} ${word} anywhere${on}`);
      for (const peer of peers) lines.push(`${direction} ${word} ${describePeer(peer, ns)}${on}`);
    }
  }
  return lines;
}
