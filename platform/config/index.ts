/**
 * The program's stack configuration: schema composition, overrides, validation, errors.
 */
export { crossCheck } from "./checks";
export type { ParseOptions } from "./checks";
export { ConfigError } from "./error";
export { mergeOverrides, parsePlatformConfig } from "./parse";
export type { RawConfig } from "./parse";
export { platformSchema } from "./schema";
export { isQuotaMap, tenantConfig } from "./schema";
export type { ClusterConfig, NamespaceConfig, NodePoolConfig, PlatformConfig } from "./schema";
