/**
 * The capacity planner: pure functions over the typed stack config that answer, before anything
 * is applied, whether the workloads fit their namespaces' ResourceQuotas and the cluster's node
 * pools, at rest, at HPA max, during rollouts and after losing a node or a zone.
 *
 * - Pod resources follow Kubernetes: per resource, the larger of the long-running containers' sum
 *   (sidecars and native sidecars included) and the largest init-container stage; LimitRange
 *   defaults fill what a container leaves unset.
 * - A workload's footprint is given three times: steady (replicas or HPA min; the runs that can
 *   overlap for a CronJob), at max (HPA max) and at peak (HPA max plus the rollout surge).
 * - Namespace fit checks every ResourceQuota key; cluster fit places every peak pod with the
 *   scheduler emulation in `placement.ts`; failover repeats that without a node or a zone.
 *
 * Amounts are numbers internally (cpu in millicores, memory and storage in bytes, each container
 * rounded up as the scheduler does) and are printed canonically through `Quantity`. The config
 * it is given is the plan's (platform/planned-values.ts: replicas, HPA range, rollout, resources,
 * claims and parallelism as the patched objects hold them). Not modelled: patches to fields other
 * than those (e.g. node selectors or tolerations), terminating pods that still count against
 * quota until their grace period ends, pod priority and preemption.
 *
 * @see https://kubernetes.io/docs/concepts/policy/resource-quotas/
 * @see https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment
 */
import type { BuildContext, Manifest } from "../../components/context";
import { buildWorkload } from "../../components/manifests";
import { buildTenant } from "../../components/tenant";
import { containerResources, isBatch, maxReplicas } from "../../components/podspec";
import { Quantity } from "../../components/quantity";
import {
  type ResourcesConfig,
  type Tier,
  type WorkloadConfig,
  type WorkloadKind,
} from "../../components/schema";
import {
  isQuotaMap,
  type NamespaceConfig,
  type NodePoolConfig,
  type PlatformConfig,
  tenantConfig,
} from "../config/schema";
import { overlappingRuns } from "./cron";
import { estimateCost, type CostEstimate } from "./cost";
import { buildContext } from "../context";
import {
  admits,
  placePods,
  type NodeSpec,
  type Placement,
  type PlacementStep,
  type PodGroup,
} from "./placement";

// ---------------------------------------------------------------------------------------------
// Pod resources

export type ResourceName = "cpu" | "memory" | "ephemeral-storage";
const RESOURCES: readonly ResourceName[] = ["cpu", "memory", "ephemeral-storage"];

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

