/** git in a test's own repository: an author set, no signing, output trimmed; throws on failure. */
import { execFileSync } from "node:child_process";

export function git(dir: string, ...args: string[]): string {
  return execFileSync(
    "git",
    [
      "-c",
      "user.name=Test",
      "-c",
      "user.email=test@example.com",
      "-c",
      "commit.gpgsign=false",
      ...args,
    ],
    { cwd: dir, encoding: "utf8", stdio: "pipe", timeout: 60_000 },
  ).trim();
}

/** Commits everything in `dir` (git add -A) and returns the new commit. */
export function commitAll(dir: string, message: string): string {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", message);
  return git(dir, "rev-parse", "HEAD");
}
