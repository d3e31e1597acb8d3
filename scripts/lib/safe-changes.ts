/**
 * How to make a change that would replace an object without the replacement: one line per
 * kind of replacement, linking its section of docs/safe-changes.md. Pure.
 */

/** Where docs/safe-changes.md explains how to make a change without the replacement. */
export const SAFE_CHANGES = "docs/safe-changes.md";

/**
 * The section of SAFE_CHANGES for a replacement of a `kind` object for `reason` (as diffRenders
 * states it), with the gist of the procedure; undefined when there is none.
 */
export function safeChange(
  kind: string,
  reason: string,
): { anchor: string; gist: string } | undefined {
  const is = (prefix: string) => reason.startsWith(prefix);
  const immutable = reason.endsWith(" is immutable");
  if (kind === "StatefulSet" && is("spec.volumeClaimTemplates"))
    return {
      anchor: "statefulset-volume",
      gist: "expand each PVC in place, delete the StatefulSet with --cascade=orphan, then up",
    };
  if (kind === "StatefulSet" && (is("spec.serviceName") || is("spec.podManagementPolicy")))
    return {
      anchor: "statefulset-identity",
      gist: "delete the StatefulSet with --cascade=orphan, then up: it adopts the pods",
    };
  if (is("spec.selector"))
    return {
      anchor: "selector",
      gist: "run the new workload beside the old, move traffic, remove the old next",
    };
  if (kind === "Service" && immutable)
    return { anchor: "service-ip", gist: "leave the IP unset, or add a second Service" };
  if (kind === "PersistentVolumeClaim" && immutable)
    return { anchor: "claim", gist: "a new claim under another name and a copy Job" };
  if ((kind === "StorageClass" || kind === "PriorityClass") && immutable)
    return { anchor: "cluster-class", gist: "a new class under a new name, then move to it" };
  if (is("renamed"))
    return { anchor: "rename", gist: "keep the old name, or add beside it and remove it next" };
  if (is("immutable data changed"))
    return { anchor: "immutable-data", gist: "by design: the pods that read it roll" };
  return undefined;
}

/** The guidance line for a replacement, or undefined. */
export function howToAvoid(kind: string, reason: string): string | undefined {
  const s = safeChange(kind, reason);
  return s && `how to avoid: ${s.gist} (${SAFE_CHANGES}#${s.anchor})`;
}
