/**
 * The library's data types: what each kind of workload, a tenant and an environment are made
 * of, as plain TypeScript with the documentation and defaults of every field. No import: a
 * program that uses the library type-checks these, never the schema library behind them
 * (components/schema.ts checks at compile time that its schemas produce exactly these types).
 */

/** The kinds of workload, one component each (see WORKLOAD_COMPONENTS). */
export const WORKLOAD_KINDS = ["web", "worker", "stateful", "cron", "job"] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

/** The clouds with a profile (components/cloud.ts). */
export const CLOUDS = ["kind", "eks", "gke", "aks", "generic"] as const;
export type Cloud = (typeof CLOUDS)[number];

/** The tiers; prod protects stateful data and uses a Retain storage class. */
export const TIERS = ["dev", "staging", "prod"] as const;
export type Tier = (typeof TIERS)[number];

/** Kubernetes quantities by resource, e.g. `{ cpu: "500m", memory: "1Gi" }`. */
export interface ResourceList {
  cpu?: string;
  memory?: string;
  "ephemeral-storage"?: string;
}

export interface ResourcesConfig {
  /** What the scheduler reserves. cpu and memory are required. */
  requests: { cpu: string; memory: string; "ephemeral-storage"?: string };
  /** Hard caps. @default equal to the requests (Guaranteed QoS); raise limits.cpu to allow bursting. */
  limits?: ResourceList;
}

