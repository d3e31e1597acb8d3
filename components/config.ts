/**
 * The stack configuration: one typed schema for a whole environment, parsed into a plain
 * `PlatformSpec` before any resource is registered.
 *
 * Config keys (all in the project's namespace, `platform:` by default):
 * - `namespaces`, `services`: the application, described once (project-level config in
 *   Pulumi.yaml);
 * - `tier`, `cluster`, `capacity`: the environment (each Pulumi.<stack>.yaml);
 * - `overrides`: a small per-stack patch deep-merged over `{ namespaces, services }`
 *   (objects merge, lists replace, `null` removes);
 * - any other key must be a secret referenced by a workload's `secretEnv`.
 *
 * Every problem is collected into one `ConfigError` whose lines name the key path and the fix.
 */
import { z } from "zod";
import { cloudProfile } from "./cloud";
import { Quantity, QUANTITY_EXAMPLES } from "./quantity";
import { closest } from "./suggest";

// ---------------------------------------------------------------------------------------------
// Leaf schemas

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[A-Za-z0-9][-_.A-Za-z0-9]*$/;
/** registry/repo[:tag][@sha256:64 hex] */
const IMAGE_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

const dnsLabel = (what: string) =>
  z
    .string()
    .max(63, { message: `${what} must be at most 63 characters` })
    .regex(DNS_LABEL, {
      message: `${what} must be a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit (e.g. "shop", "web-api")`,
    });

/** A Kubernetes quantity, canonicalised (`2048Mi` becomes `2Gi`). */
const quantity = (examples: string = QUANTITY_EXAMPLES) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const q = Quantity.tryParse(value);
    if (!q) {
      ctx.addIssue({
        code: "custom",
        message: `${typeof value === "number" ? String(value) : JSON.stringify(value)} is not a Kubernetes quantity (${examples})`,
      });
      return z.NEVER;
    }
    if (q.nanos < 0n) {
      ctx.addIssue({ code: "custom", message: `${JSON.stringify(value)} must not be negative` });
      return z.NEVER;
    }
    return q.toString();
  });
const cpu = quantity("examples: 500m, 2");
const memory = quantity("examples: 256Mi, 1Gi");
const storage = quantity("examples: 10Gi, 500Gi");

const port = z.number().int().min(1).max(65535);
const positiveInt = z.number().int().min(1);
const nonNegativeInt = z.number().int().min(0);
/** A whole number or a percentage string, as rolling-update and PDB fields take. */
const intOrPercent = z.union([
  nonNegativeInt,
  z.string().regex(/^(100|[1-9]?[0-9])%$/, {
    message: 'must be a whole number or a percentage such as "25%"',
  }),
]);

const resourceList = () =>
  z.strictObject({
    cpu: cpu.optional(),
    memory: memory.optional(),
    "ephemeral-storage": storage.optional(),
  });

const resources = z.strictObject({
  /** What the scheduler reserves. cpu and memory are required. */
  requests: z.strictObject({
    cpu,
    memory,
    "ephemeral-storage": storage.optional(),
  }),
  /** Hard caps. @default equal to the requests (Guaranteed QoS); raise limits.cpu to allow bursting. */
  limits: resourceList().optional(),
});

const probeAction = {
  /** HTTP GET on a path and a port (name or number). */
  http: z
    .strictObject({
      path: z.string().startsWith("/"),
      port: z.union([port, z.string()]).optional(),
    })
    .optional(),
  /** TCP connect to a port (name or number). */
  tcp: z.strictObject({ port: z.union([port, z.string()]).optional() }).optional(),
  /** A command run in the container; healthy when it exits 0. */
  exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
  /** gRPC health check on a port number. */
  grpc: z.strictObject({ port }).optional(),
};
const probe = z
  .strictObject({
    ...probeAction,
    initialDelaySeconds: nonNegativeInt.optional(),
    periodSeconds: positiveInt.optional(),
    timeoutSeconds: positiveInt.optional(),
    failureThreshold: positiveInt.optional(),
    successThreshold: positiveInt.optional(),
  })
  .superRefine((p, ctx) => {
    const actions = (["http", "tcp", "exec", "grpc"] as const).filter((k) => p[k] !== undefined);
    if (actions.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message:
          actions.length === 0
            ? "a probe needs exactly one of http, tcp, exec or grpc"
            : `a probe takes exactly one of http, tcp, exec or grpc, not ${actions.join(" and ")}`,
      });
    }
  });

const envMap = z.record(
  z.string().regex(ENV_NAME, { message: "is not a valid environment variable name" }),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);
const secretEnvMap = z.record(
  z.string().regex(ENV_NAME, { message: "is not a valid environment variable name" }),
  z.string().regex(CONFIG_KEY, {
    message:
      'must name a secret config key, e.g. "db-password" (set with: pulumi config set --secret db-password <value>)',
  }),
);

