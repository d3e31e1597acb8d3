/**
 * The shared shell of every workload component: check the arguments (before anything is
 * registered), build the objects (pure), apply the user's patches, register them as children.
 * WebService, Worker, StatefulService, CronTask and Task differ only in their kind, type token
 * and the children they expose.
 */
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, type DeepReadonly } from "./args";
import type { BuildContext, Manifest, PeerRef } from "./context";
import { resolveEnvironment } from "./environment";
import { buildWorkload } from "./manifests";
import { dependencyNetworkPolicy } from "./network";
import { applyPatches } from "./patch";
import {
  MIN_CHECKSUM_KEY_LENGTH,
  SECRET_CHECKSUM_ANNOTATION,
  SECRET_ENV_SUFFIX,
  rollsOnSecretChange,
  secretChecksum,
  withPodAnnotation,
} from "./podspec";
import { registerManifest } from "./register";
import { parseWith } from "./issues";
import { DNS_LABEL, workloadSchemas } from "./schema";
import {
  KIND_ONLY,
  type Environment,
  type KindFields,
  type WorkloadConfig,
  type WorkloadKind,
} from "./types";
import type { Tenant } from "./tenant";
import { checkObjects, identityCollisions } from "./object-checks";
import { checkWorkload } from "./validation";

/** The component of each kind, as messages name it. */
export const WORKLOAD_COMPONENTS: Readonly<Record<WorkloadKind, string>> = {
  web: "WebService",
  worker: "Worker",
  stateful: "StatefulService",
  cron: "CronTask",
  job: "Task",
};

/** A workload managed elsewhere, described: its name, namespace and ports. */
export interface WorkloadDescription {
  readonly name: string;
  /** @default the namespace of the workload that names it */
  readonly namespace?: string;
  /** Its named ports; callers are admitted, and reach it, on these. @default any port */
  readonly ports?: Readonly<Record<string, number>>;
}

/**
 * Another workload: its component; or one managed elsewhere, as `"name"`, `"namespace/name"` or
 * a description with its ports.
 */
export type WorkloadRef = Workload | string | WorkloadDescription;

/** What every kind of workload takes besides the fields of its kind. */
export interface WorkloadCommonArgs {
  /** The namespace: a Tenant, or the name of an existing namespace. */
  readonly namespace: Tenant | string;
  /**
   * The main container's image: `repo:tag` or `repo@sha256:<digest>` (checked when it is a
   * plain string), or an Output such as a built image's digest.
   */
  readonly image: pulumi.Input<string>;
  /**
   * Workloads this one calls. Egress to each is allowed here. A component also gets its side
   * opened: a NetworkPolicy `<it>-from-<this>` in its namespace admits this one on its ports.
   * A workload named by string (`"api"`, `"shop/api"`) is reached on any of its ports and must
   * admit this one itself (its `callers`).
   * @default none
   */
  readonly dependencies?: readonly WorkloadRef[];
  /**
   * Workloads that call this one, admitted on this one's ports. Only needed for callers that do
   * not name this one in their own `dependencies` as a component.
   * @default none
   */
  readonly callers?: readonly WorkloadRef[];
  /**
   * Environment variables of the main container. A value may be an Output (say, another
   * resource's address): it is set as it resolves; only plain values are checked here.
   * @default none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Values of the secrets that `secretEnv` names, by name. */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The key of the `checksum/secret-env` pod annotation (an HMAC of the `secretEnv` values that
   * rolls the pods when one changes): a secret of at least 32 random characters, the same for
   * every workload of a stack, e.g. `new pulumi.Config().requireSecret("secretChecksumKey")`.
   * Changing it rolls every workload that has `secretEnv` once.
   * @default none: required with `secretEnv` unless `restartOnSecretChange` is false
   */
  readonly secretChecksumKey?: pulumi.Input<string>;
  /** The cloud, tier and cluster defaults. @default a generic cluster in tier dev */
  readonly environment?: Environment;
  /**
   * Protect the workload's StatefulSet and Services from deletion, and retain them when removed
   * (production data). @default false
   */
  readonly protect?: boolean;
  /**
   * The objects exactly as built beforehand from these same arguments (e.g. by a program that
   * planned and checked its whole environment first), registered as they are.
   * @default built from these arguments
   */
  readonly manifests?: readonly Manifest[];
}

