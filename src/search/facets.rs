//! Facet counts over every hit of a search: per index segment, each facet field's values
//! are counted by term ordinal (the columnar field's dictionary order) in a dense array, and
//! only the most frequent ordinals are turned into strings. This is what tantivy's terms
//! aggregation does too, minus its general machinery: the arrays are reused between searches
//! (only the slots a search touched are reset, so a search with few hits does not pay for a
//! dictionary of many values), and no intermediate JSON is built. Each segment's columns are
//! read once into plain arrays (`FacetValues`: each document's ordinals, and the values as
//! text): segments never change, and reading the column for every hit and resolving
//! ordinals through the dictionary on every search would cost a sizeable share of a search's
//! CPU (bench/README.md, "Facet columns read once per segment").
//!
//! Across segments: each puts forward its most frequent values (`candidates`); the values
//! shown are the most frequent among those, and each is then counted exactly in every
//! segment. A value can only be missed if it is frequent overall but in no segment's
//! candidates (the trade tantivy's and Elasticsearch's `shard_size` make too); a count shown
//! is never off.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::StrColumn;
use tantivy::index::SegmentId;
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

/// Values each segment puts forward per facet when `size` are shown.
fn candidates(size: usize) -> usize {
    size * 2 + 10
}
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

/// Dictionaries larger than this are not kept as text; their values are resolved per search.
const KEPT_MAX_BYTES: u64 = 16 << 20;

/// Segments' facet columns, opened once per segment and field, with their values as text by
/// ordinal (read in one pass over the dictionary); dropped once the segment has left the
/// index.
pub struct FacetValues {
    kept: Mutex<HashMap<(SegmentId, &'static str), KeptColumn>>,
    /// Larger dictionaries are not read as text (`KEPT_MAX_BYTES`, but tests can go lower).
    max_bytes: u64,
}

impl Default for FacetValues {
    fn default() -> Self {
        Self {
            kept: Mutex::default(),
            max_bytes: KEPT_MAX_BYTES,
        }
    }
}

/// A segment's facet column as kept; None where the segment has no such column.
type KeptColumn = Option<Arc<Kept>>;

struct Kept {
    column: StrColumn,
    /// None for a dictionary larger than `KEPT_MAX_BYTES`.
    values: Option<Values>,
    docs: DocOrds,
}

/// Each document's ordinals, distinct and in order, in one array: reading them from the
/// column (its optional or multi-valued index, then the bit-packed values) for every hit
/// would be most of the cost of counting. Four bytes per document and value.
struct DocOrds {
    /// Document `d`'s ordinals are `ords[starts[d]..starts[d + 1]]`.
    starts: Vec<u32>,
    ords: Vec<u32>,
}

impl DocOrds {
    fn read(column: &StrColumn, max_doc: DocId) -> Self {
        let mut docs = DocOrds {
            starts: Vec::with_capacity(max_doc as usize + 1),
            ords: Vec::with_capacity(max_doc as usize),
        };
        docs.starts.push(0);
        for doc in 0..max_doc {
            let first = docs.ords.len();
            docs.ords.extend(
                column
                    .term_ords(doc)
                    .map(|o| u32::try_from(o).unwrap_or(u32::MAX)),
            );
            let own = &mut docs.ords[first..];
            if own.len() > 1 {
                own.sort_unstable();
                let distinct = dedup_sorted(own);
                docs.ords.truncate(first + distinct);
            }
            docs.starts
                .push(u32::try_from(docs.ords.len()).unwrap_or(u32::MAX));
        }
        docs
    }

