/**
 * The schema of each kind the library builds, as plain data: workloads (web, worker, stateful,
 * cron, job), tenant namespaces and the environment. The components check their arguments with
 * these; the program's stack config (platform/config) composes them. Each field's meaning and
 * default are documented once, on the types these schemas must produce (components/types.ts,
 * checked at compile time at the end of this file).
 */
import { z } from "zod";
import { Quantity, QUANTITY_EXAMPLES } from "./quantity";
import {
  CLOUDS,
  KIND_ONLY,
  TIERS,
  WORKLOAD_KINDS,
  type ClusterDefaults,
  type ContainerConfig,
  type Environment,
  type KindFields,
  type NotTakenBy,
  type ProbeConfig,
  type ResourcesConfig,
  type TenantConfig,
  type VolumeConfig,
  type WorkloadConfig,
  type WorkloadKind,
} from "./types";

export { CLOUDS, KIND_ONLY, WORKLOAD_KINDS };
export type {
  Cloud,
  ClusterDefaults,
  ContainerConfig,
  Environment,
  ProbeConfig,
  ResourcesConfig,
  TenantConfig,
  Tier,
  VolumeConfig,
  WorkloadConfig,
  WorkloadKind,
} from "./types";

// ---------------------------------------------------------------------------------------------
// Leaf schemas

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const CONFIG_KEY = /^[A-Za-z0-9][-_.A-Za-z0-9]*$/;
/** registry/repo[:tag][@sha256:64 hex] */
export const IMAGE_REF =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

export const dnsLabel = (what: string) =>
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
export const cpu = quantity("examples: 500m, 2");
export const memory = quantity("examples: 256Mi, 1Gi");
export const storage = quantity("examples: 10Gi, 500Gi");

const port = z.number().int().min(1).max(65535);
export const positiveInt = z.number().int().min(1);
export const nonNegativeInt = z.number().int().min(0);
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
  requests: z.strictObject({
    cpu,
    memory,
    "ephemeral-storage": storage.optional(),
  }),
  limits: resourceList().optional(),
});

const probeAction = {
  http: z
    .strictObject({
      path: z.string().startsWith("/"),
      port: z.union([port, z.string()]).optional(),
    })
    .optional(),
  tcp: z.strictObject({ port: z.union([port, z.string()]).optional() }).optional(),
  exec: z.strictObject({ command: z.array(z.string()).min(1) }).optional(),
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
    mountPath: z.string().startsWith("/"),
    readOnly: z.boolean().optional(),
    emptyDir: z
      .strictObject({ sizeLimit: storage.optional(), medium: z.enum(["Memory"]).optional() })
      .optional(),
    configMap: z
      .strictObject({
        name: z.string().optional(),
        data: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
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
  volumeMounts: z.record(z.string(), z.string().startsWith("/")).optional(),
  readinessProbe: probe.optional(),
  restartAlways: z.boolean().optional(),
});

const toleration = z.strictObject({
  key: z.string().optional(),
  operator: z.enum(["Exists", "Equal"]).optional(),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
  tolerationSeconds: z.number().int().optional(),
});

const cidr = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/, {
  message: 'must be a CIDR such as "10.0.0.0/8" or "203.0.113.7/32"',
});

const egressRule = z.strictObject({
  cidr,
  except: z.array(z.string()).optional(),
  ports: z.array(port).optional(),
  protocol: z.enum(["TCP", "UDP"]).optional(),
});

const imageBuild = z.strictObject({
  repository: z.string(),
  context: z.string(),
  dockerfile: z.string().optional(),
  args: z.record(z.string(), z.string()).optional(),
  platform: z.string().optional(),
});

const manifestPatch = z.strictObject({
  kind: z.string(),
  name: z.string().optional(),
  patch: z.record(z.string(), z.unknown()),
});

