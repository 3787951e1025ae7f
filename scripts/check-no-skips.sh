#!/usr/bin/env bash
# Fails when a test run skipped fixture tests (under CI=true they fail instead; this is the second
# guard) or when a test source returns early on a missing path without the fixture macros.
# Usage: scripts/check-no-skips.sh <build dir>
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
status=0
log="$build/Testing/Temporary/LastTest.log"
if [[ -f $log ]] && grep -n "skipped: " "$log"; then
  echo "check-no-skips: the run above skipped tests (missing fixtures); see $log" >&2
  status=1
fi
# Early returns on a missing path belong in ECGBENCH_REQUIRE_TEST_DATA / ECGBENCH_REQUIRE_FIXTURE.
if grep -rnE "exists\(.*\)\)? *\)? *return;" tests --include='*.cpp'; then
  echo "check-no-skips: the lines above skip silently on a missing path; use ECGBENCH_REQUIRE_FIXTURE" >&2
  status=1
fi
if [[ $status == 0 ]]; then
  echo "check-no-skips: no skipped fixture tests"
fi
exit $status
