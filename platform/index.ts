/**
 * The program: stack config -> validated config -> plan -> capacity check -> Platform, which
 * registers the plan through the library's components.
 */
export { ConfigError, mergeOverrides, parsePlatformConfig, platformSchema } from "./config";
export type { PlatformConfig, RawConfig } from "./config";
export { buildContext, planPlatform } from "./plan";
export type { PlatformPlan } from "./plan";
export { Platform } from "./platform";
export type { PlatformArgs } from "./platform";
export {
  autoQuota,
  clusterFit,
  failover,
  namespaceFit,
  planCapacity,
  podResources,
  resolveQuotas,
  workloadFootprint,
} from "./capacity/capacity";
export type { CapacityReport, CapacityFinding, WorkloadFootprint } from "./capacity/capacity";
export {
  CapacityError,
  checkCapacity,
  formatCapacityMarkdown,
  formatCapacityTable,
} from "./capacity/report";
export {
  capacityDelta,
  capacityFigures,
  formatCapacityDeltaMarkdown,
  formatCapacityDeltaText,
} from "./capacity/figures";
export type { CapacityFigures } from "./capacity/figures";
export { loadPlatformConfig, rawStackConfig } from "./stack";
