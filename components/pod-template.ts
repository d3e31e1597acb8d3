/**
 * Where a workload object keeps its pod template, in one place for the builders, the object
 * checks and the policies: Deployment, StatefulSet, DaemonSet, ReplicaSet and Job at
 * spec.template, CronJob at spec.jobTemplate.spec.template; a Pod is its own.
 */
type Obj = Record<string, unknown>;

const TEMPLATE = ["spec", "template"] as const;
const JOB_TEMPLATE = ["spec", "jobTemplate", "spec", "template"] as const;

/** The path of the pod template inside an object of `kind`, or undefined for kinds without. */
export function podTemplatePath(kind: string): readonly string[] | undefined {
  switch (kind) {
    case "Pod":
      return [];
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "Job":
      return TEMPLATE;
    case "CronJob":
      return JOB_TEMPLATE;
    default:
      return undefined;
  }
}

/** The pod template inside a workload object, or undefined for kinds (or shapes) without. */
export function podTemplateOf(obj: object): Obj | undefined {
  const kind = (obj as { kind?: unknown }).kind;
  const path = typeof kind === "string" ? podTemplatePath(kind) : undefined;
  if (path === undefined) return undefined;
  let at: unknown = obj;
  for (const key of path) at = typeof at === "object" && at !== null ? (at as Obj)[key] : undefined;
  return typeof at === "object" && at !== null ? (at as Obj) : undefined;
}

/**
 * The object with its pod template mapped by `f`; objects without one are returned unchanged.
 * The input is not modified.
 */
export function withPodTemplate<M extends { readonly kind: string }>(
  m: M,
  f: (template: Obj) => Obj,
): M {
  const path = podTemplatePath(m.kind);
  if (path === undefined || path.length === 0 || podTemplateOf(m) === undefined) return m;
  const rebuild = (node: Obj, i: number): Obj =>
    i === path.length - 1
      ? { ...node, [path[i]]: f(node[path[i]] as Obj) }
      : { ...node, [path[i]]: rebuild(node[path[i]] as Obj, i + 1) };
  return rebuild(m as unknown as Obj, 0) as unknown as M;
}