/** The fields of kind K (see `KindFields`), as a component takes them. */
export type KindArgs<K extends WorkloadKind> = DeepReadonly<KindFields<K>>;

/** The arguments of the component of kind K. */
export type WorkloadArgs<K extends WorkloadKind> = Omit<KindArgs<K>, "env"> & WorkloadCommonArgs;

/**
 * Stands in for an image given as an Output in the checks that need a string; the builders take
 * the image separately, so it never reaches an object.
 */
const OUTPUT_IMAGE = "output.invalid/image:resolved-at-deploy";

/** Prefix of the placeholder that stands in for an env value given as an Output. */
const OUTPUT_ENV = "\u0000pulumi-output-env:";

/** The manifests with every placeholder string of `outputs` replaced by its Output. */
function withOutputs(
  manifests: Manifest[],
  outputs: ReadonlyMap<string, pulumi.Input<string>>,
): Manifest[] {
  if (outputs.size === 0) return manifests;
  const replace = (v: unknown): unknown => {
    if (typeof v === "string") return outputs.has(v) ? outputs.get(v) : v;
    if (Array.isArray(v)) return v.map(replace);
    if (v && typeof v === "object" && !pulumi.Output.isInstance(v))
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replace(x)]));
    return v;
  };
  return manifests.map((m) => replace(m) as Manifest);
}

interface ResolvedRef extends PeerRef {
  readonly name: string;
  readonly component?: Workload;
}

/** A workload's arguments checked and resolved: what its objects are built from. */
export interface ResolvedWorkload {
  /** The workload as plain data (the stack config's shape). */
  readonly spec: WorkloadConfig;
  readonly context: BuildContext;
  /**
   * The objects to register: `manifests` as given, else built here with the patches applied and
   * the callee side of each dependency on a component that does not list this one as a caller.
   */
  readonly manifests: readonly Manifest[];
}

function resolveRef(
  ref: WorkloadRef,
  ownNamespace: string,
  at: string,
  problems: string[],
): ResolvedRef | undefined {
  if (typeof ref === "object" && "workloadName" in ref) {
    return {
      name: ref.workloadName,
      namespace: ref.namespaceName,
      ports: ref.ports,
      component: ref,
    };
  }
  if (typeof ref !== "string") {
    const namespace = ref.namespace ?? ownNamespace;
    if (!DNS_LABEL.test(ref.name) || !DNS_LABEL.test(namespace)) {
      problems.push(
        `${at}: { name: ${JSON.stringify(ref.name)}, namespace: ${JSON.stringify(namespace)} } does not name a workload (DNS labels)`,
      );
      return undefined;
    }
    return { name: ref.name, namespace, ...(ref.ports ? { ports: ref.ports } : {}) };
  }
  const parts = ref.split("/");
  const [namespace, name] = parts.length === 2 ? parts : [ownNamespace, parts[0]];
  if (parts.length > 2 || !DNS_LABEL.test(namespace) || !DNS_LABEL.test(name)) {
    problems.push(`${at}: "${ref}" is not a workload ("api", or "shop/api" in another namespace)`);
    return undefined;
  }
  return { name, namespace };
}

/**
 * Checks a component's arguments against its kind's schema and rules and resolves them. Throws
 * one ArgumentError listing every problem, each as `WebService "api": <key path>: <problem>`.
 */
