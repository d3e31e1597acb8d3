/**
 * Reads the stack's Pulumi config into the typed platform config. The only module that touches
 * Pulumi's config; everything it returns is plain data except the secret values.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  ConfigError,
  parsePlatformConfig,
  parseStages,
  RELEASE_ENV,
  SECRET_CHECKSUM_KEY,
  STRUCTURED_VALUE_KEYS,
  type PlatformConfig,
  type RawConfig,
  verificationJobs,
  withReleaseStamp,
} from "./config";
import { directoryTree } from "./source-tree";

/**
 * Whether a config value is a secret. The SDK exports this function at run time but marks it
 * internal in its types; without it, nothing is reported as stored in plain text.
 */
function isConfigSecret(fullKey: string): boolean {
  const fn = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean })
    .isConfigSecret;
  return fn ? fn(fullKey) : true;
}

/** The project's config as short keys (without the `<project>:` prefix) to parsed values. */
export function rawStackConfig(project: string = pulumi.getProject()): {
  raw: RawConfig;
  secretKeys: Set<string>;
} {
  const raw: Record<string, unknown> = {};
  const secretKeys = new Set<string>();
  const problems: string[] = [];
  const prefix = `${project}:`;
  for (const [fullKey, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    if (isConfigSecret(fullKey)) secretKeys.add(key);
    if (STRUCTURED_VALUE_KEYS.has(key)) {
      try {
        raw[key] = JSON.parse(value);
      } catch {
        problems.push(
          key === "stages"
            ? `${key}: expected a list of stages, got ${JSON.stringify(value)} (write it as a YAML list under ${fullKey})`
            : `${key}: expected an object, got ${JSON.stringify(value)} (write it as a YAML mapping under ${fullKey})`,
        );
      }
    } else {
      raw[key] = value;
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { raw, secretKeys };
}

export interface LoadedConfig {
  readonly config: PlatformConfig;
  /** Secret config values referenced by services' secretEnv, by key. */
  readonly secrets: Record<string, pulumi.Output<string>>;
  /** The key of the `checksum/secret-env` annotations, when the stack has one. */
  readonly secretChecksumKey?: pulumi.Output<string>;
  /**
   * The release this program is (`PLATFORM_RELEASE`, set by `npm run deploy`), when known: the
   * program exports it so promotion copies what ran.
   */
  readonly release?: string;
}

/**
 * Reads and validates the stack config, with the application files it lists (read below
 * `projectDir`, the directory of Pulumi.yaml); throws one ConfigError listing every problem,
 * among them a stack pinned to another release than this program's (`PLATFORM_RELEASE`).
 */
export function loadPlatformConfig(
  projectDir: string,
  project: string = pulumi.getProject(),
): LoadedConfig {
  const { raw, secretKeys } = rawStackConfig(project);
  const release = process.env[RELEASE_ENV] || undefined;
  const parsed = parsePlatformConfig(raw, {
    lookupSecret: (key) =>
      secretKeys.has(key) ? "secret" : raw[key] === undefined ? "missing" : "plain",
    stack: pulumi.getStack(),
    program: { release },
    files: directoryTree(projectDir),
  });
  // The job services that later stages' gates verify releases with run once per release.
  const stages = raw.stages === undefined ? undefined : parseStages(raw.stages).stages;
  const config = withReleaseStamp(
    parsed,
    verificationJobs(stages ?? [], pulumi.getStack()),
    release,
  );
  const cfg = new pulumi.Config(project);
  const secrets: Record<string, pulumi.Output<string>> = {};
  for (const svc of Object.values(config.services)) {
    for (const key of Object.values(svc.secretEnv ?? {})) secrets[key] ??= cfg.requireSecret(key);
  }
  const secretChecksumKey = cfg.getSecret(SECRET_CHECKSUM_KEY);
  return {
    config,
    secrets,
    ...(secretChecksumKey ? { secretChecksumKey } : {}),
    ...(release ? { release } : {}),
  };
}
