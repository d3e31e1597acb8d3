/**
 * The whole environment from one validated config: one Kubernetes provider, a Tenant per
 * namespace, an Image and a workload component per service. Everything knowable from config is
 * checked by `planPlatform` (pure, ./plan) before the first resource is registered.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
// The library by its entry point, as a user imports it (register.ts: the cluster objects).
import {
  CronTask,
  Image,
  StatefulService,
  Task,
  Tenant,
  WebService,
  Worker,
  type Workload,
  type WorkloadConfig,
  type WorkloadDescription,
} from "../components";
import { registerManifest } from "../components/register";
import { planCapacity, type CapacityReport } from "./capacity/capacity";
import {
  CapacityError,
  formatCapacityMarkdown,
  formatCapacityTable,
  formatCapacityWarnings,
} from "./capacity/report";
import {
  checksumKeyNeed,
  ConfigError,
  SECRET_CHECKSUM_KEY,
  servicesNeedingChecksumKey,
  tenantConfig,
  type PlatformConfig,
} from "./config";
import { environmentOf, planPlatform, type PlatformPlan } from "./plan";

export interface PlatformArgs {
  /** The validated stack config (see `parsePlatformConfig`). */
  readonly config: PlatformConfig;
  /** Value of the `app.kubernetes.io/part-of` label. @default the Pulumi project name */
  readonly project?: string;
  /** Values of the secret config keys that services reference in `secretEnv`. */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The per-stack key of the `checksum/secret-env` annotations (see the components'
   * `secretChecksumKey`); the program reads it from `platform:secretChecksumKey`, which
   * `npm run stack:init` creates. Required when a service has `secretEnv` and rolls on changes.
   */
  readonly secretChecksumKey?: pulumi.Input<string>;
  /**
   * The cluster, e.g. one created in the same program: a Kubernetes provider to use as it is, or
   * a kubeconfig (an Output such as a new cluster's) for the provider the platform creates.
   * Exclude each other and `cluster.context`, `cluster.kubeconfig` and
   * `cluster.renderYamlToDirectory`. @default a provider from the config's `cluster` strings
   */
  readonly provider?: k8s.Provider;
  /** A kubeconfig for the provider the platform creates (see `provider`). */
  readonly kubeconfig?: pulumi.Input<string>;
}

/** The settings of the provider the platform creates (also the engine benchmark's programs'). */
export function providerArgs(
  config: PlatformConfig,
  args: Pick<PlatformArgs, "kubeconfig"> = {},
): k8s.ProviderArgs {
  const { cluster } = config;
  return {
    clusterIdentifier: cluster.name,
    // Our ConfigMaps and Secrets have fixed names that pods reference, so a data change must
    // update them in place (the provider's default replaces them: delete, then create, with
    // a window where starting pods cannot find them). The checksum annotations roll the pods.
    enableConfigMapMutable: true,
    enableSecretMutable: true,
    ...(cluster.context ? { context: cluster.context } : {}),
    ...(args.kubeconfig !== undefined
      ? { kubeconfig: args.kubeconfig }
      : cluster.kubeconfig
        ? { kubeconfig: cluster.kubeconfig }
        : {}),
    ...(cluster.renderYamlToDirectory
      ? { renderYamlToDirectory: cluster.renderYamlToDirectory }
      : {}),
  };
}

/** Problems with how the cluster is given; the config's own checks already ran. */
function argumentProblems(config: PlatformConfig, args: PlatformArgs): string[] {
  const given = [
    ...(args.provider ? ["provider"] : []),
    ...(args.kubeconfig !== undefined ? ["kubeconfig"] : []),
  ];
  const fromConfig = (["context", "kubeconfig", "renderYamlToDirectory"] as const).filter(
    (key) => config.cluster[key] !== undefined,
  );
  const problems: string[] = [];
  if (given.length > 1)
    problems.push("Platform: provider and kubeconfig exclude each other; give one of them");
  if (given.length > 0 && fromConfig.length > 0)
    problems.push(
      `Platform: ${given.join(" and ")} given, so cluster.${fromConfig.join(" and cluster.")} in the config would be ignored; remove ${fromConfig.length > 1 ? "them" : "it"} from the config`,
    );
  const rolling = servicesNeedingChecksumKey(config.services);
  if (rolling.length > 0 && args.secretChecksumKey === undefined)
    problems.push(
      `Platform: secretChecksumKey is required: ${checksumKeyNeed(rolling)} (the program reads the secret stack config key ${SECRET_CHECKSUM_KEY}, created by: npm run stack:init -- --stack <stack>)`,
    );
  return problems;
}

const WORKLOAD_CLASSES: Record<
  WorkloadConfig["kind"],
  new (name: string, args: never, opts?: pulumi.ComponentResourceOptions) => Workload
> = {
  web: WebService,
  worker: Worker,
  stateful: StatefulService,
  cron: CronTask,
  job: Task,
};

export class Platform extends pulumi.ComponentResource {
  public readonly provider: k8s.Provider;
  /** Cluster-scoped objects: the Retain StorageClass and the PriorityClasses, when configured. */
  public readonly clusterObjects: readonly pulumi.CustomResource[];
  public readonly tenants: Readonly<Record<string, Tenant>>;
  public readonly workloads: Readonly<Record<string, Workload>>;
  /** The image each service runs, by service name. */
  public readonly images: pulumi.Output<Record<string, string>>;
  /** In-cluster endpoints (`host:port`) of services that have one, by service name. */
  public readonly endpoints: pulumi.Output<Record<string, string>>;
  /** Public hosts served by Ingresses and routes. */
  public readonly hosts: string[];
  public readonly plan: PlatformPlan;
  /** The capacity plan: quota fit, node-pool placement, failover. */
  public readonly capacity: CapacityReport;
  /** The capacity plan as a terminal table and as Markdown (for PR comments). */
  public readonly capacityReport: { readonly text: string; readonly markdown: string };

