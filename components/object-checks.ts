/**
 * The generated objects checked as the API server will check them (components/k8s-validation.ts
 * for the rules and their wording), before anything is registered: every name by its kind's
 * rule, labels and annotations, the pod spec's containers, ports, volumes and mounts, Service
 * ports, hosts, object sizes, and the shape of the fields that patches may have broken. Each
 * problem reads `<Kind>/<namespace>/<name>: <field path>: <message>`; the caller says which
 * part of the config produced the object.
 */
import type { Manifest } from "./context";
import {
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isGatewayHostname,
  isIngressHost,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
} from "./k8s-validation";
import { objectId } from "./labels";
import { podTemplateOf, podTemplatePath } from "./pod-template";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
/** Values only known at deploy time (Pulumi Outputs) are not checked. */
const isPlain = (v: unknown): v is string => typeof v === "string";

/** etcd's default request limit: an object over it cannot be stored. */
export const MAX_OBJECT_BYTES = 1_572_864;
/** ConfigMap and Secret data: "must have at most 1048576 bytes". */
export const MAX_DATA_BYTES = 1_048_576;
/** Annotations of one object: "must have at most 262144 bytes". */
export const MAX_ANNOTATION_BYTES = 262_144;

/** The name rule of each kind, where it is not a DNS-1123 subdomain. */
function nameProblems(m: Manifest): string[] {
  const name = m.metadata.name;
  switch (m.kind) {
    case "Service":
      return isDNS1035Label(name);
    case "Namespace":
      return isDNS1123Label(name);
    case "StatefulSet": {
      // Its pods carry `controller-revision-hash: <name>-<10-character hash>`, a label value.
      const errs = isDNS1123Label(name);
      if (errs.length === 0 && name.length > 52)
        errs.push(
          "must be no more than 52 characters (its pods' controller-revision-hash label adds 11)",
        );
      return errs;
    }
    case "CronJob": {
      // The API server's own limit: the Jobs it creates add an 11-character suffix.
      const errs = isDNS1123Subdomain(name);
      if (name.length > 52) errs.push("must be no more than 52 characters");
      return errs;
    }
    case "Job":
      // Its pods carry `batch.kubernetes.io/job-name: <name>`, a label value.
      return isDNS1123Label(name);
    default:
      return isDNS1123Subdomain(name);
  }
}

function labelProblems(at: string, labels: unknown): string[] {
  if (!isObj(labels)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(labels)) {
    for (const e of isQualifiedName(k)) out.push(`${at}: Invalid value: "${k}": ${e}`);
    if (isPlain(v))
      for (const e of isValidLabelValue(v)) out.push(`${at}: Invalid value: "${v}": ${e}`);
  }
  return out;
}

function annotationProblems(at: string, annotations: unknown): string[] {
  if (!isObj(annotations)) return [];
  const out: string[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const e of isQualifiedName(k.toLowerCase()))
      out.push(`${at}: Invalid value: "${k}": ${e}`);
    size += k.length + (isPlain(v) ? Buffer.byteLength(v) : 0);
  }
  if (size > MAX_ANNOTATION_BYTES)
    out.push(`${at}: Too long: may not be more than ${MAX_ANNOTATION_BYTES} bytes`);
  return out;
}

function metadataProblems(at: string, meta: unknown): string[] {
  if (!isObj(meta)) return [];
  return [
    ...labelProblems(`${at}.labels`, meta.labels),
    ...annotationProblems(`${at}.annotations`, meta.annotations),
  ];
}

/** The pod template of a workload object, and where it sits. */
function podTemplateAt(m: Manifest): { at: string; template: unknown } | undefined {
  const path = podTemplatePath(m.kind);
  if (path === undefined || path.length === 0) return undefined;
  return { at: path.join("."), template: podTemplateOf(m) };
}