/** A health check: exactly one of http, tcp, exec or grpc, and its timing. */
export interface ProbeConfig {
  /** HTTP GET on a path and a port (name or number). @default the first port */
  http?: { path: string; port?: number | string };
  /** TCP connect to a port (name or number). @default the first port */
  tcp?: { port?: number | string };
  /** A command run in the container; healthy when it exits 0. */
  exec?: { command: string[] };
  /** gRPC health check on a port number. */
  grpc?: { port: number };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

/** A volume of the workload: exactly one of emptyDir, configMap or secret. */
export interface VolumeConfig {
  /** Where the volume is mounted in the main container. */
  mountPath: string;
  readOnly?: boolean;
  /** A writable scratch directory (the usual answer to readOnlyRootFilesystem). */
  emptyDir?: { sizeLimit?: string; medium?: "Memory" };
  /** Files from a ConfigMap: `name` for an existing one, or `data` to have one generated. */
  configMap?: { name?: string; data?: Record<string, string> };
  /** Files from an existing Secret. */
  secret?: { secretName: string };
}

/** A sidecar or init container. */
export interface ContainerConfig {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  resources: ResourcesConfig;
  ports?: Record<string, number>;
  /** Volumes of the workload to mount here, by volume name. */
  volumeMounts?: Record<string, string>;
  readinessProbe?: ProbeConfig;
  /** Init containers only: keep running beside the main container (a native sidecar). */
  restartAlways?: boolean;
}

export interface TolerationConfig {
  key?: string;
  operator?: "Exists" | "Equal";
  value?: string;
  effect?: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
  tolerationSeconds?: number;
}

/** An egress destination beyond DNS and dependencies. */
export interface EgressConfig {
  /** Destination CIDR, e.g. "10.0.0.0/8" or "203.0.113.7/32". */
  cidr: string;
  except?: string[];
  /** @default every port */
  ports?: number[];
  /** @default TCP */
  protocol?: "TCP" | "UDP";
}

/** An image built and pushed with @pulumi/docker (the stack config's `image: { build }`). */
export interface ImageBuildConfig {
  /** Repository to push to, e.g. "ghcr.io/acme/api". */
  repository: string;
  /** Build context directory, relative to the project. */
  context: string;
  dockerfile?: string;
  args?: Record<string, string>;
  platform?: string;
}

/** A JSON merge patch (RFC 7386) over generated objects: the escape hatch. */
export interface PatchConfig {
  /** Kind of generated object to patch, e.g. "Deployment", "Service". */
  kind: string;
  /** Narrows the match to one metadata.name. */
  name?: string;
  /** Objects merge, `null` removes a field, lists and anything else replace. */
  patch: Record<string, unknown>;
}

/** Every field a workload may have; `KIND_ONLY` lists those that only some kinds take. */
export interface WorkloadFields {
  /** The namespace it runs in. */
  namespace: string;
  /** A pinned image reference (`repo:tag` or `repo@sha256:...`), or (stack config) a build. */
  image: string | { build: ImageBuildConfig };
  command?: string[];
  args?: string[];
  /** @default 1 (with autoscale use autoscale.min instead) */
  replicas?: number;
  resources: ResourcesConfig;
  /** Named container ports, e.g. `{ http: 8080 }`. Services expose them on the same numbers. */
  ports?: Record<string, number>;
  probes?: { readiness?: ProbeConfig; liveness?: ProbeConfig; startup?: ProbeConfig };
  /** A HorizontalPodAutoscaler; the Deployment then leaves its replica count to it. */
  autoscale?: {
    min: number;
    max: number;
    /** Target average CPU utilisation in percent of requests. @default 70 */
    cpu?: number;
    /** Target average memory utilisation in percent of requests. */
    memory?: number;
  };
  /** Rolling update. @default maxSurge 25%, maxUnavailable 0 (web) or 25% (others) */
  rollout?: {
    maxSurge?: number | string;
    maxUnavailable?: number | string;
    /** @default 600 */
    progressDeadlineSeconds?: number;
    minReadySeconds?: number;
  };
  /** An Ingress for a host. Excludes `route`. */
  ingress?: {
    host: string;
    /** @default "/" */
    path?: string;
    /** @default the environment's, else the cloud profile's ingress class */
    className?: string;
    /** Name of the TLS Secret for the host; omit for plain HTTP. */
    tlsSecret?: string;
    /** Port name to route to. @default the first port */
    port?: string;
    /** Annotations for the Ingress controller; they win over the cloud profile's. */
    annotations?: Record<string, string>;
  };
  /** A Gateway API HTTPRoute. Excludes `ingress`. */
  route?: {
    hostnames: string[];
    /** @default "/" */
    path?: string;
    /** The Gateway to attach to. @default the environment's gateway */
    gateway?: { name: string; namespace: string };
    /** Port name to route to. @default the first port */
    port?: string;
  };
  /** Service type. LoadBalancer and NodePort need this explicit opt-in. @default ClusterIP */
  expose?: {
    type: "ClusterIP" | "LoadBalancer" | "NodePort";
    /** LoadBalancer only: internal to the VPC/VNet. @default true */
    internal?: boolean;
  };
  env?: Record<string, string>;
  /** Environment variables from secrets, by secret name: `{ DB_PASSWORD: "db-password" }`. */
  secretEnv?: Record<string, string>;
  /**
   * Roll the pods when a `secretEnv` value changes, through a `checksum/secret-env` pod
   * annotation (a salted SHA-256 of the values). @default true
   */
  restartOnSecretChange?: boolean;
  /** Other workloads this one calls, by name; generates egress here and ingress there. */
  dependencies?: string[];
  /** Extra egress destinations beyond DNS and dependencies. */
  egress?: EgressConfig[];
  /** Extra ingress sources by namespace (e.g. a monitoring namespace scraping metrics). */
  ingressFrom?: { namespace: string; ports?: string[] }[];
  serviceAccount?: {
    /** Mount the API token. @default false */
    automountToken?: boolean;
    /** Cloud identity to bind: an AWS IAM role ARN (eks), a GCP service account e-mail (gke) or an Azure client id (aks). */
    identity?: string;
    annotations?: Record<string, string>;
  };
  /**
   * Labels added to every object of the workload and to its pods, never to selectors (e.g. a
   * cost centre). The platform's own `app.kubernetes.io/*` labels cannot be set.
   */
  labels?: Record<string, string>;
  /** Annotations on the pod template (e.g. a service mesh's or a log shipper's). */
  podAnnotations?: Record<string, string>;
  imagePullSecrets?: string[];
  nodeSelector?: Record<string, string>;
  tolerations?: TolerationConfig[];
  priorityClassName?: string;
  /** Numeric identity the containers run as; must match the image. */
  securityContext?: {
    /** @default 65532 */
    runAsUser?: number;
    /** @default runAsUser */
    runAsGroup?: number;
    fsGroup?: number;
    /** @default true */
    readOnlyRootFilesystem?: boolean;
  };
  /** Writable scratch directories (emptyDirs). @default ["/tmp"] */
  writablePaths?: string[];
  volumes?: Record<string, VolumeConfig>;
  sidecars?: ContainerConfig[];
  initContainers?: ContainerConfig[];
  /** @default 30 */
  terminationGracePeriodSeconds?: number;
  /** stateful only: the persistent volume per replica. */
  storage?: {
    size: string;
    mountPath: string;
    /** @default the environment's, else the cloud profile's (a Retain class in prod) */
    storageClass?: string;
  };
  /** cron only: the schedule in cron syntax, e.g. "0 3 * * *". */
  schedule?: string;
  /** cron only. */
  cron?: {
    /** @default Forbid */
    concurrencyPolicy?: "Forbid" | "Replace" | "Allow";
    /** @default 300 */
    startingDeadlineSeconds?: number;
    /** @default 2 */
    backoffLimit?: number;
    /** @default 3 */
    successfulJobsHistoryLimit?: number;
    /** @default 3 */
    failedJobsHistoryLimit?: number;
    /** Pods run at once per Job. @default 1 */
    parallelism?: number;
    activeDeadlineSeconds?: number;
    timeZone?: string;
  };
  /** job only. */
  job?: {
    /** Retries before the Job counts as failed. @default 2 */
    backoffLimit?: number;
    /** Pods run at once (and completions needed). @default 1 */
    parallelism?: number;
    /** The Job fails, and with it the deployment, after this long. @default 600 */
    activeDeadlineSeconds?: number;
  };
  /** job only (stack config): services whose changes wait until this Job has succeeded. */
  before?: string[];
  /** Escape hatch: JSON merge patches over this workload's generated objects. */
  patches?: PatchConfig[];
}

/** A workload as the stack config states it: its kind and its fields. */
export interface WorkloadConfig extends WorkloadFields {
  kind: WorkloadKind;
}

/** The fields that only some kinds take; every other field of a workload is common. */
export const KIND_ONLY = {
  ingress: ["web"],
  route: ["web"],
  expose: ["web", "stateful"],
  autoscale: ["web", "worker"],
  storage: ["stateful"],
  schedule: ["cron"],
  cron: ["cron"],
  job: ["job"],
  before: ["job"],
  replicas: ["web", "worker", "stateful"],
  rollout: ["web", "worker", "stateful"],
} as const satisfies Readonly<Partial<Record<keyof WorkloadFields, readonly WorkloadKind[]>>>;

/** The fields kind K does not take. */
export type NotTakenBy<K extends WorkloadKind> = {
  [F in keyof typeof KIND_ONLY]: K extends (typeof KIND_ONLY)[F][number] ? never : F;
}[keyof typeof KIND_ONLY];

/**
 * The fields of kind K as its component takes them: not `namespace` and `dependencies` (the
 * component takes references), not `image` (any Input) and not `before` (use `dependsOn`); a
 * StatefulService requires `storage` and a CronTask `schedule`.
 */
export type KindFields<K extends WorkloadKind> = Omit<
  WorkloadFields,
  NotTakenBy<K> | "namespace" | "dependencies" | "image" | "before"
> &
  (K extends "stateful"
    ? { storage: NonNullable<WorkloadFields["storage"]> }
    : K extends "cron"
      ? { schedule: string }
      : unknown);

/** A tenant namespace: its labels, quota, container defaults, admission level and access. */
export interface TenantConfig {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** ResourceQuota hard limits, e.g. `{ "requests.cpu": "4", pods: 20 }`. @default no quota */
  quota?: Record<string, string | number>;
  /** LimitRange defaults for containers that state no resources. */
  limits?: { defaultRequest?: ResourceList; default?: ResourceList; max?: ResourceList };
  /** Pod Security admission level enforced. @default restricted */
  podSecurity?: "restricted" | "baseline";
  /**
   * Allow a namespace of the cluster itself (`default`, `kube-*`) as a tenant, which puts a
   * deny-all NetworkPolicy and the Pod Security level on it. @default false (refused)
   */
  allowReserved?: boolean;
  /**
   * Who may work in the namespace: group names bound to the built-in `admin`, `edit` and `view`
   * ClusterRoles by RoleBindings in this namespace only. @default nobody (only cluster admins)
   * @see https://kubernetes.io/docs/reference/access-authn-authz/rbac/#user-facing-roles
   */
  access?: {
    admin?: string[];
    edit?: string[];
    view?: string[];
    /**
     * ServiceAccounts (`namespace/name`) that deploy into this namespace, e.g. the one CI runs
     * `pulumi up` as: bound to a Role `platform-deployer` with exactly what the components manage
     * here (DEPLOYER_RULES) and nothing cluster-scoped. @default none
     */
    deploy?: string[];
  };
}

/** What the builders read about the cluster besides its cloud; each has the profile's default. */
export interface ClusterDefaults {
  /** GKE NodeLocal DNSCache (169.254.20.10) is enabled. @default false */
  nodeLocalDns?: boolean;
  /** Ingress class for Ingress objects. @default the cloud profile's */
  ingressClass?: string;
  /** Default Gateway for HTTPRoutes. */
  gateway?: { name: string; namespace: string };
  /** Namespace of the ingress controller or gateway, allowed into web services that have a route. */
  ingressNamespace?: string;
  /** StorageClass for stateful volumes. @default the cloud profile's */
  storageClass?: string;
  /** GatewayClass of `gateway`: whether its data plane is the cloud's load balancer. @default the cloud profile's */
  gatewayClass?: string;
  /**
   * CIDRs the cloud's load balancers reach pods from (traffic and health checks), admitted into
   * web services behind a cloud-managed Ingress or Gateway class. EKS: the ALB's subnets
   * (required there). @default the cloud profile's (GKE: 35.191.0.0/16 and 130.211.0.0/22)
   */
  loadBalancerSources?: string[];
  /** GKE: the proxy-only subnet of Envoy-based regional and internal load balancers (gce-internal, gke-l7-rilb, gke-l7-regional-external-managed). */
  proxyOnlySubnet?: string;
  /**
   * The cluster's pod and service CIDRs. With a workload `identity`, egress on 443 is opened to
   * everything outside them (the cloud's token endpoint and APIs). Required with an identity.
   */
  clusterCidrs?: string[];
  /** EKS: the ALB's scheme. @default "internet-facing" */
  ingressScheme?: "internet-facing" | "internal";
  /** EKS: the ACM certificate of the ALB's HTTPS listener (the ALB ignores Ingress TLS secrets). */
  certificateArn?: string;
}

/**
 * The environment components are built for: the cloud, the tier and the cluster's defaults.
 * Every field is optional; the defaults suit a generic cluster in a dev tier.
 */
export interface Environment extends ClusterDefaults {
  /** The cloud profile: load balancer annotations, storage, ingress peers, DNS, identity. @default "generic" */
  cloud?: Cloud;
  /** Drives safety defaults: prod uses a Retain storage class. @default "dev" */
  tier?: Tier;
  /** Value of the `app.kubernetes.io/part-of` label. @default the Pulumi project name */
  partOf?: string;
  /** The nodes span zones: replicas must spread over zones, not only hosts. @default false */
  multiZone?: boolean;
}
