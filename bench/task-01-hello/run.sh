#!/usr/bin/env bash
# Figure 1: task 01's reference server against the peers it should be level
# with, in one run: a minimal Beast server (minimal_beast.cpp), nginx (one
# worker, nginx.conf) and Go's net/http (peer.go, GOMAXPROCS=1). The same
# response everywhere, "hello\n" as text/plain on GET /.
#
#   bench/task-01-hello/run.sh [seconds] [rounds]      (default 8 3)
#
# The server runs pinned to core 0 and wrk (one thread) to core 1; each
# round measures every server at 50 and at 1,000 keep-alive connections, in
# an order that rotates from round to round, after a one-second warm-up.
# Prints, per server and load, the median requests/s and p99 with their
# min-max over the rounds, then the reference's ratio to each peer in each
# round, as median (min-max); writes
# the raw rows and a PNG (gnuplot) to build/release/bench/task-01-hello/.
# Installs what it lacks from Debian when run as root (wrk, golang-go,
# nginx-light, gnuplot-nox).
set -euo pipefail
seconds=${1:-8}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/release/bench/task-01-hello"
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

bench_need wrk:wrk go:golang-go nginx:nginx-light gnuplot:gnuplot-nox clang++:clang
(( $(nproc) >= 2 )) || { echo "run.sh: needs two cores (server on one, wrk on the other)" >&2; exit 2; }

echo "building the servers (clang++ -O2, Asio header-only; go build)…" >&2
cxx=(clang++ -std=c++20 -O2 -DNDEBUG -DBOOST_ASIO_NO_DEPRECATED -pthread)
"${cxx[@]}" -I"$root/exercises/task-01" "$here/reference_main.cpp" "$root/solutions/task-01/hello_server.cpp" \
  -o "$out/reference"
"${cxx[@]}" "$here/minimal_beast.cpp" -o "$out/minimal-beast"
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/go" "$here/peer.go"

# start NAME: starts the server pinned to core 0; sets $pid and $port.
start() {
  if [ "$1" = nginx ]; then bench_start_nginx 0 "$here/nginx.conf" "$out"
  else GOMAXPROCS=1 bench_start_server 0 "$out" "$1" "$out/$1"; fi
}

# load CONNECTIONS SECONDS: wrk from core 1; prints "requests/s p99-ms".
load() {
  taskset -c 1 wrk -t1 -c"$1" -d"$2s" --latency "http://127.0.0.1:$port/" | bench_awk '
    /^ +99%/ { p99 = wrk_ms($2) } /^Requests\/sec:/ { rps = $2 }
    /Non-2xx|Socket errors/ { bad = bad $0 " " }
    END { if (bad != "") print "run.sh: " bad > "/dev/stderr"; printf "%.0f %.2f\n", rps, p99 }'
}

servers=(reference minimal-beast nginx go)
: >"$out/rows.txt"
for round in $(seq "$rounds"); do
  for i in "${!servers[@]}"; do
    name=${servers[$(( (i + round - 1) % ${#servers[@]} ))]}
    for connections in 50 1000; do
      start "$name"
      load "$connections" 1 >/dev/null   # warm-up
      read -r rps p99 < <(load "$connections" "$seconds")
      kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
      echo "$name $connections $round $rps $p99" | tee -a "$out/rows.txt" >&2
    done
  done
done

summary=$(bench_awk '
  { key = $1 " " $2; rps[key] = rps[key] " " $4; p99[key] = p99[key] " " $5; R[key, $3] = $4; P[key, $3] = $5
    if ($3 > rounds) rounds = $3 }
  # ratio(peer, c, what): the reference against the peer, one ratio per round.
  function ratio(peer, c, what,   r, list, a, b) {
    for (r = 1; r <= rounds; r++) {
      a = (what == "p99") ? P["reference " c, r] : R["reference " c, r]
      b = (what == "p99") ? P[peer " " c, r] : R[peer " " c, r]
      if (b > 0) list = list " " a / b
    }
    return spread(list, "%.2f")
  }
  END {
    print "| server | connections | requests/s median (min–max) | p99 ms median (min–max) |"
    print "|---|---|---|---|"
    split("reference minimal-beast nginx go", order, " ")
    for (c = 50; c <= 1000; c += 950) for (s = 1; s <= 4; s++) {
      key = order[s] " " c; if (!(key in rps)) continue
      printf "| %s | %d | %s | %s |\n", order[s], c, spread(rps[key], "%.0f"), spread(p99[key], "%.2f") }
    print ""
    print "| the reference against, per round: median (min–max) | 50 connections | 1,000 connections | target |"
    print "|---|---|---|---|"
    printf "| nginx, requests/s | %s | %s | ≥ 1 |\n", ratio("nginx", 50, "rps"), ratio("nginx", 1000, "rps")
    printf "| nginx, p99 | %s | %s | ≤ 1 |\n", ratio("nginx", 50, "p99"), ratio("nginx", 1000, "p99")
    printf "| Go, requests/s | %s | %s | ≥ 1.3 |\n", ratio("go", 50, "rps"), ratio("go", 1000, "rps")
    printf "| the minimal Beast server, requests/s | %s | %s | ≥ 0.95 |\n", ratio("minimal-beast", 50, "rps"), ratio("minimal-beast", 1000, "rps")
  }' "$out/rows.txt")
echo "$summary"
echo "$summary" >"$out/summary.md"

# The medians as bars, one group per load.
for name in "${servers[@]}"; do
  printf '%s' "$name"
  for connections in 50 1000; do
    printf ' %.0f' "$(awk -v n="$name" -v c="$connections" '$1 == n && $2 == c { print $4 }' "$out/rows.txt" | bench_median)"
  done
  echo
done >"$out/medians.dat"
bench_bars "$out/task-01-hello.png" "GET / -> hello (one core each for server and wrk): median requests/s of $rounds rounds" \
  requests/s "$out/medians.dat" "2:50 connections" "3:1,000 connections"
echo "(rows, summary and plot in $out)"
