/**
 * Pure builders for pod templates: containers, security context, probes, resources,
 * volumes and topology spread. Every pod meets the Pod Security Standards "restricted" profile.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
 */
import { createHash, createHmac } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { ContainerConfig, ProbeConfig, ResourcesConfig, WorkloadConfig } from "./types";
import { selectorLabels, type BuildContext, type Manifest } from "./context";
import { withPodTemplate } from "./pod-template";

/** Numeric identity used when a workload states none (distroless "nonroot"). */
export const DEFAULT_UID = 65532;
export const CHECKSUM_ANNOTATION = "checksum/config";
/** Pod template annotation that changes with the values of the `<service>-env` Secret. */
export const SECRET_CHECKSUM_ANNOTATION = "checksum/secret-env";
export const SECRET_ENV_SUFFIX = "-env";

type Obj = Record<string, unknown>;

/** Name of the emptyDir volume generated for a writable path. */
export function writableVolumeName(path: string, index: number): string {
  const slug = path
    .replace(/^\/+|\/+$/g, "")
    .replace(/[^a-z0-9]+/gi, "-")
    .toLowerCase()
    .slice(0, 40);
  return `w${index}-${slug || "root"}`.replace(/-+$/, "");
}

/** requests as given; limits default to the requests (Guaranteed QoS) unless raised. */
export function containerResources(res: ResourcesConfig): {
  requests: Record<string, string>;
  limits: Record<string, string>;
} {
  const requests: Record<string, string> = { cpu: res.requests.cpu, memory: res.requests.memory };
  if (res.requests["ephemeral-storage"])
    requests["ephemeral-storage"] = res.requests["ephemeral-storage"];
  const limits: Record<string, string> = {
    cpu: res.limits?.cpu ?? res.requests.cpu,
    memory: res.limits?.memory ?? res.requests.memory,
  };
  const eph = res.limits?.["ephemeral-storage"] ?? res.requests["ephemeral-storage"];
  if (eph) limits["ephemeral-storage"] = eph;
  return { requests, limits };
}

