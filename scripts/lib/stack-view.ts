/**
 * A project's stacks read as the program reads them: Pulumi.yaml and every Pulumi.<stack>.yaml as
 * text, and one stack's effective view (its validated config with the application files, the
 * image each service runs and what the stack file pins), through `loadStackFiles` (the texts are
 * materialised in a private temporary directory for it). Only `readProjectFiles` reads the
 * project. Promotion, rollback and review stacks read stacks through it.
 */
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  mergeOverrides,
  neededSecretKeys,
  parsePlatformConfig,
  readApplication,
  RELEASE_KEY,
  STRUCTURED_VALUE_KEYS,
  type RawConfig,
  type SourceTree,
} from "../../platform/config";
import { directoryTree } from "../../platform/source-tree";
import { commitTree } from "./git-tree";
import { listStacks, loadStackFiles, SECRET_PLACEHOLDER, StackFileError } from "./stack-files";

/** An image as config states it: a reference, or a build (`{ build: {...} }`). */
export type ImageValue = string | { readonly [key: string]: unknown };

/** The project's config files as text. */
export interface ProjectFiles {
  /** Directory the files were read from (for messages). */
  readonly dir: string;
  /** Text of Pulumi.yaml. */
  readonly projectText: string;
  /** Stack name to the text of its Pulumi.<stack>.yaml. */
  readonly stacks: Readonly<Record<string, string>>;
  /** The checkout's files: where an unpinned stack's application files are read. */
  readonly tree?: SourceTree;
  /**
   * The project as of a commit (a release, a past commit), undefined when unknown: a pinned
   * stage runs its release's application (Pulumi.yaml and application files), so its services
   * are read from there. Without it, the checkout's are used.
   */
  readonly treeAt?: (commit: string) => SourceTree | undefined;
}

/** One stack's config, read as the program reads it. */
export interface StackView {
  readonly stack: string;
  /** `Pulumi.<stack>.yaml` */
  readonly file: string;
  /** The Pulumi project name: the config namespace (`platform`). */
  readonly project: string;
  /** Config with short keys (`services`, `overrides`, ...), object keys parsed. */
  readonly raw: RawConfig;
  /** Short keys whose values are secrets (`secure:` in the stack file). */
  readonly secretKeys: ReadonlySet<string>;
  /** Where its application files are read from (the checkout, or a commit), if anywhere. */
  readonly files?: SourceTree;
  /** Each service's definition after the stack's overrides (raw, unchecked). */
  readonly definitions: Readonly<Record<string, unknown>>;
  /** Services after the stack's overrides, in definition order. */
  readonly services: readonly string[];
  /** Each service's effective image: the override if present, else the base. */
  readonly images: Readonly<Record<string, ImageValue | undefined>>;
  /** Images the stack file itself sets (`platform:overrides.services.<svc>.image`). */
  readonly pins: Readonly<Record<string, ImageValue>>;
  /** The release the stack file pins (`platform:release`), if any. */
  readonly release: string | undefined;
}

/** Reads Pulumi.yaml and every Pulumi.<stack>.yaml in `dir`. */
export function readProjectFiles(dir: string): ProjectFiles {
  const projectFile = join(dir, "Pulumi.yaml");
  if (!existsSync(projectFile))
    throw new StackFileError(`${projectFile}: no Pulumi.yaml here; run from the project directory`);
  const stacks: Record<string, string> = {};
  for (const stack of listStacks(dir)) {
    const file = join(dir, stackFileName(stack));
    if (existsSync(file)) stacks[stack] = readFileSync(file, "utf8");
  }
  return {
    dir,
    projectText: readFileSync(projectFile, "utf8"),
    stacks,
    tree: directoryTree(dir),
    treeAt: (commit) => commitTree(dir, commit),
  };
}

