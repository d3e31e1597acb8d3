// Prints the one closing line CI reads, `N passed, M failed[, K skipped]`, summed over the
// vitest JSON reports of every tier that ran (unit, engine end to end, cluster). Exits non-zero
// when a report is missing or records failures, so a crash before any test ran never reads as
// success.
//   node scripts/test-summary.mjs unit.json [e2e.json ...]
import { readFileSync } from "node:fs";

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of process.argv.slice(2)) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    console.log(`test-summary: no readable vitest report at ${file} (${e.message})`);
    failed += 1;
    continue;
  }
  passed += report.numPassedTests ?? 0;
  // A file that failed with no failed test counts as a failure too: it did not load, or a
  // beforeAll/afterAll hook failed (its tests are then reported skipped, not failed).
  const brokenFiles = (report.testResults ?? []).filter(
    (r) => r.status === "failed" && !(r.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  failed += (report.numFailedTests ?? 0) + brokenFiles;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
