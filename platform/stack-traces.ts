/**
 * The Pulumi SDK records a stack trace for every output promise it creates (`new Error().stack`
 * in its debuggable promises, shown only in its report of promises left unresolved at exit).
 * Formatting them is the largest single cost of evaluating a big program (about half of it, with
 * a TypeScript loader mapping every frame through source maps). They are switched off while the
 * platform registers its resources; `PLATFORM_STACK_TRACES=1` keeps them, for debugging.
 *
 * The SDK also records where each resource was declared: its constructor lifts the limit to
 * Infinity, formats the whole stack and sends every frame with the registration; the engine keeps
 * them with the resource in the state (`sourcePosition`, `stackTrace`), metadata it never diffs.
 * For the platform's objects that is the same few lines of this library, 21 frames each: 23% of
 * the checkpoint at 200 services, which a DIY backend rewrites at every step of an `up`. While
 * the platform registers, stacks are therefore formatted as their first line only, and no
 * position is recorded.
 */
import { CapacityError } from "./capacity/report";
import { ConfigError } from "./config";

/** The environment variable that keeps stack traces on while registering. */
export const STACK_TRACES_ENV = "PLATFORM_STACK_TRACES";

/**
 * Turns stack traces off for the rest of the run unless `PLATFORM_STACK_TRACES=1`; true when it
 * did. For the program itself: the SDK goes on creating output promises (each with a formatted
 * trace, mapped through source maps under ts-node) after the constructors return, while it
 * registers the resources asynchronously, and registering them is all the program does. Profiled
 * at 1,000 services that was 10 of the program's 76 CPU seconds in a preview.
 */
export function stackTracesOffForRun(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env[STACK_TRACES_ENV] === "1") return false;
  Error.stackTraceLimit = 0;
  return true;
}

/** A stack formatted as its first line (`TypeError: boom`), as V8 does with no frames. */
const firstLineOnly = (error: Error): string => Error.prototype.toString.call(error);

/**
 * Runs `fn` (which registers resources) with `Error.stackTraceLimit` 0 and stacks formatted as
 * their first line, both restored after: its resources carry no source position or stack trace.
 * An unexpected error thrown meanwhile has no frames: it is rethrown with its message and how to
 * see where it came from; the platform's own errors (config, capacity) carry no stack anyway.
 */
export function withoutStackTraces<T>(fn: () => T, env: NodeJS.ProcessEnv = process.env): T {
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
    if (e instanceof ConfigError || e instanceof CapacityError || !(e instanceof Error)) throw e;
    throw new Error(
      `${e.message} (stack traces are off while the platform registers its resources; run with ${STACK_TRACES_ENV}=1 to see where this came from)`,
      { cause: e },
    );
  } finally {
    Error.stackTraceLimit = limit;
    Error.prepareStackTrace = prepare;
  }
}