export function stackFileName(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/**
 * Reads one stack from texts through `loadStackFiles` (the files are materialised in a private
 * temporary directory), so config is read exactly as the render and the tests read it; its
 * application files, if it lists any, from `tree`. Throws StackFileError for a file that is not
 * valid YAML or not a config mapping.
 */
export function readStack(
  projectText: string,
  stack: string,
  stackText: string,
  tree?: SourceTree,
): StackView {
  const cache = readCache(tree);
  const key = JSON.stringify([projectText, stack, stackText]);
  let found = cache.get(key);
  if (!found) {
    if (cache.size >= 256) cache.clear();
    found = readStackUncached(projectText, stack, stackText, tree);
    cache.set(key, found);
  }
  if (found instanceof Error) throw found;
  return found;
}

/** readStack's results by tree and input: plans read the same texts several times. */
const readCaches = new WeakMap<SourceTree, Map<string, StackView | StackFileError>>();
const noTree = new Map<string, StackView | StackFileError>();
function readCache(tree: SourceTree | undefined): Map<string, StackView | StackFileError> {
  if (tree === undefined) return noTree;
  let cache = readCaches.get(tree);
  if (!cache) readCaches.set(tree, (cache = new Map()));
  return cache;
}

function readStackUncached(
  projectText: string,
  stack: string,
  stackText: string,
  tree: SourceTree | undefined,
): StackView | StackFileError {
  const dir = mkdtempSync(join(tmpdir(), "promote-"));
  const files = [join(dir, "Pulumi.yaml"), join(dir, stackFileName(stack))];
  let loaded: ReturnType<typeof loadStackFiles>;
  try {
    writeFileSync(files[0], projectText);
    writeFileSync(files[1], stackText);
    loaded = loadStackFiles(dir, stack);
  } catch (e) {
    if (e instanceof StackFileError) return e;
    throw e;
  } finally {
    for (const f of files) rmSync(f, { force: true });
    rmdirSync(dir);
  }
  const prefix = `${loaded.project}:`;
  const raw: Record<string, unknown> = {};
  for (const [fullKey, value] of Object.entries(loaded.config)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    // As components/stack.ts reads them; loadStackFiles serialises every mapping as JSON.
    raw[key] = STRUCTURED_VALUE_KEYS.has(key) || /^[[{]/.test(value) ? parseJsonOr(value) : value;
  }
  const secretKeys = new Set(
    loaded.secretKeys.filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length)),
  );
  const merged = effectiveServices(raw, readApplication(raw, tree).services);
  const services = Object.keys(merged).filter((s) => isPlainObject(merged[s]));
  const images: Record<string, ImageValue | undefined> = {};
  for (const s of services) images[s] = asImage((merged[s] as Record<string, unknown>).image);
  const pins: Record<string, ImageValue> = {};
  const overrideServices = isPlainObject(raw.overrides) ? raw.overrides.services : undefined;
  if (isPlainObject(overrideServices)) {
    for (const [s, o] of Object.entries(overrideServices)) {
      const pin = isPlainObject(o) ? asImage(o.image) : undefined;
      if (pin !== undefined) pins[s] = pin;
    }
  }
  return {
    stack,
    file: stackFileName(stack),
    project: loaded.project,
    raw,
    secretKeys,
    ...(tree ? { files: tree } : {}),
    definitions: merged,
    services,
    images,
    pins,
    release: typeof raw[RELEASE_KEY] === "string" ? raw[RELEASE_KEY] : undefined,
  };
}

function parseJsonOr(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/** The application's services (inline and from files) with the stack's overrides. */
function effectiveServices(
  raw: RawConfig,
  base: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const patch = isPlainObject(raw.overrides) ? raw.overrides.services : undefined;
  const merged = patch === undefined ? base : mergeOverrides(base, patch);
  return isPlainObject(merged) ? merged : {};
}

function asImage(v: unknown): ImageValue | undefined {
  return typeof v === "string" || isPlainObject(v) ? v : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Problems `parsePlatformConfig` finds in a stack, as `pulumi up` would report them, except
 * that secret keys the services reference but the file does not set count as set.
 */
export function configProblems(view: StackView): string[] {
  const raw: Record<string, unknown> = { ...view.raw };
  const secrets = new Set(view.secretKeys);
  for (const key of neededSecretKeys(view.definitions)) {
    if (raw[key] === undefined) {
      raw[key] = SECRET_PLACEHOLDER;
      secrets.add(key);
    }
  }
  try {
    parsePlatformConfig(raw, {
      lookupSecret: (key) =>
        secrets.has(key) ? "secret" : raw[key] === undefined ? "missing" : "plain",
      ...(view.files ? { files: view.files } : {}),
    });
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return [...e.problems];
    throw e;
  }
}