    fn of(&self, doc: DocId) -> &[u32] {
        let d = doc as usize;
        match (self.starts.get(d), self.starts.get(d + 1)) {
            (Some(&from), Some(&to)) => self.ords.get(from as usize..to as usize).unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// Moves the distinct values of a sorted slice to its front; returns how many there are.
fn dedup_sorted(values: &mut [u32]) -> usize {
    let mut distinct = 0;
    for i in 0..values.len() {
        if i == 0 || values[i] != values[distinct - 1] {
            values[distinct] = values[i];
            distinct += 1;
        }
    }
    distinct
}

/// One dictionary's values, in ordinal order, in one string.
struct Values {
    text: String,
    ends: Vec<usize>,
}

impl Values {
    fn read(column: &StrColumn) -> std::io::Result<Self> {
        let mut values = Values {
            text: String::new(),
            ends: Vec::with_capacity(column.num_terms()),
        };
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            values.text.push_str(&String::from_utf8_lossy(stream.key()));
            values.ends.push(values.text.len());
        }
        Ok(values)
    }

    fn get(&self, ord: u64) -> Option<&str> {
        let ord = usize::try_from(ord).ok()?;
        let start = match ord {
            0 => 0,
            n => *self.ends.get(n - 1)?,
        };
        self.text.get(start..*self.ends.get(ord)?)
    }
}

impl Kept {
    fn value(&self, ord: u32) -> Option<Cow<'_, str>> {
        if let Some(values) = &self.values {
            return values.get(u64::from(ord)).map(Cow::Borrowed);
        }
        let mut bytes = Vec::new();
        match self
            .column
            .dictionary()
            .ord_to_term(u64::from(ord), &mut bytes)
        {
            Ok(true) => Some(Cow::Owned(String::from_utf8_lossy(&bytes).into_owned())),
            _ => None,
        }
    }

    /// The ordinal of `value` (dictionary order is byte order).
    fn ord(&self, value: &str) -> Option<u32> {
        let ord = match &self.values {
            Some(values) => {
                let (mut lo, mut hi) = (0, values.ends.len());
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    match values.get(mid as u64)?.cmp(value) {
                        std::cmp::Ordering::Less => lo = mid + 1,
                        std::cmp::Ordering::Greater => hi = mid,
                        std::cmp::Ordering::Equal => return u32::try_from(mid).ok(),
                    }
                }
                return None;
            }
            None => self.column.dictionary().term_ord(value).ok()??,
        };
        u32::try_from(ord).ok()
    }
}

impl FacetValues {
    /// A segment's column for `field` (None if it has none), opened now if it was not kept
    /// yet; `live` are the segments of the searcher asking, and those not among them are
    /// dropped.
    fn of(
        &self,
        reader: &SegmentReader,
        field: &'static str,
        live: &[SegmentId],
    ) -> tantivy::Result<Option<Arc<Kept>>> {
        let key = (reader.segment_id(), field);
        let lock = || self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = lock().get(&key) {
            return Ok(kept.clone());
        }
        let kept = reader.fast_fields().str(field)?.map(|column| {
            let small = column.dictionary().num_bytes().get_bytes() <= self.max_bytes;
            let values = small
                .then(|| Values::read(&column))
                .transpose()
                .map_err(|e| tracing::warn!(error = %e, "facet values could not be read"))
                .ok()
                .flatten();
            let docs = DocOrds::read(&column, reader.max_doc());
            Arc::new(Kept {
                column,
                values,
                docs,
            })
        });
        let mut all = lock();
        all.retain(|(id, _), _| live.contains(id));
        all.insert(key, kept.clone());
        Ok(kept)
    }
}

/// Counts the values of the given fast (columnar) text fields over the matching documents.
/// A document counts once per distinct value.
pub struct FacetCounts<'a> {
    fields: Vec<&'static str>,
    /// Values shown per field.
    size: usize,
    values: &'a FacetValues,
    live: Vec<SegmentId>,
}

impl<'a> FacetCounts<'a> {
    pub fn new(
        fields: Vec<&'static str>,
        size: usize,
        values: &'a FacetValues,
        searcher: &tantivy::Searcher,
    ) -> Self {
        Self {
            fields,
            size,
            values,
            live: searcher
                .segment_readers()
                .iter()
                .map(SegmentReader::segment_id)
                .collect(),
        }
    }
}

/// Per field: (value, number of matching documents), most frequent first.
pub type Counts = Vec<Vec<(String, u64)>>;

pub struct SegmentFacetCounts {
    fields: Vec<Option<FieldCounts>>,
    candidates: usize,
}

/// One segment's counts of one field, kept until the segments are merged.
pub struct FieldCounts {
    kept: Arc<Kept>,
    counts: Vec<u32>,
    touched: Vec<u32>,
    /// The ordinals this segment puts forward (after `harvest`).
    top: Vec<u32>,
}

impl FieldCounts {
    fn count(&self, ord: u32) -> u64 {
        self.counts.get(ord as usize).map_or(0, |&n| u64::from(n))
    }
}

