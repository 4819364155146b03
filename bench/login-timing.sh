#!/usr/bin/env bash
# Measures login latency for a wrong password vs an unknown email (they should be alike, so
# that timing does not reveal which emails have accounts). Starts its own server on
# 127.0.0.1 with a throwaway SQLite database, makes N requests of each kind, interleaved,
# prints the figures and stops. Usage: bench/login-timing.sh [N] (default 40).
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-40}"
cargo build -q --bin liaison
BIN="$PWD/target/debug/liaison"
DIR="$(mktemp -d)"
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
cd "$DIR"
export LIAISON_LOGIN_MAX_FAILURES=1000000 LIAISON_BIND=127.0.0.1:18181 LIAISON_LOG_LEVEL=warn
echo 'bench password 0123456789' | "$BIN" user create --email known@bench.test >/dev/null
"$BIN" serve >/dev/null 2>&1 &
PID=$!
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18181/healthz >/dev/null && break; sleep 0.1; done
login() {
  curl -s -o /dev/null -w '%{time_total}\n' -X POST http://127.0.0.1:18181/api/v1/auth/login \
    -H 'content-type: application/json' -d "{\"email\":\"$1\",\"password\":\"wrong password here\"}"
}
: > wrong.txt; : > unknown.txt
for _ in $(seq 1 "$N"); do
  login known@bench.test >> wrong.txt
  login nobody@bench.test >> unknown.txt
done
stats() { sort -n "$1" | awk '{a[NR]=$1; s+=$1} END {printf "mean %.1f ms  p50 %.1f ms  p95 %.1f ms\n", 1000*s/NR, 1000*a[int(NR*0.5)+1], 1000*a[int(NR*0.95)]}'; }
echo "login, wrong password ($N): $(stats wrong.txt)"
echo "login, unknown email  ($N): $(stats unknown.txt)"
