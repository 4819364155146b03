#!/usr/bin/env bash
# The saved-alerts benchmark (issue 24): builds the release binaries, unpacks the real text
# corpora from ../shared/data, and runs `bench --alerts` (src/bin/bench/alerts.rs): for each run
# pair it starts its own `liaison serve` on 127.0.0.1 with a throwaway SQLite database, builds
# the same world (profiles, needs, the accounts that keep alerts), saves the alerts (none in the
# baseline), imports 10,000 profiles through the HTTP import path as `bench/search.sh` does,
# and waits for the notifier to turn every hit into notifications (at most --notify-timeout,
# 600 s by default). It prints the import's rate, how long after it the notifications existed,
# the hits, the notifier's CPU time and steps, and peak RSS. It stops by itself.
# Usage: bench/alerts.sh [bench flags], e.g. bench/alerts.sh --runs 3 --notify-timeout 120,
# or a small check: bench/alerts.sh --alerts 1000 --faculty 1000 (see `bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${LIAISON_BENCH_DATA:-../shared/data}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build -q --release --bin liaison --bin bench
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
zcat "$DATA/sbir-abstracts.jsonl.gz" > "$TMP/sbir.jsonl"
zcat "$DATA/horizon-europe-topics.jsonl.gz" > "$TMP/horizon.jsonl"
"$TARGET/release/bench" --liaison "$TARGET/release/liaison" --sbir "$TMP/sbir.jsonl" \
    --horizon "$TMP/horizon.jsonl" --work "$TMP/work" --alerts 10000 "$@"