export function containerSecurityContext(readOnlyRootFilesystem: boolean): Obj {
  return {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

export function podSecurityContext(svc: WorkloadConfig): Obj {
  const uid = svc.securityContext?.runAsUser ?? DEFAULT_UID;
  const gid = svc.securityContext?.runAsGroup ?? uid;
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: gid,
    fsGroup: svc.securityContext?.fsGroup ?? gid,
    fsGroupChangePolicy: "OnRootMismatch",
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Resolves a probe port (a name, a number or nothing) against the container's ports. */
function probePort(
  port: number | string | undefined,
  ports: Record<string, number>,
): number | string {
  if (port !== undefined) return port;
  const first = Object.keys(ports)[0];
  if (first === undefined) throw new Error("a probe without a port needs a container port");
  return first;
}

export function buildProbe(p: ProbeConfig, ports: Record<string, number>): Obj {
  const out: Obj = {};
  if (p.http) out.httpGet = { path: p.http.path, port: probePort(p.http.port, ports) };
  if (p.tcp) out.tcpSocket = { port: probePort(p.tcp.port, ports) };
  if (p.exec) out.exec = { command: p.exec.command };
  if (p.grpc) out.grpc = { port: p.grpc.port };
  for (const key of [
    "initialDelaySeconds",
    "periodSeconds",
    "timeoutSeconds",
    "failureThreshold",
    "successThreshold",
  ] as const) {
    if (p[key] !== undefined) out[key] = p[key];
  }
  return out;
}

function envList(
  env: Record<string, string> | undefined,
  secretEnv: Record<string, string> | undefined,
  secretName: string,
): Obj[] {
  const plain = Object.entries(env ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => ({ name, value }));
  const secret = Object.keys(secretEnv ?? {})
    .sort()
    .map((name) => ({ name, valueFrom: { secretKeyRef: { name: secretName, key: name } } }));
  return [...plain, ...secret];
}

function portList(ports: Record<string, number> | undefined): Obj[] | undefined {
  const entries = Object.entries(ports ?? {});
  return entries.length === 0
    ? undefined
    : entries.map(([name, containerPort]) => ({ name, containerPort, protocol: "TCP" }));
}

/** Volume mounts for the writable emptyDirs, shared by every container of the pod. */
function writableMounts(svc: WorkloadConfig): Obj[] {
  return writablePaths(svc).map((mountPath, i) => ({
    name: writableVolumeName(mountPath, i),
    mountPath,
  }));
}

export function writablePaths(svc: WorkloadConfig): string[] {
  return svc.writablePaths ?? ["/tmp"];
}

function extraContainer(c: ContainerConfig, svc: WorkloadConfig, readOnly: boolean): Obj {
  const mounts = [
    ...writableMounts(svc),
    ...Object.entries(c.volumeMounts ?? {}).map(([name, mountPath]) => ({ name, mountPath })),
  ];
  const out: Obj = {
    name: c.name,
    image: c.image,
    imagePullPolicy: "IfNotPresent",
    resources: containerResources(c.resources),
    securityContext: containerSecurityContext(readOnly),
    volumeMounts: mounts,
  };
  if (c.command) out.command = c.command;
  if (c.args) out.args = c.args;
  const env = envList(c.env, undefined, "");
  if (env.length > 0) out.env = env;
  const ports = portList(c.ports);
  if (ports) out.ports = ports;
  if (c.readinessProbe) out.readinessProbe = buildProbe(c.readinessProbe, c.ports ?? {});
  if (c.restartAlways) out.restartPolicy = "Always";
  return out;
}

/** A stable hash of the non-secret configuration that, when it changes, should roll the pods. */
export function configChecksum(svc: WorkloadConfig): string {
  const material = {
    env: svc.env ?? {},
    secretEnvKeys: svc.secretEnv ?? {},
    volumes: svc.volumes ?? {},
    sidecars: (svc.sidecars ?? []).map((c) => c.env ?? {}),
  };
  return createHash("sha256").update(stableStringify(material)).digest("hex");
}

/** Whether the workload's pods carry the `checksum/secret-env` annotation (given a key). */
export function rollsOnSecretChange(spec: {
  readonly secretEnv?: Readonly<Record<string, string>>;
  readonly restartOnSecretChange?: boolean;
}): boolean {
  return Object.keys(spec.secretEnv ?? {}).length > 0 && spec.restartOnSecretChange !== false;
}

/** The fewest characters `secretChecksum` takes as a key (32 base64 characters: 24 random bytes). */
export const MIN_CHECKSUM_KEY_LENGTH = 32;

/**
 * The `checksum/secret-env` value: HMAC-SHA256, keyed by a per-stack secret, of the env
 * Secret's values and the service's namespace and name. It changes whenever a value does, so the
 * pods roll, and without the key it reveals nothing about the values: unlike a plain or salted
 * hash (Helm's `checksum/secret` convention), whoever reads the pod template or a preview cannot
 * test guesses of a weak secret offline. Equal secrets in two services give different values.
 */
export function secretChecksum(
  key: string,
  namespace: string,
  service: string,
  values: Readonly<Record<string, string>>,
): string {
  return createHmac("sha256", key)
    .update(`platform/secret-env/${namespace}/${service}\n`)
    .update(stableStringify(values))
    .digest("hex");
}

/**
 * The manifest with one more pod-template annotation (Deployment, StatefulSet, Job: spec.template;
 * CronJob: spec.jobTemplate.spec.template); other kinds are returned unchanged. `value` may be a
 * Pulumi Output. The input is not modified.
 */
export function withPodAnnotation<M extends { kind: string; spec?: unknown }>(
  m: M,
  key: string,
  value: pulumi.Input<string>,
): M {
  return withPodTemplate(m, (template) => {
    const meta = (template.metadata ?? {}) as Obj;
    const annotations = (meta.annotations ?? {}) as Obj;
    return { ...template, metadata: { ...meta, annotations: { ...annotations, [key]: value } } };
  });
}

/**
 * The manifest with a workload's own `labels` on its metadata and pod template, and its
 * `podAnnotations` on the pod template. The platform's keys win on a clash; selectors are
 * never touched. The input is not modified.
 */
export function withWorkloadMetadata<M extends Manifest>(
  m: M,
  labels: Readonly<Record<string, string>> = {},
  podAnnotations: Readonly<Record<string, string>> = {},
): M {
  if (Object.keys(labels).length + Object.keys(podAnnotations).length === 0) return m;
  const labelled = {
    ...m,
    metadata: { ...m.metadata, labels: { ...labels, ...m.metadata.labels } },
  };
  return withPodTemplate(labelled, (template) => {
    const meta = (template.metadata ?? {}) as Obj;
    return {
      ...template,
      metadata: {
        ...meta,
        labels: { ...labels, ...((meta.labels ?? {}) as Obj) },
        annotations: { ...podAnnotations, ...((meta.annotations ?? {}) as Obj) },
      },
    };
  });
}

export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Obj)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Name of the ConfigMap generated for a volume with inline data. */
export function generatedConfigMapName(workload: string, volume: string): string {
  return `${workload}-${volume}`;
}

function volumeList(name: string, svc: WorkloadConfig): Obj[] {
  const writable = writablePaths(svc).map((p, i) => ({
    name: writableVolumeName(p, i),
    emptyDir: {},
  }));
  const declared = Object.entries(svc.volumes ?? {}).map(([volName, v]) => {
    if (v.emptyDir) {
      const emptyDir: Obj = {};
      if (v.emptyDir.sizeLimit) emptyDir.sizeLimit = v.emptyDir.sizeLimit;
      if (v.emptyDir.medium) emptyDir.medium = v.emptyDir.medium;
      return { name: volName, emptyDir };
    }
    if (v.configMap) {
      return {
        name: volName,
        configMap: { name: v.configMap.name ?? generatedConfigMapName(name, volName) },
      };
    }
    return { name: volName, secret: { secretName: v.secret?.secretName } };
  });
  return [...writable, ...declared];
}

/** Topology spread over nodes, and over zones when the node pools span several. */
export function topologySpread(ctx: BuildContext, name: string, withTemplateHash: boolean): Obj[] {
  const base = (topologyKey: string, whenUnsatisfiable: string): Obj => ({
    maxSkew: 1,
    topologyKey,
    whenUnsatisfiable,
    labelSelector: { matchLabels: selectorLabels(name) },
    // A zone that is down keeps its (tainted) Node objects; with the default Ignore the
    // scheduler would still count it as an empty domain and leave the replacements Pending.
    nodeTaintsPolicy: "Honor",
    ...(withTemplateHash ? { matchLabelKeys: ["pod-template-hash"] } : {}),
  });
  return [
    base("kubernetes.io/hostname", "ScheduleAnyway"),
    // DoNotSchedule only when there are zones to spread over; on a single-zone or zone-less
    // cluster (kind) it would leave pods Pending.
    base(ctx.profile.zoneLabel, ctx.multiZone ? "DoNotSchedule" : "ScheduleAnyway"),
  ];
}

/** Most replicas this workload can run at once (HPA max, or replicas). */
export function maxReplicas(svc: WorkloadConfig): number {
  if (svc.kind === "cron") return svc.cron?.parallelism ?? 1;
  if (svc.kind === "job") return svc.job?.parallelism ?? 1;
  return svc.autoscale?.max ?? svc.replicas ?? 1;
}

/** Run-to-completion workloads (CronJob, Job): no spread, no PDB, restartPolicy Never. */
export function isBatch(svc: { readonly kind: WorkloadConfig["kind"] }): boolean {
  return svc.kind === "cron" || svc.kind === "job";
}

export interface PodTemplateOptions {
  /** Pod-level labels beyond the selector (e.g. workload identity). */
  readonly extraLabels?: Record<string, string>;
  /** Spread pods over nodes and zones. */
  readonly spread?: boolean;
  /** restartPolicy: Always for long-running, Never for jobs. */
  readonly restartPolicy?: "Always" | "Never" | "OnFailure";
  readonly labels: Record<string, string>;
  /** The main container's image: the configured reference, or a built image's digest. */
  readonly image: string | pulumi.Output<string>;
}

export function buildPodTemplate(
  ctx: BuildContext,
  name: string,
  svc: WorkloadConfig,
  opts: PodTemplateOptions,
): Obj {
  const readOnly = svc.securityContext?.readOnlyRootFilesystem ?? true;
  const ports = svc.ports ?? {};
  const main: Obj = {
    name,
    image: opts.image,
    imagePullPolicy: "IfNotPresent",
    resources: containerResources(svc.resources),
    securityContext: containerSecurityContext(readOnly),
    volumeMounts: [
      ...writableMounts(svc),
      ...Object.entries(svc.volumes ?? {}).map(([volName, v]) => ({
        name: volName,
        mountPath: v.mountPath,
        ...(v.readOnly !== undefined
          ? { readOnly: v.readOnly }
          : v.configMap || v.secret
            ? { readOnly: true }
            : {}),
      })),
      ...(svc.storage ? [{ name: "data", mountPath: svc.storage.mountPath }] : []),
    ],
  };
  if (svc.command) main.command = svc.command;
  if (svc.args) main.args = svc.args;
  const env = envList(svc.env, svc.secretEnv, `${name}${SECRET_ENV_SUFFIX}`);
  if (env.length > 0) main.env = env;
  const portEntries = portList(ports);
  if (portEntries) main.ports = portEntries;

  const probes = svc.probes ?? {};
  // Anything a Service selects gets a readiness probe: TCP on the first port unless configured.
  const readiness =
    probes.readiness ?? (svc.kind === "web" || svc.kind === "stateful" ? { tcp: {} } : undefined);
  if (readiness) main.readinessProbe = buildProbe(readiness, ports);
  if (probes.liveness) main.livenessProbe = buildProbe(probes.liveness, ports);
  if (probes.startup) main.startupProbe = buildProbe(probes.startup, ports);

  const spec: Obj = {
    serviceAccountName: name,
    automountServiceAccountToken: svc.serviceAccount?.automountToken ?? false,
    securityContext: podSecurityContext(svc),
    containers: [main, ...(svc.sidecars ?? []).map((c) => extraContainer(c, svc, readOnly))],
    volumes: volumeList(name, svc),
    enableServiceLinks: false,
  };
  if (svc.initContainers?.length)
    spec.initContainers = svc.initContainers.map((c) => extraContainer(c, svc, readOnly));
  if (opts.restartPolicy) spec.restartPolicy = opts.restartPolicy;
  if (svc.imagePullSecrets?.length)
    spec.imagePullSecrets = svc.imagePullSecrets.map((n) => ({ name: n }));
  if (svc.nodeSelector) spec.nodeSelector = svc.nodeSelector;
  if (svc.tolerations?.length) spec.tolerations = svc.tolerations;
  if (svc.priorityClassName) spec.priorityClassName = svc.priorityClassName;
  if (svc.terminationGracePeriodSeconds !== undefined)
    spec.terminationGracePeriodSeconds = svc.terminationGracePeriodSeconds;
  if (opts.spread)
    spec.topologySpreadConstraints = topologySpread(
      ctx,
      name,
      svc.kind === "web" || svc.kind === "worker",
    );

  return {
    metadata: {
      labels: { ...opts.labels, ...(opts.extraLabels ?? {}) },
      annotations: { [CHECKSUM_ANNOTATION]: configChecksum(svc) },
    },
    spec,
  };
}
