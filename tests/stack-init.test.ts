/**
 * `npm run stack:init`: its arguments, the checksum key it generates and when, and its errors.
 * Creating stacks and setting the key through the real engine: tests/e2e (every e2e stack is
 * set up with it; changes.test.ts rotates the key).
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import {
  checksumKeyAction,
  checksumKeyState,
  newChecksumKey,
  parseStackInitArgs,
} from "../scripts/stack-init";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

const dir = mkdtempSync(join(tmpdir(), "stack-init-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, "Pulumi.yaml"), "name: platform\nruntime: nodejs\n");

/**
 * Runs the script as `npm run stack:init` does. PATH holds only this Node (no pulumi), and
 * `extraPath` first when given.
 */
function cli(args: string[], extraPath?: string) {
  const r = spawnSync(
    process.execPath,
    [join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/stack-init.ts", ...args],
    {
      cwd: PROJECT_DIR,
      encoding: "utf8",
      env: {
        ...process.env,
        PATH: [extraPath, dirname(process.execPath)].filter(Boolean).join(":"),
      },
      timeout: 60_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("arguments", () => {
  test("a stack, an optional secrets provider and rotation", () => {
    expect(
      parseStackInitArgs([
        "--stack",
        "acme/platform/qa",
        "--secrets-provider",
        "awskms://alias/platform",
        "--rotate-checksum-key",
        "--cwd",
        dir,
      ]),
    ).toEqual({
      stack: "acme/platform/qa",
      fileStack: "qa",
      secretsProvider: "awskms://alias/platform",
      rotate: true,
      cwd: dir,
      help: false,
    });
    expect(parseStackInitArgs(["--stack", "dev"])).toMatchObject({
      fileStack: "dev",
      rotate: false,
    });
  });

  test.each([
    [[], "give --stack <name>"],
    [["--stack", "qa stage"], '--stack "qa stage": a stack name is letters, digits'],
    [["--stack", "a/b/c/d"], '--stack "a/b/c/d": a stack name is letters, digits'],
    [
      ["--stack", "qa", "--secrets-provider", "kms"],
      '--secrets-provider "kms": give passphrase or a URL',
    ],
    [["--stak", "qa"], "Unknown option '--stak'"],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parseStackInitArgs(argv)).toThrowError(message);
  });
});

describe("the checksum key", () => {
  test("32 random bytes as base64url: 43 characters, never the same twice", () => {
    const keys = new Set(Array.from({ length: 100 }, newChecksumKey));
    expect(keys.size).toBe(100);
    for (const k of keys) expect(k).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  test.each([
    ["missing", false, "set"],
    ["secret", false, "keep"],
    ["plain", false, "refuse"],
    ["missing", true, "set"],
    ["secret", true, "set"],
    ["plain", true, "set"],
  ] as const)("%s, rotate %s: %s", (state, rotate, action) => {
    expect(checksumKeyAction(state, rotate)).toBe(action);
  });

  test("its state in the stack file: encrypted, plain or missing", () => {
    const file = (config: string) =>
      writeFileSync(join(dir, "Pulumi.qa.yaml"), `config:\n  platform:tier: dev\n${config}`);
    file("  platform:secretChecksumKey:\n    secure: v1:abc\n");
    expect(checksumKeyState(dir, "qa")).toBe("secret");
    file("  platform:secretChecksumKey: not-a-secret\n");
    expect(checksumKeyState(dir, "qa")).toBe("plain");
    file("");
    expect(checksumKeyState(dir, "qa")).toBe("missing");
  });
});

describe("the command line", () => {
  test("--help prints the usage and exits 0", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: npm run stack:init -- --stack <name>");
  });

  test("a misspelt flag exits 2 with the usage", () => {
    const r = cli(["--stak", "qa"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("stack-init: Unknown option '--stak'");
    expect(r.stderr).toContain("usage: npm run stack:init");
  });

  test("a stack without its config file exits 2, naming the stacks there; nothing is created", () => {
    const r = cli(["--stack", "nope", "--cwd", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `stack-init: no Pulumi.nope.yaml in ${dir}: write the stack's config first (tier, cluster; see the README's stacks section); stacks here: qa\n`,
    );
  });

  test("without pulumi on PATH it exits 2 and says so", () => {
    writeFileSync(join(dir, "Pulumi.qa.yaml"), "config:\n  platform:tier: dev\n");
    const r = cli(["--stack", "qa", "--cwd", dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      "stack-init: pulumi is not on PATH (source scripts/engine/env.sh, or install the Pulumi CLI)\n",
    );
  });

  test("a key stored in plain text is refused (exit 1) with the command that replaces it", () => {
    // A stand-in pulumi that knows the stack and records what it is asked.
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "pulumi"), `#!/bin/sh\necho "$@" >> "${join(dir, "calls")}"\n`);
    chmodSync(join(bin, "pulumi"), 0o755);
    writeFileSync(
      join(dir, "Pulumi.qa.yaml"),
      "config:\n  platform:tier: dev\n  platform:secretChecksumKey: typed-by-hand\n",
    );
    const r = cli(["--stack", "qa", "--cwd", dir], bin);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "stack-init: secretChecksumKey: Pulumi.qa.yaml holds it in plain text, so it keys nothing secret; replace it with: npm run stack:init -- --stack qa --rotate-checksum-key\n",
    );
    // The stack was only selected: no config was set.
    expect(readFileSync(join(dir, "calls"), "utf8")).toBe("stack select qa --non-interactive\n");
  });
});
