/**
 * Pure builders for every Kubernetes object of a workload. Components only register what these
 * return, so everything here is tested without Pulumi. (A tenant's are in tenant.ts.)
 *
 * Naming rule: objects addressed by name (Namespaces, Services, ServiceAccounts, workloads and
 * their HPAs, PDBs, Ingresses, routes, NetworkPolicies, generated ConfigMaps and Secrets) get
 * stable `metadata.name`s derived from the config keys, so in-cluster DNS (`api.shop.svc`) and
 * kubectl use never change under a deploy. Pulumi logical names are `<workload>-<suffix>`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { WorkloadConfig } from "./types";
import { commonLabels, selectorLabels, type BuildContext, type Manifest } from "./context";
import { workloadNetworkPolicy } from "./network";
import {
  buildPodTemplate,
  generatedConfigMapName,
  isBatch,
  maxReplicas,
  withWorkloadMetadata,
} from "./podspec";
import { EXPOSE_ANNOTATION } from "./labels";

type Obj = Record<string, unknown>;

export interface WorkloadBuildOptions {
  /** The main container's image (a reference, or a built image's Output). */
  readonly image: string | pulumi.Output<string>;
}

const COMPONENT: Record<WorkloadConfig["kind"], string> = {
  web: "web",
  worker: "worker",
  stateful: "database",
  cron: "job",
  job: "job",
};

