/**
 * Running a stage's release: the commit pinned in its stack file (`platform:release`), checked
 * out in a git worktree of its own (outside the checkout, so no tool of the checkout sees it:
 * `~/.cache/k8s-platform/releases/<checkout>/<commit>`, or under `$PLATFORM_RELEASES_DIR`), with the stage's stack
 * file taken from the current checkout (the environment, the image pins and the pin itself are
 * the stage's own and reviewed on main; the program and the application travel in the release).
 *
 * Dependencies: a release whose package-lock.json is the checkout's shares its node_modules
 * (a symlink); another one gets `npm ci` of its own lockfile. The same for the policy pack.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { RELEASE_KEY, releasePinProblem, shortRelease } from "../../platform/config/release";
import { loadStackFiles } from "./stack-files";

/** A failure to prepare a release: the message names what is missing and how to get it. */
export class ReleaseError extends Error {
  override name = "ReleaseError";
}

function git(dir: string, args: readonly string[]): string {
  try {
    return execFileSync("git", args, {
      cwd: dir,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (e) {
    const err = e as { stderr?: string; code?: string };
    if (err.code === "ENOENT")
      throw new ReleaseError("git is not on PATH; releases are git commits");
    throw new ReleaseError(`git ${args.join(" ")} failed in ${dir}: ${String(err.stderr).trim()}`);
  }
}

/** The commit checked out in `dir`. */
export function headCommit(dir: string): string {
  return git(dir, ["rev-parse", "HEAD"]);
}

/**
 * The release the checkout in `dir` is: its commit, with `-dirty` when tracked files differ
 * from it or untracked (not ignored) files exist (such a release is never promoted).
 */
export function checkoutRelease(dir: string): string {
  const head = headCommit(dir);
  return git(dir, ["status", "--porcelain"]) === "" ? head : `${head}-dirty`;
}

/**
 * The release `stack`'s file (or `stackFile`) pins, undefined when it pins none; throws on a
 * malformed pin.
 */
export function pinnedRelease(dir: string, stack: string, stackFile?: string): string | undefined {
  const files = loadStackFiles(dir, stack, stackFile);
  const pin = files.config[`${files.project}:${RELEASE_KEY}`];
  if (pin === undefined) return undefined;
  const problem = releasePinProblem(pin);
  if (problem) throw new ReleaseError(`${stackFile ?? `Pulumi.${stack}.yaml`}: ${problem}`);
  return pin;
}

/**
 * Where the worktree of `release` lives: one per repository (its git directory, shared by all
 * its worktrees, e.g. the base checkout of `npm run diff`) and commit.
 */
export function releaseDir(dir: string, release: string): string {
  const root =
    process.env.PLATFORM_RELEASES_DIR || join(homedir(), ".cache", "k8s-platform", "releases");
  const common = realpathSync(resolve(dir, git(dir, ["rev-parse", "--git-common-dir"])));
  const repo = createHash("sha256").update(common).digest("hex").slice(0, 12);
  return join(root, repo, release);
}

export interface PreparedRelease {
  /** The project directory to run pulumi in. */
  readonly dir: string;
  readonly release: string;
  /** What was done to get there, for the log. */
  readonly steps: readonly string[];
}

/**
 * Checks `release` out in its worktree (created, or its files restored when changed), gives it
 * its dependencies and, with `copyStackFile`, copies the stack file of `stack` from `dir` into it
 * (pulumi reads it there; the render takes the file by path instead). Throws ReleaseError when
 * the commit is not in this clone. Several processes may prepare the same release at once
 * (the two sides of a diff): a lock file serialises them.
 */
export function prepareRelease(
  dir: string,
  stack: string,
  release: string,
  { copyStackFile = true }: { copyStackFile?: boolean } = {},
): PreparedRelease {
  const tree = releaseDir(dir, release);
  mkdirSync(dirname(tree), { recursive: true });
  return withLock(`${tree}.lock`, () => prepareLocked(dir, tree, stack, release, copyStackFile));
}

function prepareLocked(
  dir: string,
  tree: string,
  stack: string,
  release: string,
  copyStackFile: boolean,
): PreparedRelease {
  const steps: string[] = [];
  try {
    git(dir, ["cat-file", "-e", `${release}^{commit}`]);
  } catch {
    throw new ReleaseError(
      `release ${shortRelease(release)} (Pulumi.${stack}.yaml, platform:${RELEASE_KEY}) is not a commit of this clone: fetch the history (actions/checkout with fetch-depth: 0, or git fetch origin ${release})`,
    );
  }
  // The stack files in a release's worktree are the stages' own (copied in), never restored.
  const program = [".", ":(exclude)Pulumi.*.yaml"];
  if (existsSync(join(tree, ".git"))) {
    if (git(tree, ["status", "--porcelain", "--untracked-files=no", "--", ...program]) !== "") {
      git(tree, ["checkout", "--quiet", "--force", release, "--", ...program]);
      steps.push(`restored the files of ${tree} changed since it was checked out`);
    } else steps.push(`reused the worktree ${tree}`);
  } else {
    git(dir, ["worktree", "prune"]);
    git(dir, ["worktree", "add", "--quiet", "--force", "--detach", tree, release]);
    steps.push(`checked ${shortRelease(release)} out in ${tree}`);
  }
  if (copyStackFile) {
    const file = `Pulumi.${stack}.yaml`;
    copyFileSync(join(dir, file), join(tree, file));
    steps.push(`took ${file} from ${dir}`);
  }
  for (const sub of [".", "policy"]) {
    const step = provideDependencies(join(dir, sub), join(tree, sub));
    if (step) steps.push(step);
  }
  return { dir: tree, release, steps };
}

/**
 * Gives `to` (a package of the release) its node_modules: a link to `from`'s when both have the
 * same lockfile, else `npm ci`. Nothing when `from` has no node_modules (not installed here).
 */
function provideDependencies(from: string, to: string): string | undefined {
  const modules = join(from, "node_modules");
  const lock = (d: string) =>
    existsSync(join(d, "package-lock.json")) ? readFileSync(join(d, "package-lock.json")) : null;
  if (!existsSync(modules) || !existsSync(join(to, "package.json"))) return undefined;
  const target = join(to, "node_modules");
  if (existsSync(target) || isLink(target)) return undefined;
  const [a, b] = [lock(from), lock(to)];
  if (a && b && a.equals(b)) {
    symlinkSync(realpathSync(modules), target, "dir");
    return `linked ${target} (same package-lock.json)`;
  }
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], {
    cwd: to,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (r.status !== 0)
    throw new ReleaseError(`npm ci in ${to} failed: ${(r.stderr || r.stdout || "").trim()}`);
  return `installed the release's dependencies in ${to} (npm ci: its package-lock.json differs)`;
}

/** Runs `fn` holding the lock file `lock` (created exclusively; waits up to 10 minutes). */
function withLock<T>(lock: string, fn: () => T): T {
  const deadline = Date.now() + 600_000;
  for (;;) {
    try {
      closeSync(openSync(lock, "wx"));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      if (Date.now() > deadline)
        throw new ReleaseError(
          `${lock} is held (another deploy or render preparing this release?); remove it if no such process runs`,
        );
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
