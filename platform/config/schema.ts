/**
 * The stack configuration document: the library's per-kind schemas (components/schema) composed
 * into one environment (tier, cluster, namespaces, services, capacity policy).
 */
import { z } from "zod";
import {
  CLOUDS,
  type TenantConfig,
  clusterDefaultsFields,
  cpu,
  dnsLabel,
  memory,
  nonNegativeInt,
  positiveInt,
  storage,
  quotaHard,
  tenantFields,
  tierSchema,
  workloadSchema as workload,
} from "../../components/schema";
import { reviewSchema } from "./review";

const nodePool = z.strictObject({
  /** Nodes per zone (or in total when no zones are given). */
  count: nonNegativeInt,
  zones: z.array(z.string()).optional(),
  /**
   * Per-node allocatable resources (`kubectl get node -o jsonpath='{.status.allocatable}'`).
   * ephemeral-storage is optional: without it the planner cannot check that pods' scratch-space
   * requests fit the node disks.
   */
  allocatable: z.strictObject({
    cpu,
    memory,
    pods: positiveInt,
    "ephemeral-storage": storage.optional(),
  }),
  /** Per-node reservation for DaemonSets and system pods, taken off allocatable. */
  overhead: z
    .strictObject({
      cpu: cpu.optional(),
      memory: memory.optional(),
      pods: nonNegativeInt.optional(),
      "ephemeral-storage": storage.optional(),
    })
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  /**
   * What a node costs, for the offline cost estimate: per node-hour, or per vCPU-hour and
   * GiB-hour of its allocatable resources (the currency is capacity.prices.currency).
   */
  price: z
    .strictObject({
      perNodeHour: z.number().nonnegative().optional(),
      perVcpuHour: z.number().nonnegative().optional(),
      perGiBHour: z.number().nonnegative().optional(),
    })
    .refine(
      (p) =>
        p.perNodeHour !== undefined || (p.perVcpuHour !== undefined && p.perGiBHour !== undefined),
      { message: "give perNodeHour, or both perVcpuHour and perGiBHour" },
    )
    .optional(),
  taints: z
    .array(
      z.strictObject({
        key: z.string(),
        value: z.string().optional(),
        effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]),
      }),
    )
    .optional(),
});

const cluster = z.strictObject({
  cloud: z.enum(CLOUDS),
  /** A stable identifier for the cluster; changing the kubeconfig does not replace resources. */
  name: dnsLabel("cluster.name"),
  /** kubeconfig context to use. @default the current context */
  context: z.string().optional(),
  /** Path to a kubeconfig file. @default $KUBECONFIG or ~/.kube/config */
  kubeconfig: z.string().optional(),
  /** Write manifests to this directory instead of applying them (no cluster needed). */
  renderYamlToDirectory: z.string().optional(),
  nodePools: z.record(dnsLabel("a node pool name"), nodePool).optional(),
  ...clusterDefaultsFields,
  /** PriorityClasses the platform creates, for services' priorityClassName. */
  priorityClasses: z
    .record(
      dnsLabel("a priority class name"),
      z.strictObject({
        /** Higher runs first and may preempt lower. User classes stay at or below 1000000000. */
        value: z.number().int().min(-2147483648).max(1000000000),
        description: z.string().optional(),
        /** Never: waits for room instead of evicting lower-priority pods. @default PreemptLowerPriority */
        preemptionPolicy: z.enum(["PreemptLowerPriority", "Never"]).optional(),
      }),
    )
    .optional(),
});

/** A namespace as the stack config states it: a tenant whose quota may also be sized `auto`. */
const namespace = z.strictObject({
  ...tenantFields,
  /**
   * ResourceQuota hard limits, e.g. `{ requests.cpu: "4", pods: 20 }`; or `auto` (or
   * `{ auto: { headroom: 30 } }`) to size them from the namespace's peak footprint plus a
   * headroom in percent (@default 20), rounded to readable values.
   */
  quota: z
    .union([
      quotaHard,
      z.literal("auto"),
      z.strictObject({
        auto: z.strictObject({ headroom: z.number().min(0).max(1000).optional() }),
      }),
    ])
    .optional(),
});

const capacity = z.strictObject({
  /** HPA max or rollout surge beyond quota: warn or fail. @default warn (error in prod) */
  peakOverQuota: z.enum(["warn", "error"]).optional(),
  /** Pods that do not fit the node pools: advisory or enforced. @default advisory */
  clusterFit: z.enum(["advisory", "enforce"]).optional(),
  /** Scheduler scoring: spread (least-allocated) or bin-pack (most-allocated). @default spread */
  scoring: z.enum(["spread", "binpack"]).optional(),
  /**
   * Prices for the offline cost estimate (with each node pool's `price`): volumes per GiB-month
   * by storage class, LoadBalancer Services each per month.
   */
  prices: z
    .strictObject({
      /** ISO 4217 code. @default USD */
      currency: z
        .string()
        .regex(/^[A-Z]{3}$/, { message: "must be a three-letter currency code such as USD or EUR" })
        .optional(),
      storage: z.record(z.string(), z.number().nonnegative()).optional(),
      loadBalancer: z.number().nonnegative().optional(),
    })
    .optional(),
});

/**
 * Settings every service of the stack gets unless it sets its own (e.g. a stack on its own
 * tainted node pool). Lists and single values are replaced by a service's; maps are merged,
 * the service's keys winning. `labels` also go on the tenants' Namespaces.
 */
export const defaultsSchema = z.strictObject({
  nodeSelector: workload.shape.nodeSelector,
  tolerations: workload.shape.tolerations,
  priorityClassName: workload.shape.priorityClassName,
  imagePullSecrets: workload.shape.imagePullSecrets,
  labels: workload.shape.labels,
  podAnnotations: workload.shape.podAnnotations,
  /** Annotations of every service's Ingress (e.g. the controller's). */
  ingressAnnotations: z.record(z.string(), z.string()).optional(),
});

/** The merged document that is validated. */
export const platformSchema = z.strictObject({
  /** The environment's tier; drives safety defaults (protection, strict capacity). */
  tier: tierSchema,
  cluster,
  namespaces: z.record(dnsLabel("a namespace name"), namespace),
  services: z.record(dnsLabel("a service name"), workload),
  capacity: capacity.optional(),
  defaults: defaultsSchema.optional(),
  /** Present in a review stack (pr-<n>) only: see ./review. */
  review: reviewSchema.optional(),
});

export type DefaultsConfig = z.output<typeof defaultsSchema>;
export type PlatformConfig = z.output<typeof platformSchema>;
export type ClusterConfig = z.output<typeof cluster>;
export type NodePoolConfig = z.output<typeof nodePool>;
export type NamespaceConfig = z.output<typeof namespace>;

/** A namespace quota given as explicit hard limits (not `auto`). */
export function isQuotaMap(
  quota: NamespaceConfig["quota"],
): quota is Record<string, string | number> {
  // Quota keys never read "auto" (quotaKey), so an object with that key is the auto form.
  return typeof quota === "object" && !("auto" in quota);
}

/** A namespace as the library's Tenant takes it; an `auto` quota must be resolved first. */
export function tenantConfig(name: string, ns: NamespaceConfig): TenantConfig {
  if (ns.quota !== undefined && !isQuotaMap(ns.quota)) {
    throw new Error(
      `namespaces.${name}.quota: resolve "auto" with resolveQuotas before building the tenant`,
    );
  }
  return { ...ns, quota: ns.quota };
}
