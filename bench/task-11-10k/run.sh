#!/usr/bin/env bash
# Task 11's benchmark: 10,000 concurrent keep-alive connections against the
# reference server, and the same load against a Go net/http server of the
# same shape (peer.go) in the same run, so that the figures are read as a
# ratio on whatever machine runs it.
#
#   bench/task-11-10k/run.sh [connections] [seconds]     (default 10000 30)
#
# The load comes from wrk (Debian's wrk), another process: 2 threads, each
# connection sending a request every 1-3 s (pace.lua), latency measured per
# request. Per server it prints requests/s, p50, p99, socket errors, non-2xx
# answers and the server's peak resident memory (VmHWM), then the ratios.
# Draws the ratios with gnuplot (task-11-10k.png). Installs what it lacks
# from Debian when run as root (wrk, golang-go, gnuplot-nox); builds the
# reference in build/release.
set -euo pipefail
connections=${1:-10000}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/release/bench/task-11-10k"

mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_need wrk:wrk go:golang-go gnuplot:gnuplot-nox

echo "building the reference's serve tool (release) and the Go peer…" >&2
cmake --preset release >/dev/null
flock "$root/build/release/.grader-build.lock" \
  cmake --build --preset release --target task-11-reference-serve >/dev/null
beast="$root/build/release/tasks/task-11/task-11-reference-serve"
# Standard library only: no module, no download.
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/peer" "$here/peer.go"

# Both servers and wrk need a descriptor per connection, and more.
ulimit -n "$(ulimit -Hn)"
if (( $(ulimit -n) < connections + 100 )); then
  echo "run.sh: the open-files limit is $(ulimit -n); $connections connections need more (raise the hard limit)" >&2
  exit 2
fi

# measure NAME COMMAND...: start the server, load it, print one table row.
measure() {
  local name=$1; shift
  "$@" >"$out/$name.out" 2>"$out/$name.err" &
  local pid=$!
  local port
  port=$(bench_listening_port "$out/$name.out") || { cat "$out/$name.err" >&2; kill "$pid"; exit 1; }
  wrk -t2 -c"$connections" -d"${seconds}s" --latency --timeout 2s -s "$here/pace.lua" \
    "http://127.0.0.1:$port/" >"$out/$name.wrk" 2>&1
  local hwm
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  awk -v name="$name" -v hwm_kb="$hwm" -v conns="$connections" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    END { printf "%s %d %.0f %.2f %.2f %d %d %.1f\n", name, conns, rps, p50, p99, errors + 0, non2xx + 0, hwm_kb / 1024 }
  ' "$out/$name.wrk"
}

rows=$( measure beast "$beast" --port 0; measure go "$out/peer" -port 0 )
echo "$rows" | awk '
  BEGIN { print "| server | connections | requests/s | p50 ms | p99 ms | socket errors | non-2xx | peak RSS MiB |";
          print "|---|---|---|---|---|---|---|---|" }
  { printf "| %s | %d | %d | %.2f | %.2f | %d | %d | %.1f |\n", $1, $2, $3, $4, $5, $6, $7, $8;
    rps[$1] = $3; p99[$1] = $5; rss[$1] = $8 }
  END { printf "\nbeast/go: requests/s %.2f, p99 %.2f, peak RSS %.2f\n", rps["beast"] / rps["go"], p99["beast"] / p99["go"], rss["beast"] / rss["go"] }'
# The figure: each measure as a ratio to Go's (Go = 1).
echo "$rows" | awk '{ rps[$1] = $3; p99[$1] = $5; rss[$1] = $8 }
  END { printf "requests/s %.3f 1\np99 %.3f 1\n\"peak RSS\" %.3f 1\n", rps["beast"] / rps["go"], p99["beast"] / p99["go"], rss["beast"] / rss["go"] }' \
  >"$out/ratios.dat"
bench_bars "$out/task-11-10k.png" "$connections keep-alive connections, one request each every 1-3 s: the reference against Go (Go = 1)" \
  "ratio to Go" "$out/ratios.dat" "2:Beast reference" "3:Go net/http"
echo "(wrk output and the plot kept in $out)"
