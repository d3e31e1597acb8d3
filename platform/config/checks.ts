/**
 * Checks that span several keys of the platform config: references between services and
 * namespaces, kind-specific fields, consistency of limits, quotas and node pools.
 */
import { Quantity } from "../../components/quantity";
import type { WorkloadConfig } from "../../components/schema";
import { checkTenant, checkWorkload } from "../../components/validation";
import { rollsOnSecretChange } from "../../components/podspec";
import type { SourceTree } from "./application";
import { isQuotaMap, type PlatformConfig } from "./schema";

export interface ParseOptions {
  /**
   * Whether a config key exists and whether it is a secret, for checking `secretEnv` and
   * `secretChecksumKey`.
   */
  readonly lookupSecret?: (key: string) => "secret" | "plain" | "missing";
  /** The stack's name, for the commands messages suggest. @default `<stack>` */
  readonly stack?: string;
  /**
   * The program about to run this config, when it does (the program, the render): a stack that
   * pins a release (`platform:release`) is refused unless `running` is that release.
   */
  readonly program?: { readonly release: string | undefined };
  /** Where `applicationFiles` are read from: the project directory, or a release's commit. */
  readonly files?: SourceTree;
}

/**
 * Services and namespaces that exist in the raw config but failed their schema: cross-checks of
 * the rest still run (one pass reports everything) and take them as present, fields unknown.
 */
export interface UncheckedEntries {
  readonly services: readonly string[];
  readonly namespaces: readonly string[];
}

/** The stack config key holding the key of the `checksum/secret-env` annotations. */
export const SECRET_CHECKSUM_KEY = "secretChecksumKey";

/** The services whose pods roll on a secretEnv change, so need `secretChecksumKey`; sorted. */
export function servicesNeedingChecksumKey(
  services: Readonly<Record<string, Parameters<typeof rollsOnSecretChange>[0]>>,
): string[] {
  return Object.keys(services)
    .filter((n) => rollsOnSecretChange(services[n]))
    .sort();
}

/** Why those services need the key: "api, web roll their pods when …, through a checksum keyed by it". */
export function checksumKeyNeed(services: readonly string[]): string {
  const one = services.length === 1;
  return `${services.join(", ")} roll${one ? "s its" : " their"} pods when a secretEnv value changes, through a checksum keyed by it`;
}

/** What is wrong with the stack's `secretChecksumKey`, given the services that need it. */
function checksumKeyProblems(config: PlatformConfig, options: ParseOptions): string[] {
  const rolling = servicesNeedingChecksumKey(config.services);
  if (rolling.length === 0) return [];
  const init = `npm run stack:init -- --stack ${options.stack ?? "<stack>"}`;
  const one = rolling.length === 1;
  const needs = checksumKeyNeed(rolling);
  switch (options.lookupSecret?.(SECRET_CHECKSUM_KEY)) {
    case "missing":
      return [
        `${SECRET_CHECKSUM_KEY}: not set; ${needs}. Create it with: ${init} (or set restartOnSecretChange: false on ${one ? "it" : "them"})`,
      ];
    case "plain":
      return [
        `${SECRET_CHECKSUM_KEY}: stored in plain text; replace it by a secret with: ${init} --rotate-checksum-key`,
      ];
  }
  return [];
}

/** Checks that span several keys: references, kind-specific fields, consistency. */
export function crossCheck(
  config: PlatformConfig,
  options: ParseOptions = {},
  unchecked: UncheckedEntries = { services: [], namespaces: [] },
): string[] {
  const problems: string[] = [];
  const namespaces = [...Object.keys(config.namespaces), ...unchecked.namespaces];
  const services = {
    ...Object.fromEntries(unchecked.services.map((n) => [n, {}])),
    ...config.services,
  };

  for (const [name, svc] of Object.entries(config.services)) {
    problems.push(
      ...checkWorkload(`services.${name}`, name, svc, config.cluster, {
        namespaces,
        services,
        unchecked: new Set(unchecked.services),
        cycleOf: (start) => beforeCycle(config.services, start),
        priorityClasses: Object.keys(config.cluster.priorityClasses ?? {}),
        lookupSecret: options.lookupSecret,
      }),
    );
  }

  for (const [name, ns] of Object.entries(config.namespaces))
    problems.push(
      ...checkTenant(
        `namespaces.${name}`,
        { ...ns, quota: isQuotaMap(ns.quota) ? ns.quota : undefined },
        name,
      ),
    );

  const pools = config.cluster.nodePools ?? {};
  for (const [name, pool] of Object.entries(pools)) {
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      const over = pool.overhead?.[r];
      const allocatable = pool.allocatable[r];
      if (over && !allocatable) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: needs allocatable.${r} to be taken from; set cluster.nodePools.${name}.allocatable.${r} or remove the overhead`,
        );
      } else if (
        over &&
        allocatable &&
        Quantity.parse(over).cmp(Quantity.parse(allocatable)) >= 0
      ) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: ${over} leaves nothing of allocatable ${pool.allocatable[r]}; lower the overhead`,
        );
      }
    }
  }
  problems.push(...checksumKeyProblems(config, options));
  if (
    config.cluster.renderYamlToDirectory &&
    (config.cluster.context || config.cluster.kubeconfig)
  ) {
    problems.push(
      `cluster.renderYamlToDirectory: excludes cluster.context and cluster.kubeconfig (rendering needs no cluster); remove one or the other`,
    );
  }
  return problems;
}

/**
 * The cycle through `start` in the jobs' `before` order ("a -> b -> a"), or undefined. Only
 * reported for the alphabetically first job of the cycle, so it appears once.
 */
function beforeCycle(
  services: Readonly<Record<string, WorkloadConfig>>,
  start: string,
): string | undefined {
  const path: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string): string | undefined => {
    path.push(node);
    for (const next of services[node]?.before ?? []) {
      if (next === node) continue; // reported on its own
      if (next === start) return [...path, start].join(" -> ");
      if (seen.has(next) || !services[next]) continue;
      seen.add(next);
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  const found = visit(start);
  if (!found) return undefined;
  const members = found.split(" -> ");
  return members.slice(0, -1).every((m) => start <= m) ? found : undefined;
}
