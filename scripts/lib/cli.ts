/**
 * What every command-line script here shares: strict flag parsing, and usage errors that carry
 * the usage text (exit code 2).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in how the command was called: unknown flag, missing or conflicting arguments. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Parses flags strictly (no unknown flags, no positional arguments); throws a UsageError. */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${usage}`);
  }
}

/**
 * Exits with `code` once stdout and stderr have taken everything written to them: a bare
 * `process.exit` right after a large write into a pipe (`render ... | tee x`) drops what is
 * still buffered.
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
