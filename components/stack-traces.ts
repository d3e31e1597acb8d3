/**
 * Stack traces, for programs that register many resources (README, "Scale").
 *
 * The Pulumi SDK records a stack trace for every output promise it creates (`new Error().stack`
 * in its debuggable promises, shown only in its report of promises left unresolved at exit).
 * Formatting them is the largest single cost of evaluating a big program (about half of it, with
 * a TypeScript loader mapping every frame through source maps). `stackTracesOffForRun` switches
 * them off; `PLATFORM_STACK_TRACES=1` keeps them, for debugging.
 *
 * The SDK also records where each resource was declared: its constructor lifts the limit to
 * Infinity, formats the whole stack and sends every frame with the registration; the engine keeps
 * them with the resource in the state (`sourcePosition`, `stackTrace`), metadata it never diffs.
 * For the objects of these components that is the same few lines of this library, 21 frames
 * each: 23% of the checkpoint at 200 services, which a DIY backend rewrites at every step of an
 * `up`. Inside `withoutStackTraces`, stacks are therefore formatted as their first line only, and
 * no position is recorded.
 */
import { ArgumentError } from "./args";

/** The environment variable that keeps stack traces on. */
export const STACK_TRACES_ENV = "PLATFORM_STACK_TRACES";

/**
 * Turns stack traces off for the rest of the run unless `PLATFORM_STACK_TRACES=1`; true when it
 * did. Call it once, at the top of a program, beside `withoutStackTraces` around the
 * declarations: the SDK goes on creating output promises (each with a formatted trace, mapped
 * through source maps under ts-node) after the constructors return, while it registers the
 * resources asynchronously. Profiled at 1,000 services that was 10 of the program's 76 CPU
 * seconds in a preview.
 */
export function stackTracesOffForRun(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[STACK_TRACES_ENV] === "1") return false;
  Error.stackTraceLimit = 0;
  return true;
}

/** A stack formatted as its first line (`TypeError: boom`), as V8 does with no frames. */
const firstLineOnly = (error: Error): string => Error.prototype.toString.call(error);

/** A class of errors that carry their whole story in their message. */
export type ErrorClass = abstract new (...args: never[]) => Error;

/** Options of `withoutStackTraces`. */
export interface WithoutStackTracesOptions {
  /** Where `PLATFORM_STACK_TRACES` is read (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Errors rethrown as they are, like the library's `ArgumentError` (always): the program's own
   * errors about its input, which need no stack.
   */
  readonly passThrough?: readonly ErrorClass[];
}

/**
 * Runs `fn` (which declares resources) with `Error.stackTraceLimit` 0 and stacks formatted as
 * their first line, both restored after: its resources carry no source position or stack trace.
 * An unexpected error thrown meanwhile has no frames: it is rethrown with its message and how to
 * see where it came from; `ArgumentError` and the `passThrough` classes are rethrown as they are.
 */
export function withoutStackTraces<T>(fn: () => T, options: WithoutStackTracesOptions = {}): T {
  const { env = process.env, passThrough = [] } = options;
  if (env[STACK_TRACES_ENV] === "1") return fn();
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  Error.stackTraceLimit = 0;
  // The SDK lifts the limit while it captures a resource's declaration; this formats that
  // capture without its frames, instead of through the loader's source maps.
  Error.prepareStackTrace = firstLineOnly;
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof Error) || [ArgumentError, ...passThrough].some((c) => e instanceof c))
      throw e;
    throw new Error(
      `${e.message} (stack traces are off while resources are declared; run with ${STACK_TRACES_ENV}=1 to see where this came from)`,
      { cause: e },
    );
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}
