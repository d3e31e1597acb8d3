/**
 * A workload's footprint, three times: steady (replicas or HPA min; the runs that can overlap for
 * a CronJob), at max (HPA max) and at peak (HPA max plus the rollout surge).
 */
import { Quantity } from "../../components/quantity";
import type { WorkloadConfig, WorkloadKind } from "../../components/schema";
import type { NamespaceConfig } from "../config/schema";
import { overlappingRuns } from "./cron";
import {
  type PodResources,
  RESOURCES,
  type ResourceAmounts,
  type ResourceName,
  limitRangeDefaults,
  podResources,
} from "./pod-resources";

/** An int-or-percent against a replica count, as Kubernetes' GetScaledValueFromIntOrPercent. */
export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const scaled = (Number(value.slice(0, -1)) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export interface Fenceposts {
  /** Pods allowed above the desired count. */
  readonly maxSurge: number;
  /** Pods allowed below the desired count. */
  readonly maxUnavailable: number;
}

/**
 * The Deployment controller's ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down,
 * both against the desired replicas; when both resolve to 0, maxUnavailable becomes 1.
 */
export function resolveFenceposts(
  maxSurge: number | string,
  maxUnavailable: number | string,
  desired: number,
): Fenceposts {
  const surge = scaledValue(maxSurge, desired, true);
  const unavailable = scaledValue(maxUnavailable, desired, false);
  return { maxSurge: surge, maxUnavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/** The rolling-update parameters we emit for a Deployment (see `rollingUpdate` in manifests). */
function rolloutOf(svc: WorkloadConfig): {
  maxSurge: number | string;
  maxUnavailable: number | string;
} {
  return {
    maxSurge: svc.rollout?.maxSurge ?? "25%",
    maxUnavailable: svc.rollout?.maxUnavailable ?? (svc.kind === "web" ? 0 : "25%"),
  };
}

/** What a workload holds at one moment. */
export interface Footprint {
  readonly pods: number;
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
  /** Bytes of PersistentVolumeClaim storage requests. */
  readonly storage: number;
  readonly persistentVolumeClaims: number;
}

export interface WorkloadFootprint {
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly pod: PodResources;
  /** Replicas are owned by an HPA (autoscale). */
  readonly autoscaled: boolean;
  /** Deployments only: the rolling-update fenceposts at steady and at max replicas. */
  readonly rollout?: { readonly steady: Fenceposts; readonly max: Fenceposts };
  /** Replicas (or HPA min); for a CronJob the runs that can overlap × parallelism. */
  readonly steady: Footprint;
  /** At HPA max (the steady footprint without an HPA). */
  readonly max: Footprint;
  /** At max during a rollout: max plus the surge (ceil(maxSurge × max)). */
  readonly peak: Footprint;
}

function footprint(pods: number, pod: PodResources, storage: number, claims: number): Footprint {
  const times = (a: ResourceAmounts) =>
    Object.fromEntries(RESOURCES.map((r) => [r, a[r] * pods])) as Record<ResourceName, number>;
  return {
    pods,
    requests: times(pod.requests),
    limits: times(pod.limits),
    storage,
    persistentVolumeClaims: claims,
  };
}

/**
 * A workload's steady, max and peak footprint: pods, cpu/memory/ephemeral-storage requests and
 * limits, and storage. Deployments surge by ceil(maxSurge × replicas) during a rollout; a
 * StatefulSet replaces pods one at a time without surge and keeps one claim per replica; a
 * CronJob runs `parallelism` pods per run, as many runs at once as `overlappingRuns` (cron.ts).
 */
export function workloadFootprint(
  name: string,
  svc: WorkloadConfig,
  ns?: NamespaceConfig,
): WorkloadFootprint {
  const pod = podResources(svc, limitRangeDefaults(ns));
  const base = {
    name,
    namespace: svc.namespace,
    kind: svc.kind,
    pod,
    autoscaled: svc.autoscale !== undefined,
  };
  switch (svc.kind) {
    case "cron": {
      const fp = footprint(overlappingRuns(svc) * (svc.cron?.parallelism ?? 1), pod, 0, 0);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "job": {
      // One run at a time: a re-run replaces the Job, deleting the old one first.
      const fp = footprint(svc.job?.parallelism ?? 1, pod, 0, 0);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "stateful": {
      const replicas = svc.replicas ?? 1;
      const size = svc.storage ? Quantity.parse(svc.storage.size).value() : 0;
      const fp = footprint(replicas, pod, replicas * size, replicas);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "web":
    case "worker": {
      const steady = svc.autoscale?.min ?? svc.replicas ?? 1;
      const max = svc.autoscale?.max ?? steady;
      const { maxSurge, maxUnavailable } = rolloutOf(svc);
      const rollout = {
        steady: resolveFenceposts(maxSurge, maxUnavailable, steady),
        max: resolveFenceposts(maxSurge, maxUnavailable, max),
      };
      return {
        ...base,
        rollout,
        steady: footprint(steady, pod, 0, 0),
        max: footprint(max, pod, 0, 0),
        peak: footprint(max + rollout.max.maxSurge, pod, 0, 0),
      };
    }
  }
}
