/**
 * The component library: validated config, pure spec builders and thin components.
 */
export { ConfigError, parsePlatformConfig, mergeOverrides, platformSchema } from "./config";
export type {
  PlatformConfig,
  WorkloadConfig,
  NamespaceConfig,
  ClusterConfig,
  Tier,
  WorkloadKind,
} from "./config";
export { Quantity, canonicalQuantity, isQuantity } from "./quantity";
export { cloudProfile } from "./cloud";
export type { CloudProfile, Cloud } from "./cloud";
export { buildContext } from "./context";
export type { BuildContext, Manifest } from "./context";
export { buildTenant, buildWorkload } from "./manifests";
export { callersOf, tenantNetworkPolicies, workloadNetworkPolicy } from "./network";
export { buildPodTemplate, secretChecksum, withPodAnnotation } from "./podspec";
export { applyPatches, mergePatch } from "./patch";
export type { ManifestPatch } from "./patch";
export { Tenant } from "./tenant";
export type { TenantArgs } from "./tenant";
export { WebService } from "./web-service";
export type { WebServiceArgs } from "./web-service";
export { Worker } from "./worker";
export type { WorkerArgs } from "./worker";
export { StatefulService } from "./stateful-service";
export type { StatefulServiceArgs } from "./stateful-service";
export { CronTask } from "./cron-task";
export type { CronTaskArgs } from "./cron-task";
export { Task } from "./task";
export type { TaskArgs } from "./task";
export { Image } from "./image";
export type { ImageArgs, ImageBuildArgs } from "./image";
export { Platform, planPlatform } from "./platform";
export {
  autoQuota,
  clusterFit,
  failover,
  namespaceFit,
  planCapacity,
  podResources,
  resolveQuotas,
  workloadFootprint,
} from "./capacity";
export type { CapacityReport, CapacityFinding, WorkloadFootprint } from "./capacity";
export {
  CapacityError,
  checkCapacity,
  formatCapacityMarkdown,
  formatCapacityTable,
} from "./capacity-report";
export type { PlatformArgs, PlatformPlan } from "./platform";
export { loadPlatformConfig, rawStackConfig } from "./stack";
