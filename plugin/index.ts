/**
 * The k8s-platform components as a Pulumi package, for programs in any Pulumi language
 * (`pulumi package add`). Each class here is a thin component of type `k8s-platform:index:<Class>`
 * that hands its arguments to the library's component of the same name (its only child), which
 * checks them and registers the Kubernetes objects: a program in YAML or Python gets exactly the
 * objects a TypeScript program gets from the library with the same arguments.
 *
 * These classes follow the rules of Pulumi's TypeScript component analyzer, which reads this
 * source to write the package schema: they extend ComponentResource directly, take an `args`
 * interface of schema-expressible types (./types.ts) and expose only Outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import * as lib from "k8s-platform";
import type * as types from "./types";

export type * from "./types";

// The components register their objects from this provider's process, whose SDK would send the
// engine three or four debug messages per registration (README, "Scale");
// PLATFORM_SDK_DEBUG_LOGS=1 keeps them.
lib.sdkRegistrationLogsOffForRun();

/** A probe port or rollout count written as a string: digits are a number. */
function intOrString(value: string | undefined): number | string | undefined {
  return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : value;
}

function probe(p: types.ProbeArgs | undefined): lib.ProbeConfig | undefined {
  if (p === undefined) return undefined;
  return {
    ...p,
    ...(p.http ? { http: { ...p.http, port: intOrString(p.http.port) } } : {}),
    ...(p.tcp ? { tcp: { port: intOrString(p.tcp.port) } } : {}),
  };
}

function container(c: types.ContainerArgs): object {
  return { ...c, ...(c.readinessProbe ? { readinessProbe: probe(c.readinessProbe) } : {}) };
}

/**
 * The library's arguments for a workload of kind K, checked, with its objects built: a bad
 * argument throws the library's ArgumentError before anything is registered. Values that the
 * schema states as strings where the library takes a choice of values are checked there.
 */
function workloadArgs<K extends lib.WorkloadKind>(
  kind: K,
  name: string,
  args: types.WorkloadArgs & { rollout?: types.RolloutArgs },
): lib.WorkloadArgs<K> {
  if (typeof args.namespace !== "string")
    throw new lib.ArgumentError(`${lib.WORKLOAD_COMPONENTS[kind]} "${name}"`, [
      "namespace: must be a plain string (a Tenant's name); order the two with dependsOn",
    ]);
  const { probes, rollout, sidecars, initContainers, ...rest } = args;
  const translated = {
    ...rest,
    ...(probes
      ? {
          probes: Object.fromEntries(
            Object.entries(probes).map(([k, p]) => [k, probe(p as types.ProbeArgs)]),
          ),
        }
      : {}),
    ...(rollout
      ? {
          rollout: {
            ...rollout,
            maxSurge: intOrString(rollout.maxSurge),
            maxUnavailable: intOrString(rollout.maxUnavailable),
          },
        }
      : {}),
    ...(sidecars ? { sidecars: sidecars.map(container) } : {}),
    ...(initContainers ? { initContainers: initContainers.map(container) } : {}),
  } as unknown as lib.WorkloadArgs<K>;
  return { ...translated, manifests: lib.resolveWorkload(kind, name, translated).manifests };
}

/** The options of the library component inside: this one's dependsOn, which Pulumi does not
 * pass on to children by itself. */
function innerOptions(
  parent: pulumi.ComponentResource,
  opts: pulumi.ComponentResourceOptions | undefined,
): pulumi.ComponentResourceOptions {
  return { parent, ...(opts?.dependsOn ? { dependsOn: opts.dependsOn } : {}) };
}

/**
 * A tenant namespace: the Namespace (Pod Security admission enforcing `restricted`), its
 * ResourceQuota, a LimitRange with container defaults, NetworkPolicies that deny all ingress and
 * egress except DNS, and RoleBindings giving its groups access.
 */
export class Tenant extends pulumi.ComponentResource {
  /** The namespace's name (the component's name). */
  public readonly namespaceName: pulumi.Output<string>;

  constructor(name: string, args: types.TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    const inner = args as lib.TenantArgs;
    const manifests = lib.resolveTenant(name, inner); // throws before anything is registered
    super("k8s-platform:index:Tenant", name, {}, opts);
    const tenant = new lib.Tenant(name, { ...inner, manifests }, innerOptions(this, opts));
    this.namespaceName = tenant.name;
    this.registerOutputs({ namespaceName: this.namespaceName });
  }
}

/**
 * A web service: Deployment, Service, ServiceAccount, optional HorizontalPodAutoscaler,
 * PodDisruptionBudget, Ingress or Gateway API HTTPRoute, and NetworkPolicies.
 */
export class WebService extends pulumi.ComponentResource {
  /** The in-cluster address of the first port, e.g. `api.shop.svc.cluster.local:8080`. */
  public readonly endpoint: pulumi.Output<string | undefined>;

  constructor(name: string, args: types.WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const inner = workloadArgs("web", name, args);
    super("k8s-platform:index:WebService", name, {}, opts);
    this.endpoint = new lib.WebService(name, inner, innerOptions(this, opts)).endpoint;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

/** A worker: a Deployment without a Service, optional HorizontalPodAutoscaler and PodDisruptionBudget. */
export class Worker extends pulumi.ComponentResource {
  /** The in-cluster address of the first port, when it has ports. */
  public readonly endpoint: pulumi.Output<string | undefined>;

  constructor(name: string, args: types.WorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const inner = workloadArgs("worker", name, args);
    super("k8s-platform:index:Worker", name, {}, opts);
    this.endpoint = new lib.Worker(name, inner, innerOptions(this, opts)).endpoint;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

/** A stateful service: StatefulSet with a volume per replica, its Services and NetworkPolicies. */
export class StatefulService extends pulumi.ComponentResource {
  /** The in-cluster address of the first port. */
  public readonly endpoint: pulumi.Output<string | undefined>;

  constructor(
    name: string,
    args: types.StatefulServiceArgs,
    opts?: pulumi.ComponentResourceOptions,
  ) {
    const inner = workloadArgs("stateful", name, args);
    super("k8s-platform:index:StatefulService", name, {}, opts);
    this.endpoint = new lib.StatefulService(name, inner, innerOptions(this, opts)).endpoint;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}

/** A CronJob on a schedule. */
export class CronTask extends pulumi.ComponentResource {
  /** The image reference the pods run. */
  public readonly image: pulumi.Output<string>;

  constructor(name: string, args: types.CronTaskArgs, opts?: pulumi.ComponentResourceOptions) {
    const inner = workloadArgs("cron", name, args);
    super("k8s-platform:index:CronTask", name, {}, opts);
    this.image = new lib.CronTask(name, inner, innerOptions(this, opts)).image;
    this.registerOutputs({ image: this.image });
  }
}

/** A Job run once; workloads that must wait for it take it in dependsOn. */
export class Task extends pulumi.ComponentResource {
  /** The image reference the pod runs. */
  public readonly image: pulumi.Output<string>;

  constructor(name: string, args: types.TaskArgs, opts?: pulumi.ComponentResourceOptions) {
    const inner = workloadArgs("job", name, args);
    super("k8s-platform:index:Task", name, {}, opts);
    this.image = new lib.Task(name, inner, innerOptions(this, opts)).image;
    this.registerOutputs({ image: this.image });
  }
}
