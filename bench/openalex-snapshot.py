#!/usr/bin/env python3
"""Builds an OpenAlex snapshot (gzip JSON Lines of authors and works, laid out as OpenAlex
publishes it: data/jsonl/{authors,works}/updated_date=.../part_0000.gz) from real text: the
SBIR award abstracts in ../shared/data. Each firm with at least three awards becomes an author
whose works are its awards (up to 30), with the abstract as OpenAlex's inverted index; nine
authors in ten are at NYCU (I148366613), the rest elsewhere. For `bench/openalex-import.sh`.

usage: openalex-snapshot.py SBIR.jsonl.gz OUT_DIR [AUTHORS]
"""
import collections
import gzip
import json
import os
import sys


def inverted(text):
    index = collections.defaultdict(list)
    for i, word in enumerate(text.split()):
        index[word].append(i)
    return index


def main():
    source, out = sys.argv[1], sys.argv[2]
    wanted = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    by_firm = collections.defaultdict(list)
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            award = json.loads(line)
            if award.get("abstract") and award.get("title") and award.get("firm"):
                by_firm[award["firm"]].append(award)
    firms = [f for f in sorted(by_firm) if len(by_firm[f]) >= 3][:wanted]
    nycu = {"id": "https://openalex.org/I148366613", "ror": "https://ror.org/00se2k293",
            "display_name": "National Yang Ming Chiao Tung University", "country_code": "TW",
            "type": "education", "lineage": ["https://openalex.org/I148366613"]}
    other = {"id": "https://openalex.org/I157485424", "ror": "https://ror.org/05apxxy63",
             "display_name": "KAIST", "country_code": "KR", "type": "education",
             "lineage": ["https://openalex.org/I157485424"]}
    base = os.path.join(out, "data", "jsonl")
    for entity in ("authors", "works"):
        os.makedirs(os.path.join(base, entity, "updated_date=2026-11-01"), exist_ok=True)
    authors = gzip.open(os.path.join(base, "authors", "updated_date=2026-11-01", "part_0000.gz"), "wt", encoding="utf-8")
    works = gzip.open(os.path.join(base, "works", "updated_date=2026-11-01", "part_0000.gz"), "wt", encoding="utf-8")
    n_works = 0
    for i, firm in enumerate(firms):
        author_id = f"https://openalex.org/A6{i:09d}"
        institution = other if i % 10 == 9 else nycu
        awards = by_firm[firm][:30]
        authors.write(json.dumps({
            "id": author_id, "orcid": None, "display_name": firm.title(),
            "display_name_alternatives": [firm], "works_count": len(awards), "cited_by_count": 0,
            "ids": {"openalex": author_id},
            "affiliations": [{"institution": institution, "years": [2025]}],
            "last_known_institutions": [institution],
            "topics": [], "works_api_url": f"https://api.openalex.org/works?filter=author.id:A6{i:09d}",
            "updated_date": "2026-11-01T00:00:00", "created_date": "2024-01-01",
        }) + "\n")
        for award in awards:
            n_works += 1
            year = int(award["year"]) if str(award.get("year", "")).isdigit() else None
            works.write(json.dumps({
                "id": f"https://openalex.org/W6{n_works:09d}",
                "doi": f"https://doi.org/10.5555/sbir.{n_works}" if n_works % 2 else None,
                "title": award["title"], "display_name": award["title"],
                "publication_year": year, "type": "article",
                "primary_location": {"source": {"display_name": award.get("agency")}},
                "abstract_inverted_index": inverted(award["abstract"]),
                "authorships": [{"author_position": "first", "author": {"id": author_id, "display_name": firm.title(), "orcid": None},
                                 "institutions": [institution]}],
            }) + "\n")
    authors.close()
    works.close()
    print(f"{len(firms)} authors, {n_works} works in {out}")


if __name__ == "__main__":
    main()
