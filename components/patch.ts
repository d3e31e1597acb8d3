/**
 * The escape hatch: JSON merge patches (RFC 7386) over generated objects, so users adjust any
 * field the components do not model without forking them.
 */
import type { Manifest } from "./context";

export interface ManifestPatch {
  /** Kind of object to patch, e.g. "Deployment". */
  readonly kind: string;
  /** Narrows the match to one metadata.name. */
  readonly name?: string;
  /** Objects merge, `null` removes a field, anything else replaces. */
  readonly patch: Readonly<Record<string, unknown>>;
}

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const base: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete base[key];
    else base[key] = mergePatch(base[key], value);
  }
  return base;
}

/**
 * Applies each patch to the manifests it matches. Throws when a patch matches nothing (a typo
 * in kind or name would otherwise be silently ignored) or changes an object's identity, naming
 * `<at>.patches[i]` (just `patches[i]` for an empty `at`).
 */
export function applyPatches(
  manifests: readonly Manifest[],
  patches: readonly ManifestPatch[],
  at: string,
): Manifest[] {
  const where = at ? `${at}.` : "";
  let out = [...manifests];
  patches.forEach((p, i) => {
    let matched = false;
    out = out.map((m) => {
      if (m.kind !== p.kind || (p.name !== undefined && m.metadata.name !== p.name)) return m;
      matched = true;
      const next = mergePatch(m, p.patch) as Manifest;
      if (
        next.kind !== m.kind ||
        next.apiVersion !== m.apiVersion ||
        next.metadata?.name !== m.metadata.name ||
        next.metadata?.namespace !== m.metadata.namespace
      ) {
        throw new Error(
          `${where}patches[${i}]: a patch cannot change apiVersion, kind, metadata.name or metadata.namespace`,
        );
      }
      return next;
    });
    if (!matched) {
      const kinds = [...new Set(manifests.map((m) => `${m.kind}/${m.metadata.name}`))].join(", ");
      throw new Error(
        `${where}patches[${i}]: matches no generated object (kind ${p.kind}${p.name ? `, name ${p.name}` : ""}); generated: ${kinds}`,
      );
    }
  });
  return out;
}
