# Shared by the benchmark scripts (sourced, not run): installing what a
# figure needs, finding where a server listens, summarising rounds and
# drawing a figure.

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# bench_need PROGRAM:PACKAGE ...: installs the Debian packages of the
# programs that are missing (as root), or says which to install and exits.
bench_need() {
  local missing=() pair
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
  done
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "$(basename "$0"): missing: ${missing[*]} (apt-get install ${missing[*]})" >&2
    exit 2
  fi
  echo "installing ${missing[*]}…" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# bench_free_port: a port nothing listens on now, for servers that need one
# named in their configuration (nginx).
bench_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# bench_listening_port FILE [SECONDS]: the port a server printed as
# "listening on 127.0.0.1:PORT" into FILE, waiting up to SECONDS (five by
# default) for it: a server that loads much before it listens needs longer.
bench_listening_port() {
  local p
  for _ in $(seq $(( ${2:-5} * 20 ))); do
    p=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$1")
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 0.05
  done
  echo "$(basename "$0"): no 'listening on' in $1:" >&2
  cat "$1" >&2
  exit 1
}

# bench_wait_port PORT: waits up to five seconds for something to accept on it.
bench_wait_port() {
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.05; done
  echo "$(basename "$0"): nothing listens on 127.0.0.1:$1" >&2
  exit 1
}

# bench_start_server CORE DIR NAME COMMAND...: starts COMMAND pinned to
# CORE, its output in DIR/NAME.out, and waits for its "listening on" line;
# sets $pid and $port.
bench_start_server() {
  local core=$1 dir=$2 name=$3
  shift 3
  taskset -c "$core" "$@" >"$dir/$name.out" 2>&1 &
  pid=$!
  port=$(bench_listening_port "$dir/$name.out")
}

# bench_start_nginx CORE TEMPLATE DIR [SED-EXPRESSION]: nginx pinned to CORE
# with TEMPLATE's configuration, @DIR@ and @PORT@ filled in (and whatever
# else SED-EXPRESSION fills in); sets $pid and $port once it accepts.
bench_start_nginx() {
  local core=$1 template=$2 dir=$3 extra=${4:-}
  port=$(bench_free_port)
  sed "s|@DIR@|$dir|g; s|@PORT@|$port|g${extra:+; $extra}" "$template" >"$dir/nginx.conf"
  taskset -c "$core" nginx -c "$dir/nginx.conf" -e "$dir/nginx-error.log" >"$dir/nginx.out" 2>&1 &
  pid=$!
  bench_wait_port "$port"
}

# bench_awk [-F SEP] [-v NAME=VALUE]... PROGRAM [FILE]...: awk running PROGRAM with
# stats.awk's median() and spread() defined (mawk takes no program text
# beside -f, so PROGRAM goes in as a second -f).
bench_awk() {
  local vars=()
  while [ "${1:-}" = -v ] || [ "${1:-}" = -F ]; do vars+=("$1" "$2"); shift 2; done
  awk "${vars[@]}" -f "$bench_dir/stats.awk" -f <(printf '%s\n' "$1") "${@:2}"
}

# bench_median: the median of the numbers on standard input, one per line.
bench_median() { bench_awk '{ list = list " " $1 } END { print median(list) }'; }

# bench_bars PNG TITLE YLABEL DATA "COLUMN:TITLE" ...: clustered bars, one
# group per line of DATA (its first field the label), a bar per column.
bench_bars() {
  local png=$1 title=$2 ylabel=$3 data=$4 plot="" spec
  shift 4
  for spec in "$@"; do
    if [ -z "$plot" ]; then
      plot="\"$data\" using ${spec%%:*}:xtic(1) title \"${spec#*:}\""
    else
      plot+=", \"\" using ${spec%%:*} title \"${spec#*:}\""
    fi
  done
  gnuplot <<PLOT
set terminal pngcairo size 800,440 noenhanced
set output "$png"
set title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "$ylabel"
set yrange [0:*]
set key below
plot $plot
PLOT
}
