/**
 * Application files (`platform:applicationFiles`): the application split into YAML files read
 * through a SourceTree, merged with the inline config, each service defined once, every problem
 * naming the entry or file and the fix.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  ConfigError,
  parsePlatformConfig,
  readApplication,
  type RawConfig,
  type SourceTree,
} from "../platform/config";
import { directoryTree } from "../platform/source-tree";

/** A tree of in-memory files: path to text. */
function memoryTree(files: Record<string, string>, where = "the test tree"): SourceTree {
  return {
    where,
    readFile: (path) => files[path],
    listFiles: (dir) => {
      const below = Object.keys(files).filter((f) => f.startsWith(`${dir}/`));
      return below.length > 0 ? below.sort() : undefined;
    },
  };
}

const service = (name: string, namespace = "shop", extra = "") => `  ${name}:
    kind: web
    namespace: ${namespace}
    image: ghcr.io/acme/${name}:1.0.0
    ports: { http: 8080 }
    resources: { requests: { cpu: 100m, memory: 128Mi } }${extra}
`;

const env: RawConfig = { tier: "dev", cluster: { cloud: "kind", name: "dev" } };

function problems(raw: RawConfig, tree?: SourceTree): readonly string[] {
  try {
    parsePlatformConfig(raw, tree ? { files: tree } : {});
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe("reading the application from files", () => {
  const tree = memoryTree({
    "apps/shop.yaml": `namespaces:\n  shop: {}\nservices:\n${service("web")}`,
    "apps/search/search.yaml": `namespaces:\n  search: {}\nservices:\n${service("query", "search")}`,
    "apps/README.md": "not an application file",
    "extra.yml": `services:\n${service("admin")}`,
  });

  test("a directory gives its YAML files below it in path order, merged with the inline config", () => {
    const app = readApplication(
      { applicationFiles: ["apps", "extra.yml"], services: {}, namespaces: { ops: {} } },
      tree,
    );
    expect(app.problems).toEqual([]);
    expect(app.files).toEqual(["apps/search/search.yaml", "apps/shop.yaml", "extra.yml"]);
    expect(Object.keys(app.namespaces)).toEqual(["ops", "search", "shop"]);
    expect(Object.keys(app.services)).toEqual(["query", "web", "admin"]);
    expect(app.origins.get("services.web")).toBe("apps/shop.yaml");
    expect(app.origins.has("namespaces.ops")).toBe(false);
  });

  test("the program's config holds only the paths; the services come from the files", () => {
    const config = parsePlatformConfig(
      { ...env, applicationFiles: ["apps", "extra.yml"] },
      {
        files: tree,
      },
    );
    expect(Object.keys(config.services).sort()).toEqual(["admin", "query", "web"]);
    expect(config.services.query.namespace).toBe("search");
  });

  test("a stack's overrides patch services defined in files", () => {
    const config = parsePlatformConfig(
      {
        ...env,
        applicationFiles: ["apps/shop.yaml"],
        overrides: { services: { web: { replicas: 3 } } },
      },
      { files: tree },
    );
    expect(config.services.web.replicas).toBe(3);
  });

  test("without applicationFiles nothing is read, and the inline application is used as is", () => {
    const reads: string[] = [];
    const spy: SourceTree = { ...tree, readFile: (p) => (reads.push(p), tree.readFile(p)) };
    expect(readApplication({ services: { a: 1 } }, spy).services).toEqual({ a: 1 });
    expect(reads).toEqual([]);
  });

  test("the same path twice is read once", () => {
    const app = readApplication({ applicationFiles: ["apps/shop.yaml", "apps/./shop.yaml"] }, tree);
    expect(app.files).toEqual(["apps/shop.yaml"]);
  });
});

describe("bad application files are refused, naming the entry or file and the fix", () => {
  const shop = `namespaces:\n  shop: {}\nservices:\n${service("web")}`;

  test("a service defined twice names both places", () => {
    const tree = memoryTree({
      "apps/a.yaml": shop,
      "apps/b.yaml": `services:\n${service("web")}`,
    });
    expect(problems({ ...env, applicationFiles: ["apps"] }, tree)).toEqual([
      "services.web: defined in both apps/a.yaml and apps/b.yaml (define it once; a stack changes it with platform:overrides)",
    ]);
    expect(
      problems({ ...env, applicationFiles: ["apps/a.yaml"], namespaces: { shop: {} } }, tree),
    ).toEqual([
      "namespaces.shop: defined in both the inline config and apps/a.yaml (define it once; a stack changes it with platform:overrides)",
    ]);
  });

  test("entries that are not usable paths", () => {
    const tree = memoryTree({ "apps/a.yaml": shop, "docs/x.md": "text", "notes.txt": "x" });
    expect(
      problems(
        {
          ...env,
          applicationFiles: [
            "../other/apps.yaml",
            "/etc/apps.yaml",
            "docs",
            "notes.txt",
            3,
            "apps/missing.yaml",
          ],
        },
        tree,
      ),
    ).toEqual([
      "applicationFiles[0]: ../other/apps.yaml is outside the project directory; application files must be in the repository (a pinned stage reads them as of its release's commit), e.g. apps/shop.yaml",
      "applicationFiles[1]: /etc/apps.yaml is outside the project directory; application files must be in the repository (a pinned stage reads them as of its release's commit), e.g. apps/shop.yaml",
      "applicationFiles[2]: docs has no .yaml files (in the test tree); add one or remove the entry",
      "applicationFiles[3]: notes.txt is not a .yaml file or a directory (in the test tree)",
      "applicationFiles[4]: expected a path relative to the project directory, got number 3",
      "applicationFiles: apps/missing.yaml: no such file (in the test tree; paths are relative to the project directory, where Pulumi.yaml is)",
    ]);
    expect(problems({ ...env, applicationFiles: "apps" }, tree)).toEqual([
      'applicationFiles: expected a list of files or directories, e.g. [apps] or [apps/shop.yaml, apps/search.yaml]; got string "apps"',
    ]);
  });

  test("a file that is not valid YAML, or not an application, names the file and line", () => {
    const tree = memoryTree({
      "apps/a.yaml": "services:\n  web: [unclosed\n",
      "apps/b.yaml": "services:\n  web: {}\n  web: {}\n",
      "apps/c.yaml": "- web\n",
      "apps/d.yaml": "tier: prod\nservices: [web]\n",
    });
    expect(problems({ ...env, applicationFiles: ["apps"] }, tree)).toEqual([
      expect.stringMatching(/^apps\/a\.yaml:3:1: not valid YAML: /),
      expect.stringMatching(/^apps\/b\.yaml:3:3: not valid YAML: Map keys must be unique/),
      "apps/c.yaml: expected a mapping with namespaces and services, got a list",
      "apps/d.yaml: tier: unknown key (an application file holds namespaces and services; set the environment in stack config)",
      "apps/d.yaml: services: expected a mapping of names to definitions, got a list",
    ]);
  });

  test("schema and cross-key problems of a service from a file name the file", () => {
    const tree = memoryTree({
      "apps/shop.yaml": `namespaces:\n  shop: {}\nservices:\n${service("web", "shop", "\n    replicas: -1\n    dependencies: [nope]")}`,
    });
    const found = problems({ ...env, applicationFiles: ["apps"] }, tree);
    expect(found.length).toBeGreaterThan(0);
    for (const p of found) expect(p).toMatch(/^apps\/shop\.yaml: services\.web\./);
  });

  test("a secret named by a file's secretEnv is a known config key", () => {
    const tree = memoryTree({
      "apps/shop.yaml": `namespaces:\n  shop: {}\nservices:\n${service("web", "shop", "\n    secretEnv: { TOKEN: web-token }\n    restartOnSecretChange: false")}`,
    });
    expect(
      problems({ ...env, applicationFiles: ["apps"], "web-token": "x", typo: "y" }, tree),
    ).toEqual([
      "typo: unknown config key (structured keys are tier, cluster, namespaces, services, capacity, overrides, defaults, stages, review, applicationFiles; other keys must be secrets referenced by a service's secretEnv)",
    ]);
  });

  test("a caller without a tree cannot silently drop the files", () => {
    expect(problems({ ...env, applicationFiles: ["apps"] })).toEqual([
      "applicationFiles: this tool cannot read application files (it was given no project directory)",
    ]);
  });
});

describe("directoryTree reads the project directory on disk", () => {
  const root = mkdtempSync(join(tmpdir(), "app-files-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, "apps", "team-b"), { recursive: true });
  writeFileSync(join(root, "apps", "a.yaml"), "services: {}\n");
  writeFileSync(join(root, "apps", "team-b", "b.yml"), "services: {}\n");

  test("files and directories, relative paths with /", () => {
    const tree = directoryTree(root);
    expect(tree.readFile("apps/a.yaml")).toBe("services: {}\n");
    expect(tree.readFile("apps")).toBeUndefined();
    expect(tree.readFile("apps/none.yaml")).toBeUndefined();
    expect(tree.listFiles("apps")).toEqual(["apps/a.yaml", "apps/team-b/b.yml"]);
    expect(tree.listFiles("apps/a.yaml")).toBeUndefined();
    expect(tree.listFiles("nothing")).toBeUndefined();
  });
});
