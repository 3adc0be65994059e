#!/usr/bin/env bash
# Exit 0 when a marking (docs/ci/mark.sh's marking.json) scored full marks:
# the command GitHub Classroom's command grader runs, which awards a step's
# points on exit 0 only. So each task is worth its criteria, all or nothing,
# in Classroom's tally; the per-criterion marks are in the uploaded results.
#
#   docs/ci/full-marks.sh OUTDIR/marking.json
set -euo pipefail
python3 - "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
print(f"{m['score']} of {m['max_score']}")
sys.exit(0 if m["max_score"] > 0 and m["score"] >= m["max_score"] else 1)
PY
