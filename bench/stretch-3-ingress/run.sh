#!/usr/bin/env bash
# Stretch 3's benchmark: the reference TLS-terminating ingress in front of
# task 20's reference pool, toward the seed's 10,000 tenants at 1,000
# requests/s with a p99 under 100 ms and no failed handshake; and the TLS
# floor (floor.cpp: one certificate, no SNI lookup, no upstream) to divide
# it by, in the same run.
#
#   bench/stretch-3-ingress/run.sh [seconds] [rounds]      (default 10 3)
#
# The ingress (ingress_main.cpp, one io thread) or the floor runs pinned to
# core 0; the load generator (load.cpp: open loop, one thread) and the
# tenants' backend (backend.go: client certificates required, GOMAXPROCS=1)
# share core 1. Each round starts an ingress for 1, 100, 1,000 and 10,000
# tenants, and the floor, in an order that rotates from round to round, and
# runs each one's rows in a rotating order too. Every load run first
# touches each tenant once, so that the pool's upstream handshakes stay out
# of the measurement and each tenant has a session to resume; then it
# offers its rate for `seconds`.
#
# The rows: tenants x {500, 1000} requests/s, K = 10 requests per
# connection, resumption on; at 1,000 tenants and 1,000/s, K = 10 without
# resumption and K = 1 (a handshake per request) without and with; at one
# tenant, the ingress and the floor saturated (at most 64 connections,
# 30,000/s offered with K = 10, 10,000/s with K = 1): there the achieved
# rate is the capacity and the latency is queueing.
#
# Prints the table (medians, min-max over the rounds) and the ratios; keeps
# the raw JSON (rows.jsonl), the rows (rows.txt) and the servers' output
# under build/release/bench/stretch-3-ingress/. PERF=1 adds one saturated
# K = 1 run of the ingress under `perf record -e cpu-clock -g` (not in the
# table) and prints the shares of its samples by library. Installs what it
# lacks from Debian when run as root (golang-go, clang, jq; linux-perf).
set -euo pipefail
seconds=${1:-10}
rounds=${2:-3}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/release/bench/stretch-3-ingress"
mkdir -p "$out/obj"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"

bench_need go:golang-go clang++:clang jq:jq
if [ "${PERF:-0}" = 1 ]; then bench_need perf:linux-perf; fi
(( $(nproc) >= 2 )) || { echo "run.sh: needs two cores (the ingress on one, load and backend on the other)" >&2; exit 2; }
# 10,000 tenants: 10,000 upstream connections in the ingress and the
# backend, and up to 4,096 client connections (--max-conns) on top.
ulimit -n "$(ulimit -Hn)"
(( $(ulimit -n) >= 16384 )) || { echo "run.sh: the open-files limit is $(ulimit -n); 10,000 tenants need 16,384" >&2; exit 2; }

# ---------------------------------------------------------------- build

echo "building the ingress, the floor and the load generator (clang++ -O2, Asio header-only; go build)…" >&2
began=$SECONDS
cxx=(clang++)
command -v ccache >/dev/null && cxx=(ccache clang++)
flags=(-std=c++20 -O2 -DNDEBUG -DBOOST_ASIO_NO_DEPRECATED -pthread -Wall -Wextra -Wpedantic
  -I"$root/harness/include" -I"$root/exercises/stretch-3" -I"$root/exercises/task-20")
# object SOURCE: compiles it (one at a time; ccache makes a rerun cheap) and
# prints the object's path.
object() {
  local o
  o="$out/obj/$(basename "${1%.cpp}").o"
  "${cxx[@]}" "${flags[@]}" -c "$1" -o "$o" >&2
  echo "$o"
}
# The reference reads and writes HTTP through the harness's compiled-once
# helpers (tls_serve for the ingress and the floor, tls_exchange for the pool
# and the load generator); test_ca makes the certificates.
tls_serve=$(object "$root/harness/src/tls_serve.cpp")
tls_exchange=$(object "$root/harness/src/tls_exchange.cpp")
test_ca=$(object "$root/harness/src/test_ca.cpp")
certificates=$(object "$root/solutions/stretch-3/certificates.cpp")
tls=$(object "$root/solutions/stretch-3/tls.cpp")
ingress=$(object "$root/solutions/stretch-3/ingress.cpp")
pool=$(object "$root/solutions/task-20/tenant_pool.cpp")
ingress_main=$(object "$here/ingress_main.cpp")
floor=$(object "$here/floor.cpp")
load=$(object "$here/load.cpp")
make_certs=$(object "$here/make_certs.cpp")
clang++ -pthread "$ingress_main" "$certificates" "$tls" "$ingress" "$pool" "$tls_serve" "$tls_exchange" \
  -lssl -lcrypto -o "$out/ingress"
