/**
 * The closing line CI reads (`N passed, M failed`): a file that failed without a failed test (it
 * did not load, or a beforeAll hook failed and its tests were skipped) counts as a failure.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, test } from "vitest";
import { PROJECT_DIR } from "../scripts/lib/stack-files";

const dir = mkdtempSync(join(tmpdir(), "test-summary-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summary(...reports: object[]) {
  const files = reports.map((r, i) => {
    const f = join(dir, `r${i}.json`);
    writeFileSync(f, JSON.stringify(r));
    return f;
  });
  const r = spawnSync(
    process.execPath,
    [join(PROJECT_DIR, "scripts", "test-summary.mjs"), ...files],
    {
      encoding: "utf8",
    },
  );
  return { code: r.status, line: r.stdout.trim() };
}

const file = (status: string, ...tests: string[]) => ({
  status,
  assertionResults: tests.map((s) => ({ status: s })),
});

test("passing tiers sum up and exit 0", () => {
  expect(
    summary(
      { numPassedTests: 3, numFailedTests: 0, testResults: [file("passed", "passed")] },
      { numPassedTests: 2, numPendingTests: 1, testResults: [file("passed", "passed", "skipped")] },
    ),
  ).toEqual({ code: 0, line: "5 passed, 0 failed, 1 skipped" });
});

test("a failing beforeAll (tests skipped) and a file that did not load count as failures", () => {
  expect(
    summary({
      numPassedTests: 4,
      numFailedTests: 0,
      numPendingTests: 3,
      testResults: [
        file("failed", "skipped", "skipped", "skipped"),
        file("failed"),
        file("passed", "passed"),
      ],
    }),
  ).toEqual({ code: 1, line: "4 passed, 2 failed, 3 skipped" });
});

test("a failed test is counted once, not again for its file", () => {
  expect(
    summary({
      numPassedTests: 1,
      numFailedTests: 1,
      testResults: [file("failed", "failed", "passed")],
    }),
  ).toEqual({ code: 1, line: "1 passed, 1 failed" });
});
