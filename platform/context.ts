/**
 * The environment and the builders' context, derived once from the stack config.
 */
import { callerIndex, type BuildContext } from "../components/context";
import { resolveEnvironment } from "../components/environment";
import { clusterDefaultsFields, type Environment } from "../components/schema";
import { ConfigError, type PlatformConfig } from "./config";

/** The environment the library's components are built for, as the stack config states it. */
export function environmentOf(config: PlatformConfig, project: string): Environment {
  const { cluster } = config;
  const defaults = Object.fromEntries(
    Object.keys(clusterDefaultsFields)
      .map((key) => [key, cluster[key as keyof typeof clusterDefaultsFields]])
      .filter(([, value]) => value !== undefined),
  );
  const zones = new Set(Object.values(cluster.nodePools ?? {}).flatMap((p) => p.zones ?? []));
  return {
    cloud: cluster.cloud,
    tier: config.tier,
    partOf: project,
    multiZone: zones.size > 1,
    ...defaults,
  };
}

/** What every builder reads, derived once from the config: the environment and all services. */
export function buildContext(config: PlatformConfig, project: string): BuildContext {
  const { resolved, problems } = resolveEnvironment(environmentOf(config, project));
  if (!resolved) throw new ConfigError(problems);
  return { ...resolved, services: config.services, callers: callerIndex(config.services) };
}
