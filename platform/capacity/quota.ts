/**
 * Namespace fit: each namespace's workloads against every key of its ResourceQuota, counted as
 * the quota controller counts them, at steady, max and peak; container limits against its
 * LimitRange max; and `quota: auto`, sized from what the workloads really run.
 */
import type { Manifest } from "../../components/context";
import { buildWorkload } from "../../components/manifests";
import { buildTenant } from "../../components/tenant";
import { isBatch } from "../../components/podspec";
import { type PlatformConfig, isQuotaMap, tenantConfig } from "../config/schema";
import { overlappingRuns } from "./cron";
import {
  RESOURCES,
  type ResourceName,
  amountOf,
  limitRangeDefaults,
  podContainers,
} from "./pod-resources";
import type { Footprint, WorkloadFootprint } from "./footprint";
import type { CapacityFinding, CapacityPolicy, Severity } from "./findings";
import { type Unit, formatAmount, parseAmount, roundUpReadable } from "./amounts";
import { type Planning, planning, storageClassOf } from "./planning";

/** Use over quota; null when the quota is 0 and the use is not. */
function ratio(use: number, quota: number): number | null {
  return quota > 0 ? use / quota : use > 0 ? null : 0;
}

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

/**
 * Checks each namespace's workloads against every key of its ResourceQuota, and container limits
 * against its LimitRange max. Steady use over quota and rollouts that cannot start are errors; HPA
 * max or rollout peaks over quota are warnings, or errors under `capacity.peakOverQuota: error`.
 */
export function namespaceFit(config: PlatformConfig): NamespaceFit[] {
  return fitNamespaces(planning(config));
}

export function fitNamespaces(plan: Planning): NamespaceFit[] {
  return Object.keys(plan.config.namespaces).map((nsName) => fitNamespace(plan, nsName));
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
