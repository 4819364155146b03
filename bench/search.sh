#!/usr/bin/env bash
# The search benchmark: builds the release binaries, unpacks the real text corpora from
# ../shared/data, and runs `bench` (src/bin/bench/main.rs), which starts its own `liaison serve` on
# 127.0.0.1 with a throwaway SQLite database, imports the corpus through the HTTP import path,
# and prints import throughput, index size, peak RSS and search latency. It stops by itself.
# Usage: bench/search.sh [bench flags], e.g. bench/search.sh --faculty 10000 --needs 2000
# (defaults: 100,000 profiles × 10 publications, 20,000 needs; see `bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${LIAISON_BENCH_DATA:-../shared/data}"
cargo build -q --release --bin liaison --bin bench
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
zcat "$DATA/sbir-abstracts.jsonl.gz" > "$TMP/sbir.jsonl"
zcat "$DATA/horizon-europe-topics.jsonl.gz" > "$TMP/horizon.jsonl"
exec target/release/bench --liaison target/release/liaison --sbir "$TMP/sbir.jsonl" \
    --horizon "$TMP/horizon.jsonl" --work "$TMP/work" "$@"
