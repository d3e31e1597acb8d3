/**
 * Pod Security Standards checks over a pod spec, as plain data: the "baseline" controls plus
 * every "restricted" control, and the numeric-UID rule that makes `runAsNonRoot` hold at run
 * time. One implementation serves the tests, the offline render and the policy pack.
 *
 * @see https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */

import { podTemplateOf } from "../components/pod-template";

type Obj = Record<string, unknown>;

const ALLOWED_VOLUME_TYPES = new Set([
  "configMap",
  "csi",
  "downwardAPI",
  "emptyDir",
  "ephemeral",
  "persistentVolumeClaim",
  "projected",
  "secret",
]);

function containersOf(spec: Obj): { kind: string; c: Obj }[] {
  const list = (key: string, kind: string) =>
    ((spec[key] as Obj[] | undefined) ?? []).map((c) => ({ kind, c }));
  return [
    ...list("initContainers", "init container"),
    ...list("containers", "container"),
    ...list("ephemeralContainers", "ephemeral container"),
  ];
}

function sc(o: Obj | undefined): Obj {
  return (o?.securityContext as Obj | undefined) ?? {};
}

/**
 * Returns one message per violated control (empty when the pod meets "restricted" and runs as
 * a numeric non-root user).
 */
export function podSecurityViolations(spec: Obj): string[] {
  const out: string[] = [];
  const pod = sc(spec);
  for (const key of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[key] === true) out.push(`${key} is true`);
  }
  for (const v of (spec.volumes as Obj[] | undefined) ?? []) {
    const type = Object.keys(v).find((k) => k !== "name");
    if (type && !ALLOWED_VOLUME_TYPES.has(type))
      out.push(`volume ${String(v.name)} uses ${type}, not allowed under restricted`);
  }
  const podSeccomp = (pod.seccompProfile as Obj | undefined)?.type;
  if (podSeccomp === "Unconfined") out.push("pod seccompProfile is Unconfined");
  if (pod.runAsUser === 0) out.push("pod runAsUser is 0");

  for (const { kind, c } of containersOf(spec)) {
    const at = `${kind} ${String(c.name)}`;
    const s = sc(c);
    if (s.privileged === true) out.push(`${at}: privileged`);
    if (s.allowPrivilegeEscalation !== false)
      out.push(`${at}: allowPrivilegeEscalation must be false`);
    const runAsNonRoot = s.runAsNonRoot ?? pod.runAsNonRoot;
    if (runAsNonRoot !== true) out.push(`${at}: runAsNonRoot must be true`);
    const uid = s.runAsUser ?? pod.runAsUser;
    if (uid === 0) out.push(`${at}: runAsUser is 0`);
    if (typeof uid !== "number")
      out.push(
        `${at}: no numeric runAsUser (a user name in the image makes runAsNonRoot fail at start)`,
      );
    const seccomp = (s.seccompProfile as Obj | undefined)?.type ?? podSeccomp;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost")
      out.push(`${at}: seccompProfile must be RuntimeDefault or Localhost`);
    const caps = (s.capabilities as { drop?: string[]; add?: string[] } | undefined) ?? {};
    if (!(caps.drop ?? []).includes("ALL")) out.push(`${at}: capabilities.drop must include ALL`);
    const added = (caps.add ?? []).filter((cap) => cap !== "NET_BIND_SERVICE");
    if (added.length) out.push(`${at}: adds capabilities ${added.join(", ")}`);
    for (const p of (c.ports as Obj[] | undefined) ?? []) {
      if (p.hostPort !== undefined && p.hostPort !== 0)
        out.push(`${at}: hostPort ${String(p.hostPort)}`);
    }
  }
  return out;
}

export { podTemplateOf };

/** The pod spec inside a workload object, or undefined for kinds that have none. */
export function podSpecOf(obj: Obj): Obj | undefined {
  return podTemplateOf(obj)?.spec as Obj | undefined;
}
