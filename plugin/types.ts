/**
 * The arguments of the components as the Pulumi package schema states them, for Python, Go, YAML
 * and the other languages. They follow the library's arguments (k8s-platform's `TenantArgs`,
 * `WebServiceArgs`, ...) field for field, in the shapes a package schema can express: every
 * object type is a named interface, arrays are mutable, and there is no union, so a choice of
 * values (`cloud`, `tier`, `expose.type`, ...) is a string that the library checks, a probe
 * port is a name or a number written as a string, and a rollout's surge is "25%" or "1".
 * Other workloads are named by string (`"api"`, `"shop/api"`): a workload that another one
 * calls lists it in `callers`.
 */
import type * as pulumi from "@pulumi/pulumi";

/** The Gateway an HTTPRoute attaches to. */
export interface GatewayRefArgs {
  name: string;
  namespace: string;
}

/**
 * The environment components are built for: the cloud, the tier and the cluster's defaults.
 * Every field is optional; the defaults suit a generic cluster in a dev tier.
 */
export interface EnvironmentArgs {
  /** kind, eks, gke, aks or generic: load balancer annotations, storage, ingress peers, DNS, identity. @default "generic" */
  cloud?: string;
  /** dev, staging or prod; prod uses a Retain storage class. @default "dev" */
  tier?: string;
  /** Value of the `app.kubernetes.io/part-of` label. @default the Pulumi project name */
  partOf?: string;
  /** The nodes span zones: replicas must spread over zones, not only hosts. @default false */
  multiZone?: boolean;
  /** GKE NodeLocal DNSCache (169.254.20.10) is enabled. @default false */
  nodeLocalDns?: boolean;
  /** Ingress class for Ingress objects. @default the cloud profile's */
  ingressClass?: string;
  /** Default Gateway for HTTPRoutes. */
  gateway?: GatewayRefArgs;
  /** Namespace of the ingress controller or gateway, allowed into web services that have a route. */
  ingressNamespace?: string;
  /** StorageClass for stateful volumes. @default the cloud profile's */
  storageClass?: string;
  /** GatewayClass of `gateway`: whether its data plane is the cloud's load balancer. @default the cloud profile's */
  gatewayClass?: string;
  /** CIDRs the cloud's load balancers reach pods from (EKS: the ALB's subnets; required there). @default the cloud profile's */
  loadBalancerSources?: string[];
  /** GKE: the proxy-only subnet of Envoy-based regional and internal load balancers. */
  proxyOnlySubnet?: string;
  /** The cluster's pod and service CIDRs; with an identity, egress on 443 is opened outside them. */
  clusterCidrs?: string[];
  /** EKS: the ALB's scheme, "internet-facing" or "internal". @default "internet-facing" */
  ingressScheme?: string;
  /** EKS: the ACM certificate of the ALB's HTTPS listener. */
  certificateArn?: string;
}

/** Who may work in a tenant's namespace. */
export interface AccessArgs {
  /** Groups bound to the built-in `admin` ClusterRole in the namespace. */
  admin?: string[];
  /** Groups bound to the built-in `edit` ClusterRole in the namespace. */
  edit?: string[];
  /** Groups bound to the built-in `view` ClusterRole in the namespace. */
  view?: string[];
  /** ServiceAccounts (`namespace/name`) bound to the least-privilege Role `platform-deployer`. */
  deploy?: string[];
}

/** LimitRange defaults for containers that state no resources. */
export interface LimitsArgs {
  /** Kubernetes quantities by resource, e.g. `{ cpu: "100m", memory: "128Mi" }`. */
  defaultRequest?: { [resource: string]: string };
  default?: { [resource: string]: string };
  max?: { [resource: string]: string };
}

/** The arguments of a Tenant. */
export interface TenantArgs {
  labels?: { [key: string]: string };
  annotations?: { [key: string]: string };
  /** ResourceQuota hard limits, e.g. `{ "requests.cpu": "4", pods: "20" }`. @default no quota */
  quota?: { [resource: string]: string };
  limits?: LimitsArgs;
  /** Pod Security admission level enforced: restricted or baseline. @default "restricted" */
  podSecurity?: string;
  /** Allow a namespace of the cluster itself (default, kube-*). @default false (refused) */
  allowReserved?: boolean;
  access?: AccessArgs;
  environment?: EnvironmentArgs;
  /** Protect the Namespace from deletion, and retain it if removed from the program. @default false */
  protect?: boolean;
}

/** Requests and limits of a container. */
export interface ResourcesArgs {
  /** What the scheduler reserves, e.g. `{ cpu: "500m", memory: "1Gi" }`. cpu and memory are required. */
  requests: { [resource: string]: string };
  /** Hard caps. @default equal to the requests (Guaranteed QoS) */
  limits?: { [resource: string]: string };
}

export interface HttpProbeArgs {
  path: string;
  /** A port name or number. @default the first port */
  port?: string;
}

