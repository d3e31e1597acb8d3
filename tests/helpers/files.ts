/** Directory contents for tests that compare what a tool wrote. */
import { readdirSync, readFileSync, type Dirent } from "node:fs";
import { join, relative } from "node:path";

/** Every file under dir, by path relative to it, with its contents (sorted by path). */
export function fileTree(dir: string): Record<string, string> {
  return Object.fromEntries(
    (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((e) => e.isFile())
      .map((e) => {
        const path = join(e.parentPath, e.name);
        return [relative(dir, path), readFileSync(path, "utf8")];
      })
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}
