/**
 * What every command-line script here shares: strict flag parsing with did-you-mean, `--help`
 * answered before anything else, and one table of exit codes.
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closest } from "../../components/suggest";

/**
 * The exit codes of every command here (README, "Command line"):
 * 0 done (or nothing to do); 1 refused or a check failed (a config or policy error, a
 * replacement, a promotion that skips a stage); 2 usage error (unknown flag, missing argument,
 * unknown stack or file); 3 nothing could be checked (the engine or a preview failed).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, unchecked: 3 } as const;

/** A mistake in how the command was called: unknown flag, missing or conflicting arguments. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Whether `--help` or `-h` was asked for: answered before any other argument is looked at. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.includes("--help") || argv.includes("-h");
}

/**
 * Parses flags strictly (no unknown flags, no positional arguments); throws a UsageError with
 * a did-you-mean for a misspelt flag.
 */
export function parseFlags<O extends Options>(argv: readonly string[], options: O, usage: string) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    const message = (e as Error).message.split(". ")[0];
    const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
    const hint = unknown ? closest(unknown[2], [...Object.keys(options), "help"]) : undefined;
    throw new UsageError(`${message}${hint ? ` (did you mean --${hint}?)` : ""}\n${usage}`);
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
