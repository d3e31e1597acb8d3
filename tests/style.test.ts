/** Colour in a terminal only: never under NO_COLOR, in a pipe or a file; FORCE_COLOR forces it. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { colorEnabled, colorLines } from "../scripts/lib/style";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

const ESC = "\u001b[";

describe("colour", () => {
  test("a terminal gets colour unless NO_COLOR is set; a pipe gets none unless FORCE_COLOR", () => {
    expect(colorEnabled({ isTTY: true }, {})).toBe(true);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "" })).toBe(true);
    expect(colorEnabled({ isTTY: false }, {})).toBe(false);
    expect(colorEnabled({}, { FORCE_COLOR: "1" })).toBe(true);
    expect(colorEnabled({}, { FORCE_COLOR: "0" })).toBe(false);
    expect(colorEnabled({ isTTY: true }, { NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(false);
  });

  test("lines are coloured by what they say; the text itself is unchanged", () => {
    const text = [
      "stack prod vs main: 1 added",
      "+ Deployment/shop/reports",
      "~ NetworkPolicy/shop/api",
      "    + ingress from shop/reports on 3000/TCP",
      "    - ingress from shop/web on 3000/TCP",
      "    !! REPLACE IN PROD (outage): spec.selector is immutable",
      "--- a/Pulumi.prod.yaml",
    ].join("\n");
    const coloured = colorLines(text);
    expect(coloured.replace(new RegExp(`${ESC.replace("[", "\\[")}\\d+m`, "g"), "")).toBe(text);
    const lines = coloured.split("\n");
    expect(lines[0]).toBe("stack prod vs main: 1 added");
    expect(lines[1]).toBe(`${ESC}32m+ Deployment/shop/reports${ESC}0m`);
    expect(lines[2].startsWith(`${ESC}33m`)).toBe(true);
    expect(lines[4].startsWith(`${ESC}31m`)).toBe(true);
    expect(lines[5].startsWith(`${ESC}1m${ESC}31m`)).toBe(true);
    expect(lines[6].startsWith(`${ESC}2m`)).toBe(true);
  });

  test("the CLIs print no escape codes into a pipe, and colour with FORCE_COLOR", () => {
    const promote = (env: NodeJS.ProcessEnv) =>
      spawnSync(
        process.execPath,
        [
          join(PROJECT_DIR, "node_modules", "tsx", "dist", "cli.mjs"),
          "scripts/promote.ts",
          ...["--from", "dev", "--to", "staging", "--dry-run"],
        ],
        { cwd: PROJECT_DIR, encoding: "utf8", env: { ...process.env, NO_COLOR: "", ...env } },
      ).stdout;
    expect(promote({ FORCE_COLOR: "0" })).not.toContain(ESC);
    expect(promote({ FORCE_COLOR: "1" })).toContain(`${ESC}32m+`);
    expect(promote({ FORCE_COLOR: "1", NO_COLOR: "1" })).not.toContain(ESC);
  });
});
