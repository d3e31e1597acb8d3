/**
 * The plan: every object of the stack built from the validated config, pure, before anything is
 * registered.
 */
import { cloudProfile } from "../components/cloud";
import { callerIndex, type BuildContext, type Manifest } from "../components/context";
import { buildTenant } from "../components/manifests";
import type { WorkloadConfig } from "../components/schema";
import { plannedManifests } from "../components/workload";
import { ConfigError, tenantConfig, type PlatformConfig } from "./config";

/** The environment every builder reads, derived once from the config. */
export function buildContext(config: PlatformConfig, project: string): BuildContext {
  const zones = new Set(
    Object.values(config.cluster.nodePools ?? {}).flatMap((p) => p.zones ?? []),
  );
  return {
    project,
    tier: config.tier,
    cluster: config.cluster,
    profile: cloudProfile(config.cluster.cloud),
    services: config.services,
    callers: callerIndex(config.services),
    multiZone: zones.size > 1,
  };
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
