//! Where each glossary form occurs, per segment and field, kept between matches.
//!
//! A form written in CJK (`分散式訓練`) is indexed as its pieces (bigrams), so finding the
//! documents that hold the whole form means intersecting its pieces' postings, some of them
//! common bigrams. That was the costliest part of a cross-language match. Segments never
//! change and the glossary is fixed, so each (segment, field, form) is intersected once and
//! the answer kept; entries of segments that have left the index are dropped, and the whole
//! store is bounded (`MAX_ENTRIES`). What a caller may see is applied when the list is read,
//! never stored in it.

use std::sync::{Arc, Mutex, PoisonError};

use tantivy::index::SegmentId;
use tantivy::postings::Postings;
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, InvertedIndexReader, SegmentReader, TERMINATED, Term};

use crate::error::{AppError, AppResult};

/// A form's documents in one segment's field, in document order, each with the count of the
/// form's rarest piece there.
pub type FormDocs = Arc<[(DocId, u32)]>;

/// Documents kept over all entries: 8 bytes each, so at most 16 MiB. Past it, the entries of
/// segments no longer searched go first, then everything (the store refills from the
/// queries that come).
const MAX_ENTRIES: usize = 2 << 20;

#[derive(Default)]
pub struct FormPostings {
    kept: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    lists: foldhash::HashMap<(SegmentId, Field, usize), FormDocs>,
    entries: usize,
}

impl FormPostings {
    /// The documents of segment `reader` whose `field` holds every piece of glossary form
    /// `form`. `live` are the segments of the searcher asking.
    pub fn docs(
        &self,
        reader: &SegmentReader,
        inverted: &InvertedIndexReader,
        field: Field,
        form: usize,
        pieces: &[String],
        live: &[SegmentId],
    ) -> AppResult<FormDocs> {
        let key = (reader.segment_id(), field, form);
        let lock = || self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(docs) = lock().lists.get(&key) {
            return Ok(docs.clone());
        }
        let docs: FormDocs = whole_form(inverted, field, pieces)?.into();
        let mut kept = lock();
        if kept.entries + docs.len() > MAX_ENTRIES {
            kept.lists.retain(|(id, _, _), _| live.contains(id));
            kept.entries = kept.lists.values().map(|d| d.len()).sum();
            if kept.entries + docs.len() > MAX_ENTRIES {
                kept.lists.clear();
                kept.entries = 0;
            }
        }
        if kept.lists.insert(key, docs.clone()).is_none() {
            kept.entries += docs.len();
        }
        Ok(docs)
    }

    #[cfg(test)]
    fn entries(&self) -> usize {
        self.kept
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entries
    }
}

/// Documents of a segment whose field has every piece of a form, with the count of its
/// rarest piece: the rarest piece's postings, each document looked up in the others'.
fn whole_form(
    inverted: &InvertedIndexReader,
    field: Field,
    pieces: &[String],
) -> AppResult<Vec<(DocId, u32)>> {
    let mut postings = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let term = Term::from_field_text(field, piece);
        match inverted
            .read_postings(&term, IndexRecordOption::WithFreqs)
            .map_err(AppError::internal)?
        {
            Some(p) => postings.push(p),
            None => return Ok(Vec::new()),
        }
    }
    postings.sort_by_key(|p| p.doc_freq());
    let Some((first, others)) = postings.split_first_mut() else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut d = first.doc();
    'docs: while d != TERMINATED {
        let mut tf = first.term_freq();
        for p in others.iter_mut() {
            if p.doc() > d || p.seek(d) != d {
                if p.doc() == TERMINATED {
                    break 'docs;
                }
                d = first.advance();
                continue 'docs;
            }
            tf = tf.min(p.term_freq());
        }
        out.push((d, tf));
        d = first.advance();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, doc};

    #[test]
    fn a_form_is_found_where_all_its_pieces_are_and_kept_once() -> AppResult<()> {
        let mut schema = Schema::builder();
        let text = schema.add_text_field("text", TEXT);
        let index = Index::create_in_ram(schema.build());
        let mut writer = index
            .writer_with_num_threads(1, 15_000_000)
            .map_err(AppError::internal)?;
        for body in ["ab cd ab", "ab", "cd ab cd cd"] {
            writer
                .add_document(doc!(text => body))
                .map_err(AppError::internal)?;
        }
        writer.commit().map_err(AppError::internal)?;
        let searcher = index.reader().map_err(AppError::internal)?.searcher();
        let reader = searcher.segment_reader(0);
        let live = [reader.segment_id()];
        let inverted = reader.inverted_index(text).map_err(AppError::internal)?;
        let forms = FormPostings::default();
        let pieces = ["ab".to_owned(), "cd".to_owned()];
        let docs = forms.docs(reader, &inverted, text, 7, &pieces, &live)?;
        assert_eq!(&docs[..], &[(0, 1), (2, 1)]);
        let again = forms.docs(reader, &inverted, text, 7, &pieces, &live)?;
        assert!(Arc::ptr_eq(&docs, &again));
        assert_eq!(forms.entries(), 2);
        let missing = ["ab".to_owned(), "zz".to_owned()];
        assert!(
            forms
                .docs(reader, &inverted, text, 8, &missing, &live)?
                .is_empty()
        );
        Ok(())
    }
}
