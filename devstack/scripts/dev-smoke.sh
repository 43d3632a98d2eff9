#!/usr/bin/env bash
# Smoke test of `bin/linkbase dev`: start it in the background, wait for "Linkbase is ready"
# (180 s at most), send SIGTERM, wait for it to exit, and check that no process it started
# (runner and service JVMs, PostgreSQL) is left and its ports are free. Three runs: one with a
# temporary data directory (which must be gone afterwards), then two on the same
# LINKBASE_DATA_DIR (a restart on existing data). It builds first (outside the ready timeout),
# and each run is a process group of its own that is stopped on every exit path (a failed run,
# a timeout, Ctrl-C or SIGTERM of this script), so a failure never leaves a stack running.
#
#   devstack/scripts/dev-smoke.sh            (from anywhere; uses LINKBASE_HTTP_PORT/_GRPC_PORT if set)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
WORK="$(mktemp -d -t linkbase-dev-smoke-XXXXXX)"
READY_TIMEOUT=${DEV_SMOKE_READY_TIMEOUT:-180}
STOP_TIMEOUT=${DEV_SMOKE_STOP_TIMEOUT:-90}
passed=0
failed=0
launcher=""

stop_launcher() { # SIGTERM the run's process group, SIGKILL what is left after STOP_TIMEOUT
  [[ -n "$launcher" ]] || return 0
  local pgid="$launcher" waited=0
  kill -TERM -- "-$pgid" 2>/dev/null
  while kill -0 -- "-$pgid" 2>/dev/null && (( waited < STOP_TIMEOUT * 2 )); do
    sleep 0.5; waited=$((waited + 1))
  done
  kill -KILL -- "-$pgid" 2>/dev/null
  wait "$launcher" 2>/dev/null
  launcher=""
}

cleanup() {
  stop_launcher
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Build once, outside the ready timeout: on a fresh machine the first build downloads the
# dependencies and takes minutes.
if [[ -z "${DEV_SMOKE_SKIP_BUILD:-}" ]]; then
  echo "dev-smoke: building (./mvnw -q -B -DskipTests package)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package) || { echo "dev-smoke: build failed"; echo "dev-smoke: 0 passed, 3 failed"; exit 1; }
fi

descendants() { # all live descendants of a pid
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}

alive() { # running, not a zombie
  local stat
  stat="$(ps -o stat= -p "$1" 2>/dev/null)" || return 1
  [[ -n "$stat" && "$stat" != Z* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

run_once() {
  local label="$1" data_dir="$2"
  local log="$WORK/run-$1.log" start ready_s stop_s pids pg_pid dir leftovers port
  echo "dev-smoke: run $label (${data_dir:-temporary data dir})"
  start=$(date +%s)
  : >"$log"
  if [[ -n "$data_dir" ]]; then
    LINKBASE_DATA_DIR="$data_dir" setsid "$ROOT/bin/linkbase" dev </dev/null >"$log" 2>&1 &
  else
    env -u LINKBASE_DATA_DIR setsid "$ROOT/bin/linkbase" dev </dev/null >"$log" 2>&1 &
  fi
  launcher=$!

  while ! grep -q "Linkbase is ready" "$log"; do
    if ! kill -0 "$launcher" 2>/dev/null; then
      echo "dev-smoke: FAIL run $label: bin/linkbase dev exited before it was ready"; tail -40 "$log"; return 1
    fi
    if (( $(date +%s) - start > READY_TIMEOUT )); then
      echo "dev-smoke: FAIL run $label: not ready within ${READY_TIMEOUT} s"; tail -40 "$log"; return 1
    fi
    sleep 1
  done
  ready_s=$(( $(date +%s) - start ))

  # everything it started, while it runs: the child JVMs and PostgreSQL (a daemon, not a child)
  dir="$(sed -n 's/.*(data in \(.*\))$/\1/p' "$log" | head -1)"
  pids="$(descendants "$launcher")"
  pg_pid=""
  [[ -f "$dir/postgres/pgdata/postmaster.pid" ]] && pg_pid="$(head -1 "$dir/postgres/pgdata/postmaster.pid")"
  port="$(sed -n 's/^Linkbase is ready at http:\/\/localhost:\([0-9]*\).*/\1/p' "$log")"
  local count; count=$(wc -w <<<"$pids $pg_pid")
  if (( count < 5 )); then
    echo "dev-smoke: FAIL run $label: expected the launcher to have started at least 3 server JVMs and PostgreSQL, found: $pids $pg_pid"
    return 1
  fi
  if ! curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && [[ -f "$ROOT/gateway/pom.xml" ]]; then
    echo "dev-smoke: FAIL run $label: gateway /health on port $port does not answer"; return 1
  fi

  start=$(date +%s)
  kill -TERM "$launcher"
  while kill -0 "$launcher" 2>/dev/null; do
    if (( $(date +%s) - start > STOP_TIMEOUT )); then
      echo "dev-smoke: FAIL run $label: still running ${STOP_TIMEOUT} s after SIGTERM"; tail -20 "$log"; return 1
    fi
    sleep 0.5
  done
  wait "$launcher" 2>/dev/null
  launcher=""
  stop_s=$(( $(date +%s) - start ))
  sleep 1

  leftovers=""
  for p in $pids $pg_pid; do
    alive "$p" && leftovers+="$(ps -o pid=,args= -p "$p" | cut -c1-160)"$'\n'
  done
  # anything else still naming this run's data directory (runner JVMs, postgres -D ...)
  leftovers+="$(ps -eo pid=,stat=,args= | awk -v d="$dir" 'index($0, d) && $2 !~ /^Z/ && !/awk/' | cut -c1-160)"
  if [[ -n "${leftovers//[$'\n ']/}" ]]; then
    echo "dev-smoke: FAIL run $label: processes left after stop:"; echo "$leftovers"; return 1
  fi
  if [[ -n "$port" ]] && port_open "$port"; then
    echo "dev-smoke: FAIL run $label: port $port still open after stop"; return 1
  fi
  if [[ -z "$data_dir" && -e "$dir" ]]; then
    echo "dev-smoke: FAIL run $label: temporary data directory $dir not deleted"; return 1
  fi
  if ! grep -q "stopped\." "$log"; then
    echo "dev-smoke: FAIL run $label: no clean stop in the log"; tail -20 "$log"; return 1
  fi
  echo "dev-smoke: ok run $label: ready in ${ready_s} s, stopped in ${stop_s} s, $count processes started, none left"
}

for run in "1:" "2:$WORK/data" "3:$WORK/data"; do
  if run_once "${run%%:*}" "${run#*:}"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    stop_launcher   # a failed run never leaves its stack running for the next one
  fi
done
echo "dev-smoke: $passed passed, $failed failed"
(( failed == 0 ))
