#!/usr/bin/env bash
# Task 15's benchmark: a million records streamed by the reference server,
# and by a Go net/http server of the same shape (peer.go) in the same run,
# so that the figures are read as a ratio on whatever machine runs it.
#
#   bench/task-15-records/run.sh [records] [rounds] [concurrent]     (default 1000000 5 8)
#
# First each body is read once and counted (jq length for the array, wc -l
# for the lines). Then, in each round, each server (in an order that
# alternates from round to round) streams GET /records?n=<records> as a JSON
# array and as NDJSON, one at a time, then `concurrent` JSON streams at once,
# each read by curl to the end. It prints records/s for each and the
# server's peak resident memory (VmHWM) as median (min-max) over the rounds,
# then the ratios beast/go of each round as median (min-max).
# Draws the median ratios with gnuplot (task-15-records.png). Installs what it
# lacks from Debian when run as root (curl, jq, golang-go, gnuplot-nox);
# builds the reference in build/release.
set -euo pipefail
records=${1:-1000000}
rounds=${2:-5}
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

# start NAME COMMAND...: starts the server; sets $pid and $url.
start() {
  local name=$1; shift
  "$@" >"$out/$name.out" 2>"$out/$name.err" &
  pid=$!
  local port
  port=$(bench_listening_port "$out/$name.out") || { cat "$out/$name.err" >&2; kill "$pid"; exit 1; }
  url="http://127.0.0.1:$port/records?n=$records"
}

# stop: the server's peak resident memory in MiB, then stops it.
stop() {
  awk '/^VmHWM/ { printf "%.1f\n", $2 / 1024 }' "/proc/$pid/status"
  kill -TERM "$pid"
  wait "$pid" || true
}

# measure NAME ROUND: the started server's row but for its memory: name round
# json-records/s ndjson-records/s concurrent-records/s.
measure() {
  local name=$1 round=$2 json ndjson start wall i streams=()
  json=$(seconds "$url")
  ndjson=$(seconds "$url&format=ndjson")
  start=$(date +%s.%N)
  for i in $(seq "$concurrent"); do seconds "$url" >"$out/$name.concurrent.$i" & streams+=($!); done
  wait "${streams[@]}"
  wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { print e - s }')
  if [[ $json$ndjson == *fail* ]] || grep -q fail "$out/$name".concurrent.*; then
    echo "run.sh: a stream from $name failed (see $out/curl.err)" >&2
    exit 1
  fi
  awk -v name="$name" -v round="$round" -v n="$records" -v c="$concurrent" -v j="$json" -v d="$ndjson" -v w="$wall" \
    'BEGIN { printf "%s %d %.0f %.0f %.0f\n", name, round, n / j, n / d, n * c / w }'
}

# serve NAME: starts server NAME; sets $pid and $url.
serve() { if [ "$1" = beast ]; then start beast "$beast" --port 0; else start go "$out/peer" -port 0; fi; }

for name in beast go; do
  serve "$name"
  check "$name" "$url" json
  check "$name" "$url&format=ndjson" ndjson
  stop >/dev/null
done
: >"$out/rows.txt"
for round in $(seq "$rounds"); do
  if (( round % 2 )); then order=(beast go); else order=(go beast); fi
  for name in "${order[@]}"; do
    serve "$name"
    row=$(measure "$name" "$round")
    echo "$row $(stop)" | tee -a "$out/rows.txt" >&2
  done
done

bench_awk -v n="$records" -v c="$concurrent" -v figure="$out/ratios.dat" '
  { json[$1] = json[$1] " " $3; nd[$1] = nd[$1] " " $4; conc[$1] = conc[$1] " " $5; rss[$1] = rss[$1] " " $6
    V[$1, $2, 3] = $3; V[$1, $2, 4] = $4; V[$1, $2, 5] = $5; V[$1, $2, 6] = $6; if ($2 > rounds) rounds = $2 }
  # ratios(column): beast against go, one ratio per round.
  function ratios(column,   r, list) {
    for (r = 1; r <= rounds; r++) if (V["go", r, column] > 0) list = list " " V["beast", r, column] / V["go", r, column]
    return list
  }
  END {
    printf "%d records per stream, %d rounds\n\n", n, rounds
    print "| server | JSON records/s | NDJSON records/s | " c " concurrent JSON streams, records/s | peak RSS MiB |"
    print "|---|---|---|---|---|"
    split("beast go", order, " ")
    for (s = 1; s <= 2; s++) { k = order[s]
      printf "| %s | %s | %s | %s | %s |\n", k, spread(json[k], "%.0f"), spread(nd[k], "%.0f"), spread(conc[k], "%.0f"),
        spread(rss[k], "%.1f") }
    printf "\nbeast/go, per round, median (min–max): JSON records/s %s, NDJSON records/s %s, concurrent records/s %s, peak RSS %s\n",
      spread(ratios(3), "%.2f"), spread(ratios(4), "%.2f"), spread(ratios(5), "%.2f"), spread(ratios(6), "%.2f")
    # The figure: the median ratios (Go = 1).
    printf "\"JSON\" %.3f 1\n\"NDJSON\" %.3f 1\n\"concurrent JSON\" %.3f 1\n\"peak RSS\" %.3f 1\n",
      median(ratios(3)), median(ratios(4)), median(ratios(5)), median(ratios(6)) > figure
  }' "$out/rows.txt" | tee "$out/summary.md"
bench_bars "$out/task-15-records.png" "$records records streamed, records/s and memory: the reference against Go (Go = 1)" \
  "ratio to Go" "$out/ratios.dat" "2:Beast reference" "3:Go net/http"
echo "(server output and the plot kept in $out)"