  constructor(name: string, args: PlatformArgs, opts: pulumi.ComponentResourceOptions = {}) {
    // Plan and check capacity first: a problem throws here, before this component or any child
    // is registered.
    const project = args.project ?? pulumi.getProject();
    const config = args.config;
    const argProblems = argumentProblems(config, args);
    if (argProblems.length > 0) throw new ConfigError(argProblems);
    const plan = planPlatform(config, project, args);
    // Capacity is checked on the plan: the values of the objects as they will be registered.
    const capacity = planCapacity(plan.config, plan);
    if (capacity.errors.length > 0) throw new CapacityError(capacity);
    super("platform:index:Platform", name, {}, opts);
    this.plan = plan;
    this.capacity = capacity;
    this.capacityReport = {
      text: formatCapacityTable(capacity),
      markdown: formatCapacityMarkdown(capacity),
    };
    const warnings = formatCapacityWarnings(capacity);
    if (warnings) void pulumi.log.warn(warnings, this);
    // Prod's objects are protected from deletion; a review stack's exist to be destroyed.
    const guarded = config.tier === "prod" && config.review === undefined;

    this.provider =
      args.provider ??
      new k8s.Provider(`${name}-k8s`, providerArgs(config, args), { parent: this });
    const childOpts = { parent: this, providers: [this.provider] };

    // In prod the cluster-scoped objects are protected and retained too: deleting a
    // PriorityClass makes admission reject new pods that name it, and deleting the Retain
    // StorageClass stops stateful volumes from being provisioned.
    const clusterObjects = plan.cluster.map((m) =>
      registerManifest(name, m, {
        parent: this,
        provider: this.provider,
        ...(guarded ? { protect: true, retainOnDelete: true } : {}),
      }),
    );

    this.clusterObjects = clusterObjects;

    // The library's components register the plan: the same arguments a user would give, with
    // the objects planned (and checked) above.
    const environment = environmentOf(config, project);
    const tenants: Record<string, Tenant> = {};
    for (const [nsName, ns] of Object.entries(plan.config.namespaces)) {
      tenants[nsName] = new Tenant(
        nsName,
        {
          ...tenantConfig(nsName, ns),
          environment,
          protect: guarded,
          manifests: plan.tenants[nsName],
        },
        childOpts,
      );
    }
    const describe = (svcName: string): WorkloadDescription => ({
      name: svcName,
      namespace: config.services[svcName].namespace,
      ...(config.services[svcName].ports ? { ports: config.services[svcName].ports } : {}),
    });
    this.tenants = tenants;

    // Jobs listed as `before` a workload are built first and become its dependencies, so
    // Pulumi changes the workload only after the Job has succeeded (validated acyclic).
    const runsBefore = new Map<string, string[]>();
    for (const [jobName, svc] of Object.entries(config.services))
      for (const target of svc.before ?? [])
        runsBefore.set(target, [...(runsBefore.get(target) ?? []), jobName]);
    const workloads: Record<string, Workload> = {};
    const build = (svcName: string): Workload => {
      const existing = workloads[svcName];
      if (existing) return existing;
      const svc = config.services[svcName];
      const jobs = (runsBefore.get(svcName) ?? []).map(build);
      const { kind, image, before: _before, dependencies, ...fields } = svc;
      // A built image is known only once built: that workload builds its objects itself, from
      // the same arguments (its peers described with their ports), so they match the plan.
      const builtImage =
        typeof image === "string"
          ? undefined
          : new Image(svcName, { build: image.build }, { parent: this }).ref;
      const Cls = WORKLOAD_CLASSES[kind];
      return (workloads[svcName] = new Cls(
        svcName,
        {
          ...fields,
          image: builtImage ?? image,
          dependencies: (dependencies ?? []).map(describe),
          callers: (plan.context.callers.get(svcName) ?? []).map(describe),
          secrets: args.secrets,
          secretChecksumKey: args.secretChecksumKey,
          environment,
          protect: guarded && kind === "stateful",
          ...(builtImage ? {} : { manifests: plan.workloads[svcName] }),
        } as never,
        { ...childOpts, dependsOn: [tenants[svc.namespace], ...clusterObjects, ...jobs] },
      ));
    };
    for (const svcName of Object.keys(config.services)) build(svcName);
    this.workloads = workloads;

    this.images = pulumi.all(
      Object.fromEntries(Object.entries(workloads).map(([n, w]) => [n, w.image])),
    );
    this.endpoints = pulumi
      .all(Object.fromEntries(Object.entries(workloads).map(([n, w]) => [n, w.endpoint])))
      .apply((all) =>
        Object.fromEntries(
          Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined),
        ),
      );
    this.hosts = Object.values(config.services)
      .flatMap((s) => [...(s.ingress ? [s.ingress.host] : []), ...(s.route?.hostnames ?? [])])
      .sort();
    this.registerOutputs({
      images: this.images,
      endpoints: this.endpoints,
      hosts: this.hosts,
      capacity: this.capacityReport.text,
    });
  }
}
