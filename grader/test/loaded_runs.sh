#!/usr/bin/env bash
# No flakes, proven: every reference suite passes N times in a row, and every
# untouched stub fails the same way N times in a row (the same test cases,
# with the same outcome), while another build keeps both cores busy.
#
#   grader/test/loaded_runs.sh [runs] [task-NN ...]     (default 20, every task)
#
# The load is a real build: a cold build of the workbook (ccache off) in a
# scratch clone with -j<cores>, restarted whenever it ends, so the machine
# is loaded for the whole measurement. Prints one line per task and ends
# with "N passed, M failed"; exits non-zero on any disagreement.
set -euo pipefail
runs=${1:-20}
shift || true
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
grader=(bin/grader)

tasks=("$@")
if [ ${#tasks[@]} -eq 0 ]; then
  mapfile -t tasks < <(find exercises -maxdepth 1 -name 'task-*' -printf '%f\n' | sort)
fi

# Build first, unloaded, so the runs measure tests, not compiles.
"${grader[@]}" list >/dev/null
flock build/dev/.grader-build.lock cmake --build build/dev >/dev/null

load_dir=$(mktemp -d "${TMPDIR:-/tmp}/workbook-load.XXXXXX")
git clone -q "$root" "$load_dir/wb"
(
  cd "$load_dir/wb"
  cmake --preset release -DCMAKE_CXX_COMPILER_LAUNCHER= >/dev/null
  while true; do
    CCACHE_DISABLE=1 cmake --build build/release -j"$(nproc)" >/dev/null 2>&1 || true
    cmake --build build/release --target clean >/dev/null 2>&1 || true
  done
) &
load_pid=$!
cleanup() {
  kill -- -"$load_pid" 2>/dev/null || kill "$load_pid" 2>/dev/null || true
  pkill -f "$load_dir" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$load_dir"
}
trap cleanup EXIT
sleep 5   # let the load build reach its compile steps
echo "load: a cold release build (ccache off) with -j$(nproc), restarted as it ends; load average now $(cut -d' ' -f1 /proc/loadavg)"

# One run's outcome: every test case and its status, from the grader's JSON.
signature() {
  python3 -c '
import json, sys
v = json.load(sys.stdin)
for c in v.get("criteria", []):
    for t in c.get("tests", []):
        print(c["id"], t.get("status"), t.get("name"))
print("outcome", v.get("outcome"), "passed", v.get("passed"))
'
}

passed=0 failed=0
for task in "${tasks[@]}"; do
  ref_fail=0
  stub_first="" stub_diff=0
  start=$SECONDS
  for i in $(seq "$runs"); do
    if ! "${grader[@]}" "$task" --reference --json >"$load_dir/ref.json" 2>/dev/null; then
      ref_fail=$((ref_fail + 1))
      signature <"$load_dir/ref.json" | grep -v ' passed ' | head -5 | sed "s/^/      run $i: /" || true
    fi
    "${grader[@]}" "$task" --json 2>/dev/null | signature >"$load_dir/stub.sig" || true
    if [ -z "$stub_first" ]; then
      stub_first=$(cat "$load_dir/stub.sig")
    elif [ "$(cat "$load_dir/stub.sig")" != "$stub_first" ]; then
      stub_diff=$((stub_diff + 1))
      diff <(echo "$stub_first") "$load_dir/stub.sig" | head -5 | sed 's/^/      /'
    fi
  done
  load=$(cut -d' ' -f1 /proc/loadavg)
  if [ "$ref_fail" -eq 0 ] && [ "$stub_diff" -eq 0 ]; then
    passed=$((passed + 1))
    echo "  ✓ $task: reference $runs/$runs passed, stub failed the same way $runs times ($((SECONDS - start)) s, load $load)"
  else
    failed=$((failed + 1))
    echo "  ✗ $task: reference failed $ref_fail/$runs, stub differed $stub_diff/$runs ($((SECONDS - start)) s, load $load)"
  fi
done
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
