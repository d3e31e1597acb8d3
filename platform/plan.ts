/**
 * The plan: every object of the stack built from the validated config, pure, before anything is
 * registered.
 */
import type { BuildContext, Manifest } from "../components/context";
import type { WorkloadConfig } from "../components/schema";
import { checkObjects, identityCollisions } from "../components/object-checks";
import { buildTenant } from "../components/tenant";
import { plannedManifests, type PlanOptions } from "../components/workload";
import { resolveQuotas } from "./capacity/capacity";
import { ConfigError, tenantConfig, type PlatformConfig } from "./config";
import { buildContext } from "./context";
import { withPlannedValues } from "./planned-values";

export { buildContext, environmentOf } from "./context";

export interface PlatformPlan {
  /**
   * The config as planned: each workload's replicas, HPA range, rollout, resources, claims and
   * parallelism read back from its objects (patches applied), and `auto` quotas sized from them.
   * What the capacity planner checks.
   */
  readonly config: PlatformConfig;
  readonly context: BuildContext;
  /** Every generated object, by owner (namespace or service name), patches applied. */
  readonly tenants: Readonly<Record<string, Manifest[]>>;
  readonly workloads: Readonly<Record<string, Manifest[]>>;
  /**
   * Cluster-scoped objects the platform adds (the PriorityClasses, a Retain StorageClass in
   * prod); none in a review stack, which uses its base stage's.
   */
  readonly cluster: Manifest[];
}

/** Placeholder image text used only while planning a workload whose image is built. */
function planningImage(svc: WorkloadConfig): string {
  return typeof svc.image === "string" ? svc.image : `${svc.image.build.repository}:<built>`;
}

/** The secret inputs of a plan; without them it is complete except for secret values. */
export type PlanSecrets = Pick<PlanOptions, "secrets" | "secretChecksumKey">;

/**
 * Builds every object from the config without registering anything: the workloads first (with
 * their env Secrets, and the checksum annotations when `secrets` holds every value `secretEnv`
 * names and `secretChecksumKey` is given), then the tenants with `auto` quotas sized from what
 * the workloads will really run. Throws a ConfigError listing every patch that matches nothing
 * or would change an object's identity.
 */
export function planPlatform(
  stackConfig: PlatformConfig,
  project: string,
  { secrets, secretChecksumKey }: PlanSecrets = {},
): PlatformPlan {
  const context = buildContext(stackConfig, project);
  const problems: string[] = [];
  const workloads: Record<string, Manifest[]> = {};
  for (const [name, svc] of Object.entries(stackConfig.services)) {
    try {
      workloads[name] = plannedManifests(name, svc, context, planningImage(svc), {
        secrets,
        secretChecksumKey,
      });
    } catch (e) {
      problems.push((e as Error).message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = resolveQuotas(withPlannedValues(stackConfig, workloads));
  const tenants: Record<string, Manifest[]> = {};
  for (const [name, ns] of Object.entries(config.namespaces))
    tenants[name] = buildTenant(context, name, tenantConfig(name, ns));
  const cluster: Manifest[] = [];
  // A review stack uses its base stage's cluster-scoped objects and never owns them: destroying
  // it must not delete what the base stage's workloads need.
  const ownsClusterObjects = config.review === undefined;
  const retain = ownsClusterObjects ? context.profile.retainClass : undefined;
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
  for (const [pcName, pc] of Object.entries(
    ownsClusterObjects ? (config.cluster.priorityClasses ?? {}) : {},
  )) {
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
  // Every object as the API server will check it, and each object with one owner.
  const sources = [
    ...Object.entries(tenants).map(([n, manifests]) => ({ source: `namespaces.${n}`, manifests })),
    ...Object.entries(workloads).map(([n, manifests]) => ({ source: `services.${n}`, manifests })),
    { source: "cluster", manifests: cluster },
  ];
  const objectProblems = [
    ...sources.flatMap(({ source, manifests }) =>
      checkObjects(manifests).map((p) => `${source}: ${p}`),
    ),
    ...identityCollisions(sources),
  ];
  if (objectProblems.length > 0) throw new ConfigError(objectProblems);
  return { config, context, tenants, workloads, cluster };
}