export interface TcpProbeArgs {
  /** A port name or number. @default the first port */
  port?: string;
}

export interface ExecProbeArgs {
  command: string[];
}

export interface GrpcProbeArgs {
  port: number;
}

/** A health check: exactly one of http, tcp, exec or grpc, and its timing. */
export interface ProbeArgs {
  http?: HttpProbeArgs;
  tcp?: TcpProbeArgs;
  exec?: ExecProbeArgs;
  grpc?: GrpcProbeArgs;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface ProbesArgs {
  readiness?: ProbeArgs;
  liveness?: ProbeArgs;
  startup?: ProbeArgs;
}

/** A HorizontalPodAutoscaler; the Deployment then leaves its replica count to it. */
export interface AutoscaleArgs {
  min: number;
  max: number;
  /** Target average CPU utilisation in percent of requests. @default 70 */
  cpu?: number;
  /** Target average memory utilisation in percent of requests. */
  memory?: number;
}

/** Rolling update. @default maxSurge 25%, maxUnavailable 0 (web) or 25% (others) */
export interface RolloutArgs {
  /** A count ("1") or a percentage ("25%"). */
  maxSurge?: string;
  /** A count ("0") or a percentage ("25%"). */
  maxUnavailable?: string;
  /** @default 600 */
  progressDeadlineSeconds?: number;
  minReadySeconds?: number;
}

/** An Ingress for a host. Excludes `route`. */
export interface IngressArgs {
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
  annotations?: { [key: string]: string };
}

/** A Gateway API HTTPRoute. Excludes `ingress`. */
export interface RouteArgs {
  hostnames: string[];
  /** @default "/" */
  path?: string;
  /** @default the environment's gateway */
  gateway?: GatewayRefArgs;
  /** Port name to route to. @default the first port */
  port?: string;
}

/** Service type beyond ClusterIP: LoadBalancer or NodePort. */
export interface ExposeArgs {
  /** ClusterIP, LoadBalancer or NodePort. */
  type: string;
  /** LoadBalancer only: internal to the VPC/VNet. @default true */
  internal?: boolean;
}

/** An egress destination beyond DNS and dependencies. */
export interface EgressArgs {
  /** Destination CIDR, e.g. "10.0.0.0/8". */
  cidr: string;
  except?: string[];
  /** @default every port */
  ports?: number[];
  /** TCP or UDP. @default "TCP" */
  protocol?: string;
}

/** Ingress from another namespace (e.g. a monitoring namespace scraping metrics). */
export interface IngressFromArgs {
  namespace: string;
  /** Port names. @default every port */
  ports?: string[];
}

export interface ServiceAccountArgs {
  /** Mount the API token. @default false */
  automountToken?: boolean;
  /** Cloud identity: an AWS IAM role ARN (eks), a GCP service account e-mail (gke) or an Azure client id (aks). */
  identity?: string;
  annotations?: { [key: string]: string };
}

export interface TolerationArgs {
  key?: string;
  /** Exists or Equal. */
  operator?: string;
  value?: string;
  /** NoSchedule, PreferNoSchedule or NoExecute. */
  effect?: string;
  tolerationSeconds?: number;
}

/** Numeric identity the containers run as; must match the image. */
export interface SecurityContextArgs {
  /** @default 65532 */
  runAsUser?: number;
  /** @default runAsUser */
  runAsGroup?: number;
  fsGroup?: number;
  /** @default true */
  readOnlyRootFilesystem?: boolean;
}

export interface EmptyDirArgs {
  sizeLimit?: string;
  /** "Memory" for a tmpfs. */
  medium?: string;
}

/** Files from a ConfigMap: `name` for an existing one, or `data` to have one generated. */
export interface ConfigMapVolumeArgs {
  name?: string;
  data?: { [file: string]: string };
}

export interface SecretVolumeArgs {
  secretName: string;
}

/** A volume of the workload: exactly one of emptyDir, configMap or secret. */
export interface VolumeArgs {
  mountPath: string;
  readOnly?: boolean;
  emptyDir?: EmptyDirArgs;
  configMap?: ConfigMapVolumeArgs;
  secret?: SecretVolumeArgs;
}

/** A sidecar or init container. */
export interface ContainerArgs {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env?: { [name: string]: string };
  resources: ResourcesArgs;
  ports?: { [name: string]: number };
  /** Volumes of the workload to mount here: mount path by volume name. */
  volumeMounts?: { [volume: string]: string };
  readinessProbe?: ProbeArgs;
  /** Init containers only: keep running beside the main container (a native sidecar). */
  restartAlways?: boolean;
}

/** A JSON merge patch (RFC 7386) over generated objects: the escape hatch. */
export interface PatchArgs {
  /** Kind of generated object to patch, e.g. "Deployment". */
  kind: string;
  /** Narrows the match to one metadata.name. */
  name?: string;
  /** Objects merge, `null` removes a field, lists and anything else replace. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the schema's Any
  patch: { [field: string]: any };
}

/** What every kind of workload takes. */
export interface WorkloadArgs {
  /** The namespace: a Tenant's name, or an existing namespace. */
  namespace: string;
  /** The main container's image, `repo:tag` or `repo@sha256:<digest>`. */
  image: pulumi.Input<string>;
  command?: string[];
  args?: string[];
  resources: ResourcesArgs;
  /** Named container ports, e.g. `{ http: 8080 }`. Services expose them on the same numbers. */
  ports?: { [name: string]: number };
  probes?: ProbesArgs;
  /** Environment variables of the main container; a value may be another resource's output. */
  env?: { [name: string]: pulumi.Input<string> };
  /** Environment variables from `secrets`, by secret name: `{ DB_PASSWORD: "db-password" }`. */
  secretEnv?: { [name: string]: string };
  /** Values of the secrets that `secretEnv` names, by name. */
  secrets?: { [name: string]: pulumi.Input<string> };
  /** Roll the pods when a secretEnv value changes. @default true */
  restartOnSecretChange?: boolean;
  /**
   * The key of the `checksum/secret-env` pod annotation, an HMAC of the secretEnv values: one
   * secret of at least 32 random characters per stack. Required with secretEnv unless
   * restartOnSecretChange is false.
   */
  secretChecksumKey?: pulumi.Input<string>;
  /** Workloads this one calls (`"api"`, or `"shop/api"` in another namespace): egress to them is allowed. */
  dependencies?: string[];
  /** Workloads that call this one, admitted on its ports. */
  callers?: string[];
  egress?: EgressArgs[];
  ingressFrom?: IngressFromArgs[];
  serviceAccount?: ServiceAccountArgs;
  /** Labels on every object of the workload and its pods, never on selectors. */
  labels?: { [key: string]: string };
  /** Annotations on the pod template. */
  podAnnotations?: { [key: string]: string };
  imagePullSecrets?: string[];
  nodeSelector?: { [label: string]: string };
  tolerations?: TolerationArgs[];
  priorityClassName?: string;
  securityContext?: SecurityContextArgs;
  /** Writable scratch directories (emptyDirs). @default ["/tmp"] */
  writablePaths?: string[];
  volumes?: { [name: string]: VolumeArgs };
  sidecars?: ContainerArgs[];
  initContainers?: ContainerArgs[];
  /** @default 30 */
  terminationGracePeriodSeconds?: number;
  patches?: PatchArgs[];
  environment?: EnvironmentArgs;
  /** Protect the StatefulSet and Services from deletion, and retain them when removed. @default false */
  protect?: boolean;
}

/** The arguments of a WebService. */
export interface WebServiceArgs extends WorkloadArgs {
  /** @default 1 (with autoscale use autoscale.min instead) */
  replicas?: number;
  autoscale?: AutoscaleArgs;
  rollout?: RolloutArgs;
  ingress?: IngressArgs;
  route?: RouteArgs;
  expose?: ExposeArgs;
}

/** The arguments of a Worker. */
export interface WorkerArgs extends WorkloadArgs {
  /** @default 1 (with autoscale use autoscale.min instead) */
  replicas?: number;
  autoscale?: AutoscaleArgs;
  rollout?: RolloutArgs;
}

/** The persistent volume of each replica. */
export interface StorageArgs {
  size: string;
  mountPath: string;
  /** @default the environment's, else the cloud profile's (a Retain class in prod) */
  storageClass?: string;
}

/** The arguments of a StatefulService. */
export interface StatefulServiceArgs extends WorkloadArgs {
  /** @default 1 */
  replicas?: number;
  rollout?: RolloutArgs;
  expose?: ExposeArgs;
  storage: StorageArgs;
}

export interface CronArgs {
  /** Forbid, Replace or Allow. @default "Forbid" */
  concurrencyPolicy?: string;
  /** @default 300 */
  startingDeadlineSeconds?: number;
  /** @default 2 */
  backoffLimit?: number;
  /** @default 3 */
  successfulJobsHistoryLimit?: number;
  /** @default 3 */
  failedJobsHistoryLimit?: number;
  /** @default 1 */
  parallelism?: number;
  activeDeadlineSeconds?: number;
  timeZone?: string;
}

/** The arguments of a CronTask. */
export interface CronTaskArgs extends WorkloadArgs {
  /** The schedule in cron syntax, e.g. "0 3 * * *". */
  schedule: string;
  cron?: CronArgs;
}

export interface JobArgs {
  /** @default 2 */
  backoffLimit?: number;
  /** @default 1 */
  parallelism?: number;
  /** @default 600 */
  activeDeadlineSeconds?: number;
}

/** The arguments of a Task (a Job run once). */
export interface TaskArgs extends WorkloadArgs {
  job?: JobArgs;
}