export function resolveWorkload<K extends WorkloadKind>(
  kind: K,
  name: string,
  args: WorkloadArgs<K>,
): ResolvedWorkload {
  const component = `${WORKLOAD_COMPONENTS[kind]} "${name}"`;
  const {
    namespace,
    image,
    dependencies = [],
    callers = [],
    secrets,
    secretChecksumKey,
    environment,
    env: envArg,
    protect: _protect,
    manifests: _manifests,
    ...fields
  } = args as unknown as WorkloadArgs<WorkloadKind>;
  // Env values given as Outputs are checked and built as placeholders, then put in place.
  const outputEnv = new Map<string, pulumi.Input<string>>();
  const plainEnv = envArg
    ? Object.fromEntries(
        Object.entries(envArg).map(([k, v]) => {
          // Anything but an Output or a Promise is checked as it is.
          if (!pulumi.Output.isInstance(v) && !(v instanceof Promise)) return [k, v];
          const placeholder = `${OUTPUT_ENV}${k}`;
          outputEnv.set(placeholder, v);
          return [k, placeholder];
        }),
      )
    : undefined;
  const problems: string[] = [];
  if (!DNS_LABEL.test(name) || name.length > 63)
    problems.push(`name: "${name}" must be a DNS label (lower-case letters, digits and '-')`);

  // Fields of other kinds: named as such rather than as unknown keys.
  const input: Record<string, unknown> = { ...fields };
  for (const [field, kinds] of Object.entries(KIND_ONLY) as [string, readonly WorkloadKind[]][]) {
    if (input[field] === undefined || kinds.includes(kind)) continue;
    problems.push(
      `${field}: not used by ${WORKLOAD_COMPONENTS[kind]} (only ${kinds.map((k) => WORKLOAD_COMPONENTS[k]).join(", ")}); remove it`,
    );
    delete input[field];
  }
  if (input.before !== undefined) {
    problems.push(
      "before: a component orders itself with dependsOn; give the workloads that must wait for this Task `dependsOn: [task]`",
    );
    delete input.before;
  }

  const ownNamespace = typeof namespace === "string" ? namespace : namespace.namespaceName;
  const deps = dependencies.flatMap(
    (ref, i) => resolveRef(ref, ownNamespace, `dependencies[${i}]`, problems) ?? [],
  );
  const callerRefs = callers.flatMap(
    (ref, i) => resolveRef(ref, ownNamespace, `callers[${i}]`, problems) ?? [],
  );
  deps.forEach((dep, i) => {
    if (dep.component && Object.keys(dep.ports ?? {}).length === 0)
      problems.push(
        `dependencies[${i}]: ${dep.name} exposes no ports, so nothing can call it; add ports to it or remove the dependency`,
      );
  });
  const peers = new Map<string, ResolvedRef>();
  for (const peer of [...deps, ...callerRefs]) {
    const seen = peers.get(peer.name);
    if (seen && seen.namespace !== peer.namespace)
      problems.push(
        `dependencies: two workloads named "${peer.name}" (namespaces ${seen.namespace} and ${peer.namespace}); NetworkPolicies select pods by name, so rename one`,
      );
    peers.set(peer.name, peer);
  }

  const parsed = parseWith(workloadSchemas[kind], {
    ...input,
    ...(plainEnv ? { env: plainEnv } : {}),
    namespace: ownNamespace,
    ...(deps.length > 0 ? { dependencies: deps.map((d) => d.name) } : {}),
  });
  problems.push(...parsed.problems);
  const env = resolveEnvironment(environment);
  problems.push(...env.problems);

  let resolved: ResolvedWorkload | undefined;
  if (parsed.data && env.resolved) {
    const spec = {
      ...parsed.data,
      kind,
      image: typeof image === "string" ? image : OUTPUT_IMAGE,
    } as WorkloadConfig;
    problems.push(
      ...checkWorkload("", name, spec, {
        ...env.resolved.cluster,
        cloud: env.resolved.profile.cloud,
        settingsAt: "environment",
      }),
    );
    for (const [envName, key] of Object.entries(spec.secretEnv ?? {}))
      if (secrets?.[key] === undefined)
        problems.push(`secretEnv.${envName}: no value for "${key}" in secrets`);
    if (args.manifests === undefined)
      problems.push(...checksumKeyProblems(spec, secretChecksumKey));
    const context: BuildContext = {
      ...env.resolved,
      services: { ...Object.fromEntries(peers), [name]: spec },
      callers: new Map([[name, callerRefs.map((c) => c.name).sort()]]),
    };
    let manifests = args.manifests;
    if (manifests === undefined && problems.length === 0) {
      const self = { name, namespace: ownNamespace };
      // A plain reference stays plain data in the manifests; only an Output stays an Output.
      const ref = typeof image === "string" ? image : pulumi.output(image);
      try {
        manifests = withOutputs(
          [
            ...plannedManifests(name, spec, context, ref, {
              at: "",
              secrets,
              secretChecksumKey,
            }),
            ...deps
              .filter((d) => d.component && !d.component.callerNames.includes(name))
              .map((d) => dependencyNetworkPolicy(context, self, d)),
          ],
          outputEnv,
        );
      } catch (e) {
        problems.push((e as Error).message); // a patch that matches nothing or renames
      }
    }
    if (manifests && args.manifests === undefined)
      problems.push(
        ...checkObjects(manifests),
        ...identityCollisions([{ source: component, manifests }]),
      );
    if (manifests) resolved = { spec, context, manifests };
  }
  if (problems.length > 0 || !resolved) throw new ArgumentError(component, problems);
  return resolved;
}

