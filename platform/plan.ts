/**
 * The plan: every object of the stack built from the validated config, pure, before anything is
 * registered.
 */
import { callerIndex, type BuildContext, type Manifest } from "../components/context";
import { resolveEnvironment } from "../components/environment";
import { buildTenant } from "../components/tenant";
import { clusterDefaultsFields, type Environment, type WorkloadConfig } from "../components/schema";
import { plannedManifests } from "../components/workload";
import { ConfigError, tenantConfig, type PlatformConfig } from "./config";

/** The environment the library's components are built for, as the stack config states it. */
export function environmentOf(config: PlatformConfig, project: string): Environment {
  const { cluster } = config;
  const defaults = Object.fromEntries(
    Object.keys(clusterDefaultsFields)
      .map((key) => [key, cluster[key as keyof typeof clusterDefaultsFields]])
      .filter(([, value]) => value !== undefined),
  );
  const zones = new Set(Object.values(cluster.nodePools ?? {}).flatMap((p) => p.zones ?? []));
  return {
    cloud: cluster.cloud,
    tier: config.tier,
    partOf: project,
    multiZone: zones.size > 1,
    ...defaults,
  };
}

/** What every builder reads, derived once from the config: the environment and all services. */
export function buildContext(config: PlatformConfig, project: string): BuildContext {
  const { resolved, problems } = resolveEnvironment(environmentOf(config, project));
  if (!resolved) throw new ConfigError(problems);
  return { ...resolved, services: config.services, callers: callerIndex(config.services) };
}

export interface PlatformPlan {
  readonly context: BuildContext;
  /** Every generated object, by owner (namespace or service name), patches applied. */
  readonly tenants: Readonly<Record<string, Manifest[]>>;
  readonly workloads: Readonly<Record<string, Manifest[]>>;
  /** Cluster-scoped objects the platform adds (a Retain StorageClass in prod). */
  readonly cluster: Manifest[];
}

/** Placeholder image text used only while planning a workload whose image is built. */
function planningImage(svc: WorkloadConfig): string {
  return typeof svc.image === "string" ? svc.image : `${svc.image.build.repository}:<built>`;
}

/**
 * Builds every object from the config without registering anything. Throws a ConfigError listing
 * every patch that matches nothing or would change an object's identity.
 */
export function planPlatform(config: PlatformConfig, project: string): PlatformPlan {
  const context = buildContext(config, project);
  const problems: string[] = [];
  const tenants: Record<string, Manifest[]> = {};
  for (const [name, ns] of Object.entries(config.namespaces))
    tenants[name] = buildTenant(context, name, tenantConfig(name, ns));
  const workloads: Record<string, Manifest[]> = {};
  for (const [name, svc] of Object.entries(config.services)) {
    try {
      workloads[name] = plannedManifests(name, svc, context, planningImage(svc));
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const cluster: Manifest[] = [];
  const retain = context.profile.retainClass;
  const usesRetain = Object.values(workloads)
    .flat()
    .some(
      (m) =>
        m.kind === "StatefulSet" &&
        JSON.stringify(m.spec).includes(`"storageClassName":"${retain?.name}"`),
    );
  if (retain && usesRetain) {
    cluster.push({
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      metadata: {
        name: retain.name,
        labels: { "app.kubernetes.io/part-of": project, "app.kubernetes.io/managed-by": "pulumi" },
      },
      provisioner: retain.provisioner,
      parameters: retain.parameters,
      reclaimPolicy: retain.reclaimPolicy,
      volumeBindingMode: "WaitForFirstConsumer",
      allowVolumeExpansion: true,
    });
  }
  for (const [pcName, pc] of Object.entries(config.cluster.priorityClasses ?? {})) {
    cluster.push({
      apiVersion: "scheduling.k8s.io/v1",
      kind: "PriorityClass",
      metadata: {
        name: pcName,
        labels: { "app.kubernetes.io/part-of": project, "app.kubernetes.io/managed-by": "pulumi" },
      },
      value: pc.value,
      ...(pc.description ? { description: pc.description } : {}),
      ...(pc.preemptionPolicy ? { preemptionPolicy: pc.preemptionPolicy } : {}),
    });
  }
  return { context, tenants, workloads, cluster };
}
