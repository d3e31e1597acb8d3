/**
 * From raw stack config to the typed platform config: merge the per-stack overrides over the
 * application, validate the document, then run the checks that span several keys.
 *
 * Config keys (all in the project's namespace, `platform:` by default):
 * - `namespaces`, `services`: the application, described once (project-level config in
 *   Pulumi.yaml), inline or in `applicationFiles` (files in the repository; see ./application);
 * - `tier`, `cluster`, `capacity`: the environment (each Pulumi.<stack>.yaml);
 * - `stages`: the promotion pipeline (Pulumi.yaml; see ./stages), checked here, used by the tools;
 * - `defaults`: settings every service gets unless it sets its own (see `withDefaults`);
 * - `overrides`: a small per-stack patch deep-merged over `{ namespaces, services }`
 *   (objects merge, lists replace, `null` removes);
 * - `secretChecksumKey`: the secret key of the `checksum/secret-env` annotations
 *   (`npm run stack:init` creates it);
 * - `release`: the commit a stage after the first runs (written by promote; see ./release);
 * - any other key must be a secret referenced by a workload's `secretEnv`.
 *
 * Every problem is collected into one `ConfigError` whose lines name the key path and the fix.
 */
import type { z } from "zod";
import { closest } from "../../components/suggest";
import { rollsOnSecretChange } from "../../components/podspec";
import {
  crossCheck,
  SECRET_CHECKSUM_KEY,
  type ParseOptions,
  type UncheckedEntries,
} from "./checks";
import { describe, issueMessages } from "../../components/issues";
import { APPLICATION_FILES_KEY, readApplication, withOrigin } from "./application";
import { ConfigError } from "./error";
import {
  isRunningRelease,
  RELEASE_ENV,
  RELEASE_KEY,
  releasePinProblem,
  runningReleaseProblem,
  verificationProblems,
} from "./release";
import { reviewConfig, reviewedPullRequest, reviewStackName } from "./review";
import { parseStages } from "./stages";
import { platformSchema, type PlatformConfig } from "./schema";

// Merging the shared application description with a stack's overrides

type Json = unknown;