const volume = z
  .strictObject({
    /** Where the volume is mounted in the main container. */
    mountPath: z.string().startsWith("/"),
    readOnly: z.boolean().optional(),
    /** A writable scratch directory (the usual answer to readOnlyRootFilesystem). */
    emptyDir: z
      .strictObject({ sizeLimit: storage.optional(), medium: z.enum(["Memory"]).optional() })
      .optional(),
    /** Files from a ConfigMap: `name` for an existing one, or `data` to have one generated. */
    configMap: z
      .strictObject({
        name: z.string().optional(),
        data: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    /** Files from an existing Secret. */
    secret: z.strictObject({ secretName: z.string() }).optional(),
  })
  .superRefine((v, ctx) => {
    const sources = (["emptyDir", "configMap", "secret"] as const).filter(
      (k) => v[k] !== undefined,
    );
    if (sources.length !== 1) {
      ctx.addIssue({
        code: "custom",
        message: "a volume needs exactly one of emptyDir, configMap or secret",
      });
    }
    if (v.configMap && (v.configMap.name === undefined) === (v.configMap.data === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: ["configMap"],
        message: "configMap takes exactly one of name (an existing ConfigMap) or data (generated)",
      });
    }
  });

const container = z.strictObject({
  name: dnsLabel("a container name"),
  image: z.string(),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  env: envMap.optional(),
  resources,
  ports: z.record(dnsLabel("a port name"), port).optional(),
  /** Volumes of the workload to mount here, by volume name. */
  volumeMounts: z.record(z.string(), z.string().startsWith("/")).optional(),
  readinessProbe: probe.optional(),
  /** Init containers only: keep running beside the main container (a native sidecar). */
  restartAlways: z.boolean().optional(),
});

const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const egressRule = z.strictObject({
  /** Destination CIDR, e.g. "10.0.0.0/8" or "203.0.113.7/32". */
  cidr: z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, {
    message: 'must be a CIDR such as "10.0.0.0/8" or "203.0.113.7/32"',
  }),
  except: z.array(z.string()).optional(),
  ports: z.array(port).optional(),
  protocol: z.enum(["TCP", "UDP"]).optional(),
});

const imageBuild = z.strictObject({
  /** Repository to push to, e.g. "ghcr.io/acme/api". */
  repository: z.string(),
  /** Build context directory, relative to the project. */
  context: z.string(),
  dockerfile: z.string().optional(),
  args: z.record(z.string(), z.string()).optional(),
  platform: z.string().optional(),
});

const manifestPatch = z.strictObject({
  /** Kind of generated object to patch, e.g. "Deployment", "Service". */
  kind: z.string(),
  /** Optional metadata.name to narrow the match. */
  name: z.string().optional(),
  /** A JSON merge patch (RFC 7386): objects merge, `null` removes a field, lists replace. */
  patch: z.record(z.string(), z.unknown()),
});

