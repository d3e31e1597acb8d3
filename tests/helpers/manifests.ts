/**
 * Helpers for tests that inspect what the program registered under mocks.
 */
import type { CapturedResource } from "../../scripts/lib/mock-run";

/** Key Pulumi uses to mark a serialised secret value. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecretWrapper(v: unknown): v is { value: unknown } {
  return typeof v === "object" && v !== null && SECRET_SIG in v;
}

/** Replaces secret wrappers by their values (for schema validation). */
export function unwrapSecrets(v: unknown): unknown {
  if (isSecretWrapper(v)) return unwrapSecrets(v.value);
  if (Array.isArray(v)) return v.map(unwrapSecrets);
  if (v && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapSecrets(x)]));
  return v;
}

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
};

/** The Kubernetes objects among the captured resources (providers and components left out). */
export function kubernetesObjects(resources: readonly CapturedResource[]): K8sObject[] {
  return resources
    .filter(
      (r) =>
        r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"),
    )
    .map((r) => unwrapSecrets(r.inputs) as K8sObject);
}

export function countByKind(objects: readonly K8sObject[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of objects) counts[o.kind] = (counts[o.kind] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

/** Validates an object against the Kubernetes OpenAPI schema (kubernetes-models); throws when invalid. */
export async function validateAgainstSchema(obj: K8sObject): Promise<void> {
  const [group, version] = obj.apiVersion.includes("/")
    ? obj.apiVersion.split("/")
    : ["v1", undefined];
  const path = version === undefined ? `v1/${obj.kind}` : `${group}/${version}/${obj.kind}`;
  const module = group.startsWith("gateway.networking.k8s.io")
    ? await import(/* @vite-ignore */ `@kubernetes-models/gateway-api/${path}`)
    : await import(/* @vite-ignore */ `kubernetes-models/${path}`);
  const Model = (module as Record<string, new (o: unknown) => { validate(): void }>)[obj.kind];
  if (!Model) throw new Error(`no schema model for ${obj.apiVersion} ${obj.kind}`);
  new Model(obj).validate();
}
