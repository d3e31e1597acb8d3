/**
 * NetworkPolicies as plain data. Every namespace denies all ingress and egress except DNS; each
 * workload then gets exactly the traffic its config declares: its dependencies (egress here,
 * ingress on the callee), its Ingress/route controller, explicit egress CIDRs and ingress sources.
 *
 * @see https://kubernetes.io/docs/concepts/services-networking/network-policies/
 */
import type { WorkloadConfig } from "./types";
import {
  callerIndex,
  commonLabels,
  selectorLabels,
  type BuildContext,
  type Manifest,
  type PeerRef,
  type ResolvedEnvironment,
} from "./context";

type Obj = Record<string, unknown>;
const NS_LABEL = "kubernetes.io/metadata.name";

function namespaceSelector(ns: string): Obj {
  return { matchLabels: { [NS_LABEL]: ns } };
}

function tcpPorts(
  ports: Readonly<Record<string, number>> | undefined,
  only?: readonly string[],
): Obj[] {
  return Object.entries(ports ?? {})
    .filter(([name]) => only === undefined || only.includes(name))
    .map(([, port]) => ({ protocol: "TCP", port }));
}

/** Services that list `name` among their dependencies, sorted by name. */
export function callersOf(
  services: Readonly<Record<string, { readonly dependencies?: readonly string[] }>>,
  name: string,
): string[] {
  return [...(callerIndex(services).get(name) ?? [])];
}

/** Ingress from a caller's pods, on the callee's ports. */
function callerRule(
  callerNamespace: string,
  caller: string,
  ports: Readonly<Record<string, number>> | undefined,
): Obj {
  return {
    from: [
      {
        namespaceSelector: namespaceSelector(callerNamespace),
        podSelector: { matchLabels: selectorLabels(caller) },
      },
    ],
    ports: tcpPorts(ports),
  };
}

/**
 * The callee's side of a dependency, owned by the caller: a NetworkPolicy in the callee's
 * namespace, named `<callee>-from-<caller>`, admitting the caller's pods on the callee's ports.
 * NetworkPolicies add up, so it opens exactly that path whatever the callee's own policy says.
 */
export function dependencyNetworkPolicy(
  ctx: BuildContext,
  caller: { readonly name: string; readonly namespace: string },
  callee: { readonly name: string } & PeerRef,
): Manifest {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: `${callee.name}-from-${caller.name}`,
      namespace: callee.namespace,
      labels: commonLabels(ctx, caller.name, "network-policy"),
    },
    spec: {
      podSelector: { matchLabels: selectorLabels(callee.name) },
      policyTypes: ["Ingress"],
      ingress: [callerRule(caller.namespace, caller.name, callee.ports)],
    },
  };
}

/** The namespace's baseline: deny everything, then allow DNS. */
export function tenantNetworkPolicies(ctx: ResolvedEnvironment, namespace: string): Manifest[] {
  const labels = {
    "app.kubernetes.io/part-of": ctx.project,
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const dns = ctx.profile.dnsEgress(ctx.cluster.nodeLocalDns ?? false);
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default-deny", namespace, labels },
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-dns", namespace, labels },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [{ to: dns.to, ports: dns.ports }],
      },
    },
  ];
}

/**
 * The Ingress or Gateway class a web service is reached through: its Ingress's class, else the
 * cluster's Gateway class for a route; undefined when neither says.
 */
export function edgeClass(
  ctx: Pick<ResolvedEnvironment, "cluster" | "profile">,
  svc: WorkloadConfig,
): string | undefined {
  if (svc.ingress)
    return svc.ingress.className ?? ctx.cluster.ingressClass ?? ctx.profile.ingressClass;
  return svc.route ? (ctx.cluster.gatewayClass ?? ctx.profile.gatewayClass) : undefined;
}

/**
 * Where a web service's Ingress or route traffic comes from: the controller's namespace
 * (`cluster.ingressNamespace`), and, for a class whose data plane is the cloud's load balancer,
 * the load balancer's sources (and the proxy-only subnet of GKE's Envoy-based classes) as well,
 * so its traffic and health checks are admitted whatever the namespace says.
 */
export function edgePeers(ctx: ResolvedEnvironment, svc: WorkloadConfig): Obj[] {
  const cls = edgeClass(ctx, svc);
  const peers: Obj[] = [];
  if (ctx.cluster.ingressNamespace)
    peers.push({ namespaceSelector: namespaceSelector(ctx.cluster.ingressNamespace) });
  if (cls !== undefined && ctx.profile.managedClass(cls)) {
    for (const cidr of ctx.cluster.loadBalancerSources ?? ctx.profile.loadBalancerSources ?? [])
      peers.push({ ipBlock: { cidr } });
    if (ctx.profile.proxySubnetClass(cls) && ctx.cluster.proxyOnlySubnet)
      peers.push({ ipBlock: { cidr: ctx.cluster.proxyOnlySubnet } });
  } else if (!ctx.cluster.ingressNamespace) peers.push(...ctx.profile.ingressPeers);
  return peers;
}

/**
 * The workload's own allow rules, or undefined when it needs none (the namespace's
 * default-deny then applies unchanged).
 */
export function workloadNetworkPolicy(
  ctx: BuildContext,
  name: string,
  svc: WorkloadConfig,
): Manifest | undefined {
  const ingress: Obj[] = [];
  for (const caller of ctx.callers.get(name) ?? [])
    ingress.push(callerRule(ctx.services[caller].namespace, caller, svc.ports));
  if (svc.ingress || svc.route) {
    const from = edgePeers(ctx, svc);
    const portName = svc.ingress?.port ?? svc.route?.port;
    ingress.push({ from, ports: tcpPorts(svc.ports, portName ? [portName] : undefined) });
  }
  if (svc.expose && svc.expose.type !== "ClusterIP") {
    ingress.push({ from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: tcpPorts(svc.ports) });
  }
  for (const source of svc.ingressFrom ?? []) {
    ingress.push({
      from: [{ namespaceSelector: namespaceSelector(source.namespace) }],
      ports: tcpPorts(svc.ports, source.ports),
    });
  }

  const egress: Obj[] = [];
  for (const dep of [...(svc.dependencies ?? [])].sort()) {
    const callee = ctx.services[dep];
    egress.push({
      to: [
        {
          namespaceSelector: namespaceSelector(callee.namespace),
          podSelector: { matchLabels: selectorLabels(dep) },
        },
      ],
      ports: tcpPorts(callee.ports),
    });
  }
  if (svc.serviceAccount?.identity && ctx.cluster.clusterCidrs)
    for (const rule of ctx.profile.identityEgress(ctx.cluster.clusterCidrs))
      egress.push({ to: rule.to, ports: rule.ports });
  for (const rule of svc.egress ?? []) {
    const block: Obj = { cidr: rule.cidr };
    if (rule.except?.length) block.except = rule.except;
    const entry: Obj = { to: [{ ipBlock: block }] };
    if (rule.ports?.length)
      entry.ports = rule.ports.map((port) => ({ protocol: rule.protocol ?? "TCP", port }));
    egress.push(entry);
  }

  if (ingress.length === 0 && egress.length === 0) return undefined;
  const policyTypes = [
    ...(ingress.length ? ["Ingress"] : []),
    ...(egress.length ? ["Egress"] : []),
  ];
  const spec: Obj = { podSelector: { matchLabels: selectorLabels(name) }, policyTypes };
  if (ingress.length) spec.ingress = ingress;
  if (egress.length) spec.egress = egress;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace: svc.namespace, labels: commonLabels(ctx, name, "network-policy") },
    spec,
  };
}
