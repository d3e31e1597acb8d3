/**
 * The platform's policies as pure functions over the Kubernetes objects of one stack. The
 * CrossGuard pack (`policy/index.ts`, run by `pulumi preview --policy-pack policy`) and the
 * offline render both evaluate exactly these rules.
 *
 * The tier (dev, staging, prod) is read from the `platform/tier` label the platform puts on
 * every Namespace, so the rules need no configuration of their own.
 */
import { EXPOSE_ANNOTATION, objectId, TIER_LABEL } from "../components/labels";
import type { Manifest } from "../components/context";
import { podSecurityViolations, podSpecOf, podTemplateOf } from "./pod-security";

export { EXPOSE_ANNOTATION, objectId, TIER_LABEL };

/** A Kubernetes object as plain data. */
export type Obj = Manifest;

export type Enforcement = "mandatory" | "advisory";

export interface PolicyContext {
  /** The stack's tier; derived from Namespace labels when not given. */
  readonly tier?: string;
  /** Storage classes outside the stack known to have reclaimPolicy Retain. */
  readonly retainStorageClasses?: readonly string[];
}

export interface Finding {
  /** `Kind/namespace/name` or `Kind/name` for cluster-scoped objects. */
  readonly object: string;
  readonly message: string;
}

export interface PlatformPolicy {
  readonly name: string;
  readonly description: string;
  readonly enforcement: Enforcement;
  readonly check: (objects: readonly Obj[], ctx: Required<PolicyContext>) => Finding[];
}

export interface Violation extends Finding {
  readonly policy: string;
  readonly enforcement: Enforcement;
}

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const POD_OWNERS = new Set([
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
  "CronJob",
  "Pod",
]);

function workloads(objects: readonly Obj[]): { o: Obj; pod: Any }[] {
  return objects
    .filter((o) => POD_OWNERS.has(o.kind))
    .map((o) => ({ o, pod: podSpecOf(o) as Any | undefined }))
    .filter((w): w is { o: Obj; pod: Any } => w.pod !== undefined);
}

