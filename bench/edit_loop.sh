#!/usr/bin/env bash
# Edit-to-verdict speed: how long from saving a one-line change in a task's
# source (task 01 unless told otherwise) to the grader's verdict, against the
# peer it replaces: the same TU compiled header-only (no separate
# compilation, no precompiled header).
#
#   bench/edit_loop.sh [runs] [task-NN]     (default 5 runs of task-01; prints medians)
#
# Works in a throw-away clone of HEAD with the task's reference copied over
# its stub (a realistic, complete solution), so your own work is never
# touched. EDIT_LOOP_FROM=worktree copies the working tree instead (its
# tracked and untracked files, not build/): for a task not yet committed.
set -euo pipefail
runs=${1:-5}
task=${2:-task-01}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/workbook-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

if [ "${EDIT_LOOP_FROM:-head}" = worktree ]; then
  mkdir -p "$tmp/wb"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$tmp/wb"
  git -C "$tmp/wb" init -q   # the grader and CMake expect a repository
else
  git clone -q "$root" "$tmp/wb"
fi
cd "$tmp/wb"
[ -d "exercises/$task" ] && [ -d "solutions/$task" ] ||
  { echo "edit_loop: no exercises/$task and solutions/$task here (not committed? try EDIT_LOOP_FROM=worktree)" >&2; exit 2; }
for f in solutions/"$task"/*.cpp; do cp "$f" "exercises/$task/$(basename "$f")"; done
edited=$(ls solutions/"$task"/*.cpp | head -1)
edited="exercises/$task/$(basename "$edited")"
echo "warming up: first build of $task (not timed)…" >&2
bin/grader "$task" >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

loop=()
for i in $(seq "$runs"); do
  # A real code change (a comment would be a ccache hit).
  echo "namespace { [[maybe_unused]] int bench_edit_${i}_$RANDOM = $i; }" >> "$edited"
  start=$(now)
  bin/grader "$task" >/dev/null
  loop+=("$(sub "$(now)" "$start")")
done

cmd() { # compile the TU header-only with compiler $1
  "$1" -std=c++20 -O0 -g -I"exercises/$task" -Iharness/include -c "$edited" -o "$tmp/h.o"
}
clang_ho=(); gcc_ho=()
for i in $(seq "$runs"); do
  s=$(now); cmd clang++; clang_ho+=("$(sub "$(now)" "$s")")
  s=$(now); cmd g++; gcc_ho+=("$(sub "$(now)" "$s")")
done

m_loop=$(printf '%s\n' "${loop[@]}" | median)
m_clang=$(printf '%s\n' "${clang_ho[@]}" | median)
m_gcc=$(printf '%s\n' "${gcc_ho[@]}" | median)
echo "edit-to-verdict, bin/grader $task after a one-line change (median of $runs): ${m_loop} s   [${loop[*]}]"
echo "the same TU compiled header-only, clang++ -O0 -g (median of $runs):          ${m_clang} s"
echo "the same TU compiled header-only, g++ -O0 -g (median of $runs):              ${m_gcc} s"
echo "ratio edit-to-verdict / header-only g++ compile: $(awk -v a="$m_loop" -v b="$m_gcc" 'BEGIN { printf "%.2f", a / b }')"
echo "ratio edit-to-verdict / header-only clang++ compile: $(awk -v a="$m_loop" -v b="$m_clang" 'BEGIN { printf "%.2f", a / b }')"
# One row per task for bench/plot_edit_loop.sh (bench/run edit-loop draws it).
mkdir -p "$root/build/release/bench/edit-loop"
echo "$task $m_loop $m_clang $m_gcc" >>"$root/build/release/bench/edit-loop/rows.txt"