/** How plannedManifests builds a workload's objects besides its spec. */
export interface PlanOptions {
  /** Where messages say the workload is. @default `services.<name>` (the stack config) */
  readonly at?: string;
  /**
   * Values of the secrets `secretEnv` names, by name. A value not given is left out of the env
   * Secret, and without every value there is no checksum annotation (planning without secrets,
   * e.g. for capacity only).
   */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The key of the `checksum/secret-env` HMAC. Without it there is no checksum annotation
   * (planning for capacity or policy only).
   */
  readonly secretChecksumKey?: pulumi.Input<string>;
}

/** What is wrong with a component's `secretChecksumKey` (only a plain string can be measured). */
function checksumKeyProblems(
  spec: WorkloadConfig,
  key: pulumi.Input<string> | undefined,
): string[] {
  if (!rollsOnSecretChange(spec)) return [];
  if (key === undefined)
    return [
      'secretChecksumKey: required with secretEnv, to roll the pods when a secret value changes: give one per-stack secret of at least 32 random characters (e.g. new pulumi.Config().requireSecret("secretChecksumKey")), or set restartOnSecretChange: false',
    ];
  if (typeof key === "string" && key.length < MIN_CHECKSUM_KEY_LENGTH)
    return [
      `secretChecksumKey: ${key.length} characters is too short to key the checksum; give at least ${MIN_CHECKSUM_KEY_LENGTH} random characters (e.g. openssl rand -base64 32)`,
    ];
  return [];
}

/**
 * Builds every object of a workload as it is registered: the objects of its kind with its
 * patches applied, then, when it has `secretEnv`, the env Secret first and the pod template's
 * `checksum/secret-env` annotation (given the key, unless `restartOnSecretChange: false`). Throws naming the
 * offending key under `at`.
 */
export function plannedManifests(
  name: string,
  spec: WorkloadConfig,
  context: BuildContext,
  image: string | pulumi.Output<string>,
  options: PlanOptions = {},
): Manifest[] {
  const built = buildWorkload(context, name, spec, { image });
  const patched = applyPatches(built, spec.patches ?? [], options.at ?? `services.${name}`);
  const secretKeys = Object.entries(spec.secretEnv ?? {});
  if (secretKeys.length === 0) return patched;
  const stringData: Record<string, pulumi.Output<string>> = {};
  for (const [envName, key] of secretKeys) {
    const value = options.secrets?.[key];
    if (value !== undefined) stringData[envName] = pulumi.secret(value);
  }
  const secret: Manifest = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: `${name}${SECRET_ENV_SUFFIX}`,
      namespace: spec.namespace,
      labels: { "app.kubernetes.io/name": name },
    },
    type: "Opaque",
    stringData,
  };
  const key = options.secretChecksumKey;
  if (
    !rollsOnSecretChange(spec) ||
    key === undefined ||
    Object.keys(stringData).length < secretKeys.length
  )
    return [secret, ...patched];
  // Keyed, so it reveals nothing about the values, and deliberately not secret, so previews
  // show the pod template change that rolls the pods.
  const checksum = pulumi.unsecret(
    pulumi
      .all([key, stringData])
      .apply(([k, values]) => secretChecksum(k, spec.namespace, name, values)),
  );
  return [
    secret,
    ...patched.map((m) => withPodAnnotation(m, SECRET_CHECKSUM_ANNOTATION, checksum)),
  ];
}

