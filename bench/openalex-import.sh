#!/usr/bin/env bash
# `liaison import openalex` on a snapshot built from real text (bench/openalex-snapshot.py):
# prints the time, the rate and the peak RSS of a first import and of a second (idempotent)
# one, on SQLite by default or on the database LIAISON_DATABASE_URL names.
#
# usage: bench/openalex-import.sh [AUTHORS]   (default 5000)
set -euo pipefail
cd "$(dirname "$0")/.."
AUTHORS=${1:-5000}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/liaison-openalex.XXXXXX")
trap 'kill "${PID:-0}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
cargo build -q --release --bin liaison
BIN=${CARGO_TARGET_DIR:-target}/release/liaison
python3 bench/openalex-snapshot.py ../shared/data/sbir-abstracts.jsonl.gz "$WORK/snapshot" "$AUTHORS"
export LIAISON_DATABASE_URL=${LIAISON_DATABASE_URL:-sqlite://$WORK/liaison.db}
export LIAISON_INDEX_DIR=$WORK/index LIAISON_JWT_SECRET=bench-secret-0123456789abcdefghijklmnop
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
echo "bench-password-0123" | "$BIN" user create --email ops@bench.example --platform-operator >/dev/null
LIAISON_BIND=127.0.0.1:$PORT "$BIN" serve >"$WORK/serve.log" 2>&1 &
PID=$!
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
TOKEN=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"ops@bench.example","password":"bench-password-0123"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
UNI=$(curl -fsS "http://127.0.0.1:$PORT/api/v1/organizations" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' \
    -d '{"kind":"university","name":"National Yang Ming Chiao Tung University","country":"TW"}' \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
kill "$PID"; wait "$PID" 2>/dev/null || true
for run in first second; do
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" import openalex "$WORK/snapshot" \
        --university-id "$UNI" --institution I148366613 >"$WORK/report.json" 2>/dev/null
    read -r SECS KB <"$WORK/time"
    python3 - "$run" "$SECS" "$KB" "$WORK/report.json" <<'PY'
import json, sys
run, secs, kb, path = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
r = json.load(open(path))
n = r["created"] + r["updated"] + r["unchanged"]
print(f"{run} import: {r['authors_taken']} of {r['authors_read']} authors, {r['works_read']} works read; "
      f"{r['created']} created, {r['updated']} updated, {r['unchanged']} unchanged, {r['failed']} failed; "
      f"{secs:.1f} s ({n / secs:.0f} profiles/s), peak RSS {kb / 1024:.0f} MiB")
PY
done
