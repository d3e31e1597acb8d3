/**
 * The program's stack configuration: schema composition, overrides, validation, errors.
 */
export {
  checksumKeyNeed,
  crossCheck,
  SECRET_CHECKSUM_KEY,
  servicesNeedingChecksumKey,
} from "./checks";
export type { ParseOptions } from "./checks";
export {
  APPLICATION_FILES_KEY,
  applicationFileList,
  normalizeApplicationPath,
  readApplication,
  withOrigin,
} from "./application";
export type { Application, SourceTree } from "./application";
export { ConfigError } from "./error";
export {
  mergeOverrides,
  neededSecretKeys,
  parsePlatformConfig,
  STRUCTURED_VALUE_KEYS,
} from "./parse";
export type { RawConfig } from "./parse";
export { platformSchema } from "./schema";
export {
  isDirty,
  isRunningRelease,
  RELEASE_ANNOTATION,
  RELEASE_ENV,
  RELEASE_KEY,
  releasePinProblem,
  runningReleaseProblem,
  shortRelease,
  verificationJobs,
  verificationProblems,
  withReleaseStamp,
} from "./release";
export {
  describePipeline,
  findStage,
  formatDuration,
  parseDuration,
  parseStages,
  pathTo,
  promotionProblem,
  stagesSchema,
  unknownStage,
} from "./stages";
export type { Gate, Stage } from "./stages";
export { isQuotaMap, tenantConfig } from "./schema";
export type { ClusterConfig, NamespaceConfig, NodePoolConfig, PlatformConfig } from "./schema";
