#!/usr/bin/env bash
# Draws figure 2 from the rows bench/edit_loop.sh appends ("task loop clang
# gcc", seconds): per task, the edit-to-verdict loop beside the same file
# compiled header-only with clang++ and g++.
#
#   bench/plot_edit_loop.sh [rows] [png]
#     (default build/release/bench/edit-loop/rows.txt and edit-loop.png beside it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-$root/build/release/bench/edit-loop/rows.txt}
png=${2:-$(dirname "$rows")/edit-loop.png}
[ -s "$rows" ] || { echo "plot_edit_loop.sh: no rows in $rows (run bench/run edit-loop)" >&2; exit 2; }
gnuplot <<PLOT
set terminal pngcairo size 800,440 noenhanced
set output "$png"
set title "Edit to verdict, and the same file compiled header-only (median, s)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "seconds"
set yrange [0:*]
set key below
plot "$rows" using 2:xtic(1) title "bin/grader task-NN after the edit", "" using 3 title "header-only clang++ -O0 -g", "" using 4 title "header-only g++ -O0 -g"
PLOT
echo "$png"
