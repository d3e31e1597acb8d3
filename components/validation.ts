/**
 * The checks of one workload that its schema cannot express (references between its own fields,
 * consistency, per-cloud rules), with messages that name the key path and the fix. The library's
 * components run them on their arguments; the program runs them on every service of the stack
 * config, with the peers it knows (other services, namespaces, priority classes, secrets).
 */
import { cloudProfile } from "./cloud";
import { edgeClass } from "./network";
import { Quantity, QUANTITY_EXAMPLES } from "./quantity";
import { IMAGE_REF } from "./schema";
import {
  KIND_ONLY,
  type Cloud,
  type ClusterDefaults,
  type ResourcesConfig,
  type TenantConfig,
  type WorkloadConfig,
  type WorkloadKind,
} from "./types";
import { closest } from "./suggest";

/** What a workload is built for, as far as its checks need it: the cloud and the cluster defaults. */
export interface CheckEnvironment extends ClusterDefaults {
  readonly cloud: Cloud;
  /** Where these settings are given, for messages: `cluster` (stack config, the default) or `environment` (a component's argument). */
  readonly settingsAt?: string;
}

/** What the program knows beside one workload; each check that needs a peer runs only with it. */
export interface WorkloadPeers {
  /** The namespaces that exist. */
  readonly namespaces?: readonly string[];
  /** Every service by name (dependencies and `before` must name one; a dependency needs ports). */
  readonly services?: Readonly<
    Record<string, { readonly ports?: Readonly<Record<string, number>> }>
  >;
  /** The `before` cycle through this workload, if any ("a -> b -> a"). */
  readonly cycleOf?: (name: string) => string | undefined;
  /** PriorityClasses declared for the cluster (the system ones are always allowed). */
  readonly priorityClasses?: readonly string[];
  /** Whether a secret config key exists and is stored as a secret. */
  readonly lookupSecret?: (key: string) => "secret" | "plain" | "missing";
  /**
   * Services (in `services`) whose own fields failed their schema: they exist, but what they
   * expose is unknown, so nothing is concluded from it.
   */
  readonly unchecked?: ReadonlySet<string>;
}

/** Labels the platform sets on every object; selectors and NetworkPolicies rely on them. */
const PLATFORM_LABELS = [
  "app.kubernetes.io/name",
  "app.kubernetes.io/component",
  "app.kubernetes.io/part-of",
  "app.kubernetes.io/managed-by",
];

/** Namespaces the cluster owns: `default` and `kube-*` (kube-system, kube-public, ...). */
export const isReservedNamespace = (name: string): boolean =>
  name === "default" || name.startsWith("kube-");

/**
 * What this cloud needs to know for the workload's traffic to flow: where its load balancer
 * reaches pods from, the proxy-only subnet of GKE's Envoy-based classes, the cluster's CIDRs
 * for a workload identity's egress, and that an ALB takes its certificate from ACM.
 */
function cloudTrafficProblems(pre: string, svc: WorkloadConfig, env: CheckEnvironment): string[] {
  const problems: string[] = [];
  const at = env.settingsAt ?? "cluster";
  const profile = cloudProfile(env.cloud);
  const cls = edgeClass({ profile, cluster: env }, svc);
  const edge = svc.ingress ? "ingress" : "route";
  if (cls !== undefined && profile.managedClass(cls)) {
    if (!env.loadBalancerSources && !profile.loadBalancerSources)
      problems.push(
        `${pre}${edge}: class ${cls} is served by the cloud's load balancer, which reaches pods from its subnets; list their CIDRs in ${at}.loadBalancerSources (e.g. ["10.0.0.0/20", "10.0.16.0/20"]) so the NetworkPolicy admits exactly them`,
      );
    if (profile.proxySubnetClass(cls) && !env.proxyOnlySubnet)
      problems.push(
        `${pre}${edge}: class ${cls} proxies from the region's proxy-only subnet; set ${at}.proxyOnlySubnet (its CIDR) so the NetworkPolicy admits it`,
      );
    if (env.cloud === "eks" && cls === "alb" && svc.ingress?.tlsSecret)
      problems.push(
        `${pre}ingress.tlsSecret: the ALB ignores Ingress TLS secrets; remove it and set ${at}.certificateArn (an ACM certificate for ${svc.ingress.host}) for HTTPS`,
      );
  }
  if (svc.serviceAccount?.identity && !env.clusterCidrs && profile.identityEgress([]).length > 0)
    problems.push(
      `${pre}serviceAccount.identity: the pods must reach ${env.cloud}'s token endpoint and APIs on 443; set ${at}.clusterCidrs (the pod and service CIDRs) so egress can be opened to everything outside the cluster`,
    );
  return problems;
}