function amountOf(r: ResourceName, text: string | undefined): number {
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

function podContainers(
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

// ---------------------------------------------------------------------------------------------
// Rollouts and footprints

/** An int-or-percent against a replica count, as Kubernetes' GetScaledValueFromIntOrPercent. */
export function scaledValue(value: number | string, total: number, roundUp: boolean): number {
  if (typeof value === "number") return value;
  const scaled = (Number(value.slice(0, -1)) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

export interface Fenceposts {
  /** Pods allowed above the desired count. */
  readonly maxSurge: number;
  /** Pods allowed below the desired count. */
  readonly maxUnavailable: number;
}

/**
 * The Deployment controller's ResolveFenceposts: maxSurge rounds up, maxUnavailable rounds down,
 * both against the desired replicas; when both resolve to 0, maxUnavailable becomes 1.
 */
export function resolveFenceposts(
  maxSurge: number | string,
  maxUnavailable: number | string,
  desired: number,
): Fenceposts {
  const surge = scaledValue(maxSurge, desired, true);
  const unavailable = scaledValue(maxUnavailable, desired, false);
  return { maxSurge: surge, maxUnavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

/** The rolling-update parameters we emit for a Deployment (see `rollingUpdate` in manifests). */
function rolloutOf(svc: WorkloadConfig): {
  maxSurge: number | string;
  maxUnavailable: number | string;
} {
  return {
    maxSurge: svc.rollout?.maxSurge ?? "25%",
    maxUnavailable: svc.rollout?.maxUnavailable ?? (svc.kind === "web" ? 0 : "25%"),
  };
}

/** What a workload holds at one moment. */
export interface Footprint {
  readonly pods: number;
  readonly requests: ResourceAmounts;
  readonly limits: ResourceAmounts;
  /** Bytes of PersistentVolumeClaim storage requests. */
  readonly storage: number;
  readonly persistentVolumeClaims: number;
}

export interface WorkloadFootprint {
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly pod: PodResources;
  /** Replicas are owned by an HPA (autoscale). */
  readonly autoscaled: boolean;
  /** Deployments only: the rolling-update fenceposts at steady and at max replicas. */
  readonly rollout?: { readonly steady: Fenceposts; readonly max: Fenceposts };
  /** Replicas (or HPA min); for a CronJob the runs that can overlap × parallelism. */
  readonly steady: Footprint;
  /** At HPA max (the steady footprint without an HPA). */
  readonly max: Footprint;
  /** At max during a rollout: max plus the surge (ceil(maxSurge × max)). */
  readonly peak: Footprint;
}

function footprint(pods: number, pod: PodResources, storage: number, claims: number): Footprint {
  const times = (a: ResourceAmounts) =>
    Object.fromEntries(RESOURCES.map((r) => [r, a[r] * pods])) as Record<ResourceName, number>;
  return {
    pods,
    requests: times(pod.requests),
    limits: times(pod.limits),
    storage,
    persistentVolumeClaims: claims,
  };
}

/**
 * A workload's steady, max and peak footprint: pods, cpu/memory/ephemeral-storage requests and
 * limits, and storage. Deployments surge by ceil(maxSurge × replicas) during a rollout; a
 * StatefulSet replaces pods one at a time without surge and keeps one claim per replica; a
 * CronJob runs `parallelism` pods per run, as many runs at once as `overlappingRuns` (cron.ts).
 */
export function workloadFootprint(
  name: string,
  svc: WorkloadConfig,
  ns?: NamespaceConfig,
): WorkloadFootprint {
  const pod = podResources(svc, limitRangeDefaults(ns));
  const base = {
    name,
    namespace: svc.namespace,
    kind: svc.kind,
    pod,
    autoscaled: svc.autoscale !== undefined,
  };
  switch (svc.kind) {
    case "cron": {
      const fp = footprint(overlappingRuns(svc) * (svc.cron?.parallelism ?? 1), pod, 0, 0);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "job": {
      // One run at a time: a re-run replaces the Job, deleting the old one first.
      const fp = footprint(svc.job?.parallelism ?? 1, pod, 0, 0);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "stateful": {
      const replicas = svc.replicas ?? 1;
      const size = svc.storage ? Quantity.parse(svc.storage.size).value() : 0;
      const fp = footprint(replicas, pod, replicas * size, replicas);
      return { ...base, steady: fp, max: fp, peak: fp };
    }
    case "web":
    case "worker": {
      const steady = svc.autoscale?.min ?? svc.replicas ?? 1;
      const max = svc.autoscale?.max ?? steady;
      const { maxSurge, maxUnavailable } = rolloutOf(svc);
      const rollout = {
        steady: resolveFenceposts(maxSurge, maxUnavailable, steady),
        max: resolveFenceposts(maxSurge, maxUnavailable, max),
      };
      return {
        ...base,
        rollout,
        steady: footprint(steady, pod, 0, 0),
        max: footprint(max, pod, 0, 0),
        peak: footprint(max + rollout.max.maxSurge, pod, 0, 0),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Findings and policy

export type Severity = "error" | "warning" | "info";

export type FindingKind =
  | "steady-over-quota"
  | "rollout-blocked"
  | "max-over-quota"
  | "peak-over-quota"
  | "limit-range-max"
  | "not-modelled"
  | "unschedulable"
  | "failover";

/** One problem, with the figures for the table and the fixes to print. */
export interface CapacityFinding {
  readonly severity: Severity;
  readonly kind: FindingKind;
  /** A short statement of the problem (the table's last column). */
  readonly message: string;
  /** Alternative fixes, each on its own ("raise requests.cpu in namespace shop to 6"). */
  readonly fixes: readonly string[];
  readonly namespace?: string;
  readonly workload?: string;
  /** The quota key (or `limits.memory (LimitRange max)`). */
  readonly resource?: string;
  readonly quota?: string;
  readonly steady?: string;
  readonly peak?: string;
  readonly overBy?: string;
}

export interface CapacityPolicy {
  /** Severity of HPA max or rollout peaks beyond quota. */
  readonly peakOverQuota: "warn" | "error";
  /** Whether unschedulable pods fail the deployment. */
  readonly clusterFit: "advisory" | "enforce";
  readonly scoring: "spread" | "binpack";
}

/** The stack's capacity settings with their defaults: peaks over quota fail in prod. */
export function capacityPolicy(config: PlatformConfig): CapacityPolicy {
  return {
    peakOverQuota: config.capacity?.peakOverQuota ?? (config.tier === "prod" ? "error" : "warn"),
    clusterFit: config.capacity?.clusterFit ?? "advisory",
    scoring: config.capacity?.scoring ?? "spread",
  };
}

// ---------------------------------------------------------------------------------------------
// Amounts: units, printing, readable rounding

type Unit = "cpu" | "bytes" | "count";
const MI = 2 ** 20;
const GI = 2 ** 30;

function parseAmount(unit: Unit, value: string | number): number {
  const q = Quantity.parse(value);
  return unit === "cpu" ? q.milliValue() : q.value();
}

function formatAmount(unit: Unit, value: number): string {
  if (unit === "cpu") return Quantity.fromMillis(value).toString();
  if (unit === "bytes") return Quantity.of(value, "BinarySI").toString();
  return String(value);
}

/** Rounds up to a readable figure: cpu in 100m steps below 2 cores, then whole cores; bytes in 64Mi steps below 2Gi, then whole Gi. */
function roundUpReadable(unit: Unit, value: number): number {
  if (value <= 0) return 0;
  if (unit === "cpu")
    return value < 2000 ? Math.ceil(value / 100) * 100 : Math.ceil(value / 1000) * 1000;
  if (unit === "bytes")
    return value < 2 * GI ? Math.ceil(value / (64 * MI)) * 64 * MI : Math.ceil(value / GI) * GI;
  return Math.ceil(value);
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota keys

/** How one quota key is counted. */
interface KeyModel {
  readonly unit: Unit;
  /** A workload's use in a footprint (pod and volume keys), given its storage class. */
  readonly use?: (fp: Footprint, storageClass: string | undefined) => number;
  /** What one more pod of the workload needs (what a rollout's first surge pod needs). */
  readonly perPod?: (w: WorkloadFootprint) => number;
  /** The objects counted (`services`, `replicasets.apps`), for object-count keys. */
  readonly objects?: string;
}

const requestsKey = (r: ResourceName): KeyModel => ({
  unit: r === "cpu" ? "cpu" : "bytes",
  use: (fp) => fp.requests[r],
  perPod: (w) => w.pod.requests[r],
});
const limitsKey = (r: ResourceName): KeyModel => ({
  unit: r === "cpu" ? "cpu" : "bytes",
  use: (fp) => fp.limits[r],
  perPod: (w) => w.pod.limits[r],
});
const KEY_MODELS: Readonly<Record<string, KeyModel>> = {
  cpu: requestsKey("cpu"),
  memory: requestsKey("memory"),
  "requests.cpu": requestsKey("cpu"),
  "requests.memory": requestsKey("memory"),
  "requests.ephemeral-storage": requestsKey("ephemeral-storage"),
  "limits.cpu": limitsKey("cpu"),
  "limits.memory": limitsKey("memory"),
  "limits.ephemeral-storage": limitsKey("ephemeral-storage"),
  pods: { unit: "count", use: (fp) => fp.pods, perPod: () => 1 },
  "count/pods": { unit: "count", use: (fp) => fp.pods, perPod: () => 1 },
  "requests.storage": { unit: "bytes", use: (fp) => fp.storage },
  persistentvolumeclaims: { unit: "count", use: (fp) => fp.persistentVolumeClaims },
  "count/persistentvolumeclaims": { unit: "count", use: (fp) => fp.persistentVolumeClaims },
};
const STORAGE_CLASS_KEY =
  /^(.+)\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims)$/;

/** Object counts that other controllers keep and we do not model. */
const UNMODELLED = new Set([
  "endpoints",
  "endpointslices.discovery.k8s.io",
  "events",
  "events.events.k8s.io",
  "leases.coordination.k8s.io",
]);

function keyModel(key: string): KeyModel {
  const known = KEY_MODELS[key];
  if (known) return known;
  const perClass = STORAGE_CLASS_KEY.exec(key);
  if (perClass) {
    const [, className, what] = perClass;
    return what === "requests.storage"
      ? { unit: "bytes", use: (fp, sc) => (sc === className ? fp.storage : 0) }
      : { unit: "count", use: (fp, sc) => (sc === className ? fp.persistentVolumeClaims : 0) };
  }
  return { unit: "count", objects: key.startsWith("count/") ? key.slice("count/".length) : key };
}

interface ObjectCount {
  steady: number;
  peak: number;
}

/** `count/<resource>.<group>` name of a manifest's kind. */
function resourceOf(m: Manifest): string {
  const kind = m.kind.toLowerCase();
  const plural = kind.endsWith("y")
    ? `${kind.slice(0, -1)}ies`
    : kind.endsWith("s")
      ? `${kind}es`
      : `${kind}s`;
  const slash = m.apiVersion.lastIndexOf("/");
  return slash < 0 ? plural : `${plural}.${m.apiVersion.slice(0, slash)}`;
}

/**
 * Objects in a namespace by counted resource: what we emit, the env Secrets, the kube-root-ca.crt
 * ConfigMap every namespace gets, and what our controllers keep (ReplicaSets and
 * ControllerRevisions up to revisionHistoryLimit + 1, one more during a rollout; Jobs kept by a
 * CronJob's history limits plus the running ones). Pods and claims are counted from footprints.
 */
function namespaceObjects(plan: Planning, nsName: string): Map<string, ObjectCount> {
  const counts = new Map<string, ObjectCount>();
  const add = (resource: string, steady: number, peak = steady) => {
    const c = counts.get(resource) ?? { steady: 0, peak: 0 };
    c.steady += steady;
    c.peak += peak;
    counts.set(resource, c);
  };
  const manifests = [
    ...(plan.objects?.tenants[nsName] ??
      buildTenant(plan.context, nsName, tenantConfig(nsName, plan.config.namespaces[nsName]))),
  ];
  for (const [name, svc] of Object.entries(plan.config.services)) {
    if (svc.namespace !== nsName) continue;
    const planned = plan.objects?.workloads[name];
    manifests.push(
      ...(planned ??
        buildWorkload(plan.context, name, svc, {
          image: typeof svc.image === "string" ? svc.image : "planned",
        })),
    );
    // The plan holds the env Secret; objects built here do not.
    if (!planned && Object.keys(svc.secretEnv ?? {}).length > 0) add("secrets", 1);
    if (svc.kind === "job") add("jobs.batch", 1);
    if (svc.kind === "cron") {
      const runs = overlappingRuns(svc);
      add(
        "jobs.batch",
        (svc.cron?.successfulJobsHistoryLimit ?? 3) + runs,
        (svc.cron?.successfulJobsHistoryLimit ?? 3) +
          (svc.cron?.failedJobsHistoryLimit ?? 3) +
          runs,
      );
    }
  }
  add("configmaps", 1); // kube-root-ca.crt
  for (const m of manifests) {
    if (m.metadata.namespace === undefined) continue; // the Namespace itself
    add(resourceOf(m), 1);
    const spec = (m.spec ?? {}) as {
      revisionHistoryLimit?: number;
      type?: string;
      ports?: unknown[];
    };
    const history = spec.revisionHistoryLimit ?? 10;
    if (m.kind === "Deployment") add("replicasets.apps", history + 1, history + 2);
    if (m.kind === "StatefulSet") add("controllerrevisions.apps", history + 1, history + 2);
    if (m.kind === "Service" && spec.type === "LoadBalancer") add("services.loadbalancers", 1);
    if (m.kind === "Service" && (spec.type === "LoadBalancer" || spec.type === "NodePort"))
      add("services.nodeports", spec.ports?.length ?? 0);
  }
  return counts;
}

/**
 * What the first step of a workload's rollout needs free under this key, when without it the
 * rollout waits forever; undefined when the rollout can proceed regardless (it may be slowed).
 */
function rolloutNeed(
  model: KeyModel,
  w: WorkloadFootprint,
): { need: number; fix?: string } | undefined {
  if (model.objects === "replicasets.apps" && w.rollout) return { need: 1 };
  if (model.objects === "controllerrevisions.apps" && w.kind === "stateful") return { need: 1 };
  const perPod = model.perPod?.(w) ?? 0;
  if (
    !w.rollout ||
    perPod === 0 ||
    w.rollout.steady.maxSurge === 0 ||
    w.rollout.steady.maxUnavailable > 0
  )
    return undefined;
  return { need: perPod, fix: `set ${w.name} rollout.maxUnavailable to 1` };
}

// ---------------------------------------------------------------------------------------------
// Namespace fit

export interface QuotaUse {
  readonly resource: string;
  readonly quota: string;
  readonly steady: string;
  readonly max: string;
  readonly peak: string;
  /** Use over quota; null when the quota is 0 and the use is not. */
  readonly steadyRatio: number | null;
  readonly peakRatio: number | null;
}

export interface NamespaceFit {
  readonly namespace: string;
  readonly quota: readonly QuotaUse[];
  readonly findings: readonly CapacityFinding[];
}

/** The objects of a stack as planned (planPlatform): tenants' and workloads', by owner. */
export interface PlannedObjects {
  readonly tenants: Readonly<Record<string, readonly Manifest[]>>;
  readonly workloads: Readonly<Record<string, readonly Manifest[]>>;
}

/** What every check needs, computed once. */
interface Planning {
  readonly config: PlatformConfig;
  readonly context: BuildContext;
  readonly policy: CapacityPolicy;
  readonly footprints: readonly WorkloadFootprint[];
  /** The objects to count; built here from the config when no plan is given. */
  readonly objects?: PlannedObjects;
}

function planning(config: PlatformConfig, objects?: PlannedObjects): Planning {
  return {
    config,
    ...(objects ? { objects } : {}),
    context: buildContext(config, "capacity"),
    policy: capacityPolicy(config),
    footprints: Object.entries(config.services).map(([name, svc]) =>
      workloadFootprint(name, svc, config.namespaces[svc.namespace]),
    ),
  };
}

function ratio(use: number, quota: number): number | null {
  return quota > 0 ? use / quota : use > 0 ? null : 0;
}

/**
 * Checks each namespace's workloads against every key of its ResourceQuota, and container limits
 * against its LimitRange max. Steady use over quota and rollouts that cannot start are errors; HPA
 * max or rollout peaks over quota are warnings, or errors under `capacity.peakOverQuota: error`.
 */
export function namespaceFit(config: PlatformConfig): NamespaceFit[] {
  return fitNamespaces(planning(config));
}

function fitNamespaces(plan: Planning): NamespaceFit[] {
  return Object.keys(plan.config.namespaces).map((nsName) => fitNamespace(plan, nsName));
}

const GIB = 2 ** 30;

/**
 * The cost estimate of a plan: the nodes its peak needs (`needed`, by pool), its volumes and load
 * balancers.
 */
function costOf(
  plan: Planning,
  cluster: ClusterFit | undefined,
  needed: ReadonlyMap<string, number> | undefined,
): CostEstimate | undefined {
  const prices = plan.config.capacity?.prices;
  const pools = plan.config.cluster.nodePools ?? {};
  return estimateCost({
    currency: prices?.currency ?? "USD",
    pools: (cluster?.pools ?? []).map((p) => {
      const cfg = pools[p.pool];
      return {
        pool: p.pool,
        nodes: needed?.get(p.pool) ?? 0,
        ...(cfg.price ? { price: cfg.price } : {}),
        vcpus: Quantity.parse(cfg.allocatable.cpu).milliValue() / 1000,
        memoryGiB: Quantity.parse(cfg.allocatable.memory).value() / GIB,
      };
    }),
    workloads: plan.footprints.map((w) => {
      const svc = plan.config.services[w.name];
      return {
        namespace: w.namespace,
        name: w.name,
        cpu: w.peak.requests.cpu / 1000,
        memoryGiB: w.peak.requests.memory / GIB,
        ...(w.steady.storage > 0
          ? { storage: { gib: w.steady.storage / GIB, className: storageClassOf(plan, svc) } }
          : {}),
        loadBalancers: svc.expose?.type === "LoadBalancer" ? 1 : 0,
      };
    }),
    storagePrices: prices?.storage ?? {},
    ...(prices?.loadBalancer !== undefined ? { loadBalancerPrice: prices.loadBalancer } : {}),
  });
}

function storageClassOf(plan: Planning, svc: WorkloadConfig): string | undefined {
  return (
    svc.storage?.storageClass ??
    plan.config.cluster.storageClass ??
    plan.context.profile.storageClassName(plan.config.tier)
  );
}

type Phase = "steady" | "max" | "peak";

/** One quota key of one namespace: how it counts, its hard value and the namespace's use. */
interface KeyUse {
  readonly namespace: string;
  readonly key: string;
  readonly model: KeyModel;
  readonly quota: number;
  readonly workloads: readonly WorkloadFootprint[];
  /** A workload's use of this key (0 for object-count keys). */
  readonly useOf: (w: WorkloadFootprint, phase: Phase) => number;
  readonly total: Readonly<Record<Phase, number>>;
}

function fitNamespace(plan: Planning, nsName: string): NamespaceFit {
  const workloads = plan.footprints.filter((w) => w.namespace === nsName);
  const classOf = new Map(
    workloads.map((w) => [w.name, storageClassOf(plan, plan.config.services[w.name])]),
  );
  const findings: CapacityFinding[] = limitRangeFindings(plan, nsName);
  const rows: QuotaUse[] = [];
  let objects: Map<string, ObjectCount> | undefined;
  const declared = plan.config.namespaces[nsName].quota;
  if (declared !== undefined && !isQuotaMap(declared)) {
    throw new Error(
      `namespaces.${nsName}.quota: resolve "auto" with resolveQuotas before planning capacity`,
    );
  }
  const quotas = Object.entries(declared ?? {});
  for (const [key, raw] of quotas.sort(([a], [b]) => a.localeCompare(b))) {
    const model = keyModel(key);
    if (model.objects && UNMODELLED.has(model.objects)) {
      findings.push({
        severity: "info",
        kind: "not-modelled",
        namespace: nsName,
        resource: key,
        message: `${key} counts objects other controllers create; not checked`,
        fixes: [],
      });
      continue;
    }
    const useOf = (w: WorkloadFootprint, phase: Phase) =>
      model.use?.(w[phase], classOf.get(w.name)) ?? 0;
    const totalOf = (phase: Phase) => {
      if (model.use) return workloads.reduce((sum, w) => sum + useOf(w, phase), 0);
      objects ??= namespaceObjects(plan, nsName);
      const c = objects.get(model.objects!);
      return phase === "peak" ? (c?.peak ?? 0) : (c?.steady ?? 0);
    };
    const total = { steady: totalOf("steady"), max: totalOf("max"), peak: totalOf("peak") };
    const use: KeyUse = {
      namespace: nsName,
      key,
      model,
      quota: parseAmount(model.unit, raw),
      workloads,
      useOf,
      total,
    };
    const fmt = (v: number) => formatAmount(model.unit, v);
    rows.push({
      resource: key,
      quota: fmt(use.quota),
      steady: fmt(total.steady),
      max: fmt(total.max),
      peak: fmt(total.peak),
      steadyRatio: ratio(total.steady, use.quota),
      peakRatio: ratio(total.peak, use.quota),
    });
    findings.push(...quotaFindings(plan.policy, use));
  }
  return { namespace: nsName, quota: rows, findings };
}

/**
 * Classifies one quota key: steady use over quota, then rollouts that cannot take their first
 * step (errors); otherwise HPA max, then rollout peaks, over quota (the policy's severity).
 */
function quotaFindings(policy: CapacityPolicy, u: KeyUse): CapacityFinding[] {
  const { key, model, quota, workloads, useOf, total } = u;
  const fmt = (v: number) => formatAmount(model.unit, v);
  const row = {
    namespace: u.namespace,
    resource: key,
    quota: fmt(quota),
    steady: fmt(total.steady),
    peak: fmt(total.peak),
  };
  const raiseTo = (v: number) =>
    `raise ${key} in namespace ${u.namespace} to ${fmt(roundUpReadable(model.unit, v))}`;
  const peakSeverity: Severity = policy.peakOverQuota === "error" ? "error" : "warning";
  const blocked = workloads.flatMap((w) => {
    const need = rolloutNeed(model, w);
    return need && total.steady + need.need > quota ? [{ w, ...need }] : [];
  });
  // The raise that clears every error of this key (and the peak too when peaks are errors).
  const errorNeed = Math.max(total.steady, ...blocked.map((b) => total.steady + b.need));
  const errorRaise = raiseTo(
    policy.peakOverQuota === "error" ? Math.max(errorNeed, total.peak) : errorNeed,
  );

  if (total.steady > quota) {
    // Lowered, the namespace must still leave room for the first step of any rollout that
    // cannot start without one (maxUnavailable 0), or the fix turns into a blocked rollout; where
    // peaks are errors, for today's HPA scale-out and surges too (they only shrink as counts do).
    const reserve = Math.max(
      0,
      ...workloads.map((w) => rolloutNeed(model, w)?.need ?? 0),
      policy.peakOverQuota === "error" ? total.peak - total.steady : 0,
    );
    const lower = lowerFix(
      model,
      workloads,
      (w) => useOf(w, "steady"),
      total.steady + reserve,
      quota,
      "steady",
    );
    return [
      {
        ...row,
        severity: "error",
        kind: "steady-over-quota",
        overBy: fmt(total.steady - quota),
        message: "steady use over quota",
        fixes: [errorRaise, ...lower],
      },
    ];
  }
  if (blocked.length > 0) {
    return blocked.map((b) => ({
      ...row,
      severity: "error",
      kind: "rollout-blocked",
      workload: b.w.name,
      overBy: fmt(total.steady + b.need - quota),
      message: `${b.w.name} rollout ${
        model.objects
          ? `cannot create its new ${model.objects === "replicasets.apps" ? "ReplicaSet" : "ControllerRevision"}`
          : "cannot start: no room for one surge pod and maxUnavailable is 0"
      }`,
      fixes: [errorRaise, ...(b.fix ? [b.fix] : [])],
    }));
  }
  if (total.max > quota) {
    const scaling = workloads.filter((w) => useOf(w, "max") > useOf(w, "steady"));
    // Where peaks are errors, a lower HPA max must leave room for today's surges as well.
    const reserve = policy.peakOverQuota === "error" ? total.peak - total.max : 0;
    const lower = lowerFix(
      model,
      scaling,
      (w) => useOf(w, "max"),
      total.max + reserve,
      quota,
      "max",
    );
    const maxima = scaling.map((w) => `${w.name} ${w.max.pods}`).join(", ");
    return [
      {
        ...row,
        severity: peakSeverity,
        kind: "max-over-quota",
        overBy: fmt(total.max - quota),
        message: `HPA max over quota (${maxima})`,
        fixes: [raiseTo(total.peak), ...lower],
      },
    ];
  }
  if (total.peak > quota) {
    const stuck = workloads.find((w) => {
      const perPod = model.perPod?.(w) ?? 0;
      return w.rollout?.max.maxUnavailable === 0 && perPod > 0 && total.max + perPod > quota;
    });
    const message = model.objects
      ? "peak object count over quota"
      : stuck
        ? stuck.autoscaled
          ? `${stuck.name} rollout at HPA max cannot start (maxUnavailable 0)`
          : `${stuck.name} rollout cannot start while ${workloads
              .filter((w) => w.autoscaled)
              .map((w) => w.name)
              .join(
                ", ",
              )} ${workloads.filter((w) => w.autoscaled).length === 1 ? "is" : "are"} at HPA max (maxUnavailable 0)`
        : "rollout surge over quota: rollouts slowed";
    return [
      {
        ...row,
        severity: peakSeverity,
        kind: "peak-over-quota",
        overBy: fmt(total.peak - quota),
        message,
        fixes: [raiseTo(total.peak)],
      },
    ];
  }
  return [];
}

/**
 * "lower api replicas to 3": the count of the largest contributor that brings `total` within
 * `quota`, when that leaves at least one replica (at least HPA min for `autoscale.max`).
 */
function lowerFix(
  model: KeyModel,
  candidates: readonly WorkloadFootprint[],
  useOf: (w: WorkloadFootprint) => number,
  total: number,
  quota: number,
  phase: "steady" | "max",
): string[] {
  const perPod = (w: WorkloadFootprint) => model.perPod?.(w) ?? 0;
  const top = candidates
    .filter((w) => !isBatch(w) && perPod(w) > 0)
    .sort((a, b) => useOf(b) - useOf(a))[0];
  if (!top) return [];
  const count = Math.floor((quota - (total - useOf(top))) / perPod(top));
  const minimum = phase === "max" ? top.steady.pods : 1;
  if (count < minimum || count >= top[phase].pods) return [];
  const field = phase === "max" ? "autoscale.max" : top.autoscaled ? "autoscale.min" : "replicas";
  return [`lower ${top.name} ${field} to ${count}`];
}

/** Containers whose limit (or request) is above the namespace's LimitRange max: their pods are rejected. */
function limitRangeFindings(plan: Planning, nsName: string): CapacityFinding[] {
  const lr = limitRangeDefaults(plan.config.namespaces[nsName]);
  const findings: CapacityFinding[] = [];
  for (const [name, svc] of Object.entries(plan.config.services)) {
    if (svc.namespace !== nsName) continue;
    for (const c of podContainers(name, svc, lr)) {
      for (const r of RESOURCES) {
        const maxText = lr.max[r];
        if (maxText === undefined) continue;
        const unit: Unit = r === "cpu" ? "cpu" : "bytes";
        const max = amountOf(r, maxText);
        const over = Math.max(c.limits[r], c.requests[r]);
        if (over <= max) continue;
        findings.push({
          severity: "error",
          kind: "limit-range-max",
          namespace: nsName,
          workload: name,
          resource: `limits.${r} (LimitRange max)`,
          quota: formatAmount(unit, max),
          steady: formatAmount(unit, over),
          peak: formatAmount(unit, over),
          overBy: formatAmount(unit, over - max),
          message: `${name} container ${c.name} is above the LimitRange max; its pods are rejected`,
          fixes: [
            `lower ${c.at}.limits.${r} to ${formatAmount(unit, max)}`,
            `raise namespaces.${nsName}.limits.max.${r} to ${formatAmount(unit, over)}`,
          ],
        });
      }
    }
  }
  return findings;
}

/**
 * A ResourceQuota sized from a namespace's peak footprint plus `headroomPercent`, rounded up to
 * readable figures (cpu: 100m steps below 2 cores, then whole cores; memory and storage: 64Mi
 * steps below 2Gi, then whole Gi; counts: whole numbers). Storage and ephemeral-storage keys are
 * included only when the namespace uses them.
 */
export function autoQuota(
  config: PlatformConfig,
  namespace: string,
  headroomPercent: number,
): Record<string, string> {
  if (!(namespace in config.namespaces))
    throw new Error(`autoQuota: "${namespace}" is not a configured namespace`);
  if (!Number.isFinite(headroomPercent) || headroomPercent < 0) {
    throw new Error(
      `autoQuota: headroomPercent must be a number of at least 0, got ${headroomPercent}`,
    );
  }
  const workloads = planning(config).footprints.filter((w) => w.namespace === namespace);
  const sum = (pick: (fp: Footprint) => number) =>
    workloads.reduce((total, w) => total + pick(w.peak), 0);
  const sized = (unit: Unit, value: number) =>
    formatAmount(unit, roundUpReadable(unit, (value * (100 + headroomPercent)) / 100));
  const quota: Record<string, string> = {
    "limits.cpu": sized(
      "cpu",
      sum((fp) => fp.limits.cpu),
    ),
    "limits.memory": sized(
      "bytes",
      sum((fp) => fp.limits.memory),
    ),
    pods: sized(
      "count",
      sum((fp) => fp.pods),
    ),
    "requests.cpu": sized(
      "cpu",
      sum((fp) => fp.requests.cpu),
    ),
    "requests.memory": sized(
      "bytes",
      sum((fp) => fp.requests.memory),
    ),
  };
  if (
    sum((fp) => fp.requests["ephemeral-storage"]) > 0 ||
    sum((fp) => fp.limits["ephemeral-storage"]) > 0
  ) {
    quota["requests.ephemeral-storage"] = sized(
      "bytes",
      sum((fp) => fp.requests["ephemeral-storage"]),
    );
    quota["limits.ephemeral-storage"] = sized(
      "bytes",
      sum((fp) => fp.limits["ephemeral-storage"]),
    );
  }
  if (sum((fp) => fp.persistentVolumeClaims) > 0) {
    quota.persistentvolumeclaims = sized(
      "count",
      sum((fp) => fp.persistentVolumeClaims),
    );
    quota["requests.storage"] = sized(
      "bytes",
      sum((fp) => fp.storage),
    );
  }
  return quota;
}

/** Headroom `quota: auto` adds when it states none, in percent. */
export const DEFAULT_AUTO_HEADROOM = 20;

/**
 * The config with every `quota: auto` replaced by the quota `autoQuota` sizes for it, so the
 * ResourceQuota emitted and the capacity plan use the same figures.
 */
export function resolveQuotas(config: PlatformConfig): PlatformConfig {
  const entries = Object.entries(config.namespaces);
  if (entries.every(([, ns]) => ns.quota === undefined || isQuotaMap(ns.quota))) return config;
  // Footprints do not depend on the quota: size from the config with the auto quotas left out.
  const withoutAuto: PlatformConfig = {
    ...config,
    namespaces: Object.fromEntries(
      entries.map(([name, ns]) => [
        name,
        ns.quota === undefined || isQuotaMap(ns.quota) ? ns : { ...ns, quota: undefined },
      ]),
    ),
  };
  const namespaces = Object.fromEntries(
    entries.map(([name, ns]) => {
      const q = ns.quota;
      if (q === undefined || isQuotaMap(q)) return [name, ns];
      const headroom =
        q === "auto" ? DEFAULT_AUTO_HEADROOM : (q.auto.headroom ?? DEFAULT_AUTO_HEADROOM);
      return [name, { ...ns, quota: autoQuota(withoutAuto, name, headroom) }];
    }),
  );
  return { ...config, namespaces };
}

// ---------------------------------------------------------------------------------------------
// Cluster fit and failover

/** Per-node specs for the configured pools: `count` nodes in each zone, overhead reserved. */
export function nodesFromPools(
  pools: Readonly<Record<string, NodePoolConfig>>,
  zoneLabel = "topology.kubernetes.io/zone",
): NodeSpec[] {
  const nodes: NodeSpec[] = [];
  for (const [pool, p] of Object.entries(pools)) {
    const zones: (string | undefined)[] = p.zones?.length ? p.zones : [undefined];
    const ephText = p.allocatable["ephemeral-storage"];
    const eph = ephText ? Quantity.parse(ephText).value() : undefined;
    const ephOverhead = p.overhead?.["ephemeral-storage"];
    for (const zone of zones) {
      for (let i = 1; i <= p.count; i++) {
        const name = zone === undefined ? `${pool}-${i}` : `${pool}-${zone}-${i}`;
        nodes.push({
          name,
          pool,
          ...(zone !== undefined ? { zone } : {}),
          cpu: Quantity.parse(p.allocatable.cpu).milliValue(),
          memory: Quantity.parse(p.allocatable.memory).value(),
          pods: p.allocatable.pods,
          ...(eph !== undefined ? { ephemeralStorage: eph } : {}),
          reserved: {
            cpu: p.overhead?.cpu ? Quantity.parse(p.overhead.cpu).milliValue() : 0,
            memory: p.overhead?.memory ? Quantity.parse(p.overhead.memory).value() : 0,
            pods: p.overhead?.pods ?? 0,
            ...(ephOverhead ? { ephemeralStorage: Quantity.parse(ephOverhead).value() } : {}),
          },
          labels: {
            ...(p.labels ?? {}),
            "kubernetes.io/hostname": name,
            ...(zone !== undefined ? { [zoneLabel]: zone } : {}),
          },
          taints: p.taints ?? [],
        });
      }
    }
  }
  return nodes;
}

/** Requested over usable (allocatable minus overhead). */
export interface Use {
  readonly used: string;
  readonly capacity: string;
  readonly ratio: number;
}

export interface PoolUse {
  readonly pool: string;
  readonly zones: readonly string[];
  readonly nodes: number;
  /** Nodes running at least one planned pod. */
  readonly nodesUsed: number;
  readonly cpu: Use;
  readonly memory: Use;
  readonly pods: Use;
  /** Only when the pool declares allocatable ephemeral-storage. */
  readonly ephemeralStorage?: Use;
}

export interface Unschedulable {
  readonly workload: string;
  readonly namespace: string;
  /** Peak pods of the workload. */
  readonly pods: number;
  /** Pods that fit nowhere, at peak and among the steady ones. */
  readonly unplaced: number;
  readonly unplacedSteady: number;
  /** kube-scheduler's FailedScheduling message. */
  readonly reason: string;
}

export interface ClusterFit {
  readonly scoring: "spread" | "binpack";
  readonly nodes: number;
  readonly pods: number;
  readonly placed: number;
  readonly pools: readonly PoolUse[];
  readonly unschedulable: readonly Unschedulable[];
}

export interface FailoverScenario {
  /** e.g. "without node general-a-1 (largest)" or "without zone eu-west-1a". */
  readonly scenario: string;
  readonly nodes: number;
  /**
   * Workloads with more unplaced pods than with every node up; `unplaced` and `unplacedSteady`
   * are what the scenario adds to that baseline.
   */
  readonly unschedulable: readonly Unschedulable[];
}

/** Pod groups and placement steps: steady pods first, then HPA scale-out, then rollout surges. */
interface ClusterModel {
  readonly nodes: NodeSpec[];
  readonly groups: PodGroup[];
  readonly steps: PlacementStep[];
  /** For each step: its workload and whether its pods are steady ones. */
  readonly owners: { readonly workload: WorkloadFootprint; readonly steady: boolean }[];
}

function clusterModel(plan: Planning): ClusterModel | undefined {
  const pools = plan.config.cluster.nodePools;
  if (!pools || Object.keys(pools).length === 0) return undefined;
  const groups: PodGroup[] = [];
  const phases: { step: PlacementStep; owner: ClusterModel["owners"][number] }[][] = [[], [], []];
  for (const w of plan.footprints) {
    const svc = plan.config.services[w.name];
    const spread = maxReplicas(svc) > 1 && !isBatch(svc);
    const group: PodGroup = {
      name: w.name,
      cpu: w.pod.requests.cpu,
      memory: w.pod.requests.memory,
      ephemeralStorage: w.pod.requests["ephemeral-storage"],
      ...(svc.nodeSelector ? { nodeSelector: svc.nodeSelector } : {}),
      ...(svc.tolerations ? { tolerations: svc.tolerations } : {}),
      ...(spread
        ? {
            zoneSpread: plan.context.multiZone
              ? ("DoNotSchedule" as const)
              : ("ScheduleAnyway" as const),
          }
        : {}),
    };
    const current = groups.push(group) - 1;
    phases[0].push({
      step: { group: current, count: w.steady.pods },
      owner: { workload: w, steady: true },
    });
    phases[1].push({
      step: { group: current, count: w.max.pods - w.steady.pods },
      owner: { workload: w, steady: false },
    });
    if (w.peak.pods > w.max.pods) {
      // The new ReplicaSet's pods: a separate owner, spread among themselves (pod-template-hash).
      const surge = groups.push({ ...group, name: `${w.name} (surge)` }) - 1;
      phases[2].push({
        step: { group: surge, count: w.peak.pods - w.max.pods },
        owner: { workload: w, steady: false },
      });
    }
  }
  const ordered = phases.flat().filter((p) => p.step.count > 0);
  return {
    nodes: nodesFromPools(pools, plan.context.profile.zoneLabel),
    groups,
    steps: ordered.map((p) => p.step),
    owners: ordered.map((p) => p.owner),
  };
}

function unschedulableOf(model: ClusterModel, placement: Placement): Unschedulable[] {
  const byWorkload = new Map<
    string,
    { w: WorkloadFootprint; unplaced: number; unplacedSteady: number; reason: string }
  >();
  placement.steps.forEach((outcome, i) => {
    if (outcome.unplaced === 0) return;
    const { workload: w, steady } = model.owners[i];
    const entry = byWorkload.get(w.name) ?? {
      w,
      unplaced: 0,
      unplacedSteady: 0,
      reason: placement.groups[model.steps[i].group].reason ?? "",
    };
    entry.unplaced += outcome.unplaced;
    if (steady) entry.unplacedSteady += outcome.unplaced;
    byWorkload.set(w.name, entry);
  });
  return [...byWorkload.values()].map(({ w, unplaced, unplacedSteady, reason }) => ({
    workload: w.name,
    namespace: w.namespace,
    pods: w.peak.pods,
    unplaced,
    unplacedSteady,
    reason,
  }));
}

function usage(unit: Unit, used: number, capacity: number): Use {
  return {
    used: formatAmount(unit, used),
    capacity: formatAmount(unit, capacity),
    ratio: capacity > 0 ? used / capacity : 0,
  };
}

function summarise(plan: Planning, model: ClusterModel, placement: Placement): ClusterFit {
  const pools = new Map<
    string,
    {
      zones: Set<string>;
      nodes: number;
      used: number;
      cpu: [number, number];
      memory: [number, number];
      pods: [number, number];
      /** Undefined when the pool's nodes declare no ephemeral-storage. */
      eph?: [number, number];
    }
  >();
  model.nodes.forEach((node, i) => {
    const p = pools.get(node.pool) ?? {
      zones: new Set<string>(),
      nodes: 0,
      used: 0,
      cpu: [0, 0],
      memory: [0, 0],
      pods: [0, 0],
    };
    const after = placement.nodes[i];
    const reserved = {
      cpu: node.reserved?.cpu ?? 0,
      memory: node.reserved?.memory ?? 0,
      pods: node.reserved?.pods ?? 0,
    };
    if (node.zone !== undefined) p.zones.add(node.zone);
    p.nodes++;
    if (after.planned > 0) p.used++;
    p.cpu[0] += after.cpu - reserved.cpu;
    p.cpu[1] += node.cpu - reserved.cpu;
    p.memory[0] += after.memory - reserved.memory;
    p.memory[1] += node.memory - reserved.memory;
    p.pods[0] += after.planned;
    p.pods[1] += node.pods - reserved.pods;
    if (node.ephemeralStorage !== undefined) {
      const reservedEph = node.reserved?.ephemeralStorage ?? 0;
      p.eph ??= [0, 0];
      p.eph[0] += after.ephemeralStorage - reservedEph;
      p.eph[1] += node.ephemeralStorage - reservedEph;
    }
    pools.set(node.pool, p);
  });
  const pods = model.steps.reduce((sum, s) => sum + s.count, 0);
  return {
    scoring: plan.policy.scoring,
    nodes: model.nodes.length,
    pods,
    placed: placement.steps.reduce((sum, s) => sum + s.placed, 0),
    pools: [...pools].map(([pool, p]) => ({
      pool,
      zones: [...p.zones],
      nodes: p.nodes,
      nodesUsed: p.used,
      cpu: usage("cpu", p.cpu[0], p.cpu[1]),
      memory: usage("bytes", p.memory[0], p.memory[1]),
      pods: usage("count", p.pods[0], p.pods[1]),
      ...(p.eph ? { ephemeralStorage: usage("bytes", p.eph[0], p.eph[1]) } : {}),
    })),
    unschedulable: unschedulableOf(model, placement),
  };
}

/**
 * Places every peak pod onto the configured node pools as the scheduler would (see
 * `placement.ts`) and reports unschedulable pods, nodes used per pool and utilisation. Returns
 * undefined when the stack configures no `cluster.nodePools`.
 */
export function clusterFit(config: PlatformConfig): ClusterFit | undefined {
  const plan = planning(config);
  const model = clusterModel(plan);
  return (
    model &&
    summarise(
      plan,
      model,
      placePods(model.nodes, model.groups, model.steps, { scoring: plan.policy.scoring }),
    )
  );
}

/**
 * Repeats the cluster fit without the largest node and without each zone (when the pools span
 * more than one), naming the workloads that would then not fit.
 */
export function failover(config: PlatformConfig): FailoverScenario[] {
  const plan = planning(config);
  const model = clusterModel(plan);
  return model
    ? failoverScenarios(
        plan,
        model,
        unschedulableOf(
          model,
          placePods(model.nodes, model.groups, model.steps, { scoring: plan.policy.scoring }),
        ),
      )
    : [];
}

function failoverScenarios(
  plan: Planning,
  model: ClusterModel,
  baseline: readonly Unschedulable[],
): FailoverScenario[] {
  if (model.nodes.length === 0) return [];
  const largest = model.nodes.reduce((best, node) =>
    node.cpu > best.cpu || (node.cpu === best.cpu && node.memory > best.memory) ? node : best,
  );
  const zones = [
    ...new Set(model.nodes.flatMap((node) => (node.zone === undefined ? [] : [node.zone]))),
  ];
  const scenarios: { scenario: string; keep: (node: NodeSpec) => boolean }[] = [
    { scenario: `without node ${largest.name} (largest)`, keep: (node) => node !== largest },
    ...(zones.length > 1
      ? zones.map((zone) => ({
          scenario: `without zone ${zone}`,
          keep: (node: NodeSpec) => node.zone !== zone,
        }))
      : []),
  ];
  const before = new Map(baseline.map((u) => [u.workload, u]));
  return scenarios.map(({ scenario, keep }) => {
    const nodes = model.nodes.filter(keep);
    const placement = placePods(nodes, model.groups, model.steps, { scoring: plan.policy.scoring });
    // What losing the node or zone adds: pods that do not fit even with every node up (a surge
    // that never fits, say) are the baseline's findings, not this scenario's.
    const unschedulable = unschedulableOf({ ...model, nodes }, placement).flatMap((u) => {
      const base = before.get(u.workload);
      const unplaced = u.unplaced - (base?.unplaced ?? 0);
      if (unplaced <= 0) return [];
      return [
        {
          ...u,
          unplaced,
          unplacedSteady: Math.max(0, u.unplacedSteady - (base?.unplacedSteady ?? 0)),
        },
      ];
    });
    return { scenario, nodes: nodes.length, unschedulable };
  });
}

function clusterFindings(
  plan: Planning,
  model: ClusterModel,
  fit: ClusterFit,
  scenarios: readonly FailoverScenario[],
): CapacityFinding[] {
  const enforce = plan.policy.clusterFit === "enforce";
  const perPod = new Map(plan.footprints.map((w) => [w.name, w.pod.requests]));
  const findings: CapacityFinding[] = fit.unschedulable.map((u) => {
    const group = model.groups.find((g) => g.name === u.workload)!;
    const pods =
      u.unplacedSteady > 0
        ? `${u.unplaced} of ${u.pods} peak pods (${u.unplacedSteady} steady)`
        : `${u.unplaced} of ${u.pods} peak pods`;
    return {
      severity: enforce ? "error" : "warning",
      kind: "unschedulable",
      namespace: u.namespace,
      workload: u.workload,
      message: `${u.workload}: ${pods} cannot be scheduled: ${u.reason}`,
      fixes: [addNodesFix(plan, model, group, u.unplaced)],
    };
  });
  for (const s of scenarios) {
    if (s.unschedulable.length === 0) continue;
    const missing = { cpu: 0, memory: 0 };
    for (const u of s.unschedulable) {
      missing.cpu += u.unplaced * perPod.get(u.workload)!.cpu;
      missing.memory += u.unplaced * perPod.get(u.workload)!.memory;
    }
    findings.push({
      severity: enforce ? "warning" : "info",
      kind: "failover",
      message: `${s.scenario}: ${s.unschedulable.map((u) => `${u.workload} (${u.unplaced} pod${u.unplaced === 1 ? "" : "s"})`).join(", ")} would not fit`,
      fixes: [
        `keep about ${formatAmount("cpu", missing.cpu)} cpu and ${formatAmount("bytes", missing.memory)} memory more free on the remaining nodes`,
      ],
    });
  }
  return findings;
}

/**
 * "raise cluster.nodePools.general.count to at least 5": a lower bound from the unplaced pods and
 * how many fit on an empty node of the first pool that admits them (spread may need more).
 */
function addNodesFix(
  plan: Planning,
  model: ClusterModel,
  group: PodGroup,
  unplaced: number,
): string {
  const node = model.nodes.find((n) => admits(n, group));
  if (!node) {
    return `no node pool admits ${group.name}: add one with matching labels and taints, or change services.${group.name}.nodeSelector or tolerations`;
  }
  const free = (total: number, reserved = 0) => Math.max(total - reserved, 0);
  const perNode = Math.min(
    group.cpu > 0 ? Math.floor(free(node.cpu, node.reserved?.cpu) / group.cpu) : Infinity,
    group.memory > 0
      ? Math.floor(free(node.memory, node.reserved?.memory) / group.memory)
      : Infinity,
    free(node.pods, node.reserved?.pods),
    (group.ephemeralStorage ?? 0) > 0 && node.ephemeralStorage !== undefined
      ? Math.floor(
          free(node.ephemeralStorage, node.reserved?.ephemeralStorage) / group.ephemeralStorage!,
        )
      : Infinity,
  );
  if (perNode < 1) {
    return `use bigger nodes in pool ${node.pool} or lower services.${group.name}.resources.requests: one pod does not fit an empty node`;
  }
  const pool = plan.config.cluster.nodePools![node.pool];
  const perZone = Math.ceil(Math.ceil(unplaced / perNode) / Math.max(pool.zones?.length ?? 1, 1));
  return `raise cluster.nodePools.${node.pool}.count to at least ${pool.count + perZone}`;
}

// ---------------------------------------------------------------------------------------------
// The report

export interface WorkloadSummary {
  readonly name: string;
  readonly namespace: string;
  readonly kind: WorkloadKind;
  /** One pod's requests, canonical. */
  readonly podCpu: string;
  readonly podMemory: string;
  readonly steadyPods: number;
  readonly maxPods: number;
  readonly peakPods: number;
  readonly peakCpu: string;
  readonly peakMemory: string;
}

/** Everything the planner found, as plain JSON-serialisable data (a stack output). */
export interface CapacityReport {
  readonly tier: Tier;
  readonly policy: CapacityPolicy;
  readonly workloads: readonly WorkloadSummary[];
  readonly namespaces: readonly NamespaceFit[];
  /** Absent when no `cluster.nodePools` are configured. */
  readonly cluster?: ClusterFit;
  readonly failover: readonly FailoverScenario[];
  /** The monthly cost estimate; absent when no price is configured (./cost). */
  readonly cost?: CostEstimate;
  /** Every finding, errors first. */
  readonly findings: readonly CapacityFinding[];
  readonly errors: readonly CapacityFinding[];
  readonly warnings: readonly CapacityFinding[];
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/**
 * Runs every check: footprints, namespace fit, cluster fit and failover, in one report. Give the
 * plan's config and objects (planPlatform) to check what will be registered; without objects,
 * they are built from the config.
 */
export function planCapacity(config: PlatformConfig, objects?: PlannedObjects): CapacityReport {
  const plan = planning(config, objects);
  const namespaces = fitNamespaces(plan);
  const model = clusterModel(plan);
  let cluster: ClusterFit | undefined;
  let scenarios: FailoverScenario[] = [];
  const findings = namespaces.flatMap((ns) => ns.findings);
  // The nodes the peak needs, for the cost: placed as a cluster autoscaler packs them (most-
  // allocated scoring, the spread constraints still honoured); spread scoring touches every node.
  let needed: Map<string, number> | undefined;
  if (model) {
    const placement = placePods(model.nodes, model.groups, model.steps, {
      scoring: plan.policy.scoring,
    });
    const packed =
      plan.policy.scoring === "binpack"
        ? placement
        : placePods(model.nodes, model.groups, model.steps, { scoring: "binpack" });
    needed = new Map();
    model.nodes.forEach((node, i) => {
      if (packed.nodes[i].planned > 0) needed!.set(node.pool, (needed!.get(node.pool) ?? 0) + 1);
    });
    cluster = summarise(plan, model, placement);
    scenarios = failoverScenarios(plan, model, cluster.unschedulable);
    findings.push(...clusterFindings(plan, model, cluster, scenarios));
  }
  findings.sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
  const cost = costOf(plan, cluster, needed);
  return {
    tier: config.tier,
    policy: plan.policy,
    workloads: plan.footprints.map((w) => ({
      name: w.name,
      namespace: w.namespace,
      kind: w.kind,
      podCpu: formatAmount("cpu", w.pod.requests.cpu),
      podMemory: formatAmount("bytes", w.pod.requests.memory),
      steadyPods: w.steady.pods,
      maxPods: w.max.pods,
      peakPods: w.peak.pods,
      peakCpu: formatAmount("cpu", w.peak.requests.cpu),
      peakMemory: formatAmount("bytes", w.peak.requests.memory),
    })),
    namespaces,
    ...(cluster ? { cluster } : {}),
    failover: scenarios,
    ...(cost ? { cost } : {}),
    findings,
    errors: findings.filter((f) => f.severity === "error"),
    warnings: findings.filter((f) => f.severity === "warning"),
  };
}
