#!/usr/bin/env bash
# The web app's page times on the demo data (issue 25): builds the release binary, starts
# `liaison demo` on a free 127.0.0.1 port with a throwaway folder, and runs bench/web.py,
# which signs in as each demo role, walks the pages it reaches and times each one. Stops the
# service on exit, whatever happens.
# Usage: bench/web.sh [--runs 50] [--pages 25]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --bin liaison
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liaison-web-bench.XXXXXX")
PID=
cleanup() {
    [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LIAISON_BIND="127.0.0.1:$PORT" LIAISON_LOG_LEVEL=warn "${CARGO_TARGET_DIR:-target}/release/liaison" demo --dir "$WORK/demo" \
    >"$WORK/service.log" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/service.log"; exit 1; }
    sleep 0.5
done
echo "liaison demo (release) at 127.0.0.1:$PORT, $(nproc) cores; $(git rev-parse --short HEAD)"
python3 bench/web.py --port "$PORT" "$@"
