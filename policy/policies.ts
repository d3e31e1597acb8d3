/**
 * Adapts the platform rules (./rules.ts) to CrossGuard stack validations, reporting each finding
 * against the offending resource's URN. Kept apart from index.ts, which starts the policy server
 * on import, so the adapter is unit-tested directly.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { tierOf, type Obj, type PlatformPolicy } from "./rules";

interface PackResource {
  readonly type: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
}

/** `kubernetes:apps/v1:Deployment` → { apiVersion: "apps/v1", kind: "Deployment" } */
export function kindOfType(type: string): { apiVersion: string; kind: string } | undefined {
  const m = /^kubernetes:([^:]+):([A-Za-z]+)$/.exec(type);
  if (!m) return undefined;
  const [, module, kind] = m;
  return { apiVersion: module.startsWith("core/") ? module.slice("core/".length) : module, kind };
}

/** The Kubernetes objects of a stack, as plain manifests, keyed to their URNs. */
export function stackObjects(resources: readonly PackResource[]): {
  objects: Obj[];
  urns: Map<string, string>;
} {
  const objects: Obj[] = [];
  const urns = new Map<string, string>();
  for (const r of resources) {
    const k = kindOfType(r.type);
    if (!k && r.type !== "kubernetes:apiextensions.k8s.io:CustomResource") continue;
    const props = r.props as Partial<Obj>;
    if (!props.metadata?.name) continue;
    const obj = {
      ...props,
      apiVersion: props.apiVersion ?? k!.apiVersion,
      kind: props.kind ?? k!.kind,
    } as Obj;
    objects.push(obj);
    urns.set(`${obj.kind}/${obj.metadata.namespace ?? ""}/${obj.metadata.name}`, r.urn);
  }
  return { objects, urns };
}

export function toStackPolicy(p: PlatformPolicy): StackValidationPolicy {
  return {
    name: p.name,
    description: p.description,
    enforcementLevel: p.enforcement,
    configSchema: {
      properties: { retainStorageClasses: { type: "array", items: { type: "string" } } },
    },
    validateStack: (args, reportViolation) => {
      const { objects, urns } = stackObjects(args.resources);
      const config = args.getConfig<{ retainStorageClasses?: string[] }>();
      const findings = p.check(objects, {
        tier: tierOf(objects),
        retainStorageClasses: config.retainStorageClasses ?? [],
      });
      for (const f of findings) {
        const [kind, ...rest] = f.object.split("/");
        const key = rest.length === 2 ? `${kind}/${rest[0]}/${rest[1]}` : `${kind}//${rest[0]}`;
        reportViolation(`${f.object}: ${f.message}`, urns.get(key));
      }
    },
  };
}
