/**
 * The project directory on disk as a SourceTree: where the program (and the offline tools, for
 * the checkout) read application files from.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { SourceTree } from "./config/application";

/** The files below `root`, read from disk; paths are relative to `root`, with `/`. */
export function directoryTree(root: string, where = "the project directory"): SourceTree {
  const kind = (path: string) => {
    try {
      const stat = statSync(join(root, path));
      return stat.isFile() ? "file" : stat.isDirectory() ? "directory" : "other";
    } catch {
      return "none";
    }
  };
  return {
    where,
    readFile: (path) =>
      kind(path) === "file" ? readFileSync(join(root, path), "utf8") : undefined,
    listFiles: (dir) => {
      if (kind(dir) !== "directory") return undefined;
      const base = join(root, dir);
      return readdirSync(base, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => relative(root, join(entry.parentPath, entry.name)).split(sep).join("/"))
        .sort();
    },
  };
}