function containers(pod: Any): Any[] {
  return [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
}

function templateLabels(o: Obj): Record<string, string> {
  return (podTemplateOf(o) as Any | undefined)?.metadata?.labels ?? {};
}

function selects(
  selector: Record<string, string> | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Most replicas a Deployment or StatefulSet can run: its HPA's max, or spec.replicas (default 1). */
function maxReplicas(o: Obj, objects: readonly Obj[]): number {
  const hpa = objects.find(
    (h) =>
      h.kind === "HorizontalPodAutoscaler" &&
      h.metadata.namespace === o.metadata.namespace &&
      (h.spec as Any)?.scaleTargetRef?.kind === o.kind &&
      (h.spec as Any)?.scaleTargetRef?.name === o.metadata.name,
  );
  if (hpa) return (hpa.spec as Any).maxReplicas ?? 1;
  return (o.spec as Any)?.replicas ?? 1;
}

function isDefaultDeny(p: Obj, direction: "Ingress" | "Egress"): boolean {
  const spec = p.spec as Any;
  const selectsAll =
    spec?.podSelector &&
    Object.keys(spec.podSelector.matchLabels ?? {}).length === 0 &&
    (spec.podSelector.matchExpressions ?? []).length === 0;
  const rules = direction === "Ingress" ? spec?.ingress : spec?.egress;
  return Boolean(
    selectsAll &&
    (spec.policyTypes ?? []).includes(direction) &&
    (rules === undefined || rules.length === 0),
  );
}

const pinnedDigest = /@sha256:[a-f0-9]{64}$/;

export const POLICIES: readonly PlatformPolicy[] = [
  {
    name: "pod-security-restricted",
    description:
      "Every pod template meets Pod Security Standards restricted and runs as a numeric non-root UID.",
    enforcement: "mandatory",
    check: (objects) =>
      workloads(objects).flatMap(({ o, pod }) =>
        podSecurityViolations(pod).map((message) => ({ object: objectId(o), message })),
      ),
  },
  {
    name: "no-host-access",
    description: "No hostPath volumes, hostNetwork, hostPID, hostIPC or privileged containers.",
    enforcement: "mandatory",
    check: (objects) =>
      workloads(objects).flatMap(({ o, pod }) => {
        const out: string[] = [];
        for (const key of ["hostNetwork", "hostPID", "hostIPC"])
          if (pod[key] === true) out.push(`${key} is set`);
        for (const v of pod.volumes ?? [])
          if (v.hostPath) out.push(`volume ${v.name} mounts hostPath ${v.hostPath.path}`);
        for (const c of containers(pod))
          if (c.securityContext?.privileged === true) out.push(`container ${c.name} is privileged`);
        return out.map((message) => ({ object: objectId(o), message }));
      }),
  },
  {
    name: "resources-set",
    description: "Every container sets cpu and memory requests and limits.",
    enforcement: "mandatory",
    check: (objects) =>
      workloads(objects).flatMap(({ o, pod }) =>
        containers(pod).flatMap((c) => {
          const missing = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"].filter(
            (path) => {
              const [group, res] = path.split(".");
              return c.resources?.[group]?.[res] === undefined;
            },
          );
          return missing.length
            ? [
                {
                  object: objectId(o),
                  message: `container ${c.name} sets no ${missing.join(", ")}`,
                },
              ]
            : [];
        }),
      ),
  },
  {
    name: "images-pinned",
    description: "Images carry a version tag or digest, never latest; in prod, a sha256 digest.",
    enforcement: "mandatory",
    check: (objects, ctx) =>
      workloads(objects).flatMap(({ o, pod }) =>
        containers(pod).flatMap((c) => {
          const image = String(c.image ?? "");
          const lastPart = image.split("/").pop() ?? "";
          if (!lastPart.includes(":") && !lastPart.includes("@")) {
            return [
              {
                object: objectId(o),
                message: `container ${c.name} image "${image}" has no tag or digest (means latest); pin a version`,
              },
            ];
          }
          if (/:latest(@|$)/.test(image))
            return [
              {
                object: objectId(o),
                message: `container ${c.name} image "${image}" uses the latest tag; pin a version`,
              },
            ];
          if (ctx.tier === "prod" && !pinnedDigest.test(image)) {
            return [
              {
                object: objectId(o),
                message: `container ${c.name} image "${image}" has no sha256 digest; prod runs digests only (promote with npm run promote)`,
              },
            ];
          }
          return [];
        }),
      ),
  },
  {
    name: "readiness-probe-when-served",
    description:
      "Containers behind a Service have a readiness probe, so traffic only reaches ready pods.",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter((s) => s.kind === "Service" && (s.spec as Any)?.selector)
        .flatMap((s) =>
          workloads(objects)
            .filter(
              ({ o }) =>
                o.metadata.namespace === s.metadata.namespace &&
                o.kind !== "CronJob" &&
                o.kind !== "Job" &&
                selects((s.spec as Any).selector, templateLabels(o)),
            )
            .flatMap(({ o, pod }) => {
              const served = (pod.containers ?? []).filter((c: Any) => (c.ports ?? []).length > 0);
              const needProbe = served.length > 0 ? served : (pod.containers ?? []).slice(0, 1);
              return needProbe
                .filter((c: Any) => !c.readinessProbe)
                .map((c: Any) => ({
                  object: objectId(o),
                  message: `container ${c.name} is served by Service ${s.metadata.name} but has no readinessProbe`,
                }));
            }),
        ),
  },
  {
    name: "disruption-budget",
    description:
      "Anything that can run more than one replica has a PodDisruptionBudget allowing at least one disruption.",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter(
          (o) =>
            (o.kind === "Deployment" || o.kind === "StatefulSet") && maxReplicas(o, objects) > 1,
        )
        .flatMap((o) => {
          const labels = templateLabels(o);
          const pdbs = objects.filter(
            (p) =>
              p.kind === "PodDisruptionBudget" &&
              p.metadata.namespace === o.metadata.namespace &&
              selects((p.spec as Any)?.selector?.matchLabels, labels),
          );
          if (pdbs.length === 0)
            return [
              {
                object: objectId(o),
                message: `can run ${maxReplicas(o, objects)} replicas but no PodDisruptionBudget selects it`,
              },
            ];
          return pdbs
            .filter((p) => !allowsDisruption(p.spec as Any, o, objects))
            .map((p) => ({
              object: objectId(o),
              message: `PodDisruptionBudget ${p.metadata.name} allows no voluntary disruption, which blocks node drains; use maxUnavailable: 1`,
            }));
        }),
  },
  {
    name: "hpa-owns-replicas",
    description:
      "A Deployment scaled by an HPA does not set spec.replicas (the two would fight on every apply).",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter((h) => h.kind === "HorizontalPodAutoscaler")
        .flatMap((h) => {
          const ref = (h.spec as Any)?.scaleTargetRef ?? {};
          const target = objects.find(
            (o) =>
              o.kind === ref.kind &&
              o.metadata.name === ref.name &&
              o.metadata.namespace === h.metadata.namespace,
          );
          return target && (target.spec as Any)?.replicas !== undefined
            ? [
                {
                  object: objectId(target),
                  message: `sets spec.replicas (${(target.spec as Any).replicas}) although HorizontalPodAutoscaler ${h.metadata.name} scales it; remove replicas`,
                },
              ]
            : [];
        }),
  },
  {
    name: "namespace-isolation",
    description:
      "Every namespace has default-deny ingress and egress NetworkPolicies and a ResourceQuota.",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter((n) => n.kind === "Namespace")
        .flatMap((n) => {
          const inNs = objects.filter((o) => o.metadata.namespace === n.metadata.name);
          const policies = inNs.filter((o) => o.kind === "NetworkPolicy");
          const out: string[] = [];
          if (!policies.some((p) => isDefaultDeny(p, "Ingress")))
            out.push("has no default-deny ingress NetworkPolicy");
          if (!policies.some((p) => isDefaultDeny(p, "Egress")))
            out.push("has no default-deny egress NetworkPolicy");
          if (!inNs.some((o) => o.kind === "ResourceQuota")) out.push("has no ResourceQuota");
          return out.map((message) => ({ object: objectId(n), message }));
        }),
  },
  {
    name: "network-policy-peers",
    description:
      "Every NetworkPolicy rule names its peers: a rule without from/to, an empty peer or one selecting every pod of every namespace admits everything. (Address ranges are explicit, so an ipBlock counts as named.)",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter((p) => p.kind === "NetworkPolicy")
        .flatMap((p) => {
          const spec = (p.spec ?? {}) as Any;
          const open = (rules: unknown, peers: "from" | "to") =>
            (Array.isArray(rules) ? rules : []).flatMap((rule: Any, i: number) => {
              const list = rule?.[peers];
              const everyone =
                !Array.isArray(list) ||
                list.length === 0 ||
                list.some(
                  (peer: Any) =>
                    !peer ||
                    Object.keys(peer).length === 0 ||
                    (Object.keys(peer.namespaceSelector ?? { x: 1 }).length === 0 &&
                      Object.keys(peer.podSelector ?? {}).length === 0),
                );
              return everyone
                ? [
                    {
                      object: objectId(p),
                      message: `${peers === "from" ? "ingress" : "egress"}[${i}] admits ${peers === "from" ? "every source" : "every destination"}; name the pods, namespaces or addresses (${peers})`,
                    },
                  ]
                : [];
            });
          return [...open(spec.ingress, "from"), ...open(spec.egress, "to")];
        }),
  },
  {
    name: "external-exposure-opt-in",
    description:
      "LoadBalancer and NodePort Services only with an explicit opt-in (services.<name>.expose).",
    enforcement: "mandatory",
    check: (objects) =>
      objects
        .filter(
          (s) =>
            s.kind === "Service" && ["LoadBalancer", "NodePort"].includes((s.spec as Any)?.type),
        )
        .filter((s) => s.metadata.annotations?.[EXPOSE_ANNOTATION] !== "true")
        .map((s) => ({
          object: objectId(s),
          message: `is a ${(s.spec as Any).type} without the ${EXPOSE_ANNOTATION}: "true" opt-in; set services.<name>.expose in config`,
        })),
  },
  {
    name: "prod-stateful-retained",
    description:
      "In prod, StatefulSet volumes survive deletion: claim retention Retain and a Retain storage class.",
    enforcement: "mandatory",
    check: (objects, ctx) => {
      if (ctx.tier !== "prod") return [];
      const retainClasses = new Set([
        ...objects
          .filter((c) => c.kind === "StorageClass" && c.reclaimPolicy === "Retain")
          .map((c) => c.metadata.name),
        ...ctx.retainStorageClasses,
      ]);
      return objects
        .filter((o) => o.kind === "StatefulSet")
        .flatMap((o) => {
          const spec = o.spec as Any;
          const out: string[] = [];
          if (spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted !== "Retain")
            out.push("persistentVolumeClaimRetentionPolicy.whenDeleted is not Retain");
          for (const t of spec?.volumeClaimTemplates ?? []) {
            const cls = t.spec?.storageClassName;
            if (!cls || !retainClasses.has(cls)) {
              out.push(
                `volume ${t.metadata?.name} uses storage class ${cls ?? "(cluster default)"}, not known to retain volumes; use the platform's Retain class`,
              );
            }
          }
          return out.map((message) => ({ object: objectId(o), message }));
        });
    },
  },
  {
    name: "topology-spread",
    description: "Workloads with more than one replica spread over nodes.",
    enforcement: "advisory",
    check: (objects) =>
      objects
        .filter(
          (o) =>
            (o.kind === "Deployment" || o.kind === "StatefulSet") && maxReplicas(o, objects) > 1,
        )
        .filter(
          (o) =>
            !((podSpecOf(o) as Any)?.topologySpreadConstraints ?? []).some(
              (c: Any) => c.topologyKey === "kubernetes.io/hostname",
            ),
        )
        .map((o) => ({
          object: objectId(o),
          message: "runs several replicas without a topology spread over kubernetes.io/hostname",
        })),
  },
  {
    name: "prod-priority-class",
    description:
      "In prod, pods name a priorityClass so the scheduler knows what to keep under pressure.",
    enforcement: "advisory",
    check: (objects, ctx) =>
      ctx.tier !== "prod"
        ? []
        : workloads(objects)
            .filter(({ pod }) => !pod.priorityClassName)
            .map(({ o }) => ({ object: objectId(o), message: "sets no priorityClassName" })),
  },
  {
    name: "ephemeral-storage-requests",
    description:
      "Containers request ephemeral-storage, so node disk pressure evicts the right pods.",
    enforcement: "advisory",
    check: (objects) =>
      workloads(objects).flatMap(({ o, pod }) =>
        containers(pod)
          .filter((c) => c.resources?.requests?.["ephemeral-storage"] === undefined)
          .map((c) => ({
            object: objectId(o),
            message: `container ${c.name} requests no ephemeral-storage`,
          })),
      ),
  },
];

function allowsDisruption(spec: Any, o: Obj, objects: readonly Obj[]): boolean {
  const pct = (v: unknown) =>
    typeof v === "string" && v.endsWith("%") ? Number(v.slice(0, -1)) : undefined;
  if (spec?.maxUnavailable !== undefined) {
    const p = pct(spec.maxUnavailable);
    return p !== undefined ? p > 0 : Number(spec.maxUnavailable) >= 1;
  }
  if (spec?.minAvailable !== undefined) {
    const p = pct(spec.minAvailable);
    if (p !== undefined) return p < 100;
    // Judged at the workload's smallest size: the HPA minimum or its replicas.
    const hpa = objects.find(
      (h) =>
        h.kind === "HorizontalPodAutoscaler" &&
        (h.spec as Any)?.scaleTargetRef?.name === o.metadata.name &&
        h.metadata.namespace === o.metadata.namespace,
    );
    const least = hpa ? ((hpa.spec as Any).minReplicas ?? 1) : ((o.spec as Any)?.replicas ?? 1);
    return Number(spec.minAvailable) < least;
  }
  return false;
}

/** The stack's tier from its Namespaces' `platform/tier` labels (the strictest wins). */
export function tierOf(objects: readonly Obj[]): string {
  const tiers = new Set(
    objects.filter((o) => o.kind === "Namespace").map((n) => n.metadata.labels?.[TIER_LABEL]),
  );
  return tiers.has("prod")
    ? "prod"
    : tiers.has("staging")
      ? "staging"
      : tiers.has("dev")
        ? "dev"
        : "unknown";
}

/** Evaluates every policy; violations sorted by policy, then object. */
export function evaluatePolicies(
  objects: readonly Obj[],
  context: PolicyContext = {},
): Violation[] {
  const ctx: Required<PolicyContext> = {
    tier: context.tier ?? tierOf(objects),
    retainStorageClasses: context.retainStorageClasses ?? [],
  };
  return POLICIES.flatMap((p) =>
    p.check(objects, ctx).map((f) => ({ policy: p.name, enforcement: p.enforcement, ...f })),
  );
}

/** One line per violation, for terminals and error messages. */
export function formatViolations(violations: readonly Violation[]): string {
  return violations
    .map((v) => `  [${v.enforcement}] ${v.policy}: ${v.object} ${v.message}`)
    .join("\n");
}
