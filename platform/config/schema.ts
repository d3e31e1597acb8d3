/**
 * The stack configuration document: the library's per-kind schemas (components/schema) composed
 * into one environment (tier, cluster, namespaces, services, capacity policy).
 */
import { z } from "zod";
import {
  clusterSchema as cluster,
  dnsLabel,
  namespaceSchema as namespace,
  tierSchema,
  workloadSchema as workload,
} from "../../components/schema";

const capacity = z.strictObject({
  /** HPA max or rollout surge beyond quota: warn or fail. @default warn (error in prod) */
  peakOverQuota: z.enum(["warn", "error"]).optional(),
  /** Pods that do not fit the node pools: advisory or enforced. @default advisory */
  clusterFit: z.enum(["advisory", "enforce"]).optional(),
  /** Scheduler scoring: spread (least-allocated) or bin-pack (most-allocated). @default spread */
  scoring: z.enum(["spread", "binpack"]).optional(),
});

/** The merged document that is validated. */
export const platformSchema = z.strictObject({
  /** The environment's tier; drives safety defaults (protection, strict capacity). */
  tier: tierSchema,
  cluster,
  namespaces: z.record(dnsLabel("a namespace name"), namespace),
  services: z.record(dnsLabel("a service name"), workload),
  capacity: capacity.optional(),
});

export type PlatformConfig = z.output<typeof platformSchema>;
