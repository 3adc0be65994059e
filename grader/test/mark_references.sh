#!/usr/bin/env bash
# grader mark --all on the two submissions whose marks are known for every
# task: the references copied over the stubs (the reference edition: full
# marks everywhere, under the marking sandbox and its limits) and the
# untouched stubs (no marks anywhere). Each results file must be well formed.
# Marks in this tree's own workspace (build/mark), so it is quick once built;
# the first run builds every task's tests there.
#
#   grader/test/mark_references.sh     (about 4 minutes once built, 12 cold)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /var/tmp/workbook-mark-references.XXXXXX)   # not below /tmp: the sandbox has its own
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' TERM   # timeout(1) ends it: the EXIT trap still cleans up
cd "$src"
fail() { echo "mark references: FAILED: $*" >&2; exit 1; }

git clone -q --no-local "$src" "$tmp/stubs"
git clone -q --no-local "$src" "$tmp/references"

# A task's reference files stand where its stub's do (solutions/task-NN/X
# for exercises/task-NN/X), except the tests task 08 asks a student to
# write (your_tests/), whose reference is in reference_tests/.
for exercise in exercises/*/; do
  task=$(basename "$exercise")
  copied=0
  while IFS= read -r -d '' stub; do
    rel=${stub#"$exercise"}
    reference="solutions/$task/$rel"
    [ -f "$reference" ] || reference="solutions/$task/${rel/#your_tests\//reference_tests/}"
    [ -f "$reference" ] || continue
    cp "$reference" "$tmp/references/$stub"
    copied=$((copied + 1))
  done < <(find "$exercise" -type f \( -name '*.cpp' -o -name '*.hpp' \) -not -path '*/test/*' -print0)
  [ "$copied" -gt 0 ] || fail "$task: no reference file stands where a stub file does"
done

for edition in references stubs; do
  echo "mark references: grader mark --all on the $edition"
  status=0
  bin/grader mark --submission "$tmp/$edition" --all --format json -o "$tmp/$edition.json" >"$tmp/$edition.out" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { tail -20 "$tmp/$edition.out" | sed 's/^/  | /' >&2; fail "$edition: grader mark exited $status"; }
  python3 - "$tmp/$edition.json" "$edition" "$(find exercises -mindepth 1 -maxdepth 1 -type d | wc -l)" <<'PY' || fail "$edition (above)"
import json, sys
path, edition, tasks = sys.argv[1], sys.argv[2], int(sys.argv[3])
marks = json.load(open(path))
problems = []
for t in marks["tasks"]:
    v = t["verdict"]
    # a bonus criterion (task 17's) scores above max_score
    full = t["score"] >= t["max_score"] > 0
    if (edition == "references" and not full) or (edition == "stubs" and t["score"] != 0):
        want = "full marks" if edition == "references" else "none"
        problems.append(f"{v['task']} scored {t['score']} of {t['max_score']}, not {want} ({v['outcome']}: {v['detail'][:200]})")
        for c in (c for cr in v["criteria"] for c in cr["tests"]):
            if (c["status"] == "passed") != (edition == "references"):
                problems.append(f"  {c['name']}: {c['status']} {c.get('message', '')[:300]}")
    if edition == "references" and "processes: at most" not in v["sandbox"]:
        problems.append(f"{v['task']}: not under the marking's process limit: {v['sandbox']}")
if len(marks["tasks"]) != tasks:
    problems.append(f"{len(marks['tasks'])} tasks marked, of the {tasks} in exercises/")
if problems:
    print("\n".join("  " + p for p in problems), file=sys.stderr)
    sys.exit(1)
print(f"  {len(marks['tasks'])} tasks, {marks['score']} of {marks['max_score']}")
PY
done
echo "mark references: every task's reference scores full marks and every stub none"
