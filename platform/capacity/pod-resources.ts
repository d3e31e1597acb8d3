/**
 * Pod resources as Kubernetes counts them: per resource, the larger of the long-running
 * containers' sum (sidecars and native sidecars included) and the largest init-container stage,
 * with the namespace's LimitRange defaults filling what a container leaves unset. Amounts are
 * numbers: cpu in millicores, memory and storage in bytes, each container rounded up as the
 * scheduler does.
 */
import { buildTenant } from "../../components/tenant";
import { containerResources } from "../../components/podspec";
import { Quantity } from "../../components/quantity";
import type { ResourcesConfig, WorkloadConfig } from "../../components/schema";
import type { NamespaceConfig } from "../config/schema";
import { buildContext } from "../context";

export type ResourceName = "cpu" | "memory" | "ephemeral-storage";
export const RESOURCES: readonly ResourceName[] = ["cpu", "memory", "ephemeral-storage"];

/** Amounts per resource: cpu in millicores, memory and ephemeral-storage in bytes. */
export type ResourceAmounts = Readonly<Record<ResourceName, number>>;

export interface PodResources {
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

type ResourceTexts = Readonly<Partial<Record<ResourceName, string>>>;

/** A namespace's effective LimitRange container item. */
export interface LimitRangeDefaults {
  readonly defaultRequest: ResourceTexts;
  readonly default: ResourceTexts;
  readonly max: ResourceTexts;
}

/** Any valid context: the LimitRange buildTenant emits depends on the namespace alone. */
const TENANT_CONTEXT = buildContext(
  { tier: "dev", cluster: { cloud: "generic", name: "capacity" }, namespaces: {}, services: {} },
  "capacity",
);

/**
 * The LimitRange container defaults a namespace gets: the item `buildTenant` emits (platform
 * defaults merged with the namespace's own), completed as the API server defaults a LimitRange
 * item (a missing default limit becomes the max; a missing default request becomes the default).
 */
export function limitRangeDefaults(ns: NamespaceConfig = {}): LimitRangeDefaults {
  const emitted = buildTenant(TENANT_CONTEXT, "capacity", { limits: ns.limits }).find(
    (m) => m.kind === "LimitRange",
  );
  const item =
    (emitted?.spec as { limits?: Partial<Record<keyof LimitRangeDefaults, ResourceTexts>>[] })
      ?.limits?.[0] ?? {};
  const def: Partial<Record<ResourceName, string>> = { ...defined(item.default) };
  const req: Partial<Record<ResourceName, string>> = { ...defined(item.defaultRequest) };
  for (const r of RESOURCES) {
    def[r] ??= item.max?.[r];
    req[r] ??= def[r];
  }
  return { defaultRequest: defined(req), default: defined(def), max: defined(item.max) };
}

function defined(list: Partial<Record<string, string | undefined>> | undefined): ResourceTexts {
  return Object.fromEntries(
    Object.entries(list ?? {}).filter(
      ([r, v]) => v !== undefined && (RESOURCES as readonly string[]).includes(r),
    ),
  );
}

/** One container of a pod with its effective requests and limits. */
interface ContainerAmounts {
  readonly name: string;
  /** Config path of its `resources`, for fixes. */
  readonly at: string;
  readonly role: "container" | "init" | "native-sidecar";
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
}

export function amountOf(r: ResourceName, text: string | undefined): number {
  if (text === undefined) return 0;
  const q = Quantity.parse(text);
  return r === "cpu" ? q.milliValue() : q.value();
}

/** Resources as emitted, then API defaulting (request from an explicit limit), then LimitRanger. */
function effectiveResources(res: ResourcesConfig, lr: LimitRangeDefaults): PodResources {
  const emitted = containerResources(res);
  const req: Partial<Record<ResourceName, string>> = { ...emitted.requests };
  const lim: Partial<Record<ResourceName, string>> = { ...emitted.limits };
  for (const r of RESOURCES) {
    req[r] ??= lim[r];
    lim[r] ??= lr.default[r];
    req[r] ??= lr.defaultRequest[r];
  }
  const amounts = (list: Partial<Record<ResourceName, string>>) =>
    Object.fromEntries(RESOURCES.map((r) => [r, amountOf(r, list[r])])) as Record<
      ResourceName,
      number
    >;
  return { requests: amounts(req), limits: amounts(lim) };
}

export function podContainers(
  name: string,
  svc: WorkloadConfig,
  lr: LimitRangeDefaults,
): ContainerAmounts[] {
  const at = `services.${name}`;
  return [
    {
      name,
      at: `${at}.resources`,
      role: "container" as const,
      ...effectiveResources(svc.resources, lr),
    },
    ...(svc.sidecars ?? []).map((c, i) => ({
      name: c.name,
      at: `${at}.sidecars[${i}].resources`,
      role: "container" as const,
      ...effectiveResources(c.resources, lr),
    })),
    ...(svc.initContainers ?? []).map((c, i) => ({
      name: c.name,
      at: `${at}.initContainers[${i}].resources`,
      role: c.restartAlways ? ("native-sidecar" as const) : ("init" as const),
      ...effectiveResources(c.resources, lr),
    })),
  ];
}

/** Kubernetes' PodRequests/PodLimits: max(long-running sum, largest init stage), per resource. */
function podTotal(
  containers: readonly ContainerAmounts[],
  pick: "requests" | "limits",
): ResourceAmounts {
  const sum = zeroAmounts();
  const sidecars = zeroAmounts();
  const initMax = zeroAmounts();
  for (const c of containers) {
    for (const r of RESOURCES) {
      const a = c[pick][r];
      if (c.role === "container") sum[r] += a;
      else if (c.role === "native-sidecar") {
        // Started in order and kept running: in the long-running sum and under every later stage.
        sum[r] += a;
        sidecars[r] += a;
        initMax[r] = Math.max(initMax[r], sidecars[r]);
      } else initMax[r] = Math.max(initMax[r], a + sidecars[r]);
    }
  }
  return Object.fromEntries(RESOURCES.map((r) => [r, Math.max(sum[r], initMax[r])])) as Record<
    ResourceName,
    number
  >;
}

function zeroAmounts(): Record<ResourceName, number> {
  return { cpu: 0, memory: 0, "ephemeral-storage": 0 };
}

/**
 * A pod's requests and limits as the scheduler and ResourceQuota count them: per resource, the
 * larger of the long-running containers' sum (sidecars and native sidecars included) and the
 * largest init-container stage, after LimitRange defaults fill unset values.
 */
export function podResources(
  svc: WorkloadConfig,
  limitRange: LimitRangeDefaults = limitRangeDefaults(),
): PodResources {
  const containers = podContainers("main", svc, limitRange);
  return { requests: podTotal(containers, "requests"), limits: podTotal(containers, "limits") };
}