impl Collector for FacetCounts<'_> {
    type Fruit = Counts;
    type Child = SegmentFacetCounts;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacetCounts> {
        let fields = self
            .fields
            .iter()
            .map(|&name| {
                Ok(self
                    .values
                    .of(reader, name, &self.live)?
                    .map(|kept| FieldCounts {
                        counts: zeroed(kept.column.num_terms()),
                        kept,
                        touched: Vec::new(),
                        top: Vec::new(),
                    }))
            })
            .collect::<tantivy::Result<_>>()?;
        Ok(SegmentFacetCounts {
            fields,
            candidates: candidates(self.size),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<Vec<Option<FieldCounts>>>) -> tantivy::Result<Counts> {
        let mut by_field: Vec<Vec<FieldCounts>> = self.fields.iter().map(|_| Vec::new()).collect();
        for segment in segments {
            for (into, field) in by_field.iter_mut().zip(segment) {
                into.extend(field);
            }
        }
        Ok(by_field
            .into_iter()
            .map(|segments| {
                let shown = merge(&segments, self.size);
                for field in segments {
                    recycle(field.counts, &field.touched);
                }
                shown
            })
            .collect())
    }
}

/// The `size` most frequent values over the segments, with their exact counts.
fn merge(segments: &[FieldCounts], size: usize) -> Vec<(String, u64)> {
    let with_hits: Vec<&FieldCounts> = segments.iter().filter(|s| !s.top.is_empty()).collect();
    let mut shown: Vec<(String, u64)> = match with_hits[..] {
        [] => Vec::new(),
        // One segment: its candidates are its most frequent values, counted exactly.
        [one] => one
            .top
            .iter()
            .filter_map(|&ord| Some((one.kept.value(ord)?.into_owned(), one.count(ord))))
            .collect(),
        ref several => {
            let mut sums: HashMap<Cow<'_, str>, u64> = HashMap::new();
            for s in several {
                for &ord in &s.top {
                    if let Some(value) = s.kept.value(ord) {
                        *sums.entry(value).or_default() += s.count(ord);
                    }
                }
            }
            let mut best: Vec<(Cow<'_, str>, u64)> = sums.into_iter().collect();
            best.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            best.truncate(size);
            best.into_iter()
                .map(|(value, _)| {
                    let exact = several
                        .iter()
                        .map(|s| s.kept.ord(&value).map_or(0, |ord| s.count(ord)))
                        .sum();
                    (value.into_owned(), exact)
                })
                .collect()
        }
    };
    shown.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    shown.truncate(size);
    shown
}

impl SegmentCollector for SegmentFacetCounts {
    type Fruit = Vec<Option<FieldCounts>>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        for field in self.fields.iter_mut().flatten() {
            for &ord in field.kept.docs.of(doc) {
                if let Some(slot) = field.counts.get_mut(ord as usize) {
                    if *slot == 0 {
                        field.touched.push(ord);
                    }
                    *slot += 1;
                }
            }
        }
    }

    /// Picks each field's candidates: the most frequent values, ties in value order.
    fn harvest(mut self) -> Self::Fruit {
        for field in self.fields.iter_mut().flatten() {
            let mut top = field.touched.clone();
            let key = |&ord: &u32| (Reverse(field.counts[ord as usize]), ord);
            if top.len() > self.candidates {
                top.select_nth_unstable_by_key(self.candidates, key);
                top.truncate(self.candidates);
            }
            field.top = top;
        }
        self.fields
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
        // Values read as text once, and (no dictionary small enough) looked up every time.
        let values = FacetValues::default();
        let looked_up = FacetValues {
            max_bytes: 0,
            ..Default::default()
        };
        let count = |query: &dyn tantivy::query::Query| -> tantivy::Result<Vec<(String, u64)>> {
            let counts = searcher.search(
                query,
                &FacetCounts::new(vec!["kw", "missing"], 10, &values, &searcher),
            )?;
            assert!(counts[1].is_empty());
            let again = searcher.search(
                query,
                &FacetCounts::new(vec!["kw", "missing"], 10, &looked_up, &searcher),
            )?;
            assert_eq!(again, counts);
            Ok(counts[0].clone())
        };
        let pairs = |v: &[(&str, u64)]| -> Vec<(String, u64)> {
            v.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect()
        };
        let only_a = TermQuery::new(Term::from_field_text(kind, "a"), IndexRecordOption::Basic);
        for _ in 0..2 {
            assert_eq!(
                count(&AllQuery)?,
                pairs(&[("x", 3), ("y", 2), ("z", 2), ("w", 1)])
            );
            assert_eq!(count(&only_a)?, pairs(&[("x", 2), ("y", 2), ("w", 1)]));
        }
        // Merged into one segment: the values kept for the old segments are dropped and the
        // new segment's are read.
        let ids = index.searchable_segment_ids()?;
        writer.merge(&ids).wait()?;
        writer.wait_merging_threads()?;
        let searcher = index.reader()?.searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let counts = searcher.search(
            &only_a,
            &FacetCounts::new(vec!["kw"], 10, &values, &searcher),
        )?;
        assert_eq!(counts[0], pairs(&[("x", 2), ("y", 2), ("w", 1)]));
        assert_eq!(values.kept.lock().map(|k| k.len()).unwrap_or_default(), 1);
        Ok(())
    }

    /// A value frequent overall but not among one segment's candidates is still counted
    /// there.
    #[test]
    fn values_shown_are_counted_exactly_in_every_segment() -> tantivy::Result<()> {
        let mut b = Schema::builder();
        let kw = b.add_text_field("kw", STRING | FAST);
        let index = Index::create_in_ram(b.build());
        let mut writer = index.writer_with_num_threads(1, 15_000_000)?;
        let add = |writer: &mut tantivy::IndexWriter, value: &str| {
            let mut doc = TantivyDocument::default();
            doc.add_text(kw, value);
            writer.add_document(doc).map(|_| ())
        };
        for _ in 0..10 {
            add(&mut writer, "common")?;
        }
        writer.commit()?;
        // With one value shown, a segment puts forward 12: these 12 come before "common".
        for i in 0..12 {
            for _ in 0..3 {
                add(&mut writer, &format!("b{i:02}"))?;
            }
        }
        add(&mut writer, "common")?;
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        assert_eq!(searcher.segment_readers().len(), 2);
        for values in [
            FacetValues::default(),
            FacetValues {
                max_bytes: 0,
                ..Default::default()
            },
        ] {
            let counts = searcher.search(
                &AllQuery,
                &FacetCounts::new(vec!["kw"], 1, &values, &searcher),
            )?;
            assert_eq!(counts, [vec![("common".to_owned(), 11)]]);
        }
        Ok(())
    }
}
