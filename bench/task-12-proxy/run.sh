#!/usr/bin/env bash
# Figure 4: task 12's reference proxy relaying a 100 MiB body each way,
# against nginx (one worker, streaming: nginx.conf) and Go's
# httputil.ReverseProxy (peer.go), in one run.
#
#   bench/task-12-proxy/run.sh [MiB] [rounds]      (default 100 5)
#
# The proxy runs pinned to core 0; the backend (backend.go) and curl share
# core 1. Each round, in an order that rotates, every proxy relays GET
# /api/big (MiB mebibytes from the backend) and POST /api/sink (MiB
# mebibytes to it); curl reports the rate. Prints, per proxy, the median
# MiB/s each way with min-max and its peak resident memory (VmHWM), then
# the reference's ratios; keeps the raw rows in build/release/bench/.
# Installs what it lacks from Debian when run as root (golang-go,
# nginx-light, curl, gnuplot-nox); writes a PNG of the medians (gnuplot).
set -euo pipefail
mib=${1:-100}
rounds=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/release/bench/task-12-proxy"
mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

bench_need go:golang-go nginx:nginx-light curl:curl gnuplot:gnuplot-nox clang++:clang

echo "building the proxies and the backend…" >&2
clang++ -std=c++20 -O2 -DNDEBUG -DBOOST_ASIO_NO_DEPRECATED -pthread -I"$root/exercises/task-12" \
  "$here/proxy_main.cpp" "$root/solutions/task-12/proxy.cpp" -o "$out/reference"
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/go" "$here/peer.go"
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/backend" "$here/backend.go"
head -c "${mib}M" /dev/zero >"$out/upload.bin"

bench_start_server 1 "$out" backend "$out/backend"
backend_pid=$pid backend_port=$port
trap 'kill $backend_pid 2>/dev/null || true' EXIT

start() { # NAME: the proxy pinned to core 0; sets $pid and $port
  if [ "$1" = nginx ]; then bench_start_nginx 0 "$here/nginx.conf" "$out" "s|@BACKEND@|$backend_port|g"
  else bench_start_server 0 "$out" "$1" "$out/$1" "$backend_port"; fi
}

# The worker's memory for nginx (its master only reads the configuration).
peak_kib() { local p=$1; [ "$2" = nginx ] && p=$(pgrep -P "$1" | head -1); awk '/^VmHWM/ { print $2 }' "/proc/$p/status"; }

proxies=(reference nginx go)
: >"$out/rows.txt"
for round in $(seq "$rounds"); do
  for i in "${!proxies[@]}"; do
    name=${proxies[$(( (i + round - 1) % ${#proxies[@]} ))]}
    start "$name"
    down=$(taskset -c 1 curl -s -o /dev/null -w '%{speed_download}' "http://127.0.0.1:$port/api/big?mb=$mib")
    up=$(taskset -c 1 curl -s -o /dev/null -H 'Expect:' -H 'Content-Type: application/octet-stream' -X POST \
      -T "$out/upload.bin" -w '%{speed_upload}' "http://127.0.0.1:$port/api/sink")
    hwm=$(peak_kib "$pid" "$name")
    kill -TERM "$pid"; wait "$pid" 2>/dev/null || true
    echo "$name $round $down $up $hwm" | tee -a "$out/rows.txt" >&2
  done
done

bench_awk -v mib="$mib" '
  { down[$1] = down[$1] " " $3 / 1048576; up[$1] = up[$1] " " $4 / 1048576; if ($5 > hwm[$1]) hwm[$1] = $5
    D[$1, $2] = $3; U[$1, $2] = $4; if ($2 > rounds) rounds = $2 }
  # ratio(peer, column): the reference against the peer, one ratio per round.
  function ratio(peer, column,   r, list) {
    for (r = 1; r <= rounds; r++)
      list = list " " ((column == "down") ? D["reference", r] / D[peer, r] : U["reference", r] / U[peer, r])
    return spread(list, "%.2f")
  }
  END {
    printf "| proxy | %d MiB down, MiB/s median (min–max) | %d MiB up, MiB/s median (min–max) | peak RSS MiB |\n", mib, mib
    print "|---|---|---|---|"
    split("reference nginx go", order, " ")
    for (s = 1; s <= 3; s++) { k = order[s]
      printf "| %s | %s | %s | %.1f |\n", k, spread(down[k], "%.0f"), spread(up[k], "%.0f"), hwm[k] / 1024 }
    print "\n| the reference against, per round: median (min–max) | down | up | peak RSS |"
    print "|---|---|---|---|"
    printf "| nginx | %s | %s | %.2f |\n", ratio("nginx", "down"), ratio("nginx", "up"), hwm["reference"] / hwm["nginx"]
    printf "| Go | %s | %s | %.2f |\n", ratio("go", "down"), ratio("go", "up"), hwm["reference"] / hwm["go"]
  }' "$out/rows.txt" | tee "$out/summary.md"

# The medians as bars: down and up per proxy.
for name in "${proxies[@]}"; do
  printf '%s' "$name"
  for column in 3 4; do
    printf ' %.0f' "$(awk -v n="$name" -v c="$column" '$1 == n { print $c / 1048576 }' "$out/rows.txt" | bench_median)"
  done
  echo
done >"$out/medians.dat"
bench_bars "$out/task-12-proxy.png" "$mib MiB through a reverse proxy (proxy on one core): median MiB/s of $rounds rounds" \
  MiB/s "$out/medians.dat" "2:down (GET, backend to client)" "3:up (POST, client to backend)"
echo "(rows, summary and plot in $out)"
