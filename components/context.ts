/**
 * What every spec builder reads: the environment, and the workloads around the one it builds.
 */
import type { CloudProfile } from "./cloud";
import { NAME_LABEL } from "./labels";
import type { ClusterDefaults, Tier } from "./types";

/** An environment with every default applied (see `resolveEnvironment`). */
export interface ResolvedEnvironment {
  /** Value of the `app.kubernetes.io/part-of` label. */
  readonly project: string;
  readonly tier: Tier;
  readonly cluster: ClusterDefaults;
  readonly profile: CloudProfile;
  /** True when the nodes span more than one zone. */
  readonly multiZone: boolean;
}

/** Where a workload runs and what it listens on: what its callers' NetworkPolicies need. */
export interface PeerRef {
  readonly namespace: string;
  readonly ports?: Readonly<Record<string, number>>;
}

/** What the builders read: the environment, and the workloads around the one being built. */
export interface BuildContext extends ResolvedEnvironment {
  /** The workloads by name, for the dependency graph: the one built and its peers at least. */
  readonly services: Readonly<Record<string, PeerRef>>;
  /** The services that list each service among their dependencies, sorted by name. */
  readonly callers: ReadonlyMap<string, readonly string[]>;
}

/**
 * Every service's callers at once, sorted by name: one pass over the dependency lists, where
 * calling `callersOf` per service would be O(n²).
 */
export function callerIndex(
  services: Readonly<Record<string, { readonly dependencies?: readonly string[] }>>,
): ReadonlyMap<string, readonly string[]> {
  const index = new Map<string, string[]>();
  for (const [caller, s] of Object.entries(services)) {
    for (const dep of new Set(s.dependencies ?? [])) {
      const list = index.get(dep);
      if (list) list.push(caller);
      else index.set(dep, [caller]);
    }
  }
  for (const list of index.values()) list.sort();
  return index;
}

/** A Kubernetes object as plain data. */
export interface Manifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

export function selectorLabels(name: string): Record<string, string> {
  return { [NAME_LABEL]: name };
}

export function commonLabels(
  ctx: { readonly project: string },
  name: string,
  component: string,
): Record<string, string> {
  return {
    [NAME_LABEL]: name,
    "app.kubernetes.io/component": component,
    "app.kubernetes.io/part-of": ctx.project,
    "app.kubernetes.io/managed-by": "pulumi",
  };
}
