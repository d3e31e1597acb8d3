/**
 * What one engine benchmark run varies besides the size (scripts/bench-engine.ts): the backend
 * (`--backend`), the program (`--program`) and the environment (`--with-env`), parsed from their
 * command-line values. Loads no Pulumi module, so a bad value is refused before anything starts.
 */

/** `--program` values: the real program, the floor, or batches of N workloads. */
export type BenchProgram = "components" | "floor" | `batched:${number}`;

/**
 * `file`, `postgres`, or `file?<query>`: the file backend with a query on its URL, e.g.
 * `file?metadata=skip` (gocloud's fileblob without its MD5 sidecar files); `+zstd` or `+gzip`
 * after any of them: the DIY backend compresses every state blob it writes.
 */
export type Backend = `${"file" | "postgres" | `file?${string}`}${"" | "+zstd" | "+gzip"}`;

const BACKEND =
  /^(file|postgres|file\?[a-z_]+=[a-z0-9_]+(?:&[a-z_]+=[a-z0-9_]+)*)(?:\+(zstd|gzip))?$/;

/** The store and the compression of a `--backend` value; undefined when it is none. */
export function parseBackend(
  value: string,
): { store: string; compression: "zstd" | "gzip" | undefined } | undefined {
  const m = BACKEND.exec(value);
  return m ? { store: m[1], compression: m[2] as "zstd" | "gzip" | undefined } : undefined;
}

/** Parses one `--program` value; undefined when it is none of them. */
export function parseBenchProgram(value: string): BenchProgram | undefined {
  if (value === "components" || value === "floor") return value;
  const m = /^batched:([1-9][0-9]{0,4})$/.exec(value);
  return m ? `batched:${Number(m[1])}` : undefined;
}

/**
 * One `--with-env` value, `NAME=VALUE`: the variable set for the whole run of every pulumi
 * command (the engine, the language host, the program, the provider), e.g.
 * `PLATFORM_SDK_DEBUG_LOGS=1` to measure a switch against the defaults. Undefined when it is not
 * of that form.
 */
export function parseEnvVariant(value: string): { name: string; value: string } | undefined {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(value);
  return m ? { name: m[1], value: m[2] } : undefined;
}

/**
 * The environment of one `--with-env` variant (`withEnv`, or undefined for the defaults): its
 * variable set, and every other variable named in `all` unset, so the defaults are the defaults
 * even when the caller's shell sets one of them.
 */
export function variantEnv(
  withEnv: string | undefined,
  all: readonly string[],
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const each of all) {
    const v = parseEnvVariant(each);
    if (v) env[v.name] = undefined;
  }
  const v = withEnv === undefined ? undefined : parseEnvVariant(withEnv);
  if (v) env[v.name] = v.value;
  return env;
}

/**
 * The index.ts that runs `program` instead of the real program in a copy of the project:
 * scripts/lib/bench-program.ts, which plans as the program does and registers the objects its
 * own way.
 */
export function benchIndexSource(program: Exclude<BenchProgram, "components">): string {
  return `import { runBenchProgram } from "./scripts/lib/bench-program";\nrunBenchProgram(${JSON.stringify(program)}, __dirname);\n`;
}
