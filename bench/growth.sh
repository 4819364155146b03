#!/usr/bin/env bash
# How cost grows with the corpus (issue 26): runs `bench` (bench/search.sh's program) at
# 10,000, 30,000, 100,000 and 300,000 profiles (one need for every five profiles), one run
# each, then bench/growth.py: a table with each measure's fitted growth exponent and a
# log-log plot in bench/growth.svg. Each run starts and stops its own service on 127.0.0.1.
# Takes about 15 minutes on two cores; the outputs are kept in target/growth/.
# Usage: bench/growth.sh [sizes...]   (default: 10000 30000 100000 300000)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${LIAISON_BENCH_DATA:-../shared/data}"
TARGET="${CARGO_TARGET_DIR:-target}"
cargo build -q --release --bin liaison --bin bench
OUT=target/growth
mkdir -p "$OUT"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
zcat "$DATA/sbir-abstracts.jsonl.gz" > "$TMP/sbir.jsonl"
zcat "$DATA/horizon-europe-topics.jsonl.gz" > "$TMP/horizon.jsonl"
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 30000 100000 300000)
files=()
for n in "${sizes[@]}"; do
    echo "==> $n profiles"
    "$TARGET/release/bench" --liaison "$TARGET/release/liaison" --sbir "$TMP/sbir.jsonl" \
        --horizon "$TMP/horizon.jsonl" --work "$TMP/work-$n" --faculty "$n" --needs $((n / 5)) \
        | tee "$OUT/$n.txt"
    rm -rf "$TMP/work-$n"
    files+=("$OUT/$n.txt")
done
python3 bench/growth.py bench/growth.svg "${files[@]}"
