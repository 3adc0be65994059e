#!/usr/bin/env bash
# Draws figure 2 from the rows bench/edit_loop.sh appends ("task loop clang
# gcc", seconds): per task, the edit-to-verdict loop beside the same file
# compiled header-only with clang++ and g++.
#
#   bench/plot_edit_loop.sh [rows] [png]
#     (default build/release/bench/edit-loop/rows.txt and edit-loop.png beside it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
rows=${1:-$root/build/release/bench/edit-loop/rows.txt}
png=${2:-$(dirname "$rows")/edit-loop.png}
[ -s "$rows" ] || { echo "plot_edit_loop.sh: no rows in $rows (run bench/run edit-loop)" >&2; exit 2; }
bench_bars "$png" "Edit to verdict, and the same file compiled header-only (median, s)" seconds "$rows" \
  "2:bin/grader task-NN after the edit" "3:header-only clang++ -O0 -g" "4:header-only g++ -O0 -g"
echo "$png"
