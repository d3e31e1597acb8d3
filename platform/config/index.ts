/**
 * The program's stack configuration: schema composition, overrides, validation, errors.
 */
export { crossCheck } from "./checks";
export type { ParseOptions } from "./checks";
export { ConfigError } from "./errors";
export { mergeOverrides, parsePlatformConfig } from "./parse";
export type { RawConfig } from "./parse";
export { platformSchema } from "./schema";
export type { PlatformConfig } from "./schema";