function podSpecProblems(at: string, podSpec: Obj, claims: readonly string[]): string[] {
  const out: string[] = [];
  const volumes = Array.isArray(podSpec.volumes) ? podSpec.volumes : [];
  // A StatefulSet's volumeClaimTemplates are volumes of its pods too.
  const volumeNames = new Set<string>(claims);
  volumes.forEach((v, i) => {
    const name = isObj(v) && isPlain(v.name) ? v.name : "";
    for (const e of isDNS1123Label(name))
      out.push(`${at}.volumes[${i}].name: Invalid value: "${name}": ${e}`);
    if (volumeNames.has(name)) out.push(`${at}.volumes[${i}].name: Duplicate value: "${name}"`);
    volumeNames.add(name);
  });
  const containerNames = new Set<string>();
  for (const field of ["initContainers", "containers"]) {
    const list = podSpec[field];
    if (list === undefined && field === "initContainers") continue;
    if (!Array.isArray(list) || (field === "containers" && list.length === 0)) {
      out.push(`${at}.${field}: Invalid value: must be a list of containers`);
      continue;
    }
    list.forEach((c, i) => {
      const cat = `${at}.${field}[${i}]`;
      if (!isObj(c) || !isPlain(c.name) || c.image === undefined) {
        out.push(`${cat}: Invalid value: must be a container with a name and an image`);
        return;
      }
      for (const e of isDNS1123Label(c.name))
        out.push(`${cat}.name: Invalid value: "${c.name}": ${e}`);
      if (containerNames.has(c.name)) out.push(`${cat}.name: Duplicate value: "${c.name}"`);
      containerNames.add(c.name);
      const portNames = new Set<string>();
      const portNumbers = new Set<string>();
      (Array.isArray(c.ports) ? c.ports : []).forEach((p, j) => {
        if (!isObj(p)) return;
        // Server-side apply keys a container's ports by number and protocol.
        const key = `${String(p.containerPort)}/${isPlain(p.protocol) ? p.protocol : "TCP"}`;
        if (portNumbers.has(key))
          out.push(
            `${cat}.ports[${j}]: Duplicate value: containerPort ${String(p.containerPort)} (${key.split("/")[1]}) is declared twice`,
          );
        portNumbers.add(key);
        if (!isPlain(p.name)) return;
        for (const e of isValidPortName(p.name))
          out.push(`${cat}.ports[${j}].name: Invalid value: "${p.name}": ${e}`);
        if (portNames.has(p.name))
          out.push(`${cat}.ports[${j}].name: Duplicate value: "${p.name}"`);
        portNames.add(p.name);
      });
      const mountPaths = new Set<string>();
      (Array.isArray(c.volumeMounts) ? c.volumeMounts : []).forEach((vm, j) => {
        if (!isObj(vm)) return;
        if (isPlain(vm.name) && !volumeNames.has(vm.name))
          out.push(`${cat}.volumeMounts[${j}].name: Not found: "${vm.name}"`);
        if (isPlain(vm.mountPath) && mountPaths.has(vm.mountPath))
          out.push(
            `${cat}.volumeMounts[${j}].mountPath: Invalid value: "${vm.mountPath}": must be unique`,
          );
        if (isPlain(vm.mountPath)) mountPaths.add(vm.mountPath);
      });
    });
  }
  return out;
}

function serviceProblems(spec: Obj): string[] {
  const out: string[] = [];
  const ports = Array.isArray(spec.ports) ? spec.ports : [];
  const names = new Set<string>();
  const numbers = new Set<string>();
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    const at = `spec.ports[${i}]`;
    if (isPlain(p.name)) {
      for (const e of isDNS1123Label(p.name))
        out.push(`${at}.name: Invalid value: "${p.name}": ${e}`);
      if (names.has(p.name)) out.push(`${at}.name: Duplicate value: "${p.name}"`);
      names.add(p.name);
    } else if (ports.length > 1) out.push(`${at}.name: Required value`);
    const key = `${String(p.port)}/${isPlain(p.protocol) ? p.protocol : "TCP"}`;
    if (numbers.has(key))
      out.push(
        `${at}: Duplicate value: port ${String(p.port)} (${key.split("/")[1]}) is exposed twice`,
      );
    numbers.add(key);
  });
  return out;
}

function hostProblems(m: Manifest): string[] {
  const spec = (m.spec ?? {}) as Obj;
  const out: string[] = [];
  if (m.kind === "Ingress") {
    (Array.isArray(spec.rules) ? spec.rules : []).forEach((r, i) => {
      if (isObj(r) && isPlain(r.host))
        for (const e of isIngressHost(r.host))
          out.push(`spec.rules[${i}].host: Invalid value: "${r.host}": ${e}`);
    });
    (Array.isArray(spec.tls) ? spec.tls : []).forEach((t, i) => {
      const hosts = isObj(t) && Array.isArray(t.hosts) ? t.hosts : [];
      hosts.forEach((h, j) => {
        if (isPlain(h))
          for (const e of isIngressHost(h))
            out.push(`spec.tls[${i}].hosts[${j}]: Invalid value: "${h}": ${e}`);
      });
    });
  }
  if (m.kind === "HTTPRoute")
    (Array.isArray(spec.hostnames) ? spec.hostnames : []).forEach((h, i) => {
      if (isPlain(h))
        for (const e of isGatewayHostname(h))
          out.push(`spec.hostnames[${i}]: Invalid value: "${h}": ${e}`);
    });
  return out;
}