clang++ -pthread "$floor" "$tls_serve" -lssl -lcrypto -o "$out/floor"
clang++ -pthread "$load" "$make_certs" "$tls_exchange" "$test_ca" -lssl -lcrypto -o "$out/load"
# Standard library only: no module, no download.
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/backend" "$here/backend.go"
echo "built in $((SECONDS - began)) s" >&2

# ---------------------------------------------------------------- certificates

# Made once for the most tenants and kept for half a day (test_ca's
# certificates are valid for one); fewer tenants use the first N pairs.
certs="$out/certs"
if [ -z "$(find "$certs/.complete" -mmin -720 2>/dev/null)" ]; then
  rm -rf "$certs"
  taskset -c 1 "$out/load" --make-certs "$certs" --tenants 10000
  touch "$certs/.complete"
fi

# edge_dir N: a directory of the first N tenants' edge pairs (hard links):
# the ingress loads every pair of the directory it is given.
edge_dir() {
  local n=$1 dir="$certs/edge-$1"
  if [ "$n" = 10000 ]; then echo "$certs/edge"; return; fi
  if [ ! -d "$dir" ]; then
    rm -rf "$dir.tmp"
    mkdir "$dir.tmp"
    for ((i = 0; i < n; i++)); do printf 't%05d.crt\nt%05d.key\n' "$i" "$i"; done |
      (cd "$certs/edge" && xargs cp -l -t "$dir.tmp")
    mv "$dir.tmp" "$dir"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------- servers

GOMAXPROCS=1 bench_start_server 1 "$out" backend "$out/backend" -cert "$certs/pki/backend.crt" \
  -key "$certs/pki/backend.key" -client-ca "$certs/pki/tenants-ca.crt"
backend_pid=$pid backend_port=$port
server_pid=
trap 'kill $backend_pid $server_pid 2>/dev/null || true' EXIT

# start SERVER ROUND: ingress-N (N tenants) or floor, pinned to core 0; sets
# $pid and $port. The ingress loads every certificate before it listens: up
# to two minutes.
start() {
  local began=$SECONDS log="$out/$1.round$2.out" dir
  if [ "$1" = floor ]; then
    taskset -c 0 "$out/floor" "$certs/edge/t00000.crt" "$certs/edge/t00000.key" >"$log" 2>&1 &
  else
    dir=$(edge_dir "${1#ingress-}")
    taskset -c 0 "$out/ingress" --cert-dir "$dir" --tenants "${1#ingress-}" --backend "$backend_port" \
      --pki "$certs/pki" >"$log" 2>&1 &
  fi
  pid=$! server_pid=$!
  port=$(bench_listening_port "$log" 120)
  echo "$1 round $2: listening after $((SECONDS - began)) s" >&2
}

# stop SERVER ROUND: SIGTERM; the ingress prints its own counters as it ends.
stop() {
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  server_pid=
  sed -n "s/^stats /$1 round $2: /p" "$out/$1.round$2.out" >>"$out/ingress-stats.txt"
}

# rows_of SERVER: "RATE K RESUME MAX-CONNS" per row.
rows_of() {
  case $1 in
    ingress-1) printf '%s\n' "500 10 on 4096" "1000 10 on 4096" "30000 10 on 64" "10000 1 off 64" ;;
    ingress-1000) printf '%s\n' "500 10 on 4096" "1000 10 on 4096" "1000 10 off 4096" "1000 1 off 4096" "1000 1 on 4096" ;;
    ingress-*) printf '%s\n' "500 10 on 4096" "1000 10 on 4096" ;;
    floor) printf '%s\n' "30000 10 on 64" "10000 1 off 64" ;;
  esac
}

