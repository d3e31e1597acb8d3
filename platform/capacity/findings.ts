/**
 * What the planner reports and how strictly: one finding per problem, with its figures and
 * the fixes to print, and the stack's capacity policy (which peaks fail).
 */
import type { PlatformConfig } from "../config/schema";

export type Severity = "error" | "warning" | "info";

export type FindingKind =
  | "steady-over-quota"
  | "rollout-blocked"
  | "max-over-quota"
  | "peak-over-quota"
  | "limit-range-max"
  | "not-modelled"
  | "unschedulable"
  | "failover";

/** One problem, with the figures for the table and the fixes to print. */
export interface CapacityFinding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** A short statement of the problem (the table's last column). */
  readonly message: string;
  /** Alternative fixes, each on its own ("raise requests.cpu in namespace shop to 6"). */
  readonly fixes: readonly string[];
  readonly namespace?: string;
  readonly workload?: string;
  /** The quota key (or `limits.memory (LimitRange max)`). */
  readonly resource?: string;
  readonly quota?: string;
  readonly steady?: string;
  readonly peak?: string;
  readonly overBy?: string;
}

export interface CapacityPolicy {
  /** Severity of HPA max or rollout peaks beyond quota. */
  readonly peakOverQuota: "warn" | "error";
  /** Whether unschedulable pods fail the deployment. */
  readonly clusterFit: "advisory" | "enforce";
  readonly scoring: "spread" | "binpack";
}

/** The stack's capacity settings with their defaults: peaks over quota fail in prod. */
export function capacityPolicy(config: PlatformConfig): CapacityPolicy {
  return {
    peakOverQuota: config.capacity?.peakOverQuota ?? (config.tier === "prod" ? "error" : "warn"),
    clusterFit: config.capacity?.clusterFit ?? "advisory",
    scoring: config.capacity?.scoring ?? "spread",
  };
}
