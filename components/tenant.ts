import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, type DeepReadonly } from "./args";
import type { Manifest } from "./context";
import { resolveEnvironment } from "./environment";
import { buildTenant } from "./manifests";
import { registerManifest } from "./register";
import { parseWith } from "./issues";
import { DNS_LABEL, tenantSchema } from "./schema";
import type { Environment, TenantConfig } from "./types";
import { checkTenant } from "./validation";

/** The arguments of a Tenant: its quota, container defaults, admission level and access. */
export type TenantArgs = DeepReadonly<TenantConfig> & {
  /** The cloud, tier and cluster defaults. @default a generic cluster in tier dev */
  readonly environment?: Environment;
  /** Protect the Namespace from deletion, and retain it if removed from the program. @default false */
  readonly protect?: boolean;
  /**
   * The objects exactly as built beforehand from these same arguments, registered as they are.
   * @default built from these arguments
   */
  readonly manifests?: readonly Manifest[];
};

/**
 * A tenant namespace, named like the component: the Namespace (Pod Security admission enforcing
 * `restricted`), its ResourceQuota, a LimitRange with container defaults, NetworkPolicies that
 * deny all ingress and egress except DNS, and RoleBindings giving its groups access.
 */
export class Tenant extends pulumi.ComponentResource {
  /** The namespace's name (the component's name), known before anything is created. */
  public readonly namespaceName: string;
  public readonly namespace: k8s.core.v1.Namespace;
  public readonly quota: k8s.core.v1.ResourceQuota | undefined;
  public readonly limitRange: k8s.core.v1.LimitRange;
  /** The RoleBindings of `access`, by role. */
  public readonly roleBindings: Readonly<Record<string, k8s.rbac.v1.RoleBinding>>;
  /** The namespace's name, resolved once the Namespace exists. */
  public readonly name: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs = {}, opts: pulumi.ComponentResourceOptions = {}) {
    const manifests = args.manifests ?? buildTenantFromArgs(name, args);
    super("platform:tenancy:Tenant", name, {}, opts);
    this.namespaceName = name;
    const [nsManifest, ...rest] = manifests;
    this.namespace = registerManifest(name, nsManifest, {
      parent: this,
      ...(args.protect ? { protect: true, retainOnDelete: true } : {}),
    }) as k8s.core.v1.Namespace;
    const children = rest.map((m) =>
      registerManifest(name, m, { parent: this, dependsOn: [this.namespace] }),
    );
    const ofKind = (kind: string) => children.filter((_c, i) => rest[i].kind === kind);
    this.quota = ofKind("ResourceQuota")[0] as k8s.core.v1.ResourceQuota | undefined;
    this.limitRange = ofKind("LimitRange")[0] as k8s.core.v1.LimitRange;
    this.roleBindings = Object.fromEntries(
      rest
        .map((m, i) => [m, children[i]] as const)
        .filter(([m]) => m.kind === "RoleBinding")
        .map(([m, c]) => [m.metadata.name.replace(/^access-/, ""), c as k8s.rbac.v1.RoleBinding]),
    );
    this.name = this.namespace.metadata.name;
    this.registerOutputs({ name: this.name });
  }
}

/** Checks a Tenant's arguments and builds its objects; throws one ArgumentError. */
function buildTenantFromArgs(name: string, args: TenantArgs): Manifest[] {
  const { environment, protect: _protect, manifests: _manifests, ...fields } = args;
  const problems: string[] = [];
  if (!DNS_LABEL.test(name) || name.length > 63)
    problems.push(`name: "${name}" must be a DNS label (lower-case letters, digits and '-')`);
  const parsed = parseWith(tenantSchema, fields);
  problems.push(...parsed.problems);
  if (parsed.data) problems.push(...checkTenant("", parsed.data as TenantConfig));
  const env = resolveEnvironment(environment);
  problems.push(...env.problems);
  if (problems.length > 0 || !parsed.data || !env.resolved)
    throw new ArgumentError(`Tenant "${name}"`, problems);
  return buildTenant(env.resolved, name, parsed.data as TenantConfig);
}