/** Every field a workload may have; KIND_ONLY lists the fields only some kinds take. */
const workloadFields = {
  namespace: dnsLabel("a namespace name"),
  image: z.union([z.string(), z.strictObject({ build: imageBuild })]),
  command: z.array(z.string()).optional(),
  args: z.array(z.string()).optional(),
  replicas: nonNegativeInt.optional(),
  resources,
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
      cpu: z.number().int().min(1).max(1000).optional(),
      memory: z.number().int().min(1).max(1000).optional(),
    })
    .optional(),
  rollout: z
    .strictObject({
      maxSurge: intOrPercent.optional(),
      maxUnavailable: intOrPercent.optional(),
      progressDeadlineSeconds: positiveInt.optional(),
      minReadySeconds: nonNegativeInt.optional(),
    })
    .optional(),
  ingress: z
    .strictObject({
      host: z.string(),
      path: z.string().startsWith("/").optional(),
      className: z.string().optional(),
      tlsSecret: z.string().optional(),
      port: z.string().optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  route: z
    .strictObject({
      hostnames: z.array(z.string()).min(1),
      path: z.string().startsWith("/").optional(),
      gateway: z.strictObject({ name: z.string(), namespace: z.string() }).optional(),
      port: z.string().optional(),
    })
    .optional(),
  expose: z
    .strictObject({
      type: z.enum(["ClusterIP", "LoadBalancer", "NodePort"]),
      internal: z.boolean().optional(),
    })
    .optional(),
  env: envMap.optional(),
  secretEnv: secretEnvMap.optional(),
  restartOnSecretChange: z.boolean().optional(),
  dependencies: z.array(z.string()).optional(),
  egress: z.array(egressRule).optional(),
  ingressFrom: z
    .array(z.strictObject({ namespace: z.string(), ports: z.array(z.string()).min(1).optional() }))
    .optional(),
  serviceAccount: z
    .strictObject({
      automountToken: z.boolean().optional(),
      identity: z.string().optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  labels: z.record(z.string(), z.string()).optional(),
  podAnnotations: z.record(z.string(), z.string()).optional(),
  imagePullSecrets: z.array(z.string()).optional(),
  nodeSelector: z.record(z.string(), z.string()).optional(),
  tolerations: z.array(toleration).optional(),
  priorityClassName: z.string().optional(),
  securityContext: z
    .strictObject({
      runAsUser: positiveInt.optional(),
      runAsGroup: positiveInt.optional(),
      fsGroup: positiveInt.optional(),
      readOnlyRootFilesystem: z.boolean().optional(),
    })
    .optional(),
  writablePaths: z.array(z.string().startsWith("/")).optional(),
  volumes: z.record(dnsLabel("a volume name"), volume).optional(),
  sidecars: z.array(container).optional(),
  initContainers: z.array(container).optional(),
  terminationGracePeriodSeconds: nonNegativeInt.optional(),
  storage: z
    .strictObject({
      size: storage,
      mountPath: z.string().startsWith("/"),
      storageClass: z.string().optional(),
    })
    .optional(),
  schedule: z.string().optional(),
  cron: z
    .strictObject({
      concurrencyPolicy: z.enum(["Forbid", "Replace", "Allow"]).optional(),
      startingDeadlineSeconds: positiveInt.optional(),
      backoffLimit: nonNegativeInt.optional(),
      successfulJobsHistoryLimit: nonNegativeInt.optional(),
      failedJobsHistoryLimit: nonNegativeInt.optional(),
      parallelism: positiveInt.optional(),
      activeDeadlineSeconds: positiveInt.optional(),
      timeZone: z.string().optional(),
    })
    .optional(),
  job: z
    .strictObject({
      backoffLimit: nonNegativeInt.optional(),
      parallelism: positiveInt.optional(),
      activeDeadlineSeconds: positiveInt.optional(),
    })
    .optional(),
  before: z.array(z.string()).optional(),
  patches: z.array(manifestPatch).optional(),
};

/** A workload of any kind as the stack config states it: `kind` plus every field. */
const workload = z.strictObject({
  kind: z.enum(WORKLOAD_KINDS),
  ...workloadFields,
});

const kindFields = z.strictObject(workloadFields);
function fieldsOf<K extends WorkloadKind>(
  kind: K,
): z.ZodObject<Omit<typeof workloadFields, NotTakenBy<K>>, z.core.$strict> {
  const mask = Object.fromEntries(
    Object.entries(KIND_ONLY)
      .filter(([, kinds]) => !(kinds as readonly string[]).includes(kind))
      .map(([field]) => [field, true as const]),
  );
  return kindFields.omit(mask as never) as never;
}

/**
 * One schema per kind: exactly the fields that kind takes, with what it requires. The library's
 * components validate their arguments with these. Not here: `image` (a component takes any
 * `pulumi.Input<string>`, checked when it is a plain string) and `before` (a component states
 * its order with `dependsOn`). The stack config's `workload` has all the fields and reports a
 * field on the wrong kind by name.
 */
export const workloadSchemas = {
  web: fieldsOf("web").omit({ image: true }),
  worker: fieldsOf("worker").omit({ image: true }),
  stateful: fieldsOf("stateful")
    .omit({ image: true })
    .extend({ storage: workloadFields.storage.unwrap() }),
  cron: fieldsOf("cron")
    .omit({ image: true })
    .extend({ schedule: workloadFields.schedule.unwrap() }),
  job: fieldsOf("job").omit({ image: true, before: true }),
};

const quotaKey = z
  .string()
  .regex(
    /^(requests\.(cpu|memory|storage|ephemeral-storage)|limits\.(cpu|memory|ephemeral-storage)|cpu|memory|pods|services|services\.(loadbalancers|nodeports)|persistentvolumeclaims|configmaps|secrets|replicationcontrollers|resourcequotas|count\/[a-z0-9.-]+|[a-z0-9.-]+\.storageclass\.storage\.k8s\.io\/(requests\.storage|persistentvolumeclaims))$/,
    {
      message:
        "is not a ResourceQuota key (e.g. requests.cpu, requests.memory, limits.cpu, limits.memory, pods, requests.storage, persistentvolumeclaims, count/deployments.apps)",
    },
  );

/** ResourceQuota hard limits by quota key, e.g. `{ requests.cpu: "4", pods: 20 }`. */
export const quotaHard = z.record(quotaKey, z.union([z.string(), z.number()]));

/** A tenant namespace: its labels, quota, container defaults, admission level and access. */
export const tenantFields = {
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  quota: quotaHard.optional(),
  limits: z
    .strictObject({
      defaultRequest: resourceList().optional(),
      default: resourceList().optional(),
      max: resourceList().optional(),
    })
    .optional(),
  podSecurity: z.enum(["restricted", "baseline"]).optional(),
  allowReserved: z.boolean().optional(),
  access: z
    .strictObject({
      admin: z.array(z.string().min(1)).optional(),
      edit: z.array(z.string().min(1)).optional(),
      view: z.array(z.string().min(1)).optional(),
      deploy: z
        .array(
          z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/, {
            message: 'must name a ServiceAccount as "namespace/name", e.g. "ci/platform-deployer"',
          }),
        )
        .optional(),
    })
    .optional(),
};
const tenant = z.strictObject(tenantFields);

/** What the builders read about the cluster besides its cloud; each has the profile's default. */
export const clusterDefaultsFields = {
  nodeLocalDns: z.boolean().optional(),
  ingressClass: z.string().optional(),
  gateway: z.strictObject({ name: z.string(), namespace: z.string() }).optional(),
  ingressNamespace: z.string().optional(),
  storageClass: z.string().optional(),
  gatewayClass: z.string().optional(),
  loadBalancerSources: z.array(cidr).min(1).optional(),
  proxyOnlySubnet: cidr.optional(),
  clusterCidrs: z.array(cidr).min(1).optional(),
  ingressScheme: z.enum(["internet-facing", "internal"]).optional(),
  certificateArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[\w-]+$/, {
      message:
        "must be an ACM certificate ARN (e.g. arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-...)",
    })
    .optional(),
};

/** The environment's tier; drives safety defaults (protection, strict capacity). */
const tier = z.enum(TIERS);

/**
 * The environment components are built for: the cloud, the tier and the cluster's defaults.
 * Every field is optional; the defaults suit a generic cluster in a dev tier.
 */
const environment = z.strictObject({
  cloud: z.enum(CLOUDS).optional(),
  tier: tier.optional(),
  partOf: z.string().optional(),
  multiZone: z.boolean().optional(),
  ...clusterDefaultsFields,
});

export {
  environment as environmentSchema,
  tenant as tenantSchema,
  tier as tierSchema,
  workload as workloadSchema,
};

// The schemas produce exactly the library's types (components/types.ts), checked at compile time.
type Same<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertTypes<T extends true>(_proof?: T): void {}
/** A kind schema's fields as a component takes them, one flat object type. */
type Without<T, K extends PropertyKey> = Flat<Pick<T, Exclude<keyof T, K>>>;
type Flat<T> = { [P in keyof T]: T[P] };
assertTypes<Same<z.output<typeof workload>, WorkloadConfig>>();
assertTypes<Same<z.output<typeof tenant>, TenantConfig>>();
assertTypes<Same<z.output<typeof environment>, Environment>>();
assertTypes<Same<z.output<z.ZodObject<typeof clusterDefaultsFields>>, ClusterDefaults>>();
assertTypes<Same<z.output<typeof probe>, ProbeConfig>>();
assertTypes<Same<z.output<typeof container>, ContainerConfig>>();
assertTypes<Same<z.output<typeof volume>, VolumeConfig>>();
assertTypes<Same<z.output<typeof resources>, ResourcesConfig>>();
assertTypes<
  Same<
    Without<z.output<(typeof workloadSchemas)["web"]>, "namespace" | "dependencies">,
    Flat<KindFields<"web">>
  >
>();
assertTypes<
  Same<
    Without<z.output<(typeof workloadSchemas)["worker"]>, "namespace" | "dependencies">,
    Flat<KindFields<"worker">>
  >
>();
assertTypes<
  Same<
    Without<z.output<(typeof workloadSchemas)["stateful"]>, "namespace" | "dependencies">,
    Flat<KindFields<"stateful">>
  >
>();
assertTypes<
  Same<
    Without<z.output<(typeof workloadSchemas)["cron"]>, "namespace" | "dependencies">,
    Flat<KindFields<"cron">>
  >
>();
assertTypes<
  Same<
    Without<z.output<(typeof workloadSchemas)["job"]>, "namespace" | "dependencies">,
    Flat<KindFields<"job">>
  >
>();
