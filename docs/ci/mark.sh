#!/usr/bin/env bash
# Marks one submission the way the example CI files beside this script do
# (github-classroom.yml, gitlab-ci.yml): run it from the workbook that holds
# the pristine tests (the instructor's edition, or a student edition), give
# it the student's checkout.
#
#   docs/ci/mark.sh SUBMISSION OUTDIR [task-NN ...]     (no task: every task)
#
# Writes OUTDIR/junit.xml, gradescope.json, exercism.json and marking.json
# (one marking, four renderings), and prints "score: M of N". Under GitHub
# Actions it also sets the step's outputs score and max_score (for GitHub
# Classroom's points). Exits as `grader mark` does: 0 whenever marking
# completed, whatever the marks; non-zero only when marking itself failed.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: docs/ci/mark.sh SUBMISSION OUTDIR [task-NN ...]" >&2; exit 2; }
workbook=$(cd "$(dirname "$0")/../.." && pwd)
submission=$1
out=$2
shift 2
mkdir -p "$out"
"$workbook/bin/grader" mark --submission "$submission" "$@" \
  --format junit -o "$out/junit.xml" \
  --format gradescope -o "$out/gradescope.json" \
  --format exercism -o "$out/exercism.json" \
  --format json -o "$out/marking.json"

read -r score max_score < <(python3 -c 'import json, sys; m = json.load(open(sys.argv[1])); print(m["score"], m["max_score"])' "$out/marking.json")
echo "score: $score of $max_score"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  printf 'score=%s\nmax_score=%s\n' "$score" "$max_score" >>"$GITHUB_OUTPUT"
fi
