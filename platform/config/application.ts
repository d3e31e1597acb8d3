/**
 * Application files: the application (namespaces and services) split into YAML files in the
 * repository, listed by `platform:applicationFiles`, instead of written inline in stack config.
 *
 * Pulumi hands a program its whole config in one environment variable, which fails past 128 KiB
 * (about 270 small services; pulumi/pulumi#8680). Files keep the config small whatever the size
 * of the application, and a team can own its file.
 *
 * ```yaml
 * # Pulumi.yaml
 * config:
 *   platform:applicationFiles:
 *     value: [apps]              # every *.yaml below apps/, in path order; or name files
 * # apps/shop.yaml
 * namespaces:
 *   shop: { quota: { auto: { headroom: "20%" } } }
 * services:
 *   web: { kind: web, namespace: shop, image: ..., ports: { http: 8080 } }
 * ```
 *
 * Paths are relative to the project directory (where Pulumi.yaml is) and stay inside it: a
 * stage that runs a release reads the files as of that release's commit, so they must be in
 * the repository. Each service and namespace is defined once, inline or in one file; a stack
 * still patches them with `platform:overrides`.
 *
 * Pure: files are read through a `SourceTree` (the checkout on disk, or a commit).
 */
import { posix } from "node:path";
import { describe } from "../../components/issues";
import { parseYamlText } from "./yaml-text";

/** The stack config key listing the application files. */
export const APPLICATION_FILES_KEY = "applicationFiles";

/** The keys an application file may hold. */
const FILE_KEYS = ["namespaces", "services"] as const;

/** Read access to the project's files: the checkout on disk, or the tree of a commit. */
export interface SourceTree {
  /** What the paths are read from, for messages: "the project directory", "commit 1a2b3c4". */
  readonly where: string;
  /** The text of a file (path relative to the project directory), undefined if it is none. */
  readFile(path: string): string | undefined;
  /**
   * The files below a directory, recursively, as paths relative to the project directory;
   * undefined when `dir` is not a directory.
   */
  listFiles(dir: string): readonly string[] | undefined;
}

/** The application as the files and the inline config give it, before any stack's overrides. */
export interface Application {
  readonly namespaces: Readonly<Record<string, unknown>>;
  readonly services: Readonly<Record<string, unknown>>;
  /** `services.<name>` / `namespaces.<name>` to the file that defines it (inline ones absent). */
  readonly origins: ReadonlyMap<string, string>;
  /** The files read, in order. */
  readonly files: readonly string[];
  /** What stops the files being read: each line names the key or file and the fix. */
  readonly problems: readonly string[];
}

const isYaml = (path: string) => /\.ya?ml$/.test(path);

/**
 * An `applicationFiles` entry as a path relative to the project directory: `/` separators,
 * normalised, no trailing slash. What the program reads and what CI matches changes against.
 */
