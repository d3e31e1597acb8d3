/**
 * A commit of the project as a SourceTree: what a stage pinned to a release reads its
 * application files from, so tools see the application it runs, not the checkout's.
 */
import { execFileSync } from "node:child_process";
import type { SourceTree } from "../../platform/config/application";
import { shortRelease } from "../../platform/config/release";

const run = (dir: string, args: readonly string[]) =>
  execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 256 << 20,
  });

/** A file as of a commit (`git show <commit>:./<file>` in `dir`), undefined if there is none. */
export function gitShow(dir: string, commit: string, file: string): string | undefined {
  try {
    return run(dir, ["show", `${commit}:./${file}`]);
  } catch {
    return undefined;
  }
}

/**
 * The project directory `dir` as of `commit` (paths relative to `dir`, which may be a
 * subdirectory of the repository); undefined when the clone does not have the commit.
 */
export function commitTree(dir: string, commit: string): SourceTree | undefined {
  try {
    run(dir, ["cat-file", "-e", `${commit}^{commit}`]);
  } catch {
    return undefined;
  }
  let files: ReadonlySet<string> | undefined;
  // Every file of the commit below `dir`, listed once (ls-tree lists relative to its cwd).
  const all = () =>
    (files ??= new Set(
      run(dir, ["ls-tree", "-r", "--name-only", "-z", commit]).split("\0").filter(Boolean),
    ));
  return {
    where: `commit ${shortRelease(commit)}`,
    readFile: (path) => (all().has(path) ? gitShow(dir, commit, path) : undefined),
    listFiles: (path) => {
      const below = [...all()].filter((f) => f.startsWith(`${path}/`)).sort();
      return below.length > 0 ? below : undefined;
    },
  };
}