/**
 * Every problem of one workload, each naming its key path under `at` (e.g. `services.api`; an
 * empty `at` names the field alone, as a component reports its arguments).
 */
export function checkWorkload(
  at: string,
  name: string,
  svc: WorkloadConfig,
  env: CheckEnvironment,
  peers: WorkloadPeers = {},
): string[] {
  const problems: string[] = [];
  // Key paths start with `at` ("services.api.") or, for a component's own arguments, at the field.
  const pre = at ? `${at}.` : "";
  const namespaces = peers.namespaces;
  const services = peers.services ? Object.keys(peers.services) : undefined;
  if (namespaces && !namespaces.includes(svc.namespace)) {
    const hint = closest(svc.namespace, namespaces);
    problems.push(
      `${pre}namespace: "${svc.namespace}" is not a configured namespace (${hint ? `did you mean "${hint}"? ` : ""}add it under namespaces or use one of: ${namespaces.join(", ") || "none defined"})`,
    );
  }
  if (typeof svc.image === "string" && !IMAGE_REF.test(svc.image)) {
    problems.push(
      `${pre}image: "${svc.image}" is not an image reference (e.g. "ghcr.io/acme/api:1.4.2" or "ghcr.io/acme/api@sha256:<64 hex>")`,
    );
  } else if (typeof svc.image === "string" && /:latest(@|$)/.test(svc.image)) {
    problems.push(
      `${pre}image: "${svc.image}" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested`,
    );
  } else if (typeof svc.image === "string" && !/[:@][^/]+$/.test(svc.image)) {
    problems.push(
      `${pre}image: "${svc.image}" has no tag or digest (implicitly "latest"); pin a version tag or a digest`,
    );
  }

  // Kind-specific fields.
  for (const [field, kinds] of Object.entries(KIND_ONLY) as [
    keyof WorkloadConfig,
    readonly WorkloadKind[],
  ][]) {
    if (svc[field] !== undefined && !kinds.includes(svc.kind)) {
      problems.push(
        `${pre}${field}: not used by kind ${svc.kind} (only ${kinds.join(", ")}); remove it`,
      );
    }
  }
  if (svc.kind === "cron" && !svc.schedule) {
    problems.push(`${pre}schedule: is required for kind cron (e.g. "0 3 * * *")`);
  }
  if (svc.schedule && !isCronSchedule(svc.schedule)) {
    problems.push(
      `${pre}schedule: "${svc.schedule}" is not a cron schedule (five fields, e.g. "0 3 * * *" or "@daily")`,
    );
  }
  if (svc.cron?.concurrencyPolicy === "Allow" && svc.cron.activeDeadlineSeconds === undefined) {
    problems.push(
      `${pre}cron.activeDeadlineSeconds: needed with concurrencyPolicy Allow: runs could overlap without end, so their capacity cannot be planned; set the longest a run may take (e.g. 600), or use Forbid`,
    );
  }
  if (svc.kind === "stateful" && !svc.storage) {
    problems.push(
      `${pre}storage: is required for kind stateful (e.g. { size: 10Gi, mountPath: /var/lib/data })`,
    );
  }
  const ports = Object.keys(svc.ports ?? {});
  if ((svc.kind === "web" || svc.kind === "stateful") && ports.length === 0) {
    problems.push(`${pre}ports: kind ${svc.kind} needs at least one port (e.g. { http: 8080 })`);
  }
  if (svc.ingress && svc.route) {
    problems.push(
      `${at ? `${at}: ` : ""}ingress and route exclude each other; choose an Ingress or a Gateway API route`,
    );
  }
  if (svc.route && !svc.route.gateway && !env.gateway) {
    problems.push(
      `${pre}route.gateway: no gateway given and cluster.gateway is not set; set one of them`,
    );
  }
  problems.push(...cloudTrafficProblems(pre, svc, env));
  for (const key of Object.keys(svc.labels ?? {}))
    if (PLATFORM_LABELS.includes(key))
      problems.push(
        `${pre}labels.${key}: set by the platform on every object (${PLATFORM_LABELS.join(", ")}); use another key`,
      );
  for (const [field, portName] of [
    ["ingress.port", svc.ingress?.port],
    ["route.port", svc.route?.port],
  ] as const) {
    if (portName !== undefined && !ports.includes(portName)) {
      problems.push(
        `${pre}${field}: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
      );
    }
  }
  for (const [probeName, p] of Object.entries(svc.probes ?? {})) {
    const probePort = p?.http?.port ?? p?.tcp?.port;
    if (typeof probePort === "string" && !ports.includes(probePort)) {
      problems.push(
        `${pre}probes.${probeName}: port "${probePort}" is not one of this service's ports (${ports.join(", ") || "none"})`,
      );
    }
    if ((p?.http || p?.tcp) && probePort === undefined && ports.length === 0) {
      problems.push(`${pre}probes.${probeName}: give a port; this service declares no ports`);
    }
  }
  svc.ingressFrom?.forEach((source, i) =>
    source.ports?.forEach((portName, j) => {
      if (!ports.includes(portName)) {
        problems.push(
          `${pre}ingressFrom[${i}].ports[${j}]: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
        );
      }
    }),
  );
  if (svc.autoscale) {
    if (svc.autoscale.min > svc.autoscale.max) {
      problems.push(
        `${pre}autoscale: min (${svc.autoscale.min}) is greater than max (${svc.autoscale.max}); make max at least ${svc.autoscale.min}`,
      );
    }
    if (svc.replicas !== undefined) {
      problems.push(
        `${pre}replicas: with autoscale the HPA owns the replica count; remove replicas and set autoscale.min`,
      );
    }
  }
  if (svc.rollout && isZero(svc.rollout.maxSurge) && isZero(svc.rollout.maxUnavailable)) {
    problems.push(
      `${pre}rollout: maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress); set maxSurge to 1`,
    );
  }
  checkLimits(`${pre}resources`, svc.resources, problems);
  for (const [list, items] of [
    ["sidecars", svc.sidecars],
    ["initContainers", svc.initContainers],
  ] as const) {
    const seen = new Set<string>([name]);
    items?.forEach((c, i) => {
      if (seen.has(c.name))
        problems.push(
          `${pre}${list}[${i}].name: "${c.name}" is already used by another container of this pod`,
        );
      seen.add(c.name);
      checkLimits(`${pre}${list}[${i}].resources`, c.resources, problems);
      if (list === "sidecars" && c.restartAlways !== undefined) {
        problems.push(
          `${pre}sidecars[${i}].restartAlways: only for initContainers (native sidecars); remove it`,
        );
      }
      for (const volName of Object.keys(c.volumeMounts ?? {})) {
        if (!(svc.volumes ?? {})[volName]) {
          problems.push(
            `${pre}${list}[${i}].volumeMounts.${volName}: no volume "${volName}" in ${pre}volumes`,
          );
        }
      }
    });
  }

  // Order: jobs that run before other workloads.
  svc.before?.forEach((target, i) => {
    if (target === name) problems.push(`${pre}before[${i}]: a job cannot run before itself`);
    else if (services && !services.includes(target)) {
      const hint = closest(target, services);
      problems.push(
        `${pre}before[${i}]: "${target}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
      );
    }
  });
  const cycle = peers.cycleOf?.(name);
  if (cycle) problems.push(`${pre}before: the jobs wait for each other in a cycle (${cycle})`);

  // Dependencies and secrets.
  const seenDeps = new Set<string>();
  svc.dependencies?.forEach((dep, i) => {
    if (dep === name) problems.push(`${pre}dependencies[${i}]: a service cannot depend on itself`);
    else if (services && !services.includes(dep)) {
      const hint = closest(dep, services);
      problems.push(
        `${pre}dependencies[${i}]: "${dep}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
      );
    } else if (
      peers.services &&
      !peers.unchecked?.has(dep) &&
      Object.keys(peers.services[dep].ports ?? {}).length === 0
    ) {
      problems.push(
        `${pre}dependencies[${i}]: "${dep}" exposes no ports, so nothing can call it; add ports to it or remove the dependency`,
      );
    }
    if (seenDeps.has(dep)) problems.push(`${pre}dependencies[${i}]: "${dep}" is listed twice`);
    seenDeps.add(dep);
  });
  const declared = peers.priorityClasses;
  if (
    declared &&
    svc.priorityClassName &&
    !SYSTEM_PRIORITY_CLASSES.includes(svc.priorityClassName)
  ) {
    if (!declared.includes(svc.priorityClassName)) {
      problems.push(
        `${pre}priorityClassName: "${svc.priorityClassName}" is not declared under cluster.priorityClasses (declared: ${declared.join(", ") || "none"}); pods naming an unknown class are rejected at admission`,
      );
    }
  }
  if (svc.serviceAccount?.identity) {
    const bound = cloudProfile(env.cloud).workloadIdentity(svc.serviceAccount.identity);
    if ("error" in bound) problems.push(`${pre}serviceAccount.identity: ${bound.error}`);
  }
  for (const [envName, key] of Object.entries(svc.secretEnv ?? {})) {
    if (svc.env && envName in svc.env) {
      problems.push(`${pre}secretEnv.${envName}: also set in env; keep it in one of them`);
    }
    const state = peers.lookupSecret?.(key);
    if (state === "missing") {
      problems.push(
        `${pre}secretEnv.${envName}: config key "${key}" is not set (set it with: pulumi config set --secret ${key} <value>)`,
      );
    } else if (state === "plain") {
      problems.push(
        `${pre}secretEnv.${envName}: config key "${key}" is stored in plain text (re-set it with: pulumi config set --secret ${key} <value>)`,
      );
    }
  }
  return problems;
}

/** Every problem of a tenant namespace's quota and container defaults, under `at`. */
export function checkTenant(at: string, ns: TenantConfig, name?: string): string[] {
  const problems: string[] = [];
  const pre = at ? `${at}.` : "";
  if (name !== undefined && isReservedNamespace(name) && ns.allowReserved !== true)
    problems.push(
      `${at || "name"}: "${name}" is a namespace of the cluster itself; a tenant would enforce restricted Pod Security and deny all traffic in it, which can break system workloads. Use another name, or set ${pre}allowReserved: true if you really mean to manage it`,
    );
  for (const [key, value] of Object.entries(ns.quota ?? {})) {
    if (Quantity.tryParse(value) === undefined) {
      problems.push(
        `${pre}quota.${key}: ${JSON.stringify(value)} is not a Kubernetes quantity (${QUANTITY_EXAMPLES})`,
      );
    }
  }
  const lr = ns.limits;
  for (const r of ["cpu", "memory"] as const) {
    const req = lr?.defaultRequest?.[r];
    const lim = lr?.default?.[r];
    if (req && lim && Quantity.parse(req).cmp(Quantity.parse(lim)) > 0) {
      problems.push(
        `${pre}limits.defaultRequest.${r}: ${req} is above limits.default.${r} (${lim}); pods given these defaults would be rejected`,
      );
    }
  }
  for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
    for (const field of ["default", "defaultRequest"] as const) {
      const value = lr?.[field]?.[r];
      const max = lr?.max?.[r];
      if (value && max && Quantity.parse(value).cmp(Quantity.parse(max)) > 0) {
        problems.push(
          `${pre}limits.${field}.${r}: ${value} is above limits.max.${r} (${max}); lower the default or raise the max`,
        );
      }
    }
  }
  return problems;
}

const SYSTEM_PRIORITY_CLASSES = ["system-cluster-critical", "system-node-critical"];

function isZero(v: number | string | undefined): boolean {
  return v === 0 || v === "0%";
}

function checkLimits(at: string, res: ResourcesConfig, problems: string[]): void {
  for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
    const req = res.requests[r];
    const lim = res.limits?.[r];
    if (req && lim && Quantity.parse(lim).cmp(Quantity.parse(req)) < 0) {
      problems.push(
        `${at}.limits.${r}: ${lim} is below requests.${r} (${req}); raise the limit to at least ${req}`,
      );
    }
  }
}

const CRON_FIELD =
  /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
function isCronSchedule(s: string): boolean {
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s)) return true;
  const fields = s.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => CRON_FIELD.test(f));
}
