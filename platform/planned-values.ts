/**
 * The capacity-relevant values of each workload as planned: replicas, the HPA range, the
 * rolling-update parameters, every container's resources, claim sizes and job parallelism read
 * back from the objects that will be registered, patches applied. The capacity planner and the
 * auto quotas count these, so a patch that raises replicas or resources changes their verdict,
 * and the defaults (e.g. the rollout surge) live only in the builders.
 */
import type { Manifest } from "../components/context";
import { Quantity } from "../components/quantity";
import type { ContainerConfig, ResourcesConfig, WorkloadConfig } from "../components/types";
import type { PlatformConfig } from "./config";
import { podTemplateOf } from "../components/pod-template";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined;
const intOrPercent = (v: unknown): number | string | undefined =>
  count(v) ?? (typeof v === "string" && /^\d+%$/.test(v) ? v : undefined);
const quantity = (v: unknown): string | undefined =>
  (typeof v === "string" || typeof v === "number") && Quantity.tryParse(v) !== undefined
    ? Quantity.parse(v).toString()
    : undefined;
const at = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (isObj(v) ? v[k] : undefined), o);

/** A container's requests and limits as planned; what is not a quantity keeps the config's. */
function resourcesOf(container: unknown, fallback: ResourcesConfig): ResourcesConfig {
  const list = (which: "requests" | "limits") => {
    const given = at(container, "resources", which);
    const out: Record<string, string> = {};
    for (const r of ["cpu", "memory", "ephemeral-storage"]) {
      const q = quantity(at(given, r));
      if (q !== undefined) out[r] = q;
    }
    return out;
  };
  const requests = { ...fallback.requests, ...list("requests") };
  const limits = { ...(fallback.limits ?? {}), ...list("limits") };
  return { requests, ...(Object.keys(limits).length > 0 ? { limits } : {}) };
}

function byName(list: unknown): Map<string, unknown> {
  return new Map(
    (Array.isArray(list) ? list : [])
      .filter((c) => typeof at(c, "name") === "string")
      .map((c) => [at(c, "name") as string, c]),
  );
}

/** Containers of the config, with their resources as the pod template has them. */
function containersOf(
  configured: readonly ContainerConfig[] | undefined,
  planned: Map<string, unknown>,
): ContainerConfig[] | undefined {
  return configured?.map((c) =>
    planned.has(c.name) ? { ...c, resources: resourcesOf(planned.get(c.name), c.resources) } : c,
  );
}

/** One workload's config with the values its planned objects hold. */
export function plannedWorkload(
  name: string,
  svc: WorkloadConfig,
  manifests: readonly Manifest[],
): WorkloadConfig {
  const find = (kind: string) => manifests.find((m) => m.kind === kind && m.metadata.name === name);
  const owner = find(
    {
      web: "Deployment",
      worker: "Deployment",
      stateful: "StatefulSet",
      cron: "CronJob",
      job: "Job",
    }[svc.kind],
  );
  const podSpec = owner ? podTemplateOf(owner)?.spec : undefined;
  const containers = byName(at(podSpec, "containers"));
  const inits = byName(at(podSpec, "initContainers"));
  const out: WorkloadConfig = {
    ...svc,
    resources: containers.has(name)
      ? resourcesOf(containers.get(name), svc.resources)
      : svc.resources,
  };
  const sidecars = containersOf(svc.sidecars, containers);
  if (sidecars) out.sidecars = sidecars;
  const initContainers = containersOf(svc.initContainers, inits);
  if (initContainers) out.initContainers = initContainers;

  const replicas = count(at(owner, "spec", "replicas"));
  if (replicas !== undefined && (svc.kind === "stateful" || !svc.autoscale))
    out.replicas = replicas;
  const hpa = find("HorizontalPodAutoscaler");
  const min = count(at(hpa, "spec", "minReplicas"));
  const max = count(at(hpa, "spec", "maxReplicas"));
  if (svc.autoscale && min !== undefined && max !== undefined)
    out.autoscale = { ...svc.autoscale, min, max };
  if (svc.kind === "web" || svc.kind === "worker") {
    const update = at(owner, "spec", "strategy", "rollingUpdate");
    const maxSurge = intOrPercent(at(update, "maxSurge"));
    const maxUnavailable = intOrPercent(at(update, "maxUnavailable"));
    out.rollout = {
      ...(svc.rollout ?? {}),
      ...(maxSurge !== undefined ? { maxSurge } : {}),
      ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
    };
  }
  if (svc.kind === "stateful" && svc.storage) {
    const claim = at(owner, "spec", "volumeClaimTemplates");
    const first = Array.isArray(claim) ? claim[0] : undefined;
    const size = quantity(at(first, "spec", "resources", "requests", "storage"));
    const storageClass = at(first, "spec", "storageClassName");
    out.storage = {
      ...svc.storage,
      ...(size !== undefined ? { size } : {}),
      ...(typeof storageClass === "string" ? { storageClass } : {}),
    };
  }
  if (svc.kind === "cron") {
    const policy = at(owner, "spec", "concurrencyPolicy");
    const parallelism = count(at(owner, "spec", "jobTemplate", "spec", "parallelism"));
    out.cron = {
      ...(svc.cron ?? {}),
      ...(policy === "Allow" || policy === "Forbid" || policy === "Replace"
        ? { concurrencyPolicy: policy }
        : {}),
      ...(parallelism !== undefined ? { parallelism } : {}),
    };
  }
  if (svc.kind === "job") {
    const parallelism = count(at(owner, "spec", "parallelism"));
    if (parallelism !== undefined) out.job = { ...(svc.job ?? {}), parallelism };
  }
  return out;
}

/** The config with every workload's values as planned (see plannedWorkload). */
export function withPlannedValues(
  config: PlatformConfig,
  workloads: Readonly<Record<string, readonly Manifest[]>>,
): PlatformConfig {
  return {
    ...config,
    services: Object.fromEntries(
      Object.entries(config.services).map(([name, svc]) => [
        name,
        plannedWorkload(name, svc, workloads[name] ?? []),
      ]),
    ),
  };
}
