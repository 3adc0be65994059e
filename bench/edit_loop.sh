#!/usr/bin/env bash
# Edit-to-verdict speed: how long from saving a one-line change in task 01's
# source to the grader's verdict, against the peer it replaces: the same TU
# compiled header-only (no separate compilation, no precompiled header).
#
#   bench/edit_loop.sh [runs]        (default 5; prints medians)
#
# Works in a throw-away clone of HEAD with the reference copied over the
# stub (a realistic, complete server), so your own work is never touched.
set -euo pipefail
runs=${1:-5}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d /tmp/workbook-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

git clone -q "$root" "$tmp/wb"
cd "$tmp/wb"
cp solutions/task-01/hello_server.cpp exercises/task-01/hello_server.cpp
echo "warming up: first build of task 01 (not timed)…" >&2
bin/grader task-01 >/dev/null

median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m}'; }
now() { date +%s.%N; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }

loop=()
for i in $(seq "$runs"); do
  # A real code change (a comment would be a ccache hit).
  echo "namespace { [[maybe_unused]] int bench_edit_${i}_$RANDOM = $i; }" >> exercises/task-01/hello_server.cpp
  start=$(now)
  bin/grader task-01 >/dev/null
  loop+=("$(sub "$(now)" "$start")")
done

cmd() { # compile the TU header-only with compiler $1
  "$1" -std=c++20 -O0 -g -Iexercises/task-01 -c exercises/task-01/hello_server.cpp -o "$tmp/h.o"
}
clang_ho=(); gcc_ho=()
for i in $(seq "$runs"); do
  s=$(now); cmd clang++; clang_ho+=("$(sub "$(now)" "$s")")
  s=$(now); cmd g++; gcc_ho+=("$(sub "$(now)" "$s")")
done

m_loop=$(printf '%s\n' "${loop[@]}" | median)
m_clang=$(printf '%s\n' "${clang_ho[@]}" | median)
m_gcc=$(printf '%s\n' "${gcc_ho[@]}" | median)
echo "edit-to-verdict, bin/grader task-01 after a one-line change (median of $runs): ${m_loop} s   [${loop[*]}]"
echo "the same TU compiled header-only, clang++ -O0 -g (median of $runs):          ${m_clang} s"
echo "the same TU compiled header-only, g++ -O0 -g (median of $runs):              ${m_gcc} s"
echo "ratio edit-to-verdict / header-only g++ compile: $(awk -v a="$m_loop" -v b="$m_gcc" 'BEGIN { printf "%.2f", a / b }')"
