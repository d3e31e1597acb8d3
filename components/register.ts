/**
 * Registers a plain manifest as the matching typed @pulumi/kubernetes resource.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Manifest } from "./context";

type Ctor = new (
  name: string,
  args: never,
  opts?: pulumi.CustomResourceOptions,
) => pulumi.CustomResource;

const CLASSES: Record<string, Ctor> = {
  "v1/Namespace": k8s.core.v1.Namespace as unknown as Ctor,
  "v1/ResourceQuota": k8s.core.v1.ResourceQuota as unknown as Ctor,
  "v1/LimitRange": k8s.core.v1.LimitRange as unknown as Ctor,
  "v1/ServiceAccount": k8s.core.v1.ServiceAccount as unknown as Ctor,
  "v1/ConfigMap": k8s.core.v1.ConfigMap as unknown as Ctor,
  "v1/Secret": k8s.core.v1.Secret as unknown as Ctor,
  "v1/Service": k8s.core.v1.Service as unknown as Ctor,
  "apps/v1/Deployment": k8s.apps.v1.Deployment as unknown as Ctor,
  "apps/v1/StatefulSet": k8s.apps.v1.StatefulSet as unknown as Ctor,
  "batch/v1/CronJob": k8s.batch.v1.CronJob as unknown as Ctor,
  "batch/v1/Job": k8s.batch.v1.Job as unknown as Ctor,
  "autoscaling/v2/HorizontalPodAutoscaler": k8s.autoscaling.v2
    .HorizontalPodAutoscaler as unknown as Ctor,
  "policy/v1/PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget as unknown as Ctor,
  "networking.k8s.io/v1/NetworkPolicy": k8s.networking.v1.NetworkPolicy as unknown as Ctor,
  "networking.k8s.io/v1/Ingress": k8s.networking.v1.Ingress as unknown as Ctor,
  "storage.k8s.io/v1/StorageClass": k8s.storage.v1.StorageClass as unknown as Ctor,
  "scheduling.k8s.io/v1/PriorityClass": k8s.scheduling.v1.PriorityClass as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/Role": k8s.rbac.v1.Role as unknown as Ctor,
  "rbac.authorization.k8s.io/v1/RoleBinding": k8s.rbac.v1.RoleBinding as unknown as Ctor,
};

/** Logical (Pulumi) name suffix per kind: `<owner>-<suffix>`. */
const SUFFIX: Record<string, string> = {
  Namespace: "ns",
  ResourceQuota: "quota",
  LimitRange: "limits",
  ServiceAccount: "sa",
  ConfigMap: "cm",
  Secret: "secret",
  Service: "svc",
  Deployment: "deploy",
  StatefulSet: "sts",
  CronJob: "cron",
  Job: "job",
  HorizontalPodAutoscaler: "hpa",
  PodDisruptionBudget: "pdb",
  NetworkPolicy: "netpol",
  Ingress: "ingress",
  HTTPRoute: "route",
  StorageClass: "sc",
  PriorityClass: "pc",
  Role: "role",
  RoleBinding: "rb",
};

/** The Pulumi logical name of a generated object: stable, unique within the stack. */
export function logicalName(owner: string, m: Manifest): string {
  const suffix = SUFFIX[m.kind] ?? m.kind.toLowerCase();
  const objName = m.metadata.name;
  // The owner's main object of a kind is `<owner>-<suffix>`; others also carry their own name.
  if (objName === owner || objName === suffix) return `${owner}-${suffix}`;
  const own = objName.startsWith(`${owner}-`) ? objName.slice(owner.length + 1) : objName;
  return `${owner}-${suffix}-${own}`;
}

export function registerManifest(
  owner: string,
  m: Manifest,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const name = logicalName(owner, m);
  const ctor = CLASSES[`${m.apiVersion}/${m.kind}`];
  if (ctor) {
    // The typed classes take the object without apiVersion and kind.
    const { apiVersion: _a, kind: _k, ...args } = m;
    return new ctor(name, args as never, opts);
  }
  return new k8s.apiextensions.CustomResource(
    name,
    m as unknown as k8s.apiextensions.CustomResourceArgs,
    opts,
  );
}
