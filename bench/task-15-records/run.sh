#!/usr/bin/env bash
# Task 15's benchmark: a million records streamed by the reference server,
# and by a Go net/http server of the same shape (peer.go) in the same run,
# so that the figures are read as a ratio on whatever machine runs it.
#
#   bench/task-15-records/run.sh [records] [rounds] [concurrent]     (default 1000000 3 8)
#
# For each server: GET /records?n=<records> as a JSON array and as NDJSON,
# `rounds` times each, one at a time (the best round counts), then
# `concurrent` JSON streams at once; each body read by curl to the end and
# counted (jq length for the array, wc -l for the lines) in the first round.
# It prints records/s for each, the server's peak resident memory (VmHWM),
# then the ratios beast/go.
# Draws the ratios with gnuplot (task-15-records.png). Installs what it
# lacks from Debian when run as root (curl, jq, golang-go, gnuplot-nox);
# builds the reference in build/release.
set -euo pipefail
records=${1:-1000000}
rounds=${2:-3}
concurrent=${3:-8}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$root/build/release/bench/task-15-records"

mkdir -p "$out"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_need curl:curl jq:jq go:golang-go gnuplot:gnuplot-nox

echo "building the reference's serve tool (release) and the Go peer…" >&2
cmake --preset release >/dev/null
flock "$root/build/release/.grader-build.lock" \
  cmake --build --preset release --target task-15-reference-serve >/dev/null
beast="$root/build/release/tasks/task-15/task-15-reference-serve"
# Standard library only: no module, no download.
GOCACHE="$out/gocache" GO111MODULE=off go build -o "$out/peer" "$here/peer.go"

# seconds URL: the time curl took to read the whole body, or "fail".
seconds() {
  curl -sS --fail -o /dev/null -w '%{time_total}\n' "$1" 2>>"$out/curl.err" || echo fail
}

# check NAME URL FORMAT: the body holds exactly $records records.
check() {
  local got
  if [[ $3 == json ]]; then got=$(curl -sS --fail "$2" | jq length); else got=$(curl -sS --fail "$2" | wc -l); fi
  [[ $got == "$records" ]] || { echo "run.sh: $1 sent $got records as $3, not $records" >&2; exit 1; }
}

# best URL: the shortest of $rounds reads.
best() {
  local b="" t
  for _ in $(seq "$rounds"); do
    t=$(seconds "$1")
    [[ $t == fail ]] && { echo fail; return; }
    if [[ -z $b ]] || awk -v t="$t" -v b="$b" 'BEGIN { exit !(t < b) }'; then b=$t; fi
  done
  echo "$b"
}

# measure NAME COMMAND...: start the server, stream, print one table row.
measure() {
  local name=$1; shift
  "$@" >"$out/$name.out" 2>"$out/$name.err" &
  local pid=$!
  local port
  port=$(bench_listening_port "$out/$name.out") || { cat "$out/$name.err" >&2; kill "$pid"; exit 1; }
  local url="http://127.0.0.1:$port/records?n=$records"
  check "$name" "$url" json
  check "$name" "$url&format=ndjson" ndjson
  local json ndjson start wall
  json=$(best "$url")
  ndjson=$(best "$url&format=ndjson")
  start=$(date +%s.%N)
  local i
  for i in $(seq "$concurrent"); do seconds "$url" >"$out/$name.concurrent.$i" & done
  wait $(jobs -p | grep -v "^$pid$") 2>/dev/null || true
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
  grep -q fail "$out/$name".concurrent.* && { echo "run.sh: a concurrent stream from $name failed" >&2; exit 1; }
  local hwm
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"
  wait "$pid" || true
  awk -v name="$name" -v n="$records" -v c="$concurrent" -v j="$json" -v d="$ndjson" -v w="$wall" -v hwm_kb="$hwm" \
    'BEGIN { printf "%s %.0f %.0f %.0f %.1f\n", name, n / j, n / d, n * c / w, hwm_kb / 1024 }'
}

rows=$( measure beast "$beast" --port 0; measure go "$out/peer" -port 0 )
echo "$rows" | awk -v n="$records" -v c="$concurrent" '
  BEGIN { printf "%d records per stream\n\n", n;
          print "| server | JSON records/s | NDJSON records/s | " c " concurrent JSON streams, records/s | peak RSS MiB |";
          print "|---|---|---|---|---|" }
  { printf "| %s | %d | %d | %d | %.1f |\n", $1, $2, $3, $4, $5;
    j[$1] = $2; d[$1] = $3; k[$1] = $4; rss[$1] = $5 }
  END { printf "\nbeast/go: JSON records/s %.2f, NDJSON records/s %.2f, concurrent records/s %.2f, peak RSS %.2f\n",
               j["beast"] / j["go"], d["beast"] / d["go"], k["beast"] / k["go"], rss["beast"] / rss["go"] }'
# The figure: each measure as a ratio to Go's (Go = 1).
echo "$rows" | awk '{ j[$1] = $2; d[$1] = $3; k[$1] = $4; rss[$1] = $5 }
  END { printf "\"JSON\" %.3f 1\n\"NDJSON\" %.3f 1\n\"concurrent JSON\" %.3f 1\n\"peak RSS\" %.3f 1\n",
               j["beast"] / j["go"], d["beast"] / d["go"], k["beast"] / k["go"], rss["beast"] / rss["go"] }' >"$out/ratios.dat"
bench_bars "$out/task-15-records.png" "$records records streamed, records/s and memory: the reference against Go (Go = 1)" \
  "ratio to Go" "$out/ratios.dat" "2:Beast reference" "3:Go net/http"
echo "(server output and the plot kept in $out)"
