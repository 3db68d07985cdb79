#!/usr/bin/env bash
# `npm test`: install what is missing, build the binary, then run every test (unit, integration
# against throwaway engines, e2e against the compiled binary). Prints `N passed, N failed` from
# the test runner's own JUnit report and exits non-zero when anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bash test/support/setup.sh
node_modules/.bin/bun test/support/build-binary.ts

mkdir -p .tmp
report=.tmp/junit.xml
rm -f "$report" .tmp/summary.txt
status=0
node_modules/.bin/bun test --timeout 60000 --reporter=junit --reporter-outfile="$report" "$@" || status=$?

node test/support/junit-summary.mjs "$report" | tee .tmp/summary.txt
exit "$status"
