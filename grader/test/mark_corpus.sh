#!/usr/bin/env bash
# grader mark against submissions whose marks are known: task 07's reference
# (full marks), its untouched stub (none), and one submission for each way a
# student's code can misbehave (mark-corpus/misbehaving_middleware.cpp, one
# #define each), every one beside task 01's reference, which must keep its
# full marks: the marker survives the bad task and goes on. Each results
# file must be well formed, with a message for every case that did not pass.
# Marks in this tree's own workspace (build/mark), so it is quick once built.
#
#   grader/test/mark_corpus.sh        (about four minutes once built)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
corpus="$src/grader/test/mark-corpus/misbehaving_middleware.cpp"
tmp=$(mktemp -d /var/tmp/workbook-mark-corpus.XXXXXX)   # not below /tmp: the sandbox has its own
trap 'rm -rf "$tmp"' EXIT
cd "$src"

fail() { echo "mark corpus: FAILED: $*" >&2; exit 1; }
git clone -q --no-local "$src" "$tmp/sub"
cp solutions/task-01/*.cpp "$tmp/sub/exercises/task-01/"
stub07="$tmp/sub/exercises/task-07/middleware.cpp"
cp "$stub07" "$tmp/stub07.cpp"

# what the submission's task 07 is | its outcome | its verdict mentions | must not mention
cases=(
  "reference|graded||"
  "stub|graded||"
  "includes_the_reference|did_not_compile|solutions/task-07/middleware.cpp|"
  "embeds_the_references|did_not_compile|solutions/task-07/middleware.cpp|"
  "includes_the_trusted_reference|did_not_compile|solutions/task-07/middleware.cpp|"
  "does_not_compile|did_not_compile|error|"
  "segfault|graded|crashed with SIGSEGV|"
  "aborts|graded|crashed with SIGABRT|"
  "spins|graded|timed out|"
  "binds_8080_and_waits|graded|timed out|"
  "allocates_without_bound|graded|bad_alloc|"
  "leaves_a_child|graded||"
  "forks_repeatedly|graded|timed out|"
  "floods_stdout|graded||"
  "fakes_results|graded||"
  "edits_the_tests|graded||"
  "reads_the_references|graded||SIGABRT"
  "reads_the_trusted_references|graded||SIGABRT"
  "sleeps_in_static_init|did_not_run|more than 10 s|"
)
for entry in "${cases[@]}"; do
  IFS='|' read -r way outcome mentions must_not <<<"$entry"
  case $way in
    reference) cp solutions/task-07/middleware.cpp "$stub07" ;;
    stub) cp "$tmp/stub07.cpp" "$stub07" ;;
    includes_the_reference) printf '#include "../../solutions/task-07/middleware.cpp"\n' >"$stub07" ;;
    # the trusted tree's, around the workspace (build/mark/tree)
    includes_the_trusted_reference) printf '#include "../../../../../solutions/task-07/middleware.cpp"\n' >"$stub07" ;;
    *) { echo "#define MISBEHAVE_$way"; cat "$corpus"; } >"$stub07" ;;
  esac
  echo "mark corpus: $way"
  status=0
  bin/grader mark --submission "$tmp/sub" task-01 task-07 --format json -o "$tmp/$way.json" >"$tmp/$way.out" 2>&1 || status=$?
  [ "$status" -eq 0 ] || { sed 's/^/  | /' "$tmp/$way.out" | tail -20 >&2; fail "$way: grader mark exited $status"; }
  python3 - "$tmp/$way.json" "$way" "$outcome" "$mentions" "$must_not" <<'PY' || fail "$way (above)"
import json, sys
path, way, outcome, mentions, must_not = sys.argv[1:]
marks = json.load(open(path))
tasks = {t["verdict"]["task"]: t for t in marks["tasks"]}
problems = []
one, seven = tasks["task-01"], tasks["task-07"]
if one["score"] != one["max_score"]:
    problems.append(f"task 01's reference lost marks beside it: {one['score']}/{one['max_score']}")
v = seven["verdict"]
want = seven["max_score"] if way == "reference" else 0
if seven["score"] != want:
    problems.append(f"task 07 scored {seven['score']}, not {want}")
if v["outcome"] != outcome:
    problems.append(f"task 07's outcome is {v['outcome']}, not {outcome}: {v['detail'][:300]}")
text = json.dumps(v)
if mentions and mentions not in text:
    problems.append(f"task 07's verdict does not mention '{mentions}'")
if must_not and must_not in text:
    problems.append(f"task 07's verdict mentions '{must_not}'")
if v["outcome"] != "graded" and not v["detail"].strip():
    problems.append("an error without a message")
for c in (c for cr in v["criteria"] for c in cr["tests"]):
    if c["status"] != "passed" and not c.get("message", "").strip():
        problems.append(f"case '{c['name']}' is {c['status']} without a message")
if v["outcome"] == "graded" and "bubblewrap: its own processes" not in v["sandbox"]:
    problems.append(f"not confined by bubblewrap: {v['sandbox']}")
if v["outcome"] == "graded" and "processes: at most" not in v["sandbox"]:
    problems.append(f"its processes were not limited: {v['sandbox']}")
if problems:
    print("\n".join("  " + p for p in problems), file=sys.stderr)
    sys.exit(1)
PY
  case $way in
    leaves_a_child) ! pgrep -f "sleep 601" >/dev/null || fail "leaves_a_child: its child outlived the marking" ;;
    forks_repeatedly) # a run's own user is 2000000000 and up. The kernel ends what is left in a killed
      # run's namespace after the run itself has ended: give it 10 s, then none may be left.
      for _ in $(seq 50); do
        survivors=$(ps -eo uid= | awk '$1 >= 2000000000' | wc -l)
        [ "$survivors" -eq 0 ] && break
        sleep 0.2
      done
      [ "$survivors" -eq 0 ] || fail "forks_repeatedly: $survivors of its processes outlived the marking" ;;
    edits_the_tests) diff -r exercises/task-07/test build/mark/tree/exercises/task-07/test >/dev/null ||
      fail "edits_the_tests: the workspace's tests changed" ;;
  esac
done
echo "mark corpus: ${#cases[@]} submissions marked as they should be"
