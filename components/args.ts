/**
 * What every component does with its arguments before it registers anything: check them against
 * the kind's schema and rules, and report every problem at once, each naming the component and
 * the property path.
 */

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
