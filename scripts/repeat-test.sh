#!/usr/bin/env bash
# Runs one integration test file several times in a row, to see how often it fails (a flaky test or
# a race in the service): builds once, prints pass/fail per run, keeps each run's output in a log
# file, ends with `REPEAT SUMMARY: N passed, M failed` and exits 1 if any run failed (2: usage/build).
#   usage: scripts/repeat-test.sh <test-name> [times]     e.g. scripts/repeat-test.sh churn 10
#          npm run test:repeat -- churn 10
# The tests find the stack through $STACK_HOME (default .stack/, see docs/local-stack.md). A run that
# has not ended after $REPEAT_TIMEOUT_S seconds (default 1800) is stopped and counts as failed.
set -uo pipefail

name=${1:-}
times=${2:-5}
limit=${REPEAT_TIMEOUT_S:-1800}
if [[ -z $name || ! $times =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 <test-name> [times]   (test-name as in test/integration/<test-name>.test.ts)" >&2
  exit 2
fi
name=${name%.ts}
name=${name%.js}
name=${name%.test}

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
npm run build --silent || { echo "build failed" >&2; exit 2; }
file="dist/test/integration/$name.test.js"
if [[ ! -f $file ]]; then
  echo "no such test: $file" >&2
  exit 2
fi

logs=$(mktemp -d "${TMPDIR:-/tmp}/repeat-$name.XXXXXX")
echo "running $file $times times; logs in $logs"
passed=0
failed=0
for ((run = 1; run <= times; run++)); do
  log="$logs/run-$run.log"
  started=$SECONDS
  timeout --kill-after=30 "$limit" node --test --test-reporter=spec "$file" >"$log" 2>&1
  code=$?
  if ((code == 0)); then
    passed=$((passed + 1))
    echo "run $run/$times: PASS ($((SECONDS - started)) s)"
  else
    failed=$((failed + 1))
    echo "run $run/$times: FAIL ($((SECONDS - started)) s), $log"
    if ((code == 124 || code == 137)); then echo "    did not end within $limit s: stopped"; fi
    # The spec reporter marks failed tests and suites with ✖ (and repeats them after "failing tests:").
    sed -n '/^✖ failing tests:/q; /^ *✖ /p' "$log" | sed -E 's/ \([0-9.]+m?s\)$//; s/^/    /'
  fi
done
echo "REPEAT SUMMARY: $passed passed, $failed failed"
((failed == 0))
