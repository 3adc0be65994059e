#!/usr/bin/env bash
# Figure 3, cold start: a fresh clone of HEAD to the first `bin/grader
# task-01` verdict (packages already installed), then the whole
# `bin/grader selftest`, and where the build's time went.
#
#   bench/cold_start.sh [clone-dir]      (default: a new directory under /tmp)
#
# ccache is part of the machine: run it once with a cold cache
# (CCACHE_DISABLE=1 in the environment, or `ccache -C` first) and once
# warm to see both. Prints both wall times, then the ten longest build
# steps and the build's total step time by kind (compile, link, precompiled
# header) from build/dev/.ninja_log, which Ninja writes as it builds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-$(mktemp -d /tmp/workbook-cold.XXXXXX)/wb}
git clone -q "$root" "$dir"
cd "$dir"

start=$SECONDS
bin/grader task-01 >task-01.log 2>&1 || true   # the stub fails: that is the verdict
first=$((SECONDS - start))
start=$SECONDS
status=0
bin/grader selftest >selftest.log 2>&1 || status=$?
whole=$((SECONDS - start))

printf 'fresh clone to the first verdict (bin/grader task-01): %d s\n' "$first"
printf 'bin/grader selftest after it: %d s (exit %d; its log: %s/selftest.log)\n\n' "$whole" "$status" "$dir"
echo "the ten longest build steps (s):"
awk 'NR > 1 { t = ($2 - $1) / 1000; printf "%8.1f  %s\n", t, $4 }' build/dev/.ninja_log | sort -rn | sed -n 1,10p   # sed reads to the end: no SIGPIPE for pipefail
echo
echo "total step time by kind (s; two cores run two steps at once):"
awk 'NR > 1 { t = ($2 - $1) / 1000
              kind = ($4 ~ /\.pch$|cmake_pch/) ? "precompiled headers" : ($4 ~ /\.o$/) ? "compiles" : "links and the rest"
              sum[kind] += t; n[kind]++ }
     END { for (k in sum) printf "%8.1f  %s (%d steps)\n", sum[k], k, n[k] }' build/dev/.ninja_log
