#!/usr/bin/env bash
# Runs the README's curl walkthrough, exactly as written there, against `bin/linkbase dev --demo`
# and checks what a user would see at each step. Prints "1 passed, 0 failed" (or fails).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
work="$(mktemp -d)"
log="$work/dev.log"
cleanup() {
  if [[ -n "${dev_pid:-}" ]] && kill -0 "$dev_pid" 2>/dev/null; then
    kill -TERM "$dev_pid" 2>/dev/null || true
    wait "$dev_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
for port in 8080 9090; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "readme-walkthrough: port $port is busy; stop what uses it" >&2
    exit 1
  fi
done

bin/linkbase dev --demo >"$log" 2>&1 &
dev_pid=$!
for _ in $(seq 1 180); do
  grep -q "Linkbase is ready" "$log" && break
  kill -0 "$dev_pid" 2>/dev/null || { cat "$log"; echo "readme-walkthrough: bin/linkbase dev exited" >&2; exit 1; }
  sleep 1
done
grep -q "Linkbase is ready" "$log" || { tail -50 "$log"; echo "readme-walkthrough: not ready in 180 s" >&2; exit 1; }

# The README's first command leads to the web UI: the printed link serves the page, and its token
# (in the URL fragment) opens the demo tables.
link="$(sed -n 's/^  web UI *\(http:[^ ]*\).*/\1/p' "$log")"
[[ "$link" == http://127.0.0.1:*/#token=* ]] || { tail -30 "$log"; echo "readme-walkthrough: no web UI link printed" >&2; exit 1; }
curl -sf "${link%%#*}" | grep -q '<script type="module" src="/app/main.js">' \
  || { echo "readme-walkthrough: the web UI is not served at ${link%%#*}" >&2; exit 1; }
curl -sf -H "Authorization: Bearer ${link##*#token=}" "${link%%/#*}/api/v1/tables" | grep -q '"name":"album".*"name":"artist".*"name":"track"' \
  || { echo "readme-walkthrough: the web UI link's token does not open the demo tables" >&2; exit 1; }

# The walkthrough block of the README: from the api() definition to the end of its code block.
sed -n '/^api() {/,/^```$/p' README.md | grep -v '^```' >"$work/walk.sh"
grep "^export " "$log" >"$work/demo.env"
out="$work/out.txt"
( set -euo pipefail; source "$work/demo.env"; source "$work/walk.sh" ) >"$out" 2>&1

expect() {
  if ! grep -qF -- "$1" "$out"; then
    echo "readme-walkthrough: expected to see: $1" >&2
    cat "$out" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
}
expect '"name":"Column 1","type":"text"'
expect '"keptCount":19,"clearedCount":2'
expect '"value":"Kid A"'
expect '"state":"ACTIVE"'
expect '"summary":"Ágætis byrjun"'
expect '"summary":"OK Computer"'
expect '"createOption":{"text":"post"}'
expect '"summary":"Post"}'
expect '"type":"ColumnUnlinked"'
echo "readme-walkthrough: every step of the README answered as written"
echo "1 passed, 0 failed"
