/**
 * A reviewer's view of services rather than objects: for each service a change adds, removes or
 * changes, one card with what it runs (images), how many (replicas or the HPA range), what it
 * asks for (requests and limits), where it is public (hosts, LoadBalancers), who may call it and
 * what it may call (its NetworkPolicy); and, first of all, every change to exposure: a new
 * public host, a new LoadBalancer, traffic newly allowed in from outside the namespace.
 *
 * Read from two renders (the objects as YAML), so it works for any stack and any base. Pure.
 */
import { podTemplateOf } from "../../components/pod-template";
import type { Obj, Render } from "./diff";
import { isObject, networkPolicyTraffic } from "./network-traffic";

const NAME = "app.kubernetes.io/name";
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]);

/** One service as a reviewer reads it; every field a comparable, readable string. */
export interface ServiceView {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  /** `Deployment`, `StatefulSet`, ... */
  readonly kind: string;
  readonly fields: Readonly<Record<string, string>>;
  /** Public hosts (Ingress rules, HTTPRoute hostnames) and LoadBalancer Services. */
  readonly exposure: readonly string[];
  /** NetworkPolicy traffic: `ingress from ...` (who may call it), `egress to ...`. */
  readonly traffic: readonly string[];
}

type Json = Record<string, unknown>;

function labelName(o: Obj): string | undefined {
  return o.metadata.labels?.[NAME];
}

function containerLine(c: Json): string {
  const res = isObject(c.resources) ? c.resources : {};
  const fmt = (r: unknown) =>
    isObject(r)
      ? Object.keys(r)
          .sort()
          .map((k) => `${k} ${String(r[k])}`)
          .join(", ")
      : "";
  return [
    fmt(res.requests) ? `requests ${fmt(res.requests)}` : "no requests",
    fmt(res.limits) ? `limits ${fmt(res.limits)}` : "no limits",
  ].join("; ");
}

/** The services of a render, by `namespace/name`. */
export function serviceViews(render: Render): Map<string, ServiceView> {
  const objects = [...render.objects.values()];
  const views = new Map<string, ServiceView>();
  for (const w of objects) {
    if (!WORKLOADS.has(w.kind)) continue;
    const name = labelName(w) ?? w.metadata.name;
    const namespace = w.metadata.namespace ?? "";
    const own = objects.filter(
      (o) => o.metadata.namespace === namespace && labelName(o) === name && o !== w,
    );
    const template = podTemplateOf(w) as { spec?: Json } | undefined;
    const containers = Array.isArray(template?.spec?.containers)
      ? (template.spec.containers as Json[])
      : [];
    const fields: Record<string, string> = {};
    for (const c of containers) {
      fields[`image ${String(c.name)}`] = String(c.image);
      fields[`resources ${String(c.name)}`] = containerLine(c);
    }
    const spec = (w as { spec?: Json }).spec ?? {};
    const hpa = own.find((o) => o.kind === "HorizontalPodAutoscaler") as
      { spec?: Json } | undefined;
    if (hpa?.spec)
      fields.replicas = `${String(hpa.spec.minReplicas ?? 1)}-${String(hpa.spec.maxReplicas)} (autoscaled)`;
    else if (w.kind === "Deployment" || w.kind === "StatefulSet")
      fields.replicas = String(spec.replicas ?? 1);
    if (w.kind === "CronJob") fields.schedule = String(spec.schedule);
    const exposure: string[] = [];
    for (const o of own) {
      const s = (o as { spec?: Json }).spec ?? {};
      if (o.kind === "Ingress" && Array.isArray(s.rules))
        for (const r of s.rules as Json[])
          if (typeof r.host === "string") exposure.push(`public host ${r.host} (Ingress)`);
      if (o.kind === "HTTPRoute" && Array.isArray(s.hostnames))
        for (const h of s.hostnames) exposure.push(`public host ${String(h)} (HTTPRoute)`);
      if (o.kind === "Service" && s.type === "LoadBalancer")
        exposure.push(`LoadBalancer Service ${o.metadata.name}`);
    }
    const policy = own.find((o) => o.kind === "NetworkPolicy");
    views.set(`${namespace}/${name}`, {
      key: `${namespace}/${name}`,
      namespace,
      name,
      kind: w.kind,
      fields,
      exposure: exposure.sort(),
      traffic: policy ? networkPolicyTraffic(policy) : [],
    });
  }
  return views;
}

export interface ServiceCard {
  readonly service: string;
  readonly change: "added" | "removed" | "changed";
  /** The card's lines: everything for an added or removed service, what changed otherwise. */
  readonly lines: readonly string[];
}

const minus = (a: readonly string[], b: readonly string[]) => a.filter((x) => !b.includes(x));

/** A card per service added, removed or changed between the renders. */
export function serviceCards(base: Render, head: Render): ServiceCard[] {
  const before = serviceViews(base);
  const after = serviceViews(head);
  const cards: ServiceCard[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const [b, a] = [before.get(key), after.get(key)];
    if (a && !b) cards.push({ service: key, change: "added", lines: describe(a) });
    else if (b && !a) cards.push({ service: key, change: "removed", lines: describe(b) });
    else if (a && b) {
      const lines: string[] = [];
      if (a.kind !== b.kind) lines.push(`kind: ${b.kind} → ${a.kind}`);
      for (const f of [...new Set([...Object.keys(b.fields), ...Object.keys(a.fields)])].sort())
        if (b.fields[f] !== a.fields[f])
          lines.push(`${f}: ${b.fields[f] ?? "(none)"} → ${a.fields[f] ?? "(none)"}`);
      for (const x of minus(a.exposure, b.exposure)) lines.push(`+ ${x}`);
      for (const x of minus(b.exposure, a.exposure)) lines.push(`- ${x}`);
      for (const x of minus(a.traffic, b.traffic)) lines.push(`+ ${x}`);
      for (const x of minus(b.traffic, a.traffic)) lines.push(`- ${x}`);
      if (lines.length > 0) cards.push({ service: key, change: "changed", lines });
    }
  }
  return cards;
}

function describe(v: ServiceView): string[] {
  const callers = v.traffic.filter((t) => t.startsWith("ingress"));
  const calls = v.traffic.filter((t) => t.startsWith("egress"));
  return [
    `kind: ${v.kind}`,
    ...Object.keys(v.fields)
      .sort()
      .map((f) => `${f}: ${v.fields[f]}`),
    ...(v.exposure.length ? v.exposure : ["not public"]),
    ...(callers.length ? callers : ["no one may call it"]),
    ...(calls.length ? calls : ["it may call nothing"]),
  ];
}

/**
 * Exposure that a change adds: public hosts, LoadBalancers, and traffic newly allowed in from
 * another namespace or an address block (a NetworkPolicy opened), across all services.
 */
export function exposureChanges(base: Render, head: Render): string[] {
  const before = serviceViews(base);
  const out: string[] = [];
  for (const [key, a] of serviceViews(head)) {
    const b = before.get(key);
    for (const x of minus(a.exposure, b?.exposure ?? [])) out.push(`${key}: new ${x}`);
    const outside = (t: string) => {
      const m = /^ingress from (\S+)/.exec(t);
      if (!m) return false;
      const peer = m[1];
      return (
        /^\d/.test(peer) ||
        peer === "anywhere" ||
        peer === "namespace" ||
        !peer.startsWith(`${a.namespace}/`)
      );
    };
    for (const t of minus(a.traffic, b?.traffic ?? []).filter(outside))
      out.push(`${key}: NetworkPolicy opened: ${t}`);
  }
  return out;
}
