/**
 * scripts/engine/lib.sh's rule for a `pulumi` already on PATH, shared by scripts/main.sh and
 * scripts/engine/bootstrap.sh: an installed release at versions.json's version or newer, with its
 * Node.js language host beside it, is used as it is; anything else is named and left alone.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, test } from "vitest";

const lib = resolve(__dirname, "../scripts/engine/lib.sh");
const root = mkdtempSync(join(tmpdir(), "engine-lib-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fake installed pulumi printing `version`, optionally with a language host beside it. */
function fakePulumi(name: string, version: string, langHost: boolean): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pulumi"), `#!/bin/sh\necho v${version}\n`);
  chmodSync(join(dir, "pulumi"), 0o755);
  if (langHost) {
    writeFileSync(join(dir, "pulumi-language-nodejs"), "#!/bin/sh\n");
    chmodSync(join(dir, "pulumi-language-nodejs"), 0o755);
  }
  return dir;
}

function pathPulumi(dir: string, want: string, skip = "") {
  const r = spawnSync(
    "bash",
    ["--norc", "--noprofile", "-c", `source "${lib}" && engine_path_pulumi "$0" "$1"`, want, skip],
    { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: "utf8" },
  );
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

describe("engine_path_pulumi", () => {
  test("uses an installed release at the wanted version or newer", () => {
    const same = fakePulumi("same", "3.259.0", true);
    const newer = fakePulumi("newer", "3.1000.2", true);
    expect(pathPulumi(same, "3.259.0")).toEqual({ code: 0, stdout: same, stderr: "" });
    expect(pathPulumi(newer, "3.259.0")).toEqual({ code: 0, stdout: newer, stderr: "" });
  });

  test("names an older release, a pre-release and one without a language host", () => {
    const older = fakePulumi("older", "3.258.10", true);
    const pre = fakePulumi("pre", "3.259.0-alpha.1", true);
    const bare = fakePulumi("bare", "3.300.0", false);
    expect(pathPulumi(older, "3.259.0")).toEqual({
      code: 1,
      stdout: "",
      stderr: `ignoring ${older}/pulumi (v3.258.10): older than v3.259.0 (versions.json)`,
    });
    expect(pathPulumi(pre, "3.259.0").stderr).toBe(
      `ignoring ${pre}/pulumi (v3.259.0-alpha.1): older than v3.259.0 (versions.json)`,
    );
    expect(pathPulumi(bare, "3.259.0")).toEqual({
      code: 1,
      stdout: "",
      stderr: `ignoring ${bare}/pulumi (v3.300.0): no pulumi-language-nodejs beside it`,
    });
  });

  test("skips the engine cache's own build and a PATH without pulumi, silently", () => {
    const own = fakePulumi("own", "3.259.0", true);
    expect(pathPulumi(own, "3.259.0", own)).toEqual({ code: 1, stdout: "", stderr: "" });
    expect(pathPulumi(join(root, "empty"), "3.259.0")).toEqual({ code: 1, stdout: "", stderr: "" });
  });

  test("main.sh and bootstrap.sh both use it", () => {
    const uses = execFileSync(
      "grep",
      ["-l", "engine_path_pulumi", "scripts/main.sh", "scripts/engine/bootstrap.sh"],
      {
        cwd: resolve(__dirname, ".."),
        encoding: "utf8",
      },
    );
    expect(uses.trim().split("\n")).toEqual(["scripts/main.sh", "scripts/engine/bootstrap.sh"]);
  });
});
