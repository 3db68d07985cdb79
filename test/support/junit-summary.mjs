// Prints `N passed, N failed[, N skipped]` from a JUnit XML report (bun test --reporter=junit).
// The counts are the test runner's own: every <testcase>, failed when it holds <failure> or <error>.
import { readFileSync } from "node:fs";

const file = process.argv[2];
let xml = "";
try {
  xml = readFileSync(file, "utf8");
} catch {
  console.log("0 passed, 1 failed");
  console.error(`no test report at ${file}: the test run did not finish`);
  process.exit(0);
}
const cases = xml.match(/<testcase\b[\s\S]*?(?:\/>|<\/testcase>)/g) ?? [];
let failed = 0;
let skipped = 0;
for (const testcase of cases) {
  if (/<(failure|error)\b/.test(testcase)) failed++;
  else if (/<skipped\b/.test(testcase)) skipped++;
}
const passed = cases.length - failed - skipped;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
