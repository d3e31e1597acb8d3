/**
 * The component library: typed per-kind arguments, pure spec builders and thin components.
 * Nothing here reads stack config; the program in platform/ uses it as any user would. The
 * schemas behind the checks (components/schema.ts) are not part of this entry point: its type
 * declarations import nothing but @pulumi/*, so any TypeScript setup can check them.
 */
export { CLOUDS, KIND_ONLY, TIERS, WORKLOAD_KINDS } from "./types";
export type {
  Cloud,
  ClusterDefaults,
  ContainerConfig,
  EgressConfig,
  Environment,
  ImageBuildConfig,
  KindFields,
  PatchConfig,
  ProbeConfig,
  ResourceList,
  ResourcesConfig,
  TenantConfig,
  Tier,
  TolerationConfig,
  VolumeConfig,
  WorkloadConfig,
  WorkloadFields,
  WorkloadKind,
} from "./types";
export { ArgumentError } from "./args";
export type { DeepReadonly } from "./args";
export { resolveEnvironment } from "./environment";
export { checkTenant, checkWorkload } from "./validation";
export { Quantity, canonicalQuantity, isQuantity } from "./quantity";
export { cloudProfile } from "./cloud";
export type { CloudProfile } from "./cloud";
export { callerIndex } from "./context";
export type { BuildContext, Manifest, PeerRef, ResolvedEnvironment } from "./context";
export { EXPOSE_ANNOTATION, NAME_LABEL, POD_SECURITY_LABELS, TIER_LABEL } from "./labels";
export { buildWorkload } from "./manifests";
export {
  callersOf,
  dependencyNetworkPolicy,
  tenantNetworkPolicies,
  workloadNetworkPolicy,
} from "./network";
export {
  buildPodTemplate,
  MIN_CHECKSUM_KEY_LENGTH,
  rollsOnSecretChange,
  secretChecksum,
  withPodAnnotation,
} from "./podspec";
export { applyPatches, mergePatch } from "./patch";
export type { ManifestPatch } from "./patch";
export { Workload, WORKLOAD_COMPONENTS, resolveWorkload } from "./workload";
export type {
  KindArgs,
  ResolvedWorkload,
  WorkloadArgs,
  WorkloadCommonArgs,
  WorkloadDescription,
  WorkloadRef,
} from "./workload";
export { buildTenant, DEPLOYER, DEPLOYER_RULES, resolveTenant, Tenant } from "./tenant";
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
export {
  isSdkRegistrationMessage,
  SDK_DEBUG_LOGS_ENV,
  sdkRegistrationLogsOffForRun,
} from "./sdk-debug-logs";
export { STACK_TRACES_ENV, stackTracesOffForRun, withoutStackTraces } from "./stack-traces";
export type { ErrorClass, WithoutStackTracesOptions } from "./stack-traces";
