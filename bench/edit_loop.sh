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
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_need jq:jq clang++:clang g++:g++
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

median() { printf '%.2f' "$(bench_median)"; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

# Where each loop's time goes: the grader's own account (--json: the build
# and the test run), and, inside the build, Ninja's log of the steps it ran
# (compiles of the student's file, links and other steps; summed step time,
# which exceeds the build's wall time when two steps run at once). The rest
# is bin/grader's wrapper (the package check, the grader's own up-to-date
# build) and the grader's start and report.
ninja_log=build/dev/.ninja_log
steps_since() { # LINE: "compile-s link-s other-s what-compiled" of the log's lines after LINE
  tail -n +"$(( $1 + 1 ))" "$ninja_log" | awk '!/^#/ {
      d = ($2 - $1) / 1000
      if ($4 ~ /\.o$/) { c += d; n = $4; sub(/^CMakeFiles\//, "", n); sub(/\.dir\/.*/, "", n); names = names " " n }
      else if ($4 ~ /\.(a|so)$/) o += d; else l += d }
    END { printf "%.2f %.2f %.2f%s\n", c, l, o, names }'
}
breakdown=()
loop=()
for i in $(seq "$runs"); do
  # A real code change (a comment would be a ccache hit).
  echo "namespace { [[maybe_unused]] int bench_edit_${i}_$RANDOM = $i; }" >> "$edited"
  before=$(wc -l <"$ninja_log")
  start=$(now)
  bin/grader "$task" --json >"$tmp/verdict.json" || true
  total=$(sub "$(now)" "$start")
  loop+=("$total")
  read -r build tests < <(jq -r '"\(.build_seconds) \(.run_seconds)"' "$tmp/verdict.json")
  read -r compile link other names < <(steps_since "$before")
  breakdown+=("$total $build $tests $compile $link $other")
  echo "run $i: ${total} s = build ${build} s (compiles ${compile} s:${names}; links ${link} s; archives ${other} s) + tests ${tests} s + the rest" >&2
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
# Each run's loop against the header-only compile of the same index.
ratios() { paste -d' ' <(printf '%s\n' "${loop[@]}") <(printf '%s\n' "$@") | bench_awk '{ l = l " " $1 / $2 } END { print spread(l, "%.2f") }'; }
echo "ratio edit-to-verdict / header-only clang++ compile, median (min–max): $(ratios "${clang_ho[@]}")"
echo "ratio edit-to-verdict / header-only g++ compile, median (min–max):     $(ratios "${gcc_ho[@]}")"
printf '%s\n' "${breakdown[@]}" | bench_awk '{ for (c = 1; c <= 6; c++) col[c] = col[c] " " $c }
  END { printf "where the loop goes, medians: build %.2f s (compiles %.2f s, links %.2f s, archives %.2f s, summed step time), tests %.2f s, the rest %.2f s (of %.2f s)\n",
          median(col[2]), median(col[4]), median(col[5]), median(col[6]), median(col[3]), median(col[1]) - median(col[2]) - median(col[3]), median(col[1]) }'
# One row per task for bench/plot_edit_loop.sh (bench/run edit-loop draws it).
mkdir -p "$root/build/release/bench/edit-loop"
echo "$task $m_loop $m_clang $m_gcc" >>"$root/build/release/bench/edit-loop/rows.txt"