/** Deep-merges `patch` into `base`: objects merge key by key, lists and scalars replace, null removes. */
export function mergeOverrides(base: Json, patch: Json): Json {
  if (patch === null) return undefined;
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const merged = mergeOverrides(out[key], value);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

/**
 * `base` with each namespace quota that the overrides give in the other form (`{ auto: ... }`
 * for explicit limits, or limits for `auto`) taken out, so the override replaces it: merging the
 * two forms key by key would give a quota that is neither.
 */
function withQuotaFormsReplaced(base: Record<string, unknown>, namespaces: unknown): Json {
  if (!isPlainObject(namespaces) || !isPlainObject(base.namespaces)) return base;
  const isAuto = (q: unknown) => isPlainObject(q) && "auto" in q;
  const out: Record<string, unknown> = { ...base.namespaces };
  for (const [name, ns] of Object.entries(namespaces)) {
    const before = out[name];
    if (!isPlainObject(ns) || !isPlainObject(before) || ns.quota === undefined) continue;
    if (before.quota !== undefined && isAuto(before.quota) !== isAuto(ns.quota)) {
      const { quota: _replaced, ...rest } = before;
      out[name] = rest;
    }
  }
  return { ...base, namespaces: out };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Reading raw config

/** The raw stack configuration: short keys (without the `platform:` prefix) to values. */
export interface RawConfig {
  readonly [key: string]: unknown;
}

/** The config keys a stack's `secretEnv` entries name, from raw (unchecked) services. */
function secretEnvKeys(services: unknown): string[] {
  if (!isPlainObject(services)) return [];
  return Object.values(services).flatMap((s) =>
    isPlainObject(s) && isPlainObject(s.secretEnv) ? Object.values(s.secretEnv).map(String) : [],
  );
}

/**
 * The secret config keys the program reads for these raw (unchecked) services, e.g. a stack's
 * effective `services`: every key a `secretEnv` names and, when a service rolls its pods on
 * secret changes, `secretChecksumKey`. Offline tools take these as set when a file lacks them.
 */
export function neededSecretKeys(services: unknown): string[] {
  const keys = new Set(secretEnvKeys(services));
  const rolls = (s: unknown) =>
    isPlainObject(s) &&
    isPlainObject(s.secretEnv) &&
    rollsOnSecretChange({
      secretEnv: s.secretEnv as Record<string, string>,
      restartOnSecretChange: s.restartOnSecretChange !== false,
    });
  if (isPlainObject(services) && Object.values(services).some(rolls)) keys.add(SECRET_CHECKSUM_KEY);
  return [...keys].sort();
}

const STRUCTURED_KEYS = [
  "tier",
  "cluster",
  "namespaces",
  "services",
  "capacity",
  "overrides",
  "defaults",
  "stages",
  "review",
  APPLICATION_FILES_KEY,
] as const;

/**
 * The config keys whose values are structured (lists and mappings): Pulumi hands them to the
 * program as JSON text, which whoever reads raw config parses.
 */
export const STRUCTURED_VALUE_KEYS: ReadonlySet<string> = new Set(
  STRUCTURED_KEYS.filter((k) => k !== "tier"),
);

/**
 * Validates a raw stack configuration and returns the plain, typed platform config.
 * Throws one ConfigError listing every problem.
 */
export function parsePlatformConfig(raw: RawConfig, options: ParseOptions = {}): PlatformConfig {
  const problems: string[] = [];
  const base: Record<string, unknown> = {};
  for (const key of [
    "tier",
    "cluster",
    "namespaces",
    "services",
    "capacity",
    "defaults",
    "review",
  ] as const) {
    if (raw[key] !== undefined) base[key] = raw[key];
  }
  const application = readApplication(raw, options.files);
  if (raw[APPLICATION_FILES_KEY] !== undefined) {
    base.namespaces = application.namespaces;
    base.services = application.services;
  }
  // Lines about a service or namespace defined in an application file name the file.
  const fail = (lines: readonly string[]) =>
    new ConfigError(lines.map((line) => withOrigin(line, application.origins)));
  let merged: Json = base;
  const overrides = raw.overrides;
  if (overrides !== undefined) {
    if (!isPlainObject(overrides)) {
      problems.push(
        `overrides: expected an object such as { services: { web: { replicas: 3 } } }, got ${describe(overrides)}`,
      );
    } else {
      for (const key of Object.keys(overrides)) {
        if (key !== "namespaces" && key !== "services") {
          problems.push(
            `overrides.${key}: unknown key (overrides patch only namespaces and services; set ${key} directly)`,
          );
        }
      }
      merged = mergeOverrides(withQuotaFormsReplaced(base, overrides.namespaces), {
        namespaces: overrides.namespaces,
        services: overrides.services,
      });
    }
  }
  // Keys that are neither structured config nor secrets some service references are typos.
  // Checked on the raw merged document, so they are reported together with schema problems.
  const referenced = new Set(secretEnvKeys(isPlainObject(merged) ? merged.services : undefined));
  for (const key of Object.keys(raw)) {
    if (
      (STRUCTURED_KEYS as readonly string[]).includes(key) ||
      key === SECRET_CHECKSUM_KEY ||
      key === RELEASE_KEY ||
      referenced.has(key)
    )
      continue;
    const hint = closest(key, [...STRUCTURED_KEYS]);
    problems.push(
      hint
        ? `${key}: unknown config key (did you mean "${hint}"?)`
        : `${key}: unknown config key (structured keys are ${STRUCTURED_KEYS.join(", ")}; other keys must be secrets referenced by a service's secretEnv)`,
    );
  }

  const stages = raw.stages === undefined ? undefined : parseStages(raw.stages);
  if (stages) problems.push(...stages.problems);
  problems.push(...releaseProblems(raw[RELEASE_KEY], options));
  // Without all its files the application is incomplete: what else is wrong would mislead.
  if (application.problems.length > 0)
    throw new ConfigError([...application.problems, ...problems]);

  const result = platformSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    const schemaProblems = result.error.issues.flatMap((i) => issueMessages(i, platformSchema));
    // The checks that span keys still run on what did parse, so one pass reports everything.
    const partial = validParts(merged);
    const cross = partial
      ? crossCheck(withDefaults(partial.config), options, partial.unchecked)
      : [];
    throw fail([...schemaProblems, ...problems, ...cross]);
  }
  const config = withDefaults(result.data);
  problems.push(...crossCheck(config, options));
  if (stages?.stages)
    problems.push(...verificationProblems(stages.stages, options.stack, config.services));
  problems.push(...reviewStackProblems(config, options.stack));
  if (problems.length > 0) throw fail(problems);
  if (!config.review) return config;
  const review = reviewConfig(config, config.review);
  if (!review.config) throw fail(review.problems);
  return review.config;
}

/** A review block only in its own stack (pr-<n>), and pr-<n> only for review stacks. */
function reviewStackProblems(config: PlatformConfig, stack: string | undefined): string[] {
  if (stack === undefined) return [];
  const reviewed = reviewedPullRequest(stack);
  if (config.review === undefined)
    return reviewed === undefined
      ? []
      : [
          `stack ${stack}: names of the form pr-<n> are kept for review stacks, which have platform:review (create it with npm run review -- up --pr ${reviewed}); choose another stack name`,
        ];
  return reviewed === config.review.pullRequest
    ? []
    : [
        `review.pullRequest: ${config.review.pullRequest} belongs in stack ${reviewStackName(config.review.pullRequest)}, not ${stack} (review stacks are written by npm run review)`,
      ];
}

/** Problems of the stack's release pin, and of running it with this program (options.program). */
function releaseProblems(pin: unknown, options: ParseOptions): string[] {
  const running = options.program?.release;
  if (running !== undefined && !isRunningRelease(running))
    return [
      `${RELEASE_ENV}=${JSON.stringify(running)}: expected a full commit id, maybe with -dirty (npm run deploy sets it; unset it to run without a release)`,
    ];
  if (pin === undefined) return [];
  const format = releasePinProblem(pin);
  if (format !== undefined) return [format];
  if (!options.program) return [];
  const problem = runningReleaseProblem(pin as string, running, options.stack);
  return problem === undefined ? [] : [problem];
}

/**
 * The config with its `defaults` given to every service that does not set its own: lists and
 * single values (nodeSelector, tolerations, priorityClassName, imagePullSecrets) only where the
 * service has none; maps (labels, podAnnotations, Ingress annotations) merged, the service's
 * keys winning. `labels` also go on the tenants. The checks then see the effective values.
 */
export function withDefaults(config: PlatformConfig): PlatformConfig {
  const d = config.defaults;
  if (!d) return config;
  const merged = <T extends object>(a: T | undefined, b: T | undefined): T | undefined =>
    a || b ? ({ ...a, ...b } as T) : undefined;
  const defined = (o: Record<string, unknown>) =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  const services = Object.fromEntries(
    Object.entries(config.services).map(([name, svc]) => [
      name,
      {
        ...svc,
        ...defined({
          nodeSelector: svc.nodeSelector ?? d.nodeSelector,
          tolerations: svc.tolerations ?? d.tolerations,
          priorityClassName: svc.priorityClassName ?? d.priorityClassName,
          imagePullSecrets: svc.imagePullSecrets ?? d.imagePullSecrets,
          labels: merged(d.labels, svc.labels),
          podAnnotations: merged(d.podAnnotations, svc.podAnnotations),
        }),
        ...(svc.ingress
          ? {
              ingress: {
                ...svc.ingress,
                ...defined({ annotations: merged(d.ingressAnnotations, svc.ingress.annotations) }),
              },
            }
          : {}),
      },
    ]),
  );
  const namespaces = Object.fromEntries(
    Object.entries(config.namespaces).map(([name, ns]) => [
      name,
      { ...ns, ...defined({ labels: merged(d.labels, ns.labels) }) },
    ]),
  );
  return { ...config, services, namespaces } as PlatformConfig;
}

/**
 * The parts of a document that failed the schema that are valid on their own: the services
 * and namespaces that pass theirs (the others named as unchecked), with the environment, which
 * must be valid for anything to be checked (undefined otherwise).
 */
function validParts(
  merged: Json,
): { config: PlatformConfig; unchecked: UncheckedEntries } | undefined {
  if (!isPlainObject(merged)) return undefined;
  const shape = platformSchema.shape;
  const tier = shape.tier.safeParse(merged.tier);
  const cluster = shape.cluster.safeParse(merged.cluster);
  if (!tier.success || !cluster.success) return undefined;
  const optional = <T>(r: { success: boolean; data?: T }) => (r.success ? r.data : undefined);
  const entries = (value: unknown, schema: z.ZodType) => {
    const valid: Record<string, unknown> = {};
    const invalid: string[] = [];
    for (const [name, v] of Object.entries(isPlainObject(value) ? value : {})) {
      const r = schema.safeParse(v);
      if (r.success) valid[name] = r.data;
      else invalid.push(name);
    }
    return { valid, invalid };
  };
  const services = entries(merged.services, shape.services.valueType);
  const namespaces = entries(merged.namespaces, shape.namespaces.valueType);
  return {
    config: {
      tier: tier.data,
      cluster: cluster.data,
      services: services.valid,
      namespaces: namespaces.valid,
      capacity: optional(shape.capacity.safeParse(merged.capacity)),
      defaults: optional(shape.defaults.safeParse(merged.defaults)),
    } as PlatformConfig,
    unchecked: { services: services.invalid, namespaces: namespaces.invalid },
  };
}

/** Checks that span several keys: references, kind-specific fields, consistency. */
