/**
 * What every component does with its arguments before it registers anything: check them against
 * the kind's schema and rules, and report every problem at once, each naming the component and
 * the property path.
 */
import type { z } from "zod";
import { issueMessages } from "./issues";

/** T with every property and array, however deep, read-only: what a component accepts. */
export type DeepReadonly<T> = T extends readonly (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** Invalid arguments to a component; nothing was registered. One line per problem. */
export class ArgumentError extends Error {
  constructor(
    /** The component, e.g. `WebService "api"`. */
    readonly component: string,
    readonly problems: readonly string[],
  ) {
    super(problems.map((p) => `${component}: ${p}`).join("\n"));
    this.name = "ArgumentError";
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
