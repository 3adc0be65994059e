#!/usr/bin/env bash
# End to end, as a new student would go, without a terminal: list, fail with
# hints, fix, pass, self-grade capped by empty notes, notes filled, tally,
# hint, reveal, watch re-running on save, reset. Runs in a throw-away copy of
# the workbook (its own build), so nothing of yours is touched.
#
#   grader/test/e2e.sh            (about a minute: it builds task 01 from scratch)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d /tmp/workbook-e2e.XXXXXX)
watch_pid=""
cleanup() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

fail() { echo "e2e: FAILED: $*" >&2; [ -f "$tmp/out" ] && sed 's/^/  | /' "$tmp/out" | tail -40 >&2; exit 1; }
step() { echo "e2e: $*"; }
# run EXPECTED_RC args... : the grader's output lands in $tmp/out
run() {
  local expected=$1; shift
  local rc=0
  bin/grader "$@" >"$tmp/out" 2>&1 </dev/null || rc=$?
  [ "$rc" -eq "$expected" ] || fail "grader $* exited $rc, expected $expected"
}
has() { grep -qF -- "$1" "$tmp/out" || fail "expected output to contain: $1"; }
has_not() { ! grep -qF -- "$1" "$tmp/out" || fail "expected output not to contain: $1"; }

mkdir -p "$tmp/wb"
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$src" && git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$tmp/wb")
else
  (cd "$src" && tar --exclude=./build --exclude=./.grader -cf - .) | (cd "$tmp/wb" && tar -xf -)
fi
cd "$tmp/wb"
notes=exercises/task-01/NOTES.md
stub=exercises/task-01/hello_server.cpp

step "list: every task, none tried"
run 0 list
has "task-01"; has "Next: grader task-01"

step "task-01 on the untouched stub: every criterion fails, with a hint"
run 1 task-01
has "✗ AC1"; has "hint:"; has "0 of 4 criteria pass"

step "the reference is refused before a pass"
run 1 reveal task-01
has "does not pass yet"

step "hints come one at a time"
run 0 hint task-01
has "Hint 1 of"
run 0 hint task-01
has "Hint 2 of"

step "fixed (the reference copied in), self-grade 2 claimed with empty notes: recorded 1"
cp solutions/task-01/hello_server.cpp "$stub"
sed -i 's/^Self-grade: *$/Self-grade: 2/' "$notes"
run 0 task-01
has "all 4 criteria pass"; has "you said 2; recorded 1"; has "Trace section is not filled in"

step "notes filled: recorded 2"
words="The accept handler starts a session and the next accept; the session reads with http::async_read, which runs read_some steps through basic_stream, whose timer and socket read show in the trace before the parser turns bytes into a request."
python3 - "$notes" "$words" <<'PY'
import sys, re
path, words = sys.argv[1], sys.argv[2]
text = open(path).read()
text = text.replace("## Trace\n", "## Trace\n\n" + words + "\n", 1)
text = text.replace("## Variation\n", "## Variation\n\nI ran the io_context on four threads without the pool: the slow request still blocked one thread but the others answered, so AC4 passed for the wrong reason, and it failed again as soon as I went back to a single thread running the io_context.\n", 1)
open(path, "w").write(text)
PY
run 0 task-01
has "recorded 2"

step "tally counts it"
run 0 tally
grep -qE "task-01 +2 " "$tmp/out" || fail "tally does not show task-01 with 2"
has "Total: 2 of"; has "Aim for more than 50"

step "list shows the pass and the score"
run 0 list
grep -qE "✓ task-01 .* 2 " "$tmp/out" || fail "list does not show task-01 passed with score 2"

step "reveal after a pass shows WHY.md and the reference"
run 0 reveal task-01
has "why the reference looks like this"; has "solutions/task-01/hello_server.cpp"

step "watch grades again when the file is saved (by rename, as editors do)"
mkfifo "$tmp/keys"
bin/grader watch task-01 <"$tmp/keys" >"$tmp/watch.log" 2>&1 &
watch_pid=$!
exec 3>"$tmp/keys"   # hold the write end open: no EOF on the watcher's stdin
for _ in $(seq 300); do [ "$(grep -c 'watching' "$tmp/watch.log")" -ge 1 ] && break; sleep 0.1; done
[ "$(grep -c 'watching' "$tmp/watch.log")" -ge 1 ] || { cp "$tmp/watch.log" "$tmp/out"; fail "watch never graded"; }
cp "$stub" "$tmp/edited.cpp"
echo "// saved again" >>"$tmp/edited.cpp"
mv "$tmp/edited.cpp" "$stub"
for _ in $(seq 600); do [ "$(grep -c 'watching' "$tmp/watch.log")" -ge 2 ] && break; sleep 0.1; done
[ "$(grep -c 'watching' "$tmp/watch.log")" -ge 2 ] || { cp "$tmp/watch.log" "$tmp/out"; fail "watch did not grade again after the save"; }
printf 'q' >&3
for _ in $(seq 100); do kill -0 "$watch_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$watch_pid" 2>/dev/null && fail "watch did not quit on q"
watch_pid=""
exec 3>&-

step "reset restores the stub, keeps a backup, leaves NOTES.md alone"
run 0 reset task-01 --yes
has "Reset task-01"
cmp -s "$stub" "$src/exercises/task-01/hello_server.cpp" || fail "the stub was not restored"
grep -qF "$words" "$notes" || fail "reset touched NOTES.md"
ls .grader/backup/task-01-*/hello_server.cpp >/dev/null 2>&1 || fail "no backup of the student's version"

step "a damaged progress file is kept aside and recovered"
python3 -c "import sys; p='.grader/progress.json'; t=open(p).read(); open(p,'w').write(t[:len(t)//2])"
run 0 list
has "was damaged"
ls .grader/progress.json.damaged-* >/dev/null 2>&1 || fail "the damaged file was not kept"

echo "e2e: passed"
