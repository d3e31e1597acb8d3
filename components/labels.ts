/**
 * The labels and annotations the library writes and policy/ reads: the contract between them,
 * with the way both name an object in their findings. No imports, so the policy pack loads
 * nothing else of the library.
 */

/** How checks and policies name an object: `Kind/namespace/name`, or `Kind/name` cluster-wide. */
export const objectId = (o: {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
}): string =>
  `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** The label every object of a workload carries and every selector matches on. */
export const NAME_LABEL = "app.kubernetes.io/name";

/** Namespace label carrying the stack's tier, so policies can tell prod objects apart. */
export const TIER_LABEL = "platform/tier";
/** Service annotation recording the config's explicit opt-in to a LoadBalancer or NodePort. */
export const EXPOSE_ANNOTATION = "platform/expose";

/** Pod Security admission labels of a tenant namespace enforcing `level`. */
export const POD_SECURITY_LABELS = (level: "restricted" | "baseline"): Record<string, string> => ({
  "pod-security.kubernetes.io/enforce": level,
  "pod-security.kubernetes.io/enforce-version": "latest",
  "pod-security.kubernetes.io/audit": "restricted",
  "pod-security.kubernetes.io/warn": "restricted",
});
