//! Facet counts over every hit of a search: per index segment, each facet field's values
//! are counted by term ordinal (the columnar field's dictionary order) in a dense array, and
//! only the most frequent ordinals are turned into strings. This is what tantivy's terms
//! aggregation does too, minus its general machinery: the arrays are reused between searches
//! (only the slots a search touched are reset, so a search with few hits does not pay for a
//! dictionary of many values), and no intermediate JSON is built.

use std::cell::RefCell;
use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Values each segment reports per facet before they are merged, so a count can be a slight
/// undercount on a very fragmented index; never an overcount.
const SEGMENT_SIZE: usize = 500;
/// Count arrays kept per thread between searches, and the largest one kept.
const POOLED: usize = 8;
const POOLED_MAX_LEN: usize = 1 << 20;

thread_local! {
    /// All-zero count arrays, ready for the next segment.
    static POOL: RefCell<Vec<Vec<u32>>> = const { RefCell::new(Vec::new()) };
}

fn zeroed(len: usize) -> Vec<u32> {
    let mut counts = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
    if counts.len() < len {
        counts.resize(len, 0);
    }
    counts
}

/// Returns an array to the pool; `touched` lists every slot that may be non-zero.
fn recycle(mut counts: Vec<u32>, touched: &[u32]) {
    if counts.len() > POOLED_MAX_LEN {
        return;
    }
    for &ord in touched {
        counts[ord as usize] = 0;
    }
    POOL.with(|p| {
        let mut pool = p.borrow_mut();
        if pool.len() < POOLED {
            pool.push(counts);
        }
    });
}

/// Counts the values of the given fast (columnar) text fields over the matching documents.
/// A document counts once per distinct value.
pub struct FacetCounts {
    fields: Vec<&'static str>,
}

impl FacetCounts {
    pub fn new(fields: Vec<&'static str>) -> Self {
        Self { fields }
    }
}

/// Per field: value → number of matching documents.
pub type Counts = Vec<HashMap<String, u64>>;

pub struct SegmentFacetCounts {
    fields: Vec<Option<FieldCounts>>,
    ords: Vec<u64>,
}

struct FieldCounts {
    column: StrColumn,
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl Collector for FacetCounts {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounts> {
        let fast = reader.fast_fields();
        let fields = self
            .fields
            .iter()
            .map(|name| {
                Ok(fast.str(name)?.map(|column| FieldCounts {
                    counts: zeroed(column.num_terms()),
                    column,
                    touched: Vec::new(),
                }))
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentFacetCounts {
            fields,
            ords: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Counts>) -> tantivy::Result<Counts> {
        let mut merged: Counts = vec![HashMap::new(); self.fields.len()];
        for segment in segments {
            for (into, from) in merged.iter_mut().zip(segment) {
                if into.is_empty() {
                    *into = from;
                    continue;
                }
                for (value, n) in from {
                    *into.entry(value).or_default() += n;
                }
            }
        }
        Ok(merged)
    }
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = Counts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for field in self.fields.iter_mut().flatten() {
            self.ords.clear();
            self.ords.extend(field.column.term_ords(doc));
            if self.ords.len() > 1 {
                self.ords.sort_unstable();
                self.ords.dedup();
            }
            for &ord in &self.ords {
                let slot = &mut field.counts[ord as usize];
                if *slot == 0 {
                    field.touched.push(ord as u32);
                }
                *slot += 1;
            }
        }
    }

    fn harvest(self) -> Counts {
        self.fields
            .into_iter()
            .map(|field| {
                let Some(FieldCounts {
                    column,
                    counts,
                    mut touched,
                }) = field
                else {
                    return HashMap::new();
                };
                if touched.len() > SEGMENT_SIZE {
                    touched.select_nth_unstable_by_key(SEGMENT_SIZE, |&ord| {
                        std::cmp::Reverse(counts[ord as usize])
                    });
                }
                let mut top: Vec<u64> = touched
                    .iter()
                    .take(SEGMENT_SIZE)
                    .map(|&o| u64::from(o))
                    .collect();
                top.sort_unstable();
                let mut values = HashMap::with_capacity(top.len());
                let mut ords = top.iter();
                // Dictionary order is ordinal order: one pass resolves them all.
                let resolved = column.dictionary().sorted_ords_to_term_cb(&top, |bytes| {
                    if let Some(&ord) = ords.next() {
                        values.insert(
                            String::from_utf8_lossy(bytes).into_owned(),
                            u64::from(counts[ord as usize]),
                        );
                    }
                });
                if let Err(e) = resolved {
                    tracing::warn!(error = %e, "facet values could not be read");
                }
                recycle(counts, &touched);
                values
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use tantivy::query::{AllQuery, TermQuery};
    use tantivy::schema::{FAST, IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::*;

    /// Several segments, a multi-valued field with a value repeated within a document, and
    /// searches one after the other on the same thread (reused count arrays).
    #[test]
    fn counts_each_document_once_per_value_across_segments_and_searches() -> tantivy::Result<()> {
        let mut b = Schema::builder();
        let kind = b.add_text_field("kind", STRING);
        let kw = b.add_text_field("kw", STRING | FAST);
        let index = Index::create_in_ram(b.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let docs: [(&str, &[&str]); 6] = [
            ("a", &["x", "y", "x"]),
            ("a", &["y"]),
            ("b", &["x", "z"]),
            ("a", &[]),
            ("b", &["z", "z"]),
            ("a", &["w", "x"]),
        ];
        for (i, (k, values)) in docs.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(kind, k);
            for v in *values {
                doc.add_text(kw, v);
            }
            writer.add_document(doc)?;
            if i % 2 == 1 {
                writer.commit()?;
            }
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        assert!(searcher.segment_readers().len() >= 3);
        let count = |query: &dyn tantivy::query::Query| -> tantivy::Result<Vec<(String, u64)>> {
            let counts = searcher.search(query, &FacetCounts::new(vec!["kw", "missing"]))?;
            let mut kw: Vec<(String, u64)> = counts[0].clone().into_iter().collect();
            kw.sort();
            assert!(counts[1].is_empty());
            Ok(kw)
        };
        let pairs = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
        };
        let only_a = TermQuery::new(Term::from_field_text(kind, "a"), IndexRecordOption::Basic);
        for _ in 0..2 {
            assert_eq!(
                count(&AllQuery)?,
                pairs(&[("w", 1), ("x", 3), ("y", 2), ("z", 2)])
            );
            assert_eq!(count(&only_a)?, pairs(&[("w", 1), ("x", 2), ("y", 2)]));
        }
        Ok(())
    }
}