const workload = z.strictObject({
  /**
   * web: Deployment + Service (+HPA, PDB, Ingress/HTTPRoute); worker: Deployment; stateful:
   * StatefulSet; cron: CronJob; job: a Job run once per change (e.g. a schema migration).
   */
  kind: z.enum(["web", "worker", "stateful", "cron", "job"]),
  /** Namespace (a key of `namespaces`). */
  namespace: dnsLabel("a namespace name"),
  /** A pinned image reference (`repo:tag` or `repo@sha256:...`), or a build through @pulumi/docker. */
  image: z.union([z.string(), z.strictObject({ build: imageBuild })]),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  /** @default 1 (not for cron; with autoscale use autoscale.min instead) */
  replicas: nonNegativeInt.optional(),
  resources,
  /** Named container ports, e.g. `{ http: 8080 }`. Services expose them on the same numbers. */
  ports: z.record(dnsLabel("a port name"), port).optional(),
  probes: z
    .strictObject({
      readiness: probe.optional(),
      liveness: probe.optional(),
      startup: probe.optional(),
    })
    .optional(),
  autoscale: z
    .strictObject({
      min: positiveInt,
      max: positiveInt,
      /** Target average CPU utilisation in percent of requests. @default 70 */
      cpu: z.number().int().min(1).max(1000).optional(),
      /** Target average memory utilisation in percent of requests. */
      memory: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  /** Rolling update. @default maxSurge 25%, maxUnavailable 0 (web) or 25% (others) */
  rollout: z
    .strictObject({
      maxSurge: intOrPercent.optional(),
      maxUnavailable: intOrPercent.optional(),
      /** @default 600 */
      progressDeadlineSeconds: positiveInt.optional(),
      minReadySeconds: nonNegativeInt.optional(),
    })
    .optional(),
  ingress: z
    .strictObject({
      host: z.string(),
      path: z.string().startsWith("/").optional(),
      /** @default the cloud profile's ingress class */
      className: z.string().optional(),
      /** Name of the TLS Secret for the host; omit for plain HTTP. */
      tlsSecret: z.string().optional(),
      /** Port name to route to. @default the first port */
      port: z.string().optional(),
    })
    .optional(),
  route: z
    .strictObject({
      hostnames: z.array(z.string()).min(1),
      path: z.string().startsWith("/").optional(),
      /** The Gateway to attach to. @default the cluster's gateway */
      gateway: z.strictObject({ name: z.string(), namespace: z.string() }).optional(),
      port: z.string().optional(),
    })
    .optional(),
  /** Service type. LoadBalancer and NodePort need this explicit opt-in. @default ClusterIP */
  expose: z
    .strictObject({
      type: z.enum(["ClusterIP", "LoadBalancer", "NodePort"]),
      /** LoadBalancer only: internal to the VPC/VNet. @default true */
      internal: z.boolean().optional(),
    })
    .optional(),
  env: envMap.optional(),
  /** Environment variables from secret config keys: `{ DB_PASSWORD: db-password }`. */
  secretEnv: secretEnvMap.optional(),
  /**
   * Roll the pods when a `secretEnv` value changes, through a `checksum/secret-env` pod
   * annotation (a salted SHA-256 of the values). @default true
   */
  restartOnSecretChange: z.boolean().optional(),
  /** Other services this one calls; generates egress here and ingress there. */
  dependencies: z.array(z.string()).optional(),
  /** Extra egress destinations beyond DNS and dependencies. */
  egress: z.array(egressRule).optional(),
  /** Extra ingress sources by namespace (e.g. a monitoring namespace scraping metrics). */
  ingressFrom: z
    .array(z.strictObject({ namespace: z.string(), ports: z.array(z.string()).min(1).optional() }))
    .optional(),
  serviceAccount: z
    .strictObject({
      /** Mount the API token. @default false */
      automountToken: z.boolean().optional(),
      /** Cloud identity to bind: an AWS IAM role ARN (eks), a GCP service account e-mail (gke) or an Azure client id (aks). */
      identity: z.string().optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  imagePullSecrets: z.array(z.string()).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(toleration).optional(),
  priorityClassName: z.string().optional(),
  /** Numeric identity the containers run as; must match the image. @default 65532 */
  securityContext: z
    .strictObject({
      runAsUser: positiveInt.optional(),
      runAsGroup: positiveInt.optional(),
      fsGroup: positiveInt.optional(),
      /** @default true */
      readOnlyRootFilesystem: z.boolean().optional(),
    })
    .optional(),
  /** Writable scratch directories (emptyDirs), e.g. ["/tmp"]. @default ["/tmp"] */
  writablePaths: z.array(z.string().startsWith("/")).optional(),
  volumes: z.record(dnsLabel("a volume name"), volume).optional(),
  sidecars: z.array(container).optional(),
  initContainers: z.array(container).optional(),
  terminationGracePeriodSeconds: nonNegativeInt.optional(),
  /** stateful only: the persistent volume per replica. */
  storage: z
    .strictObject({
      size: storage,
      mountPath: z.string().startsWith("/"),
      /** @default the cloud profile's class (a Retain class in prod) */
      storageClass: z.string().optional(),
    })
    .optional(),
  /** cron only: the schedule in cron syntax, e.g. "0 3 * * *". */
  schedule: z.string().optional(),
  /** cron only. */
  cron: z
    .strictObject({
      /** @default Forbid */
      concurrencyPolicy: z.enum(["Forbid", "Replace", "Allow"]).optional(),
      /** @default 300 */
      startingDeadlineSeconds: positiveInt.optional(),
      /** @default 2 */
      backoffLimit: nonNegativeInt.optional(),
      /** @default 3 */
      successfulJobsHistoryLimit: nonNegativeInt.optional(),
      /** @default 3 */
      failedJobsHistoryLimit: nonNegativeInt.optional(),
      /** Pods run at once per Job. @default 1 */
      parallelism: positiveInt.optional(),
      activeDeadlineSeconds: positiveInt.optional(),
      timeZone: z.string().optional(),
    })
    .optional(),
  /** job only. */
  job: z
    .strictObject({
      /** Retries before the Job counts as failed. @default 2 */
      backoffLimit: nonNegativeInt.optional(),
      /** Pods run at once (and completions needed). @default 1 */
      parallelism: positiveInt.optional(),
      /** The Job fails, and with it the deployment, after this long. @default 600 */
      activeDeadlineSeconds: positiveInt.optional(),
    })
    .optional(),
  /**
   * job only: services whose changes wait until this Job has succeeded, e.g. `[api]` for a
   * schema migration the new api version needs.
   */
  before: z.array(z.string()).optional(),
  /** Escape hatch: JSON merge patches over this workload's generated objects. */
  patches: z.array(manifestPatch).optional(),
});

const quotaKey = z
  .string()
  .regex(
    /^(requests\.(cpu|memory|storage|ephemeral-storage)|limits\.(cpu|memory|ephemeral-storage)|cpu|memory|pods|services|services\.(loadbalancers|nodeports)|persistentvolumeclaims|configmaps|secrets|replicationcontrollers|resourcequotas|count\/[a-z0-9.-]+|[a-z0-9.-]+\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims))$/,
    {
      message:
        "is not a ResourceQuota key (e.g. requests.cpu, requests.memory, limits.cpu, limits.memory, pods, requests.storage, persistentvolumeclaims, count/deployments.apps)",
    },
  );

const namespace = z.strictObject({
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  /**
   * ResourceQuota hard limits, e.g. `{ requests.cpu: "4", pods: 20 }`; or `auto` (or
   * `{ auto: { headroom: 30 } }`) to size them from the namespace's peak footprint plus a
   * headroom in percent (@default 20), rounded to readable values.
   */
  quota: z
    .union([
      z.record(quotaKey, z.union([z.string(), z.number()])),
      z.literal("auto"),
      z.strictObject({
        auto: z.strictObject({ headroom: z.number().min(0).max(1000).optional() }),
      }),
    ])
    .optional(),
  /** LimitRange defaults for containers that state no resources. */
  limits: z
    .strictObject({
      defaultRequest: resourceList().optional(),
      default: resourceList().optional(),
      max: resourceList().optional(),
    })
    .optional(),
  /** Pod Security admission level enforced. @default restricted */
  podSecurity: z.enum(["restricted", "baseline"]).optional(),
});

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
  cloud: z.enum(["kind", "eks", "gke", "aks", "generic"]),
  /** A stable identifier for the cluster; changing the kubeconfig does not replace resources. */
  name: dnsLabel("cluster.name"),
  /** kubeconfig context to use. @default the current context */
  context: z.string().optional(),
  /** Path to a kubeconfig file. @default $KUBECONFIG or ~/.kube/config */
  kubeconfig: z.string().optional(),
  /** Write manifests to this directory instead of applying them (no cluster needed). */
  renderYamlToDirectory: z.string().optional(),
  nodePools: z.record(dnsLabel("a node pool name"), nodePool).optional(),
  /** GKE NodeLocal DNSCache (169.254.20.10) is enabled. */
  nodeLocalDns: z.boolean().optional(),
  /** Ingress class for Ingress objects. @default the cloud profile's */
  ingressClass: z.string().optional(),
  /** Default Gateway for HTTPRoutes. */
  gateway: z.strictObject({ name: z.string(), namespace: z.string() }).optional(),
  /** Namespace of the ingress controller or gateway, allowed into web services that have a route. */
  ingressNamespace: z.string().optional(),
  /** StorageClass for stateful volumes. @default the cloud profile's */
  storageClass: z.string().optional(),
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
  tier: z.enum(["dev", "staging", "prod"]),
  cluster,
  namespaces: z.record(dnsLabel("a namespace name"), namespace),
  services: z.record(dnsLabel("a service name"), workload),
  capacity: capacity.optional(),
});

export type PlatformConfig = z.output<typeof platformSchema>;
export type WorkloadConfig = z.output<typeof workload>;
export type NamespaceConfig = z.output<typeof namespace>;
export type ClusterConfig = z.output<typeof cluster>;
export type ProbeConfig = z.output<typeof probe>;
export type ContainerConfig = z.output<typeof container>;
export type VolumeConfig = z.output<typeof volume>;
export type NodePoolConfig = z.output<typeof nodePool>;
export type ResourcesConfig = z.output<typeof resources>;
export type WorkloadKind = WorkloadConfig["kind"];
export type Tier = PlatformConfig["tier"];

// ---------------------------------------------------------------------------------------------
// Errors

/** One error for a whole config: every problem, one per line, each with its key path. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}); nothing was created:\n` +
        problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "(root)";
}

/** Walks the schema to the object at `path` and returns its allowed keys (for "unknown key" hints). */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let current: z.ZodType | undefined = schema;
  for (const part of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodType>)[String(part)];
    else if (current instanceof z.ZodRecord) current = current._zod.def.valueType as z.ZodType;
    else if (current instanceof z.ZodArray) current = current._zod.def.element as z.ZodType;
    else return [];
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) {
      s = s._zod.def.innerType as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s._zod.def.in as z.ZodType;
    } else return s;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function issueMessages(issue: z.core.$ZodIssue): string[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(platformSchema, issue.path);
      return issue.keys.map((key) => {
        const hint = closest(key, allowed);
        const keyPath = formatPath([...issue.path, key]);
        return hint
          ? `${keyPath}: unknown key (did you mean "${hint}"?)`
          : `${keyPath}: unknown key (allowed here: ${allowed.join(", ")})`;
      });
    }
    case "invalid_type": {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return [`${path}: is required (expected ${issue.expected})`];
      return [`${path}: expected ${issue.expected}, got ${describe(input)}`];
    }
    case "invalid_value":
      if ((issue as { input?: unknown }).input === undefined) {
        return [
          `${path}: is required (expected one of: ${issue.values.map((v) => String(v)).join(", ")})`,
        ];
      }
      return [
        `${path}: ${JSON.stringify((issue as { input?: unknown }).input)} is not allowed (expected one of: ${issue.values.map((v) => String(v)).join(", ")})`,
      ];
    case "invalid_key":
      return issue.issues.map((inner) => `${path}: ${inner.message}`);
    case "invalid_union": {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return [`${path}: is required`];
      // Report the alternative the input came closest to: one that accepted its type and failed
      // deeper inside (a quota map with a bad key), rather than "not valid here".
      const branches = (issue.errors ?? []).filter(
        (b) =>
          b.length > 0 &&
          !b.every(
            (i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value"),
          ),
      );
      const depth = (b: readonly z.core.$ZodIssue[]) => Math.max(...b.map((i) => i.path.length));
      const best = [...branches].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
      if (best && depth(best) > 0) {
        return best.flatMap((inner) =>
          issueMessages({ ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue),
        );
      }
      return [`${path}: ${describe(input)} is not valid here`];
    }
    case "too_small":
    case "too_big": {
      const input = (issue as { input?: unknown }).input;
      return [
        `${path}: ${describe(input)} ${issue.message.replace(/^Too (small|big): expected \w+ to (have|be) /, "must be ")}`,
      ];
    }
    case "invalid_format": {
      const input = (issue as { input?: unknown }).input;
      return [`${path}: ${JSON.stringify(input)} ${issue.message}`];
    }
    default:
      return [`${path}: ${issue.message}`];
  }
}

