#!/usr/bin/env bash
# grader export, end to end: the student edition of this workbook holds no
# reference, configures, builds and grades on its own, and says plainly
# what it cannot do. Task 01 is graded there as a student would; task 08,
# whose CMake and tests depend on withheld handlers, builds and skips AC5
# and AC6 with its reason. (About four minutes: the edition builds cold.)
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/workbook-edition.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
edition="$tmp/edition"
failures=0

expect() { # expect <description> <expected exit code> <pattern in the output> -- <command...>
  local what=$1 code=$2 pattern=$3
  shift 4
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -eq "$code" ] && grep -qE -- "$pattern" <<<"$out"; then
    echo "ok   $what"
  else
    echo "FAIL $what: exit $rc (wanted $code), output lacks /$pattern/ or is:"
    tail -n 15 <<<"$out" | sed 's/^/       /'
    failures=$((failures + 1))
  fi
}

expect "export writes the edition and finds no reference in it" 0 "no reference code in it" -- \
  "$root/bin/grader" export --student "$edition" --release task-02
expect "export refuses a directory that is not empty" 2 "not empty" -- \
  "$root/bin/grader" export --student "$edition"

withheld=$(cd "$edition" && ls -d solutions/task-01 solutions/task-02/mutants exercises/*/WHY.md .grader build 2>/dev/null)
if [ -z "$withheld" ] && [ -f "$edition/solutions/task-02/WHY.md" ] && [ -f "$edition/manifest.json" ]; then
  echo "ok   withheld: references, mutants, progress and build output; released: task-02"
else
  echo "FAIL the edition holds what it should not, or lacks the released task-02: ${withheld:-(task-02 or manifest.json missing)}"
  failures=$((failures + 1))
fi

cd "$edition" || exit 1
expect "the edition builds and grades task-01 (the stub fails)" 1 "0 of 4 criteria pass" -- bin/grader task-01
expect "--reference says this edition does not hold it" 1 "does not hold task-01's reference" -- \
  bin/grader task-01 --reference
expect "check belongs to the instructor's edition" 2 "student edition" -- bin/grader check task-01
expect "task-08 builds without its handlers and says why AC5 and AC6 are not run" 1 \
  "AC5.*(skipped|marked when you submit)|marked when you submit" -- bin/grader task-08 --verbose

[ "$failures" -eq 0 ] && echo "export: all checks passed" || echo "export: $failures check(s) failed"
exit $((failures > 0))
