/**
 * Checks that span several keys of the platform config: references between services and
 * namespaces, kind-specific fields, consistency of limits, quotas and node pools.
 */
import { cloudProfile } from "../../components/cloud";
import { Quantity, QUANTITY_EXAMPLES } from "../../components/quantity";
import {
  IMAGE_REF,
  isQuotaMap,
  type ResourcesConfig,
  type WorkloadConfig,
  type WorkloadKind,
} from "../../components/schema";
import { closest } from "../../components/suggest";
import type { PlatformConfig } from "./schema";

export interface ParseOptions {
  /** Whether a config key exists and whether it is a secret, for checking `secretEnv`. */
  readonly lookupSecret?: (key: string) => "secret" | "plain" | "missing";
}

/** Checks that span several keys: references, kind-specific fields, consistency. */
export function crossCheck(config: PlatformConfig, options: ParseOptions = {}): string[] {
  const problems: string[] = [];
  const namespaces = Object.keys(config.namespaces);
  const services = Object.keys(config.services);

  for (const [name, svc] of Object.entries(config.services)) {
    const at = `services.${name}`;
    const has = (field: keyof WorkloadConfig) => svc[field] !== undefined;
    const only = (field: keyof WorkloadConfig, kinds: readonly WorkloadKind[]) => {
      if (has(field) && !kinds.includes(svc.kind)) {
        problems.push(
          `${at}.${field}: not used by kind ${svc.kind} (only ${kinds.join(", ")}); remove it`,
        );
      }
    };

    if (!namespaces.includes(svc.namespace)) {
      const hint = closest(svc.namespace, namespaces);
      problems.push(
        `${at}.namespace: "${svc.namespace}" is not a configured namespace (${hint ? `did you mean "${hint}"? ` : ""}add it under namespaces or use one of: ${namespaces.join(", ") || "none defined"})`,
      );
    }
    if (typeof svc.image === "string" && !IMAGE_REF.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" is not an image reference (e.g. "ghcr.io/acme/api:1.4.2" or "ghcr.io/acme/api@sha256:<64 hex>")`,
      );
    } else if (typeof svc.image === "string" && /:latest(@|$)/.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested`,
      );
    } else if (typeof svc.image === "string" && !/[:@][^/]+$/.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" has no tag or digest (implicitly "latest"); pin a version tag or a digest`,
      );
    }

    // Kind-specific fields.
    only("ingress", ["web"]);
    only("route", ["web"]);
    only("expose", ["web", "stateful"]);
    only("autoscale", ["web", "worker"]);
    only("storage", ["stateful"]);
    only("schedule", ["cron"]);
    only("cron", ["cron"]);
    only("job", ["job"]);
    only("before", ["job"]);
    only("replicas", ["web", "worker", "stateful"]);
    only("rollout", ["web", "worker", "stateful"]);
    if (svc.kind === "cron" && !svc.schedule) {
      problems.push(`${at}.schedule: is required for kind cron (e.g. "0 3 * * *")`);
    }
    if (svc.schedule && !isCronSchedule(svc.schedule)) {
      problems.push(
        `${at}.schedule: "${svc.schedule}" is not a cron schedule (five fields, e.g. "0 3 * * *" or "@daily")`,
      );
    }
    if (svc.kind === "stateful" && !svc.storage) {
      problems.push(
        `${at}.storage: is required for kind stateful (e.g. { size: 10Gi, mountPath: /var/lib/data })`,
      );
    }
    const ports = Object.keys(svc.ports ?? {});
    if ((svc.kind === "web" || svc.kind === "stateful") && ports.length === 0) {
      problems.push(`${at}.ports: kind ${svc.kind} needs at least one port (e.g. { http: 8080 })`);
    }
    if (svc.ingress && svc.route) {
      problems.push(
        `${at}: ingress and route exclude each other; choose an Ingress or a Gateway API route`,
      );
    }
    if (svc.route && !svc.route.gateway && !config.cluster.gateway) {
      problems.push(
        `${at}.route.gateway: no gateway given and cluster.gateway is not set; set one of them`,
      );
    }
    for (const [field, portName] of [
      ["ingress.port", svc.ingress?.port],
      ["route.port", svc.route?.port],
    ] as const) {
      if (portName !== undefined && !ports.includes(portName)) {
        problems.push(
          `${at}.${field}: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
        );
      }
    }
    for (const [probeName, p] of Object.entries(svc.probes ?? {})) {
      const probePort = p?.http?.port ?? p?.tcp?.port;
      if (typeof probePort === "string" && !ports.includes(probePort)) {
        problems.push(
          `${at}.probes.${probeName}: port "${probePort}" is not one of this service's ports (${ports.join(", ") || "none"})`,
        );
      }
      if ((p?.http || p?.tcp) && probePort === undefined && ports.length === 0) {
        problems.push(`${at}.probes.${probeName}: give a port; this service declares no ports`);
      }
    }
    svc.ingressFrom?.forEach((source, i) =>
      source.ports?.forEach((portName, j) => {
        if (!ports.includes(portName)) {
          problems.push(
            `${at}.ingressFrom[${i}].ports[${j}]: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
          );
        }
      }),
    );
    if (svc.autoscale) {
      if (svc.autoscale.min > svc.autoscale.max) {
        problems.push(
          `${at}.autoscale: min (${svc.autoscale.min}) is greater than max (${svc.autoscale.max}); make max at least ${svc.autoscale.min}`,
        );
      }
      if (svc.replicas !== undefined) {
        problems.push(
          `${at}.replicas: with autoscale the HPA owns the replica count; remove replicas and set autoscale.min`,
        );
      }
    }
    if (svc.rollout && isZero(svc.rollout.maxSurge) && isZero(svc.rollout.maxUnavailable)) {
      problems.push(
        `${at}.rollout: maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress); set maxSurge to 1`,
      );
    }
    checkLimits(`${at}.resources`, svc.resources, problems);
    for (const [list, items] of [
      ["sidecars", svc.sidecars],
      ["initContainers", svc.initContainers],
    ] as const) {
      const seen = new Set<string>([name]);
      items?.forEach((c, i) => {
        if (seen.has(c.name))
          problems.push(
            `${at}.${list}[${i}].name: "${c.name}" is already used by another container of this pod`,
          );
        seen.add(c.name);
        checkLimits(`${at}.${list}[${i}].resources`, c.resources, problems);
        if (list === "sidecars" && c.restartAlways !== undefined) {
          problems.push(
            `${at}.sidecars[${i}].restartAlways: only for initContainers (native sidecars); remove it`,
          );
        }
        for (const volName of Object.keys(c.volumeMounts ?? {})) {
          if (!(svc.volumes ?? {})[volName]) {
            problems.push(
              `${at}.${list}[${i}].volumeMounts.${volName}: no volume "${volName}" in ${at}.volumes`,
            );
          }
        }
      });
    }

    // Order: jobs that run before other workloads.
    svc.before?.forEach((target, i) => {
      if (target === name) problems.push(`${at}.before[${i}]: a job cannot run before itself`);
      else if (!services.includes(target)) {
        const hint = closest(target, services);
        problems.push(
          `${at}.before[${i}]: "${target}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
        );
      }
    });
    const cycle = beforeCycle(config.services, name);
    if (cycle) problems.push(`${at}.before: the jobs wait for each other in a cycle (${cycle})`);

    // Dependencies and secrets.
    const seenDeps = new Set<string>();
    svc.dependencies?.forEach((dep, i) => {
      if (dep === name)
        problems.push(`${at}.dependencies[${i}]: a service cannot depend on itself`);
      else if (!services.includes(dep)) {
        const hint = closest(dep, services);
        problems.push(
          `${at}.dependencies[${i}]: "${dep}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
        );
      } else if (Object.keys(config.services[dep].ports ?? {}).length === 0) {
        problems.push(
          `${at}.dependencies[${i}]: "${dep}" exposes no ports, so nothing can call it; add ports to it or remove the dependency`,
        );
      }
      if (seenDeps.has(dep)) problems.push(`${at}.dependencies[${i}]: "${dep}" is listed twice`);
      seenDeps.add(dep);
    });
    if (svc.priorityClassName && !SYSTEM_PRIORITY_CLASSES.includes(svc.priorityClassName)) {
      const declared = Object.keys(config.cluster.priorityClasses ?? {});
      if (!declared.includes(svc.priorityClassName)) {
        problems.push(
          `${at}.priorityClassName: "${svc.priorityClassName}" is not declared under cluster.priorityClasses (declared: ${declared.join(", ") || "none"}); pods naming an unknown class are rejected at admission`,
        );
      }
    }
    if (svc.serviceAccount?.identity) {
      const bound = cloudProfile(config.cluster.cloud).workloadIdentity(
        svc.serviceAccount.identity,
      );
      if ("error" in bound) problems.push(`${at}.serviceAccount.identity: ${bound.error}`);
    }
    for (const [envName, key] of Object.entries(svc.secretEnv ?? {})) {
      if (svc.env && envName in svc.env) {
        problems.push(`${at}.secretEnv.${envName}: also set in env; keep it in one of them`);
      }
      const state = options.lookupSecret?.(key);
      if (state === "missing") {
        problems.push(
          `${at}.secretEnv.${envName}: config key "${key}" is not set (set it with: pulumi config set --secret ${key} <value>)`,
        );
      } else if (state === "plain") {
        problems.push(
          `${at}.secretEnv.${envName}: config key "${key}" is stored in plain text (re-set it with: pulumi config set --secret ${key} <value>)`,
        );
      }
    }
  }

  for (const [name, ns] of Object.entries(config.namespaces)) {
    for (const [key, value] of Object.entries(isQuotaMap(ns.quota) ? ns.quota : {})) {
      if (Quantity.tryParse(value) === undefined) {
        problems.push(
          `namespaces.${name}.quota.${key}: ${JSON.stringify(value)} is not a Kubernetes quantity (${QUANTITY_EXAMPLES})`,
        );
      }
    }
    const lr = ns.limits;
    for (const r of ["cpu", "memory"] as const) {
      const req = lr?.defaultRequest?.[r];
      const lim = lr?.default?.[r];
      if (req && lim && Quantity.parse(req).cmp(Quantity.parse(lim)) > 0) {
        problems.push(
          `namespaces.${name}.limits.defaultRequest.${r}: ${req} is above limits.default.${r} (${lim}); pods given these defaults would be rejected`,
        );
      }
    }
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      for (const field of ["default", "defaultRequest"] as const) {
        const value = lr?.[field]?.[r];
        const max = lr?.max?.[r];
        if (value && max && Quantity.parse(value).cmp(Quantity.parse(max)) > 0) {
          problems.push(
            `namespaces.${name}.limits.${field}.${r}: ${value} is above limits.max.${r} (${max}); lower the default or raise the max`,
          );
        }
      }
    }
  }

  const pools = config.cluster.nodePools ?? {};
  for (const [name, pool] of Object.entries(pools)) {
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      const over = pool.overhead?.[r];
      const allocatable = pool.allocatable[r];
      if (over && !allocatable) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: needs allocatable.${r} to be taken from; set cluster.nodePools.${name}.allocatable.${r} or remove the overhead`,
        );
      } else if (
        over &&
        allocatable &&
        Quantity.parse(over).cmp(Quantity.parse(allocatable)) >= 0
      ) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: ${over} leaves nothing of allocatable ${pool.allocatable[r]}; lower the overhead`,
        );
      }
    }
  }
  if (
    config.cluster.renderYamlToDirectory &&
    (config.cluster.context || config.cluster.kubeconfig)
  ) {
    problems.push(
      `cluster.renderYamlToDirectory: excludes cluster.context and cluster.kubeconfig (rendering needs no cluster); remove one or the other`,
    );
  }
  return problems;
}

/** Name of the emptyDir volume generated for a writable path. */
const SYSTEM_PRIORITY_CLASSES = ["system-cluster-critical", "system-node-critical"];

/**
 * The cycle through `start` in the jobs' `before` order ("a -> b -> a"), or undefined. Only
 * reported for the alphabetically first job of the cycle, so it appears once.
 */
function beforeCycle(
  services: Readonly<Record<string, WorkloadConfig>>,
  start: string,
): string | undefined {
  const path: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string): string | undefined => {
    path.push(node);
    for (const next of services[node]?.before ?? []) {
      if (next === node) continue; // reported on its own
      if (next === start) return [...path, start].join(" -> ");
      if (seen.has(next) || !services[next]) continue;
      seen.add(next);
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  const found = visit(start);
  if (!found) return undefined;
  const members = found.split(" -> ");
  return members.slice(0, -1).every((m) => start <= m) ? found : undefined;
}

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
