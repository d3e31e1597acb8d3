import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ArgumentError, type DeepReadonly } from "./args";
import type { Manifest, ResolvedEnvironment } from "./context";
import { resolveEnvironment } from "./environment";
import { POD_SECURITY_LABELS, TIER_LABEL } from "./labels";
import { tenantNetworkPolicies } from "./network";
import { Quantity } from "./quantity";
import { registerManifest } from "./register";
import { parseWith } from "./issues";
import { DNS_LABEL, tenantSchema } from "./schema";
import type { Environment, TenantConfig } from "./types";
import { checkObjects, identityCollisions } from "./object-checks";
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
    const manifests = args.manifests ?? resolveTenant(name, args);
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

/**
 * Checks a Tenant's arguments and builds its objects; throws one ArgumentError listing every
 * problem, each as `Tenant "shop": <key path>: <problem>`.
 */
export function resolveTenant(name: string, args: TenantArgs): Manifest[] {
  const { environment, protect: _protect, manifests: _manifests, ...fields } = args;
  const problems: string[] = [];
  if (!DNS_LABEL.test(name) || name.length > 63)
    problems.push(`name: "${name}" must be a DNS label (lower-case letters, digits and '-')`);
  const parsed = parseWith(tenantSchema, fields);
  problems.push(...parsed.problems);
  if (parsed.data) problems.push(...checkTenant("", parsed.data as TenantConfig, name));
  const env = resolveEnvironment(environment);
  problems.push(...env.problems);
  if (problems.length > 0 || !parsed.data || !env.resolved)
    throw new ArgumentError(`Tenant "${name}"`, problems);
  const manifests = buildTenant(env.resolved, name, parsed.data as TenantConfig);
  const objectProblems = [
    ...checkObjects(manifests),
    ...identityCollisions([{ source: `Tenant "${name}"`, manifests }]),
  ];
  if (objectProblems.length > 0) throw new ArgumentError(`Tenant "${name}"`, objectProblems);
  return manifests;
}

/** LimitRange defaults used when a namespace states none. */
export const DEFAULT_LIMITS = {
  defaultRequest: { cpu: "100m", memory: "128Mi" },
  default: { cpu: "500m", memory: "512Mi" },
} as const;

export function buildTenant(ctx: ResolvedEnvironment, name: string, ns: TenantConfig): Manifest[] {
  const labels = {
    "app.kubernetes.io/part-of": ctx.project,
    "app.kubernetes.io/managed-by": "pulumi",
  };
  const out: Manifest[] = [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          ...(ns.labels ?? {}),
          ...labels,
          [TIER_LABEL]: ctx.tier,
          ...POD_SECURITY_LABELS(ns.podSecurity ?? "restricted"),
        },
        ...(ns.annotations ? { annotations: ns.annotations } : {}),
      },
    },
  ];
  if (ns.quota && Object.keys(ns.quota).length > 0) {
    const hard = Object.fromEntries(
      Object.entries(ns.quota)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, Quantity.parse(v).toString()]),
    );
    out.push({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "quota", namespace: name, labels },
      spec: { hard },
    });
  }
  const limits = ns.limits ?? {};
  const defaultRequest: Record<string, string> = {
    ...DEFAULT_LIMITS.defaultRequest,
    ...(limits.defaultRequest ?? {}),
  };
  const defaultLimit: Record<string, string> = {
    ...DEFAULT_LIMITS.default,
    ...(limits.default ?? {}),
  };
  // Platform defaults yield to the namespace's own values: the API server rejects a LimitRange
  // unless defaultRequest <= default <= max.
  const above = (a: string, b: string) => Quantity.parse(a).cmp(Quantity.parse(b)) > 0;
  for (const r of ["cpu", "memory"] as const) {
    const max = limits.max?.[r];
    if (max !== undefined && limits.default?.[r] === undefined && above(defaultLimit[r], max))
      defaultLimit[r] = max;
    if (
      max !== undefined &&
      limits.defaultRequest?.[r] === undefined &&
      above(defaultRequest[r], max)
    )
      defaultRequest[r] = max;
    if (limits.default?.[r] === undefined && above(defaultRequest[r], defaultLimit[r]))
      defaultLimit[r] = defaultRequest[r];
    if (limits.defaultRequest?.[r] === undefined && above(defaultRequest[r], defaultLimit[r]))
      defaultRequest[r] = defaultLimit[r];
  }
  const item: Record<string, unknown> = {
    type: "Container",
    defaultRequest,
    default: defaultLimit,
  };
  if (limits.max) item.max = limits.max;
  out.push({
    apiVersion: "v1",
    kind: "LimitRange",
    metadata: { name: "defaults", namespace: name, labels },
    spec: { limits: [item] },
  });
  out.push(...tenantNetworkPolicies(ctx, name));
  // Access: the team's groups bound to the built-in roles, in this namespace only.
  for (const role of ["admin", "edit", "view"] as const) {
    const groups = ns.access?.[role] ?? [];
    if (groups.length === 0) continue;
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: `access-${role}`, namespace: name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
      subjects: [...new Set(groups)].map((group) => ({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Group",
        name: group,
      })),
    });
  }
  const deployers = [...new Set(ns.access?.deploy ?? [])];
  if (deployers.length > 0) {
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: DEPLOYER, namespace: name, labels },
      rules: DEPLOYER_RULES,
    });
    out.push({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: DEPLOYER, namespace: name, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: DEPLOYER },
      subjects: deployers.map((sa) => {
        const [saNamespace, saName] = sa.split("/");
        return { kind: "ServiceAccount", name: saName, namespace: saNamespace };
      }),
    });
  }
  return out;
}

/** Name of the Role (and its RoleBinding) that `access.deploy` ServiceAccounts get. */
export const DEPLOYER = "platform-deployer";

const ALL = ["get", "list", "watch", "create", "update", "patch", "delete"];
const READ = ["get", "list", "watch"];
/**
 * What `pulumi up` needs in a tenant namespace: every kind the components create there, read
 * access to what the provider watches while it awaits rollouts (ReplicaSets, Pods, Events,
 * Endpoints, claims), and `bind` on the three built-in roles `access` binds. Nothing
 * cluster-scoped and no Roles: the Namespace, this Role and cluster objects stay with an admin.
 */
export const DEPLOYER_RULES: readonly Record<string, unknown>[] = [
  {
    apiGroups: [""],
    resources: [
      "configmaps",
      "secrets",
      "services",
      "serviceaccounts",
      "resourcequotas",
      "limitranges",
    ],
    verbs: ALL,
  },
  {
    apiGroups: [""],
    resources: ["pods", "pods/log", "events", "endpoints", "persistentvolumeclaims"],
    verbs: READ,
  },
  { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ALL },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: ALL },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ALL },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: ALL },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"], verbs: ALL },
  { apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ALL },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["rolebindings"], verbs: ALL },
  { apiGroups: ["rbac.authorization.k8s.io"], resources: ["roles"], verbs: READ },
  {
    apiGroups: ["rbac.authorization.k8s.io"],
    resources: ["clusterroles"],
    resourceNames: ["admin", "edit", "view"],
    verbs: ["bind"],
  },
];
