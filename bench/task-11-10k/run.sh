#!/usr/bin/env bash
# Task 11's benchmark: 10,000 concurrent keep-alive connections against the
# reference server, and the same load against a Go net/http server of the
# same shape (peer.go) in the same run, so that the figures are read as a
# ratio on whatever machine runs it.
#
#   bench/task-11-10k/run.sh [connections] [seconds] [rounds]     (default 10000 30 3)
#
# The load comes from wrk (Debian's wrk), another process: 2 threads, each
# connection sending a request every 1-3 s (pace.lua), latency measured per
# request. Each round loads both servers, in an order that alternates from
# round to round. Per server it prints requests/s, p50, p99 and peak resident
# memory (VmHWM) as median (min-max) over the rounds, with the socket errors
# and non-2xx answers summed; then the ratios beast/go of each round, as
# median (min-max). Draws the median ratios with gnuplot (task-11-10k.png).
# Installs what it lacks from Debian when run as root (wrk, golang-go,
# gnuplot-nox); builds the reference in build/release.
set -euo pipefail
connections=${1:-10000}
seconds=${2:-30}
rounds=${3:-3}
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

# measure NAME ROUND COMMAND...: start the server, load it, print one row:
# name round requests/s p50 p99 socket-errors non-2xx peak-RSS-MiB.
measure() {
  local name=$1 round=$2; shift 2
  "$@" >"$out/$name.out" 2>"$out/$name.err" &
  local pid=$!
  local port
  port=$(bench_listening_port "$out/$name.out") || { cat "$out/$name.err" >&2; kill "$pid"; exit 1; }
  wrk -t2 -c"$connections" -d"${seconds}s" --latency --timeout 2s -s "$here/pace.lua" \
    "http://127.0.0.1:$port/" >"$out/$name.round$round.wrk" 2>&1
  local hwm
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  bench_awk -v name="$name" -v round="$round" -v hwm_kb="$hwm" '
    /^ +50%/ { p50 = wrk_ms($2) } /^ +99%/ { p99 = wrk_ms($2) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); errors = $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { non2xx = $5 }
    END { printf "%s %d %.0f %.2f %.2f %d %d %.1f\n", name, round, rps, p50, p99, errors + 0, non2xx + 0, hwm_kb / 1024 }
  ' "$out/$name.round$round.wrk"
}

: >"$out/rows.txt"
for round in $(seq "$rounds"); do
  if (( round % 2 )); then order=(beast go); else order=(go beast); fi
  for name in "${order[@]}"; do
    if [ "$name" = beast ]; then row=$(measure beast "$round" "$beast" --port 0)
    else row=$(measure go "$round" "$out/peer" -port 0); fi
    echo "$row" | tee -a "$out/rows.txt" >&2
  done
done

bench_awk -v conns="$connections" -v figure="$out/ratios.dat" '
  { rps[$1] = rps[$1] " " $3; p50[$1] = p50[$1] " " $4; p99[$1] = p99[$1] " " $5; rss[$1] = rss[$1] " " $8
    errors[$1] += $6; non2xx[$1] += $7; V[$1, $2, "rps"] = $3; V[$1, $2, "p99"] = $5; V[$1, $2, "rss"] = $8
    if ($2 > rounds) rounds = $2 }
  # ratios(what): beast against go, one ratio per round.
  function ratios(what,   r, list) {
    for (r = 1; r <= rounds; r++) if (V["go", r, what] > 0) list = list " " V["beast", r, what] / V["go", r, what]
    return list
  }
  END {
    print "| server | connections | requests/s | p50 ms | p99 ms | socket errors | non-2xx | peak RSS MiB |"
    print "|---|---|---|---|---|---|---|---|"
    split("beast go", order, " ")
    for (s = 1; s <= 2; s++) { k = order[s]
      printf "| %s | %d | %s | %s | %s | %d | %d | %s |\n", k, conns, spread(rps[k], "%.0f"), spread(p50[k], "%.2f"),
        spread(p99[k], "%.2f"), errors[k], non2xx[k], spread(rss[k], "%.1f") }
    printf "\nbeast/go, per round, median (min–max): requests/s %s, p99 %s, peak RSS %s\n",
      spread(ratios("rps"), "%.2f"), spread(ratios("p99"), "%.2f"), spread(ratios("rss"), "%.2f")
    # The figure: the median ratios (Go = 1).
    printf "requests/s %.3f 1\np99 %.3f 1\n\"peak RSS\" %.3f 1\n", median(ratios("rps")), median(ratios("p99")),
      median(ratios("rss")) > figure
  }' "$out/rows.txt" | tee "$out/summary.md"
bench_bars "$out/task-11-10k.png" "$connections keep-alive connections, one request each every 1-3 s: the reference against Go (Go = 1)" \
  "ratio to Go" "$out/ratios.dat" "2:Beast reference" "3:Go net/http"
echo "(wrk output and the plot kept in $out)"