function sizeProblems(m: Manifest): string[] {
  const out: string[] = [];
  if (m.kind === "ConfigMap" || m.kind === "Secret") {
    let bytes = 0;
    for (const field of ["data", "stringData", "binaryData"]) {
      const data = (m as Obj)[field];
      if (isObj(data))
        for (const [k, v] of Object.entries(data))
          bytes += k.length + (isPlain(v) ? Buffer.byteLength(v) : 0);
    }
    if (bytes > MAX_DATA_BYTES)
      out.push(`data: Too long: must have at most ${MAX_DATA_BYTES} bytes (has ${bytes})`);
  }
  // Plain data only: an Output (a class instance) is left out of the count.
  const json = JSON.stringify(m, (_k, v: unknown) =>
    isObj(v) && ![Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null)
      ? undefined
      : v,
  );
  if (json !== undefined && Buffer.byteLength(json) > MAX_OBJECT_BYTES)
    out.push(
      `: Too long: the object is ${Buffer.byteLength(json)} bytes, over etcd's ${MAX_OBJECT_BYTES}-byte limit`,
    );
  return out;
}

const INT32_MAX = 2_147_483_647;

/** The shape of the fields patches could break and that the builders and controllers rely on. */
function shapeProblems(m: Manifest): string[] {
  const spec = m.spec as unknown;
  if (m.kind === "HorizontalPodAutoscaler" && isObj(spec))
    return ["minReplicas", "maxReplicas"].flatMap((f) =>
      spec[f] !== undefined &&
      !(Number.isInteger(spec[f]) && (spec[f] as number) >= 1 && (spec[f] as number) <= INT32_MAX)
        ? [
            `spec.${f}: Invalid value: ${JSON.stringify(spec[f])}: must be between 1 and ${INT32_MAX}, inclusive`,
          ]
        : [],
    );
  if (!["Deployment", "StatefulSet", "Job", "CronJob"].includes(m.kind)) return [];
  if (!isObj(spec)) return ["spec: Invalid value: must be an object"];
  const out: string[] = [];
  for (const field of ["replicas", "parallelism", "completions", "backoffLimit"])
    if (
      spec[field] !== undefined &&
      !(
        Number.isInteger(spec[field]) &&
        (spec[field] as number) >= 0 &&
        (spec[field] as number) <= INT32_MAX
      )
    )
      out.push(
        `spec.${field}: Invalid value: ${JSON.stringify(spec[field])}: must be an integer between 0 and ${INT32_MAX}`,
      );
  const pod = podTemplateAt(m);
  if (pod && !(isObj(pod.template) && isObj(pod.template.spec)))
    out.push(`${pod.at}: Invalid value: must be a pod template (an object with a spec)`);
  return out;
}

/** Every problem of one generated object. */
export function checkObject(m: Manifest): string[] {
  const out: string[] = [];
  for (const e of nameProblems(m))
    out.push(`metadata.name: Invalid value: "${m.metadata.name}": ${e}`);
  out.push(...metadataProblems("metadata", m.metadata));
  out.push(...shapeProblems(m));
  const pod = podTemplateAt(m);
  if (pod && isObj(pod.template) && isObj(pod.template.spec)) {
    out.push(...metadataProblems(`${pod.at}.metadata`, pod.template.metadata));
    const templates =
      isObj(m.spec) && Array.isArray(m.spec.volumeClaimTemplates)
        ? m.spec.volumeClaimTemplates
        : [];
    const claims = templates.flatMap((t) =>
      isObj(t) && isObj(t.metadata) && isPlain(t.metadata.name) ? [t.metadata.name] : [],
    );
    out.push(...podSpecProblems(`${pod.at}.spec`, pod.template.spec, claims));
  }
  if (m.kind === "Service" && isObj(m.spec)) out.push(...serviceProblems(m.spec));
  out.push(...hostProblems(m));
  out.push(...sizeProblems(m));
  return out.map((p) => `${objectId(m)}${p.startsWith(":") ? "" : ": "}${p}`);
}

/** Every problem of a set of generated objects, one line each. */
export const checkObjects = (manifests: readonly Manifest[]): string[] =>
  manifests.flatMap(checkObject);

/** The key two objects collide on: what the API server identifies an object by. */
const identityOf = (m: Manifest): string => {
  const group = m.apiVersion.includes("/") ? m.apiVersion.split("/")[0] : "";
  return `${group}/${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`;
};

/**
 * Objects generated twice (the same group, kind, namespace and name), each reported once with
 * both sources: two resources would fight over one object, and the last write would win.
 */
export function identityCollisions(
  sources: readonly { readonly source: string; readonly manifests: readonly Manifest[] }[],
): string[] {
  const seen = new Map<string, string>();
  const out: string[] = [];
  for (const { source, manifests } of sources)
    for (const m of manifests) {
      const id = identityOf(m);
      const first = seen.get(id);
      if (first === undefined) seen.set(id, source);
      else
        out.push(
          first === source
            ? `${source}: ${objectId(m)} is generated twice; rename what produces one of them so each object has one owner`
            : `${source}: ${objectId(m)} is also generated by ${first}; rename one of them so each object has one owner`,
        );
    }
  return out;
}
