/**
 * Reads a stack's configuration the way the Pulumi engine assembles it, without the engine:
 * project-level values from Pulumi.yaml, overridden key by key by Pulumi.<stack>.yaml.
 * Used by the offline render and by the tests that run the program under mocks.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import {
  APPLICATION_FILES_KEY,
  readApplication,
  type Application,
  type SourceTree,
} from "../../platform/config/application";
import { REVIEW_STACK } from "../../platform/config/review";
import { parseStages, type Stage } from "../../platform/config/stages";
import { parseYamlText } from "../../platform/config/yaml-text";

export interface StackFiles {
  readonly project: string;
  /** Full config keys (`platform:services`) to the string values the engine hands a program. */
  readonly config: Record<string, string>;
  /** Full keys whose values are secrets (`secure:` in the stack file). */
  readonly secretKeys: string[];
  readonly stackFile: string;
}

/** Text that stands in for a secret's value wherever it is not decrypted. */
export const SECRET_PLACEHOLDER = "[secret: not decrypted offline]";

export class StackFileError extends Error {
  override name = "StackFileError";
}

function readYaml(file: string): unknown {
  return parseYaml(readFileSync(file, "utf8"), file);
}

/** Parses a YAML file's text; errors name the file (its base name) and line. */
function parseYaml(text: string, file: string): unknown {
  const parsed = parseYamlText(text, basename(file));
  if ("problem" in parsed) throw new StackFileError(parsed.problem);
  return parsed.value;
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new StackFileError(`${where}: expected a mapping of config keys`);
  }
  return value as Record<string, unknown>;
}

/**
 * The promotion pipeline: `platform:stages` of Pulumi.yaml (see platform/config/stages.ts),
 * checked, defaults filled in, and each stage's stack file present. Throws StackFileError
 * naming every problem.
 */
export function readStages(projectDir: string): Stage[] {
  const projectFile = join(projectDir, "Pulumi.yaml");
  if (!existsSync(projectFile))
    throw new StackFileError(`${projectFile}: no Pulumi.yaml here; run from the project directory`);
  return stagesOf(readFileSync(projectFile, "utf8"), (stack) =>
    existsSync(join(projectDir, `Pulumi.${stack}.yaml`)),
  );
}

/** `readStages` from Pulumi.yaml's text, with `hasStackFile` telling which stack files exist. */
export function stagesOf(projectText: string, hasStackFile: (stack: string) => boolean): Stage[] {
  const project = asObject(parseYaml(projectText, "Pulumi.yaml"), "Pulumi.yaml");
  const config = asObject(project.config ?? {}, "Pulumi.yaml config");
  const key = `${String(project.name)}:stages`;
  const entry = config[key] ?? config.stages;
  const value =
    typeof entry === "object" && entry !== null && !Array.isArray(entry) && "value" in entry
      ? (entry as { value: unknown }).value
      : entry;
  if (value === undefined)
    throw new StackFileError(
      `Pulumi.yaml: no ${key}; define the promotion pipeline once there, e.g.\n  ${key}:\n    value:\n      - name: dev\n      - name: staging\n      - name: prod\n        environment: production`,
    );
  const { stages, problems } = parseStages(value, key);
  const missing = (stages ?? [])
    .filter((s) => !hasStackFile(s.stack))
    .map(
      (s) =>
        `${key}: stage ${s.name} has no Pulumi.${s.stack}.yaml; write its stack config (tier, cluster) or remove the stage`,
    );
  if (problems.length + missing.length > 0)
    throw new StackFileError(`Pulumi.yaml: ${[...problems, ...missing].join("\n  ")}`);
  return stages!;
}

/**
 * Stack names that have a Pulumi.<stack>.yaml next to Pulumi.yaml, but for review stacks
 * (pr-<n>): their files are written by npm run review and are not the project's.
 */
export function listStacks(projectDir: string): string[] {
  return readdirSync(projectDir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined && !REVIEW_STACK.test(s))
    .sort();
}

/**
 * A stack's `platform:cluster` mapping as the tools read it (its cloud, context, kubeconfig,
 * render directory); {} when the file has none or it is not a mapping (the program reports that).
 */
export function stackCluster(files: StackFiles): Readonly<Record<string, unknown>> {
  const value = structuredValue(files, "cluster");
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * The value of a structured config key (a mapping or list, serialised as JSON as the engine
 * hands it over) by its short name; undefined when it is unset or not valid JSON (the program
 * reports that).
 */
export function structuredValue(files: StackFiles, key: string): unknown {
  const text = files.config[`${files.project}:${key}`];
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A stack's application as the program reads it (inline `namespaces` and `services` and those of
 * its `applicationFiles`, read from `tree`), before its overrides. Values that are not valid
 * JSON count as absent: the program reports them.
 */
export function stackApplication(files: StackFiles, tree: SourceTree): Application {
  const raw: Record<string, unknown> = {};
  for (const key of ["namespaces", "services", APPLICATION_FILES_KEY]) {
    const value = structuredValue(files, key);
    if (value !== undefined) raw[key] = value;
  }
  return readApplication(raw, tree);
}

/**
 * Loads the config for `stack` (a stack name, or a path to any stack file with `stackFile`).
 */
export function loadStackFiles(projectDir: string, stack: string, stackFile?: string): StackFiles {
  const projectFile = join(projectDir, "Pulumi.yaml");
  if (!existsSync(projectFile))
    throw new StackFileError(`${projectFile}: no Pulumi.yaml here; run from the project directory`);
  const project = asObject(readYaml(projectFile), "Pulumi.yaml");
  const name = project.name;
  if (typeof name !== "string") throw new StackFileError("Pulumi.yaml: `name` is missing");

  const file = stackFile ?? join(projectDir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    const known = listStacks(projectDir);
    throw new StackFileError(
      stackFile
        ? `${stackFile}: file not found`
        : `unknown stack "${stack}": no Pulumi.${stack}.yaml in ${projectDir} (stacks: ${known.join(", ") || "none"})`,
    );
  }
  const qualify = (key: string) => (key.includes(":") ? key : `${name}:${key}`);
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const serialise = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

  for (const [key, entry] of Object.entries(asObject(project.config, "Pulumi.yaml config"))) {
    // Project-level config is either `key: value` or `key: { value: ..., type/default/description }`.
    const isSpec =
      typeof entry === "object" &&
      entry !== null &&
      !Array.isArray(entry) &&
      ("value" in entry || "default" in entry);
    const value = isSpec
      ? ((entry as Record<string, unknown>).value ?? (entry as Record<string, unknown>).default)
      : entry;
    if (value !== undefined) config[qualify(key)] = serialise(value);
  }
  const stackDoc = asObject(readYaml(file), basename(file));
  for (const [key, value] of Object.entries(
    asObject(stackDoc.config, `${basename(file)} config`),
  )) {
    const full = qualify(key);
    if (typeof value === "object" && value !== null && !Array.isArray(value) && "secure" in value) {
      config[full] = SECRET_PLACEHOLDER;
      secretKeys.push(full);
    } else {
      config[full] = serialise(value);
    }
  }
  return { project: name, config, secretKeys, stackFile: file };
}

export const PROJECT_DIR = join(dirname(__filename), "..", "..");
