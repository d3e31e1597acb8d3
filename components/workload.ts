/**
 * The shared shell of every workload component: build the objects (pure), apply the user's
 * patches, register them as children. WebService, Worker, StatefulService and CronTask differ
 * only in their type token, the kind they accept and the children they expose.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { WorkloadConfig, WorkloadKind } from "./schema";
import type { BuildContext, Manifest } from "./context";
import { buildWorkload } from "./manifests";
import { applyPatches } from "./patch";
import {
  SECRET_CHECKSUM_ANNOTATION,
  SECRET_ENV_SUFFIX,
  secretChecksum,
  withPodAnnotation,
} from "./podspec";
import { registerManifest } from "./register";

export interface WorkloadArgs {
  /** The workload as configured (a value of the stack config's `services`). */
  readonly spec: WorkloadConfig;
  /** The environment: cloud profile, tier, the other services (for network policies). */
  readonly context: BuildContext;
  /** Values of the secret config keys named in `spec.secretEnv`, by key. */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  /** The image to run instead of `spec.image` (e.g. a built image's digest). @default spec.image */
  readonly image?: pulumi.Input<string>;
  /** Protect the workload's objects from deletion (prod stateful data). @default false */
  readonly protect?: boolean;
  /**
   * The objects as already planned (`planPlatform`), so they are not built twice. Must have been
   * built from this spec, context and image. @default built here
   */
  readonly planned?: readonly Manifest[];
}

/** Builds a workload's manifests with its patches applied; throws naming the offending key. */
export function plannedManifests(
  name: string,
  spec: WorkloadConfig,
  context: BuildContext,
  image: string | pulumi.Output<string>,
): Manifest[] {
  const manifests = buildWorkload(context, name, spec, { image });
  return applyPatches(manifests, spec.patches ?? [], `services.${name}`);
}

export abstract class Workload extends pulumi.ComponentResource {
  /** Every Kubernetes object of the workload, by kind and name (`Deployment/api`). */
  public readonly objects: Readonly<Record<string, pulumi.CustomResource>>;
  /** The in-cluster address of the first port, e.g. `api.shop.svc.cluster.local:3000`, if any. */
  public readonly endpoint: pulumi.Output<string | undefined>;
  /** The image reference the pods run. */
  public readonly image: pulumi.Output<string>;

  protected constructor(
    type: string,
    kind: WorkloadKind,
    name: string,
    args: WorkloadArgs,
    opts: pulumi.ComponentResourceOptions,
  ) {
    super(type, name, {}, opts);
    if (args.spec.kind !== kind) {
      throw new Error(
        `services.${name}.kind: ${type.split(":").pop()} takes kind ${kind}, got ${args.spec.kind}`,
      );
    }
    const spec = args.spec;
    const ref = args.image ?? (typeof spec.image === "string" ? spec.image : undefined);
    if (ref === undefined)
      throw new Error(`services.${name}.image: a build needs the built image passed as args.image`);
    this.image = pulumi.output(ref);
    // A plain reference stays plain data in the manifests; only a built image is an Output.
    const manifests =
      args.planned ??
      plannedManifests(name, spec, args.context, typeof ref === "string" ? ref : this.image);
    // Pulumi does not pass a component's dependsOn on to its children, so do it here: the
    // Namespace, the cluster objects and the `before` Jobs the Platform names must come first.
    const inherited: pulumi.Input<pulumi.Resource>[] =
      opts.dependsOn === undefined
        ? []
        : Array.isArray(opts.dependsOn)
          ? [...(opts.dependsOn as pulumi.Input<pulumi.Resource>[])]
          : [opts.dependsOn as pulumi.Input<pulumi.Resource>];
    const childOpts: pulumi.CustomResourceOptions = {
      parent: this,
      ...(inherited.length > 0 ? { dependsOn: inherited } : {}),
    };
    const objects: Record<string, pulumi.CustomResource> = {};

    const secretKeys = Object.entries(spec.secretEnv ?? {});
    let secret: k8s.core.v1.Secret | undefined;
    let checksum: pulumi.Output<string> | undefined;
    if (secretKeys.length > 0) {
      const stringData: Record<string, pulumi.Output<string>> = {};
      for (const [envName, key] of secretKeys) {
        const value = args.secrets?.[key];
        if (value === undefined) {
          throw new Error(
            `services.${name}.secretEnv.${envName}: no value for secret config key "${key}"`,
          );
        }
        stringData[envName] = pulumi.secret(value);
      }
      secret = new k8s.core.v1.Secret(
        `${name}-secret-env`,
        {
          metadata: {
            name: `${name}${SECRET_ENV_SUFFIX}`,
            namespace: spec.namespace,
            labels: { "app.kubernetes.io/name": name },
          },
          type: "Opaque",
          stringData,
        },
        childOpts,
      );
      objects[`Secret/${name}${SECRET_ENV_SUFFIX}`] = secret;
      if (spec.restartOnSecretChange !== false) {
        // A salted one-way checksum, deliberately not secret, so previews show the pod template
        // change that rolls the pods.
        checksum = pulumi.unsecret(
          pulumi.all(stringData).apply((values) => secretChecksum(spec.namespace, name, values)),
        );
      }
    }

    // Objects that pods need at start (ServiceAccount, ConfigMaps, the env Secret) come first.
    const prerequisites: pulumi.Resource[] = secret ? [secret] : [];
    for (const planned of manifests) {
      const isPodOwner = ["Deployment", "StatefulSet", "CronJob", "Job"].includes(planned.kind);
      const m =
        checksum && isPodOwner
          ? withPodAnnotation(planned, SECRET_CHECKSUM_ANNOTATION, checksum)
          : planned;
      const protectIt = args.protect === true && (m.kind === "StatefulSet" || m.kind === "Service");
      const resource = registerManifest(name, m, {
        ...childOpts,
        ...(isPodOwner ? { dependsOn: [...inherited, ...prerequisites] } : {}),
        ...(protectIt ? { protect: true, retainOnDelete: true } : {}),
      });
      if (["ServiceAccount", "ConfigMap"].includes(m.kind)) prerequisites.push(resource);
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