export abstract class Workload<K extends WorkloadKind = WorkloadKind>
  extends pulumi.ComponentResource
{
  /** The workload's name: its objects' `metadata.name` and the pod label callers select. */
  public readonly workloadName: string;
  /** The namespace it runs in. */
  public readonly namespaceName: string;
  /** Its named ports (what callers are admitted on). */
  public readonly ports: Readonly<Record<string, number>>;
  /** The workloads named in its `callers`. */
  public readonly callerNames: readonly string[];
  /** Every Kubernetes object of the workload, by kind and name (`Deployment/api`). */
  public readonly objects: Readonly<Record<string, pulumi.CustomResource>>;
  /** The in-cluster address of the first port, e.g. `api.shop.svc.cluster.local:3000`, if any. */
  public readonly endpoint: pulumi.Output<string | undefined>;
  /** The image reference the pods run. */
  public readonly image: pulumi.Output<string>;

  protected constructor(
    type: string,
    kind: K,
    name: string,
    args: WorkloadArgs<K>,
    opts: pulumi.ComponentResourceOptions,
  ) {
    // Checked first: bad arguments throw before this component or any child is registered.
    const { spec, context, manifests } = resolveWorkload(kind, name, args);
    super(type, name, {}, opts);
    this.workloadName = name;
    this.namespaceName = spec.namespace;
    this.ports = spec.ports ?? {};
    this.callerNames = [...(context.callers.get(name) ?? [])];
    this.image = pulumi.output(args.image);
    // Pulumi does not pass a component's dependsOn on to its children, so do it here: the
    // Namespace, the cluster objects and the Jobs the workload waits for must come first.
    const inherited: pulumi.Input<pulumi.Resource>[] =
      opts.dependsOn === undefined
        ? []
        : Array.isArray(opts.dependsOn)
          ? [...(opts.dependsOn as pulumi.Input<pulumi.Resource>[])]
          : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
    if (typeof args.namespace !== "string") inherited.push(args.namespace);
    const childOpts: pulumi.CustomResourceOptions = {
      parent: this,
      ...(inherited.length > 0 ? { dependsOn: inherited } : {}),
    };
    const objects: Record<string, pulumi.CustomResource> = {};
    // Objects that pods need at start (the env Secret, ServiceAccount, ConfigMaps) come first.
    const prerequisites: pulumi.Resource[] = [];
    for (const m of manifests) {
      const isPodOwner = ["Deployment", "StatefulSet", "CronJob", "Job"].includes(m.kind);
      const protectIt = args.protect === true && (m.kind === "StatefulSet" || m.kind === "Service");
      const resource = registerManifest(name, m, {
        ...childOpts,
        ...(isPodOwner ? { dependsOn: [...inherited, ...prerequisites] } : {}),
        ...(protectIt ? { protect: true, retainOnDelete: true } : {}),
      });
      if (["Secret", "ServiceAccount", "ConfigMap"].includes(m.kind)) prerequisites.push(resource);
      objects[`${m.kind}/${m.metadata.name}`] = resource;
    }
    this.objects = objects;

    const firstPort = Object.values(spec.ports ?? {})[0];
    const hasService = manifests.some((m) => m.kind === "Service" && m.metadata.name === name);
    this.endpoint = pulumi.output(
      hasService && firstPort !== undefined
        ? `${name}.${spec.namespace}.svc.cluster.local:${firstPort}`
        : undefined,
    );
  }

  /** The typed child for a kind, when the workload has one. */
  protected child<T extends pulumi.CustomResource>(kind: string, name: string): T | undefined {
    return this.objects[`${kind}/${name}`] as T | undefined;
  }
}
