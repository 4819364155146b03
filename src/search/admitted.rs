//! Which documents of a segment a filter admits, kept between matches.
//!
//! A match scores every posting of its words that the caller's filter admits, so it first
//! needs the filter's documents as a bit set: running the filter over a whole segment was a
//! twentieth of a match's time, the same work for every match by callers who see the same
//! profiles. A segment's documents never change, only its deletions, so the set is kept by
//! (segment, deletions, filter) and never goes stale: a new deletion or another filter is
//! another key. The filter is keyed by its description (`Debug`), which names every term and
//! how they combine. The store is bounded (`MAX_BYTES`).

use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::query::Weight;
use tantivy::{BitSet, DocId, SegmentReader};

use crate::error::{AppError, AppResult};

/// Bytes of bit sets kept over all entries (one bit per document of the segment). Past it,
/// everything is dropped and the store refills from the matches that come.
const MAX_BYTES: usize = 16 << 20;

#[derive(Default)]
pub struct AdmittedDocs {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    sets: foldhash::HashMap<(SegmentId, Option<u64>, String), Arc<BitSet>>,
    bytes: usize,
}

impl AdmittedDocs {
    /// The live documents of `reader` that `weight` (the filter described by `filter`)
    /// admits.
    pub fn docs(
        &self,
        reader: &SegmentReader,
        filter: &str,
        weight: &dyn Weight,
    ) -> AppResult<Arc<BitSet>> {
        let key = (
            reader.segment_id(),
            reader.delete_opstamp(),
            filter.to_owned(),
        );
        let lock = || self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(set) = lock().sets.get(&key) {
            return Ok(set.clone());
        }
        let mut allowed = BitSet::with_max_value(reader.max_doc());
        let alive = reader.alive_bitset();
        weight
            .for_each_no_score(reader, &mut |docs: &[DocId]| {
                for d in docs {
                    if alive.is_none_or(|a| a.is_alive(*d)) {
                        allowed.insert(*d);
                    }
                }
            })
            .map_err(AppError::internal)?;
        let set = Arc::new(allowed);
        let size = reader.max_doc() as usize / 8 + 1 + key.2.len();
        let mut kept = lock();
        if kept.bytes + size > MAX_BYTES {
            kept.sets.clear();
            kept.bytes = 0;
        }
        if kept.sets.insert(key, set.clone()).is_none() {
            kept.bytes += size;
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::{EnableScoring, Query, TermQuery};
    use tantivy::schema::{IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::*;

    /// Each filter keeps its own set, a deletion gives a new one, and a kept set is what the
    /// filter admits.
    #[test]
    fn kept_sets_follow_the_filter_and_the_deletions() -> anyhow::Result<()> {
        let mut b = Schema::builder();
        let kind = b.add_text_field("kind", STRING);
        let id = b.add_text_field("id", STRING);
        let index = Index::create_in_ram(b.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        for (i, k) in ["a", "b", "a", "a"].iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(kind, k);
            doc.add_text(id, i.to_string());
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let reader = index.reader()?;
        let admitted = AdmittedDocs::default();
        let docs = |query: &dyn Query| -> anyhow::Result<Vec<DocId>> {
            let searcher = reader.searcher();
            let weight = query.weight(EnableScoring::disabled_from_searcher(&searcher))?;
            let segment = searcher.segment_reader(0);
            let set = admitted.docs(segment, &format!("{query:?}"), &*weight)?;
            Ok((0..segment.max_doc())
                .filter(|d| set.contains(*d))
                .collect())
        };
        let of = |v: &str| TermQuery::new(Term::from_field_text(kind, v), IndexRecordOption::Basic);
        for _ in 0..2 {
            assert_eq!(docs(&of("a"))?, [0, 2, 3]);
            assert_eq!(docs(&of("b"))?, [1]);
        }
        writer.delete_term(Term::from_field_text(id, "2"));
        writer.commit()?;
        reader.reload()?;
        assert_eq!(docs(&of("a"))?, [0, 3]);
        assert_eq!(docs(&of("b"))?, [1]);
        Ok(())
    }
}
