/**
 * What every check needs, computed once from the plan's config: the build context, the capacity
 * policy, every workload's footprint and, when given, the planned objects to count.
 */
import type { BuildContext, Manifest } from "../../components/context";
import type { WorkloadConfig } from "../../components/schema";
import type { PlatformConfig } from "../config/schema";
import { buildContext } from "../context";
import { type WorkloadFootprint, workloadFootprint } from "./footprint";
import { type CapacityPolicy, capacityPolicy } from "./findings";

/** The objects of a stack as planned (planPlatform): tenants' and workloads', by owner. */
export interface PlannedObjects {
  readonly tenants: Readonly<Record<string, readonly Manifest[]>>;
  readonly workloads: Readonly<Record<string, readonly Manifest[]>>;
}

/** What every check needs, computed once. */
export interface Planning {
  readonly config: PlatformConfig;
  readonly context: BuildContext;
  readonly policy: CapacityPolicy;
  readonly footprints: readonly WorkloadFootprint[];
  /** The objects to count; built here from the config when no plan is given. */
  readonly objects?: PlannedObjects;
}

export function planning(config: PlatformConfig, objects?: PlannedObjects): Planning {
  return {
    config,
    ...(objects ? { objects } : {}),
    context: buildContext(config, "capacity"),
    policy: capacityPolicy(config),
    footprints: Object.entries(config.services).map(([name, svc]) =>
      workloadFootprint(name, svc, config.namespaces[svc.namespace]),
    ),
  };
}

export function storageClassOf(plan: Planning, svc: WorkloadConfig): string | undefined {
  return (
    svc.storage?.storageClass ??
    plan.config.cluster.storageClass ??
    plan.context.profile.storageClassName(plan.config.tier)
  );
}