export function normalizeApplicationPath(entry: string): string {
  return posix.normalize(entry.replace(/\\/g, "/")).replace(/\/$/, "");
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The paths `applicationFiles` lists, resolved to files in order (a directory gives its YAML
 * files in path order), with the problems of entries that are not usable paths.
 */
export function applicationFileList(
  value: unknown,
  tree: SourceTree,
): { files: string[]; problems: string[] } {
  const key = APPLICATION_FILES_KEY;
  const example = `e.g. [apps] or [apps/shop.yaml, apps/search.yaml]`;
  if (!Array.isArray(value))
    return {
      files: [],
      problems: [
        `${key}: expected a list of files or directories, ${example}; got ${describe(value)}`,
      ],
    };
  const files: string[] = [];
  const problems: string[] = [];
  value.forEach((entry, i) => {
    const at = `${key}[${i}]`;
    if (typeof entry !== "string" || entry.trim() === "") {
      problems.push(
        `${at}: expected a path relative to the project directory, got ${describe(entry)}`,
      );
      return;
    }
    const path = normalizeApplicationPath(entry);
    if (posix.isAbsolute(path) || path === ".." || path.startsWith("../")) {
      problems.push(
        `${at}: ${entry} is outside the project directory; application files must be in the repository (a pinned stage reads them as of its release's commit), e.g. apps/shop.yaml`,
      );
      return;
    }
    const listed = tree.listFiles(path);
    if (listed !== undefined) {
      const yaml = listed.filter(isYaml).sort();
      if (yaml.length === 0)
        problems.push(
          `${at}: ${entry} has no .yaml files (in ${tree.where}); add one or remove the entry`,
        );
      files.push(...yaml);
      return;
    }
    if (!isYaml(path)) {
      problems.push(`${at}: ${entry} is not a .yaml file or a directory (in ${tree.where})`);
      return;
    }
    files.push(path);
  });
  const seen = new Set<string>();
  const unique = files.filter((f) => !seen.has(f) && seen.add(f));
  return { files: unique, problems };
}

/**
 * The application of a raw stack config: its inline `namespaces` and `services` and those of
 * its application files, each defined once. Without `applicationFiles` the inline ones as given.
 */
export function readApplication(
  raw: { readonly [key: string]: unknown },
  tree: SourceTree | undefined,
): Application {
  const inline = {
    namespaces: isPlainObject(raw.namespaces) ? raw.namespaces : {},
    services: isPlainObject(raw.services) ? raw.services : {},
  };
  if (raw[APPLICATION_FILES_KEY] === undefined)
    return { ...inline, origins: new Map(), files: [], problems: [] };
  if (tree === undefined)
    return {
      ...inline,
      origins: new Map(),
      files: [],
      problems: [
        `${APPLICATION_FILES_KEY}: this tool cannot read application files (it was given no project directory)`,
      ],
    };
  const { files, problems } = applicationFileList(raw[APPLICATION_FILES_KEY], tree);
  const out = { namespaces: { ...inline.namespaces }, services: { ...inline.services } };
  const origins = new Map<string, string>();
  for (const file of files) {
    const text = tree.readFile(file);
    if (text === undefined) {
      problems.push(
        `${APPLICATION_FILES_KEY}: ${file}: no such file (in ${tree.where}; paths are relative to the project directory, where Pulumi.yaml is)`,
      );
      continue;
    }
    const parsed = parseYamlText(text, file);
    if ("problem" in parsed) {
      problems.push(parsed.problem);
      continue;
    }
    const doc = parsed.value ?? {};
    if (!isPlainObject(doc)) {
      problems.push(
        `${file}: expected a mapping with namespaces and services, got ${describe(doc)}`,
      );
      continue;
    }
    for (const [key, value] of Object.entries(doc)) {
      if (!(FILE_KEYS as readonly string[]).includes(key)) {
        problems.push(
          `${file}: ${key}: unknown key (an application file holds ${FILE_KEYS.join(" and ")}; set the environment in stack config)`,
        );
        continue;
      }
      if (value === null || value === undefined) continue;
      if (!isPlainObject(value)) {
        problems.push(
          `${file}: ${key}: expected a mapping of names to definitions, got ${describe(value)}`,
        );
        continue;
      }
      const target = out[key as (typeof FILE_KEYS)[number]];
      for (const [name, definition] of Object.entries(value)) {
        const id = `${key}.${name}`;
        if (name in target) {
          const first = origins.get(id) ?? "the inline config";
          problems.push(
            `${id}: defined in both ${first} and ${file} (define it once; a stack changes it with platform:overrides)`,
          );
          continue;
        }
        target[name] = definition;
        origins.set(id, file);
      }
    }
  }
  return { ...out, origins, files, problems };
}

/**
 * A problem line with the file that defines what it is about: `services.web.replicas: ...`
 * becomes `apps/shop.yaml: services.web.replicas: ...` when web is defined in apps/shop.yaml.
 */
export function withOrigin(problem: string, origins: ReadonlyMap<string, string>): string {
  if (origins.size === 0) return problem;
  const id = /^((?:services|namespaces)\.[^.:[\s]+)/.exec(problem)?.[1];
  const file = id === undefined ? undefined : origins.get(id);
  return file === undefined ? problem : `${file}: ${problem}`;
}
