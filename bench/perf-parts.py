#!/usr/bin/env python3
"""Sorts the service's samples of a call-graph profile into the parts of a match, a search or
an import, as bench/README.md reports them.

    perf record -F 199 --call-graph dwarf,16384 -o match.perf -- target/release/bench ... --reuse --only-matches
    perf script -i match.perf -F comm,pid,ip,sym | python3 bench/perf-parts.py match

Each sample of a match or an import goes to the first part (in the order below) whose pattern
matches a frame of its stack; a search's parts nest (tantivy evaluates the query inside its
collector), so a search sample goes to the part of its innermost frame that any pattern
matches. The service is
the process with the most samples on its own threads (liaison-*, tokio-*, actix-*); `search`
counts only the samples under a search (`search::query::run`)."""
import collections
import re
import sys

PARTS = {
    "match": [
        ("reading the candidates from the database (db::search::faculty_with)", r"db::search::faculty_with"),
        ("re-scoring the candidates (stored publication counts, pair scores)",
         r"TermCounter|publication_score|pair_score|publication_counts|AnalysedPublication"),
        ("first stage: the rarer words' postings (matching::Pass)", r"search::matching::Pass"),
        ("first stage: the rest (common words, exact counts, ids)", r"search::matching::(rank|add_common)|admitted"),
        ("the need's query (glossary, stemming, frequencies)", r"need_query|glossary"),
        ("explanations", r"explanation|bigram_runs|join_runs"),
        ("other database reads, HTTP, sign-in, JSON", r"sqlite3|diesel|liaison::db::|actix|serde|jsonwebtoken|liaison::http"),
    ],
    "search": [
        ("highlighting (snippets)", r"[Ss]nippet|highlight"),
        ("collecting every hit: count, facets, best 20", r"search::facets::|TopN|collect_block|::collect\b"),
        ("reading the page's stored documents", r"StoreReader|tantivy::store::|DocumentDeserializer"),
        ("parsing the query", r"query::parse|QueryParser"),
        ("evaluating the query (unions, intersections, postings, scores)",
         r"[Uu]nion|Intersection|[Pp]ostings|Scorer|Weight|seek|[Pp]hrase|bm25|positions::"),
    ],
    "import": [
        ("stored publication forms (AnalysedPublication::stored)", r"AnalysedPublication::stored"),
        ("tantivy: indexing documents", r"SegmentWriter|index_document"),
        ("tantivy: merges", r"merge"),
        ("tantivy: the rest (serialising segments, commits)", r"tantivy"),
        ("database writes (import_rows, SQLite or PostgreSQL)", r"import_rows|insert_many"),
        ("parsing and validating rows", r"serde_json|import::parse|Text::clean|ValidProfile|import::prepare"),
        ("other database work (the indexer's reads, outbox)", r"sqlite3|diesel|liaison::db::|pq"),
        ("HTTP", r"actix"),
    ],
}
# Shown inside a part: (part, label, pattern).
WITHIN = {"match": [(0, "of which pread system calls", r"pread")]}


def samples(lines):
    cur = None
    for line in lines:
        if not line.strip():
            if cur:
                yield cur
            cur = None
        elif not line[0].isspace():
            m = re.match(r"\s*(.+?)\s+(\d+)\s*$", line.rstrip())
            cur = (m.group(1), m.group(2), []) if m else ("?", "0", [])
        elif cur is not None:
            parts = line.strip().split(None, 1)
            cur[2].append(parts[1] if len(parts) > 1 else "?")
    if cur:
        yield cur


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    if kind not in PARTS:
        sys.exit("usage: perf script -F comm,pid,ip,sym | perf-parts.py match|search|import")
    every = list(samples(sys.stdin))
    own = collections.Counter(p for c, p, _ in every if re.match(r"liaison-|tokio-|actix-", c))
    if not own:
        sys.exit("no samples of the service")
    pid = own.most_common(1)[0][0]
    mine = [s for s in every if s[1] == pid]
    if kind == "search":
        mine = [s for s in mine if any("search::query::run" in f for f in s[2])]
    rules = [(name, re.compile(p)) for name, p in PARTS[kind]]
    within = [(i, name, re.compile(p)) for i, name, p in WITHIN.get(kind, [])]
    counts, inner, other = collections.Counter(), collections.Counter(), collections.Counter()
    innermost = kind == "search"
    for _, _, stack in mine:
        joined = " | ".join(stack)
        if innermost:
            hit = next((f for f in stack if any(r.search(f) for _, r in rules)), "")
            joined = hit
        for i, (name, rule) in enumerate(rules):
            if rule.search(joined):
                counts[name] += 1
                for j, label, r in within:
                    if j == i and r.search(joined):
                        inner[(name, label)] += 1
                break
        else:
            counts["other"] += 1
            other[stack[0][:80] if stack else "?"] += 1
    total = len(mine)
    print(f"{total} samples of the service (pid {pid}) of {len(every)}")
    print("| part | share |\n|---|---|")
    for name, _ in rules + [("other", None)]:
        print(f"| {name} | {100 * counts[name] / total:.1f}% |")
        for (part, label), n in inner.items():
            if part == name:
                print(f"| ... {label} | {100 * n / total:.1f}% |")
    print("\nother, by innermost frame:")
    for frame, n in other.most_common(8):
        print(f"  {100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