// ---------------------------------------------------------------------------------------------
// Merging the shared application description with a stack's overrides

type Json = unknown;

/** Deep-merges `patch` into `base`: objects merge key by key, lists and scalars replace, null removes. */
export function mergeOverrides(base: Json, patch: Json): Json {
  if (patch === null) return undefined;
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(base) ? { ...base } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const merged = mergeOverrides(out[key], value);
    if (merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Reading raw config

/** The raw stack configuration: short keys (without the `platform:` prefix) to values. */
export interface RawConfig {
  readonly [key: string]: unknown;
}

export interface ParseOptions {
  /** Whether a config key exists and whether it is a secret, for checking `secretEnv`. */
  readonly lookupSecret?: (key: string) => "secret" | "plain" | "missing";
}

const STRUCTURED_KEYS = [
  "tier",
  "cluster",
  "namespaces",
  "services",
  "capacity",
  "overrides",
] as const;

/**
 * Validates a raw stack configuration and returns the plain, typed platform config.
 * Throws one ConfigError listing every problem.
 */
export function parsePlatformConfig(raw: RawConfig, options: ParseOptions = {}): PlatformConfig {
  const problems: string[] = [];
  const base: Record<string, unknown> = {};
  for (const key of ["tier", "cluster", "namespaces", "services", "capacity"] as const) {
    if (raw[key] !== undefined) base[key] = raw[key];
  }
  let merged: Json = base;
  const overrides = raw.overrides;
  if (overrides !== undefined) {
    if (!isPlainObject(overrides)) {
      problems.push(
        `overrides: expected an object such as { services: { web: { replicas: 3 } } }, got ${describe(overrides)}`,
      );
    } else {
      for (const key of Object.keys(overrides)) {
        if (key !== "namespaces" && key !== "services") {
          problems.push(
            `overrides.${key}: unknown key (overrides patch only namespaces and services; set ${key} directly)`,
          );
        }
      }
      merged = mergeOverrides(base, {
        namespaces: overrides.namespaces,
        services: overrides.services,
      });
    }
  }
  // Keys that are neither structured config nor secrets some service references are typos.
  // Checked on the raw merged document, so they are reported together with schema problems.
  const services =
    isPlainObject(merged) && isPlainObject(merged.services) ? Object.values(merged.services) : [];
  const referenced = new Set(
    services.flatMap((s) =>
      isPlainObject(s) && isPlainObject(s.secretEnv) ? Object.values(s.secretEnv).map(String) : [],
    ),
  );
  for (const key of Object.keys(raw)) {
    if ((STRUCTURED_KEYS as readonly string[]).includes(key) || referenced.has(key)) continue;
    const hint = closest(key, [...STRUCTURED_KEYS]);
    problems.push(
      hint
        ? `${key}: unknown config key (did you mean "${hint}"?)`
        : `${key}: unknown config key (structured keys are ${STRUCTURED_KEYS.join(", ")}; other keys must be secrets referenced by a service's secretEnv)`,
    );
  }

  const result = platformSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    const schemaProblems = result.error.issues.flatMap(issueMessages);
    throw new ConfigError([...schemaProblems, ...problems]);
  }
  const config = result.data;
  problems.push(...crossCheck(config, options));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Checks that span several keys: references, kind-specific fields, consistency. */
export function crossCheck(config: PlatformConfig, options: ParseOptions = {}): string[] {
  const problems: string[] = [];
  const namespaces = Object.keys(config.namespaces);
  const services = Object.keys(config.services);

  for (const [name, svc] of Object.entries(config.services)) {
    const at = `services.${name}`;
    const has = (field: keyof WorkloadConfig) => svc[field] !== undefined;
    const only = (field: keyof WorkloadConfig, kinds: readonly WorkloadKind[]) => {
      if (has(field) && !kinds.includes(svc.kind)) {
        problems.push(
          `${at}.${field}: not used by kind ${svc.kind} (only ${kinds.join(", ")}); remove it`,
        );
      }
    };

    if (!namespaces.includes(svc.namespace)) {
      const hint = closest(svc.namespace, namespaces);
      problems.push(
        `${at}.namespace: "${svc.namespace}" is not a configured namespace (${hint ? `did you mean "${hint}"? ` : ""}add it under namespaces or use one of: ${namespaces.join(", ") || "none defined"})`,
      );
    }
    if (typeof svc.image === "string" && !IMAGE_REF.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" is not an image reference (e.g. "ghcr.io/acme/api:1.4.2" or "ghcr.io/acme/api@sha256:<64 hex>")`,
      );
    } else if (typeof svc.image === "string" && /:latest(@|$)/.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" uses the "latest" tag; pin a version tag or a digest so every environment runs what was tested`,
      );
    } else if (typeof svc.image === "string" && !/[:@][^/]+$/.test(svc.image)) {
      problems.push(
        `${at}.image: "${svc.image}" has no tag or digest (implicitly "latest"); pin a version tag or a digest`,
      );
    }

    // Kind-specific fields.
    only("ingress", ["web"]);
    only("route", ["web"]);
    only("expose", ["web", "stateful"]);
    only("autoscale", ["web", "worker"]);
    only("storage", ["stateful"]);
    only("schedule", ["cron"]);
    only("cron", ["cron"]);
    only("job", ["job"]);
    only("before", ["job"]);
    only("replicas", ["web", "worker", "stateful"]);
    only("rollout", ["web", "worker", "stateful"]);
    if (svc.kind === "cron" && !svc.schedule) {
      problems.push(`${at}.schedule: is required for kind cron (e.g. "0 3 * * *")`);
    }
    if (svc.schedule && !isCronSchedule(svc.schedule)) {
      problems.push(
        `${at}.schedule: "${svc.schedule}" is not a cron schedule (five fields, e.g. "0 3 * * *" or "@daily")`,
      );
    }
    if (svc.kind === "stateful" && !svc.storage) {
      problems.push(
        `${at}.storage: is required for kind stateful (e.g. { size: 10Gi, mountPath: /var/lib/data })`,
      );
    }
    const ports = Object.keys(svc.ports ?? {});
    if ((svc.kind === "web" || svc.kind === "stateful") && ports.length === 0) {
      problems.push(`${at}.ports: kind ${svc.kind} needs at least one port (e.g. { http: 8080 })`);
    }
    if (svc.ingress && svc.route) {
      problems.push(
        `${at}: ingress and route exclude each other; choose an Ingress or a Gateway API route`,
      );
    }
    if (svc.route && !svc.route.gateway && !config.cluster.gateway) {
      problems.push(
        `${at}.route.gateway: no gateway given and cluster.gateway is not set; set one of them`,
      );
    }
    for (const [field, portName] of [
      ["ingress.port", svc.ingress?.port],
      ["route.port", svc.route?.port],
    ] as const) {
      if (portName !== undefined && !ports.includes(portName)) {
        problems.push(
          `${at}.${field}: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
        );
      }
    }
    for (const [probeName, p] of Object.entries(svc.probes ?? {})) {
      const probePort = p?.http?.port ?? p?.tcp?.port;
      if (typeof probePort === "string" && !ports.includes(probePort)) {
        problems.push(
          `${at}.probes.${probeName}: port "${probePort}" is not one of this service's ports (${ports.join(", ") || "none"})`,
        );
      }
      if ((p?.http || p?.tcp) && probePort === undefined && ports.length === 0) {
        problems.push(`${at}.probes.${probeName}: give a port; this service declares no ports`);
      }
    }
    svc.ingressFrom?.forEach((source, i) =>
      source.ports?.forEach((portName, j) => {
        if (!ports.includes(portName)) {
          problems.push(
            `${at}.ingressFrom[${i}].ports[${j}]: "${portName}" is not one of this service's ports (${ports.join(", ") || "none"})`,
          );
        }
      }),
    );
    if (svc.autoscale) {
      if (svc.autoscale.min > svc.autoscale.max) {
        problems.push(
          `${at}.autoscale: min (${svc.autoscale.min}) is greater than max (${svc.autoscale.max}); make max at least ${svc.autoscale.min}`,
        );
      }
      if (svc.replicas !== undefined) {
        problems.push(
          `${at}.replicas: with autoscale the HPA owns the replica count; remove replicas and set autoscale.min`,
        );
      }
    }
    if (svc.rollout && isZero(svc.rollout.maxSurge) && isZero(svc.rollout.maxUnavailable)) {
      problems.push(
        `${at}.rollout: maxSurge and maxUnavailable cannot both be 0 (the rollout could never progress); set maxSurge to 1`,
      );
    }
    checkLimits(`${at}.resources`, svc.resources, problems);
    for (const [list, items] of [
      ["sidecars", svc.sidecars],
      ["initContainers", svc.initContainers],
    ] as const) {
      const seen = new Set<string>([name]);
      items?.forEach((c, i) => {
        if (seen.has(c.name))
          problems.push(
            `${at}.${list}[${i}].name: "${c.name}" is already used by another container of this pod`,
          );
        seen.add(c.name);
        checkLimits(`${at}.${list}[${i}].resources`, c.resources, problems);
        if (list === "sidecars" && c.restartAlways !== undefined) {
          problems.push(
            `${at}.sidecars[${i}].restartAlways: only for initContainers (native sidecars); remove it`,
          );
        }
        for (const volName of Object.keys(c.volumeMounts ?? {})) {
          if (!(svc.volumes ?? {})[volName]) {
            problems.push(
              `${at}.${list}[${i}].volumeMounts.${volName}: no volume "${volName}" in ${at}.volumes`,
            );
          }
        }
      });
    }

    // Order: jobs that run before other workloads.
    svc.before?.forEach((target, i) => {
      if (target === name) problems.push(`${at}.before[${i}]: a job cannot run before itself`);
      else if (!services.includes(target)) {
        const hint = closest(target, services);
        problems.push(
          `${at}.before[${i}]: "${target}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
        );
      }
    });
    const cycle = beforeCycle(config.services, name);
    if (cycle) problems.push(`${at}.before: the jobs wait for each other in a cycle (${cycle})`);

    // Dependencies and secrets.
    const seenDeps = new Set<string>();
    svc.dependencies?.forEach((dep, i) => {
      if (dep === name)
        problems.push(`${at}.dependencies[${i}]: a service cannot depend on itself`);
      else if (!services.includes(dep)) {
        const hint = closest(dep, services);
        problems.push(
          `${at}.dependencies[${i}]: "${dep}" is not a configured service (${hint ? `did you mean "${hint}"?` : `services: ${services.join(", ")}`})`,
        );
      } else if (Object.keys(config.services[dep].ports ?? {}).length === 0) {
        problems.push(
          `${at}.dependencies[${i}]: "${dep}" exposes no ports, so nothing can call it; add ports to it or remove the dependency`,
        );
      }
      if (seenDeps.has(dep)) problems.push(`${at}.dependencies[${i}]: "${dep}" is listed twice`);
      seenDeps.add(dep);
    });
    if (svc.priorityClassName && !SYSTEM_PRIORITY_CLASSES.includes(svc.priorityClassName)) {
      const declared = Object.keys(config.cluster.priorityClasses ?? {});
      if (!declared.includes(svc.priorityClassName)) {
        problems.push(
          `${at}.priorityClassName: "${svc.priorityClassName}" is not declared under cluster.priorityClasses (declared: ${declared.join(", ") || "none"}); pods naming an unknown class are rejected at admission`,
        );
      }
    }
    if (svc.serviceAccount?.identity) {
      const bound = cloudProfile(config.cluster.cloud).workloadIdentity(
        svc.serviceAccount.identity,
      );
      if ("error" in bound) problems.push(`${at}.serviceAccount.identity: ${bound.error}`);
    }
    for (const [envName, key] of Object.entries(svc.secretEnv ?? {})) {
      if (svc.env && envName in svc.env) {
        problems.push(`${at}.secretEnv.${envName}: also set in env; keep it in one of them`);
      }
      const state = options.lookupSecret?.(key);
      if (state === "missing") {
        problems.push(
          `${at}.secretEnv.${envName}: config key "${key}" is not set (set it with: pulumi config set --secret ${key} <value>)`,
        );
      } else if (state === "plain") {
        problems.push(
          `${at}.secretEnv.${envName}: config key "${key}" is stored in plain text (re-set it with: pulumi config set --secret ${key} <value>)`,
        );
      }
    }
  }

  for (const [name, ns] of Object.entries(config.namespaces)) {
    for (const [key, value] of Object.entries(isQuotaMap(ns.quota) ? ns.quota : {})) {
      if (Quantity.tryParse(value) === undefined) {
        problems.push(
          `namespaces.${name}.quota.${key}: ${JSON.stringify(value)} is not a Kubernetes quantity (${QUANTITY_EXAMPLES})`,
        );
      }
    }
    const lr = ns.limits;
    for (const r of ["cpu", "memory"] as const) {
      const req = lr?.defaultRequest?.[r];
      const lim = lr?.default?.[r];
      if (req && lim && Quantity.parse(req).cmp(Quantity.parse(lim)) > 0) {
        problems.push(
          `namespaces.${name}.limits.defaultRequest.${r}: ${req} is above limits.default.${r} (${lim}); pods given these defaults would be rejected`,
        );
      }
    }
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      for (const field of ["default", "defaultRequest"] as const) {
        const value = lr?.[field]?.[r];
        const max = lr?.max?.[r];
        if (value && max && Quantity.parse(value).cmp(Quantity.parse(max)) > 0) {
          problems.push(
            `namespaces.${name}.limits.${field}.${r}: ${value} is above limits.max.${r} (${max}); lower the default or raise the max`,
          );
        }
      }
    }
  }

  const pools = config.cluster.nodePools ?? {};
  for (const [name, pool] of Object.entries(pools)) {
    for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
      const over = pool.overhead?.[r];
      const allocatable = pool.allocatable[r];
      if (over && !allocatable) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: needs allocatable.${r} to be taken from; set cluster.nodePools.${name}.allocatable.${r} or remove the overhead`,
        );
      } else if (
        over &&
        allocatable &&
        Quantity.parse(over).cmp(Quantity.parse(allocatable)) >= 0
      ) {
        problems.push(
          `cluster.nodePools.${name}.overhead.${r}: ${over} leaves nothing of allocatable ${pool.allocatable[r]}; lower the overhead`,
        );
      }
    }
  }
  if (
    config.cluster.renderYamlToDirectory &&
    (config.cluster.context || config.cluster.kubeconfig)
  ) {
    problems.push(
      `cluster.renderYamlToDirectory: excludes cluster.context and cluster.kubeconfig (rendering needs no cluster); remove one or the other`,
    );
  }
  return problems;
}

/** Name of the emptyDir volume generated for a writable path. */
export function writableVolumeName(path: string, index: number): string {
  const slug = path
    .replace(/^\/+|\/+$/g, "")
    .replace(/[^a-z0-9]+/gi, "-")
    .toLowerCase()
    .slice(0, 40);
  return `w${index}-${slug || "root"}`.replace(/-+$/, "");
}

/** A namespace quota given as explicit hard limits (not `auto`). */
export function isQuotaMap(
  quota: NamespaceConfig["quota"],
): quota is Record<string, string | number> {
  // Quota keys never read "auto" (quotaKey), so an object with that key is the auto form.
  return typeof quota === "object" && !("auto" in quota);
}

const SYSTEM_PRIORITY_CLASSES = ["system-cluster-critical", "system-node-critical"];

/**
 * The cycle through `start` in the jobs' `before` order ("a -> b -> a"), or undefined. Only
 * reported for the alphabetically first job of the cycle, so it appears once.
 */
function beforeCycle(
  services: Readonly<Record<string, WorkloadConfig>>,
  start: string,
): string | undefined {
  const path: string[] = [];
  const seen = new Set<string>();
  const visit = (node: string): string | undefined => {
    path.push(node);
    for (const next of services[node]?.before ?? []) {
      if (next === node) continue; // reported on its own
      if (next === start) return [...path, start].join(" -> ");
      if (seen.has(next) || !services[next]) continue;
      seen.add(next);
      const found = visit(next);
      if (found) return found;
    }
    path.pop();
    return undefined;
  };
  const found = visit(start);
  if (!found) return undefined;
  const members = found.split(" -> ");
  return members.slice(0, -1).every((m) => start <= m) ? found : undefined;
}

function isZero(v: number | string | undefined): boolean {
  return v === 0 || v === "0%";
}

function checkLimits(at: string, res: ResourcesConfig, problems: string[]): void {
  for (const r of ["cpu", "memory", "ephemeral-storage"] as const) {
    const req = res.requests[r];
    const lim = res.limits?.[r];
    if (req && lim && Quantity.parse(lim).cmp(Quantity.parse(req)) < 0) {
      problems.push(
        `${at}.limits.${r}: ${lim} is below requests.${r} (${req}); raise the limit to at least ${req}`,
      );
    }
  }
}

const CRON_FIELD =
  /^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/\d+)?)*$/;
function isCronSchedule(s: string): boolean {
  if (/^@(yearly|annually|monthly|weekly|daily|midnight|hourly)$/.test(s)) return true;
  const fields = s.trim().split(/\s+/);
  return fields.length === 5 && fields.every((f) => CRON_FIELD.test(f));
}
