#!/usr/bin/env bash
# The test run of `make test`. With arguments (PYTEST_ARGS), one pytest with them.
# Without, the suite in two halves at once: the end-to-end tests (mostly waiting on the
# processes they start) beside the unit and integration tests. Each half isolates itself
# (its own homes, ports, Redis prefixes and databases), so the two share nothing; together
# they take about two thirds of the time one run takes on 2 cores. Each half's output is
# kept in .test-logs/ and printed whole when both are done, with the slowest tests of each.
set -u
PYTEST="${PYTEST:-.venv/bin/pytest}"

if [ "$#" -gt 0 ]; then
  exec "$PYTEST" "$@"
fi

logs=.test-logs
mkdir -p "$logs"
started=$(date +%s)
"$PYTEST" tests/e2e --durations=10 >"$logs/e2e.log" 2>&1 &
e2e=$!
"$PYTEST" tests/unit tests/integration --durations=10 >"$logs/unit-integration.log" 2>&1 &
rest=$!
wait "$e2e"; e2e_rc=$?
wait "$rest"; rest_rc=$?
for half in unit-integration e2e; do
  echo "=================== $half ($logs/$half.log) ==================="
  cat "$logs/$half.log"
done
echo "tests: e2e exit $e2e_rc, unit and integration exit $rest_rc, $(($(date +%s) - started)) s in all"
[ "$e2e_rc" -eq 0 ] && [ "$rest_rc" -eq 0 ]
