/**
 * Schema issues as readable lines: each names the key path and says what was expected, with a
 * did-you-mean for unknown keys. Shared by the components (their arguments) and the program
 * (the stack config).
 */
import { z } from "zod";
import { closest } from "./suggest";

export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out || "(root)";
}

/** Walks the schema to the value at `path`, unwrapped (optional, nullable, defaults, pipes). */
function schemaAt(schema: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let current: z.ZodType | undefined = schema;
  for (const part of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject)
      current = (current.shape as Record<string, z.ZodType>)[String(part)];
    else if (current instanceof z.ZodRecord) current = current._zod.def.valueType as z.ZodType;
    else if (current instanceof z.ZodArray) current = current._zod.def.element as z.ZodType;
    else return undefined;
  }
  return unwrap(current);
}

/** The allowed keys of the object at `path` (for "unknown key" hints). */
function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const found = schemaAt(schema, path);
  return found instanceof z.ZodObject ? Object.keys(found.shape) : [];
}

/**
 * The shape of the object expected at `path`, e.g. `{ size, mountPath, storageClass? }`
 * (optional keys marked), or undefined when no object is expected there.
 */
function expectedShape(schema: z.ZodType, path: readonly PropertyKey[]): string | undefined {
  const found = schemaAt(schema, path);
  if (!(found instanceof z.ZodObject)) return undefined;
  const keys = Object.entries(found.shape as Record<string, z.ZodType>).map(([k, v]) =>
    v.safeParse(undefined).success ? `${k}?` : k,
  );
  const shown = keys.length > 8 ? [...keys.slice(0, 8), "..."] : keys;
  return `{ ${shown.join(", ")} }`;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodDefault) {
      s = s._zod.def.innerType as z.ZodType;
    } else if (s instanceof z.ZodPipe) {
      s = s._zod.def.in as z.ZodType;
    } else return s;
  }
}

export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${JSON.stringify(value)}`;
}

/** One schema issue as lines naming the key path (within `root`) and the fix. */
export function issueMessages(issue: z.core.$ZodIssue, root: z.ZodType): string[] {
  const path = formatPath(issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(root, issue.path);
      return issue.keys.map((key) => {
        const hint = closest(key, allowed);
        const keyPath = formatPath([...issue.path, key]);
        return hint
          ? `${keyPath}: unknown key (did you mean "${hint}"?)`
          : `${keyPath}: unknown key (allowed here: ${allowed.join(", ")})`;
      });
    }
    case "invalid_type": {
      const input = (issue as { input?: unknown }).input;
      const shape = issue.expected === "object" ? expectedShape(root, issue.path) : undefined;
      const expected = shape ? `object ${shape}` : issue.expected;
      if (input === undefined) return [`${path}: is required (expected ${expected})`];
      return [`${path}: expected ${expected}, got ${describe(input)}`];
    }
    case "invalid_value":
      if ((issue as { input?: unknown }).input === undefined) {
        return [
          `${path}: is required (expected one of: ${issue.values.map((v) => String(v)).join(", ")})`,
        ];
      }
      return [
        `${path}: ${JSON.stringify((issue as { input?: unknown }).input)} is not allowed (expected one of: ${issue.values.map((v) => String(v)).join(", ")})`,
      ];
    case "invalid_key":
      return issue.issues.map((inner) => `${path}: ${inner.message}`);
    case "invalid_union": {
      const input = (issue as { input?: unknown }).input;
      if (input === undefined) return [`${path}: is required`];
      // Report the alternative the input came closest to: one that accepted its type and failed
      // deeper inside (a quota map with a bad key), rather than "not valid here".
      const branches = (issue.errors ?? []).filter(
        (b) =>
          b.length > 0 &&
          !b.every(
            (i) => i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value"),
          ),
      );
      const depth = (b: readonly z.core.$ZodIssue[]) => Math.max(...b.map((i) => i.path.length));
      const best = [...branches].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0];
      if (best && depth(best) > 0) {
        return best.flatMap((inner) =>
          issueMessages(
            { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue,
            root,
          ),
        );
      }
      return [`${path}: ${describe(input)} is not valid here`];
    }
    case "too_small":
    case "too_big": {
      const input = (issue as { input?: unknown }).input;
      return [
        `${path}: ${describe(input)} ${issue.message.replace(/^Too (small|big): expected \w+ to (have|be) /, "must be ")}`,
      ];
    }
    case "invalid_format": {
      const input = (issue as { input?: unknown }).input;
      return [`${path}: ${JSON.stringify(input)} ${issue.message}`];
    }
    default:
      return [`${path}: ${issue.message}`];
  }
}

/** Parses `input` with `schema`; on failure, the problems with their key paths under `at`. */
export function parseWith<S extends z.ZodType>(
  schema: S,
  input: unknown,
  at = "",
): { readonly data?: z.output<S>; readonly problems: string[] } {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return { data: result.data, problems: [] };
  const lines = result.error.issues.flatMap((issue) => issueMessages(issue, schema));
  return { problems: at ? lines.map((line) => `${at}.${line}`) : lines };
}
