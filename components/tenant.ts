import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TenantConfig } from "./schema";
import type { BuildContext } from "./context";
import { buildTenant } from "./manifests";
import { registerManifest } from "./register";

export interface TenantArgs {
  /** The namespace as configured (a value of the stack config's `namespaces`). */
  readonly spec: TenantConfig;
  readonly context: BuildContext;
  /** Protect the Namespace from deletion (and retain it if removed from the program). @default false */
  readonly protect?: boolean;
}

/**
 * A tenant namespace: the Namespace (Pod Security admission enforcing `restricted`), its
 * ResourceQuota, a LimitRange with container defaults, and NetworkPolicies that deny all ingress
 * and egress except DNS.
 */
export class Tenant extends pulumi.ComponentResource {
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly quota: k8s.core.v1.ResourceQuota | undefined;
  public readonly limitRange: k8s.core.v1.LimitRange;
  /** The namespace's name, resolved once the Namespace exists. */
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("platform:tenancy:Tenant", name, {}, opts);
    const [nsManifest, ...rest] = buildTenant(args.context, name, args.spec);
    this.namespace = registerManifest(name, nsManifest, {
      parent: this,
      ...(args.protect ? { protect: true, retainOnDelete: true } : {}),
    }) as k8s.core.v1.Namespace;
    const children = rest.map((m) =>
      registerManifest(name, m, { parent: this, dependsOn: [this.namespace] }),
    );
    this.quota = children.find((_c, i) => rest[i].kind === "ResourceQuota") as
      k8s.core.v1.ResourceQuota | undefined;
    this.limitRange = children.find(
      (_c, i) => rest[i].kind === "LimitRange",
    ) as k8s.core.v1.LimitRange;
    this.name = this.namespace.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}