/** Every object of one workload, in a stable order. */
export function buildWorkload(
  ctx: BuildContext,
  name: string,
  svc: WorkloadConfig,
  opts: WorkloadBuildOptions,
): Manifest[] {
  const ns = svc.namespace;
  const labels = commonLabels(ctx, name, COMPONENT[svc.kind]);
  const meta = (suffix = "", extra: Obj = {}) => ({
    name: `${name}${suffix}`,
    namespace: ns,
    labels,
    ...extra,
  });
  const out: Manifest[] = [];

  // Identity.
  const identity = svc.serviceAccount?.identity
    ? ctx.profile.workloadIdentity(svc.serviceAccount.identity)
    : undefined;
  const saAnnotations = {
    ...(identity && "annotations" in identity ? identity.annotations : {}),
    ...(svc.serviceAccount?.annotations ?? {}),
  };
  out.push({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: meta("", Object.keys(saAnnotations).length ? { annotations: saAnnotations } : {}),
    automountServiceAccountToken: svc.serviceAccount?.automountToken ?? false,
  });

  // Generated ConfigMaps for volumes with inline data.
  for (const [volName, v] of Object.entries(svc.volumes ?? {})) {
    if (v.configMap?.data) {
      out.push({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: generatedConfigMapName(name, volName), namespace: ns, labels },
        data: v.configMap.data,
      });
    }
  }

  const multi = maxReplicas(svc) > 1;
  const template = buildPodTemplate(ctx, name, svc, {
    labels,
    image: opts.image,
    extraLabels: identity && "podLabels" in identity ? identity.podLabels : undefined,
    spread: multi && !isBatch(svc),
    restartPolicy: isBatch(svc) ? "Never" : undefined,
  });

  switch (svc.kind) {
    case "web":
    case "worker": {
      const spec: Obj = {
        selector: { matchLabels: selectorLabels(name) },
        strategy: { type: "RollingUpdate", rollingUpdate: rollingUpdate(svc) },
        progressDeadlineSeconds: svc.rollout?.progressDeadlineSeconds ?? 600,
        revisionHistoryLimit: 5,
        template,
      };
      if (svc.rollout?.minReadySeconds !== undefined)
        spec.minReadySeconds = svc.rollout.minReadySeconds;
      // With an HPA the Deployment leaves spec.replicas to it, so the two never fight over the field.
      if (!svc.autoscale) spec.replicas = svc.replicas ?? 1;
      out.push({ apiVersion: "apps/v1", kind: "Deployment", metadata: meta(), spec });
      break;
    }
    case "stateful": {
      const storage = svc.storage!;
      const storageClassName =
        storage.storageClass ?? ctx.cluster.storageClass ?? ctx.profile.storageClassName(ctx.tier);
      out.push({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: meta(),
        spec: {
          serviceName: `${name}-headless`,
          replicas: svc.replicas ?? 1,
          selector: { matchLabels: selectorLabels(name) },
          podManagementPolicy: "OrderedReady",
          updateStrategy: { type: "RollingUpdate" },
          revisionHistoryLimit: 5,
          ...(svc.rollout?.minReadySeconds !== undefined
            ? { minReadySeconds: svc.rollout.minReadySeconds }
            : {}),
          persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
          template,
          volumeClaimTemplates: [
            {
              metadata: { name: "data", labels: selectorLabels(name) },
              spec: {
                accessModes: ["ReadWriteOnce"],
                ...(storageClassName ? { storageClassName } : {}),
                resources: { requests: { storage: storage.size } },
              },
            },
          ],
        },
      });
      out.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: meta("-headless"),
        spec: {
          clusterIP: "None",
          publishNotReadyAddresses: true,
          selector: selectorLabels(name),
          ports: servicePorts(svc),
        },
      });
      break;
    }
    case "cron": {
      const cron = svc.cron ?? {};
      const job: Obj = {
        backoffLimit: cron.backoffLimit ?? 2,
        parallelism: cron.parallelism ?? 1,
        completions: cron.parallelism ?? 1,
        ttlSecondsAfterFinished: 86400,
        template,
      };
      if (cron.activeDeadlineSeconds !== undefined)
        job.activeDeadlineSeconds = cron.activeDeadlineSeconds;
      const spec: Obj = {
        schedule: svc.schedule,
        concurrencyPolicy: cron.concurrencyPolicy ?? "Forbid",
        startingDeadlineSeconds: cron.startingDeadlineSeconds ?? 300,
        successfulJobsHistoryLimit: cron.successfulJobsHistoryLimit ?? 3,
        failedJobsHistoryLimit: cron.failedJobsHistoryLimit ?? 3,
        jobTemplate: { metadata: { labels }, spec: job },
      };
      if (cron.timeZone) spec.timeZone = cron.timeZone;
      out.push({ apiVersion: "batch/v1", kind: "CronJob", metadata: meta(), spec });
      break;
    }
    case "job": {
      // Run once per change: the pod template is immutable, so any change replaces the Job
      // (Pulumi deletes it first, the name being fixed) and it runs again; `pulumi up` waits
      // for it to succeed. No ttlSecondsAfterFinished: Kubernetes deleting a finished Job would
      // drift from Pulumi's state.
      const job = svc.job ?? {};
      out.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: meta(),
        spec: {
          backoffLimit: job.backoffLimit ?? 2,
          parallelism: job.parallelism ?? 1,
          completions: job.parallelism ?? 1,
          activeDeadlineSeconds: job.activeDeadlineSeconds ?? 600,
          template,
        },
      });
      break;
    }
  }

  // The Service clients call by name.
  if (svc.kind === "web" || svc.kind === "stateful" || (svc.kind === "worker" && svc.ports)) {
    const type = svc.expose?.type ?? "ClusterIP";
    const annotations: Record<string, string> = {};
    // The explicit opt-in the policy pack looks for before it allows traffic from outside.
    if (type !== "ClusterIP") annotations[EXPOSE_ANNOTATION] = "true";
    if (type === "LoadBalancer")
      Object.assign(annotations, ctx.profile.loadBalancerAnnotations(svc.expose?.internal ?? true));
    if (type === "LoadBalancer" && ctx.profile.skipAwaitKinds.has("Service/LoadBalancer"))
      annotations["pulumi.com/skipAwait"] = "true";
    out.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: meta("", Object.keys(annotations).length ? { annotations } : {}),
      spec: { type, selector: selectorLabels(name), ports: servicePorts(svc) },
    });
  }

  if (svc.autoscale) {
    const metrics: Obj[] = [
      {
        type: "Resource",
        resource: {
          name: "cpu",
          target: { type: "Utilization", averageUtilization: svc.autoscale.cpu ?? 70 },
        },
      },
    ];
    if (svc.autoscale.memory !== undefined) {
      metrics.push({
        type: "Resource",
        resource: {
          name: "memory",
          target: { type: "Utilization", averageUtilization: svc.autoscale.memory },
        },
      });
    }
    out.push({
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta(),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
        minReplicas: svc.autoscale.min,
        maxReplicas: svc.autoscale.max,
        metrics,
      },
    });
  }

  // Whenever more than one replica can run: maxUnavailable 1 keeps node drains possible
  // (a minAvailable budget on one replica would block them).
  if (multi && !isBatch(svc)) {
    out.push({
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: meta(),
      spec: {
        maxUnavailable: 1,
        selector: { matchLabels: selectorLabels(name) },
        unhealthyPodEvictionPolicy: "AlwaysAllow",
      },
    });
  }

  if (svc.ingress) {
    const port = svc.ingress.port ?? Object.keys(svc.ports ?? {})[0];
    const className = svc.ingress.className ?? ctx.cluster.ingressClass ?? ctx.profile.ingressClass;
    const spec: Obj = {
      rules: [
        {
          host: svc.ingress.host,
          http: {
            paths: [
              {
                path: svc.ingress.path ?? "/",
                pathType: "Prefix",
                backend: { service: { name, port: { name: port } } },
              },
            ],
          },
        },
      ],
    };
    if (className) spec.ingressClassName = className;
    if (svc.ingress.tlsSecret)
      spec.tls = [{ hosts: [svc.ingress.host], secretName: svc.ingress.tlsSecret }];
    const ingressAnnotations = {
      ...ctx.profile.ingressAnnotations(className, ctx.cluster),
      ...svc.ingress.annotations,
      ...(ctx.profile.skipAwaitKinds.has("Ingress") ? { "pulumi.com/skipAwait": "true" } : {}),
    };
    const annotations =
      Object.keys(ingressAnnotations).length > 0 ? { annotations: ingressAnnotations } : {};
    out.push({
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: meta("", annotations),
      spec,
    });
  }

  if (svc.route) {
    const gateway = svc.route.gateway ?? ctx.cluster.gateway!;
    const portName = svc.route.port ?? Object.keys(svc.ports ?? {})[0];
    out.push({
      apiVersion: "gateway.networking.k8s.io/v1",
      kind: "HTTPRoute",
      metadata: meta(),
      spec: {
        parentRefs: [{ name: gateway.name, namespace: gateway.namespace }],
        hostnames: svc.route.hostnames,
        rules: [
          {
            matches: [{ path: { type: "PathPrefix", value: svc.route.path ?? "/" } }],
            backendRefs: [{ name, port: (svc.ports ?? {})[portName] }],
          },
        ],
      },
    });
  }

  const policy = workloadNetworkPolicy(ctx, name, svc);
  if (policy) out.push(policy);
  return out.map((m) => withWorkloadMetadata(m, svc.labels, svc.podAnnotations));
}

function servicePorts(svc: WorkloadConfig): Obj[] {
  return Object.entries(svc.ports ?? {}).map(([portName, port]) => ({
    name: portName,
    port,
    targetPort: portName,
    protocol: "TCP",
  }));
}

function rollingUpdate(svc: WorkloadConfig): Obj {
  return {
    maxSurge: svc.rollout?.maxSurge ?? "25%",
    // Web services keep full capacity during a rollout; workers may dip.
    maxUnavailable: svc.rollout?.maxUnavailable ?? (svc.kind === "web" ? 0 : "25%"),
  };
}