# measure SERVER ROUND COLD RATE K RESUME MAX-CONNS: one load run against
# $port; appends its JSON to rows.jsonl and its row to rows.txt. COLD: the
# first run since the server started (its warm-up built the pool).
measure() {
  local server=$1 round=$2 cold=$3 rate=$4 k=$5 resume=$6 conns=$7 tenants=1 extra=() json rss began=$SECONDS
  if [ "$server" != floor ]; then
    tenants=${server#ingress-}
    extra+=(--watch "backend=$backend_pid")
  fi
  if [ "$resume" = on ]; then extra+=(--resume); fi
  json=$(taskset -c 1 "$out/load" --port "$port" --ca "$certs/edge-ca.crt" --tenants "$tenants" --rate "$rate" \
    --seconds "$seconds" --k "$k" --max-conns "$conns" --warmup --seed "$round" --watch "server=$pid" "${extra[@]}")
  rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
  jq -c --arg s "$server" --argjson r "$round" --argjson rss "$rss" '. + {server: $s, round: $r, rss_kib: $rss}' \
    <<<"$json" >>"$out/rows.jsonl"
  jq -r --arg s "$server" --argjson r "$round" --argjson rss "$rss" --argjson cold "$cold" \
    --argjson wall $((SECONDS - began)) \
    '[$s, .tenants, .offered, .k, (if .resume then "on" else "off" end), $r, .achieved, .p50_ms, .p99_ms,
      .p999_ms, .full_hs_per_s, .resumed_hs_per_s, .hs_failures, .wrong_certificates, .failed, .unfinished,
      .cpu_s.server, (.cpu_s.backend // 0), .cpu_s.client, ($rss / 1024), .warmup_s, .warmup_failures, $cold,
      $wall] | @tsv' <<<"$json" | tee -a "$out/rows.txt" >&2
}

servers=(ingress-1 ingress-100 ingress-1000 ingress-10000 floor)
: >"$out/rows.txt"
: >"$out/rows.jsonl"
: >"$out/ingress-stats.txt"
echo "columns: server tenants offered K resume round achieved p50 p99 p99.9 full/s resumed/s hs-failures" \
  "wrong-certs failed unfinished server-cpu backend-cpu client-cpu rss-MiB warmup-s warmup-failures cold wall-s" >&2
for round in $(seq "$rounds"); do
  for i in "${!servers[@]}"; do
    server=${servers[$(( (i + round - 1) % ${#servers[@]} ))]}
    start "$server" "$round"
    mapfile -t specs < <(rows_of "$server")
    for j in "${!specs[@]}"; do
      read -r rate k resume conns <<<"${specs[$(( (j + round - 1) % ${#specs[@]} ))]}"
      measure "$server" "$round" $((j == 0)) "$rate" "$k" "$resume" "$conns"
    done
    stop "$server" "$round"
  done
done

# ---------------------------------------------------------------- the table

order=""
for server in "${servers[@]}"; do
  while read -r rate k resume conns; do order+="$server|$rate|$k|$resume "; done < <(rows_of "$server")
done
bench_awk -F '\t' -v order="$order" -v seconds="$seconds" '
  {
    key = $1 "|" $3 "|" $4 "|" $5
    achieved[key] = achieved[key] " " $7; p50[key] = p50[key] " " $8; p99[key] = p99[key] " " $9
    full[key] = full[key] " " $11; resumed[key] = resumed[key] " " $12
    hsfail[key] += $13; wrong[key] += $14; failed[key] += $15; unfinished[key] += $16
    cpu[key] = cpu[key] " " $17; core1[key] = core1[key] " " ($18 + $19) / seconds * 100; rss[key] = rss[key] " " $20
    perreq[key] = perreq[key] " " ($7 > 0 ? $17 / ($7 * seconds) * 1e6 : 0)
    if ($1 == "ingress-10000") warm[$23] = warm[$23] " " $21
    tenants[key] = $2
  }
  END {
    print "| tenants | offered | K | resume | achieved RPS | p50 ms | p99 ms | full hs/s | resumed hs/s | hs failures | ingress CPU s | RSS MiB | core 1 busy |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    n = split(order, keys, " ")
    for (i = 1; i <= n; i++) {
      key = keys[i]; if (!(key in achieved)) continue
      split(key, f, "|")
      who = (f[1] == "floor") ? "floor, 1" : tenants[key]
      saturated = (f[2] >= 10000) ? " (saturating)" : ""
      A[key] = median(achieved[key]); P99[key] = median(p99[key]); CPU[key] = median(cpu[key])
      RSS[key] = median(rss[key]); PER[key] = median(perreq[key]); C1 = median(core1[key])
      bound = (C1 >= 90) ? " **client-bound**" : ""
      printf "| %s | %s%s | %s | %s | %s | %s | %s | %.0f | %.0f | %d%s | %.2f | %.0f | %.0f%%%s |\n",
        who, f[2], saturated, f[3], f[4], spread(achieved[key], "%.0f"), spread(p50[key], "%.2f"),
        spread(p99[key], "%.2f"), median(full[key]), median(resumed[key]), hsfail[key],
        wrong[key] ? sprintf(" (%d wrong certificate)", wrong[key]) : "", CPU[key], RSS[key], C1, bound
      if (failed[key] || (unfinished[key] && !saturated)) notes = notes sprintf("\n%s: %d requests failed, %d unfinished at the end (all rounds)", key, failed[key], unfinished[key])
    }
    # (Comparisons in parentheses: in a print list, a bare ">" redirects.)
    t = "ingress-10000|1000|10|on"
    printf "\nAt 10,000 tenants and 1,000 requests/s: p99 / 100 ms = %.2f (%s); achieved / offered = %.3f (%s); handshake failures %d (%s)\n",
      P99[t] / 100, (P99[t] <= 100) ? "met" : "**missed**", A[t] / 1000, (A[t] >= 990) ? "met" : "**missed**",
      hsfail[t], (hsfail[t] == 0) ? "met" : "**missed**"
    k1 = "|10000|1|off"; k10 = "|30000|10|on"
    printf "ingress / floor, saturated: requests/s K = 1 %.2f, K = 10 %.2f; server CPU per request K = 1 %.2f, K = 10 %.2f\n",
      A["ingress-1" k1] / A["floor" k1], A["ingress-1" k10] / A["floor" k10],
      PER["ingress-1" k1] / PER["floor" k1], PER["ingress-1" k10] / PER["floor" k10]
    printf "server CPU per request, µs: ingress K = 1 %.0f, K = 10 %.0f; floor K = 1 %.0f, K = 10 %.0f\n",
      PER["ingress-1" k1], PER["ingress-1" k10], PER["floor" k1], PER["floor" k10]
    # The ingress CPU per request at 1,000 tenants is forwarding plus 1/K of
    # a handshake: the two Ks give the handshake alone, h = (c1 - c10) * 10 / 9.
    hf = (PER["ingress-1000|1000|1|off"] - PER["ingress-1000|1000|10|off"]) * 10 / 9
    hr = (PER["ingress-1000|1000|1|on"] - PER["ingress-1000|1000|10|on"]) * 10 / 9
    printf "ingress CPU per handshake at 1,000 tenants: full %.0f µs, resumed %.0f µs: resumed / full = %.2f\n", hf, hr, hf ? hr / hf : 0
    printf "RSS per tenant, (RSS at 10,000 - RSS at 1) / 9,999: %.1f KiB\n",
      (RSS["ingress-10000|1000|10|on"] - RSS["ingress-1|1000|10|on"]) * 1024 / 9999
    printf "warm-up at 10,000 tenants, median s: %.1f with the pool cold (its first run), %.1f with the pool built\n",
      median(warm[1]), median(warm[0])
    if (notes != "") print "\nNotes:" notes
  }' "$out/rows.txt" | tee "$out/summary.md"
echo "(ingress counters at each stop in $out/ingress-stats.txt)"
awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^(failures|timeouts|rejected_sni)=/ && $i !~ /=0$/) print "ingress-side: " $0 }' \
  "$out/ingress-stats.txt" | tee -a "$out/summary.md"

# ---------------------------------------------------------------- the profile

if [ "${PERF:-0}" = 1 ]; then
  echo "profiling the ingress at one tenant, K = 1, saturated…" >&2
  start ingress-1 perf
  taskset -c 1 perf record -e cpu-clock -g -p "$pid" -o "$out/perf.data" 2>"$out/perf.err" &
  perf_pid=$!
  taskset -c 1 "$out/load" --port "$port" --ca "$certs/edge-ca.crt" --tenants 1 --rate 10000 --seconds "$seconds" \
    --k 1 --max-conns 64 --warmup --watch "server=$pid" >"$out/perf-row.json"
  kill -INT "$perf_pid"
  wait "$perf_pid" || true
  stop ingress-1 perf
  perf report -i "$out/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
    awk '/%/ && n++ < 8' | tee "$out/perf-dso.txt"
  perf report -i "$out/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    awk '/%/ && n++ < 25' >"$out/perf-sym.txt"
  echo "(the top symbols in $out/perf-sym.txt)"
fi
echo "(rows, JSON and the servers' output in $out)"
