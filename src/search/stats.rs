//! Collection statistics over the documents everyone may see, which every score is computed
//! with (search's BM25, matching's idf and field lengths).
//!
//! Relevance statistics taken over the whole index let a caller measure documents it may
//! not see: a company could tell that a word occurs in a competitor's confidential or draft
//! need from the score of its own draft. Taken over public documents only (public profiles,
//! published public needs, public centres: what an anonymous caller sees), a score depends
//! on nothing but documents everyone can read and the scored document itself.
//!
//! One set of statistics per searcher generation: which documents are public per segment,
//! their count per kind and their field lengths are found once (a few milliseconds for a
//! large index); document frequencies are counted per word when first asked for and
//! remembered for the generation.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::query::{Bm25StatisticsProvider, EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Searcher, TERMINATED, Term};

use super::index::Fields;
use super::query::{self, Kind, Visible};

/// Word frequencies remembered per generation at most (a few MB).
const DF_KEPT: usize = 50_000;

pub struct PublicStats {
    generation: u64,
    /// Per segment (in the searcher's order): the live public documents.
    public: Vec<BitSet>,
    docs: u64,
    faculty: u64,
    /// Tokens per field over the public documents (from field norms), by field id.
    tokens: HashMap<u32, u64>,
    df: Mutex<HashMap<Term, u64>>,
}

impl PublicStats {
    /// The statistics of `searcher`'s documents that everyone may see.
    pub fn new(fields: &Fields, searcher: &Searcher) -> tantivy::Result<Self> {
        let everyone = Visible {
            visibilities: vec!["public"],
            ..Default::default()
        };
        let mut public = Vec::with_capacity(searcher.segment_readers().len());
        for reader in searcher.segment_readers() {
            public.push(BitSet::with_max_value(reader.max_doc()));
        }
        let (mut docs, mut faculty) = (0u64, 0u64);
        for kind in [Kind::Faculty, Kind::Need, Kind::Center] {
            let filter = query::filter(fields, kind, &everyone, &[]);
            let weight = filter.weight(EnableScoring::disabled_from_searcher(searcher))?;
            for (reader, set) in searcher.segment_readers().iter().zip(&mut public) {
                let alive = reader.alive_bitset();
                let mut found = 0u64;
                weight.for_each_no_score(reader, &mut |batch: &[DocId]| {
                    for &d in batch {
                        if alive.is_none_or(|a| a.is_alive(d)) {
                            set.insert(d);
                            found += 1;
                        }
                    }
                })?;
                docs += found;
                if kind == Kind::Faculty {
                    faculty += found;
                }
            }
        }
        let mut tokens = HashMap::new();
        for field in [
            fields.title,
            fields.keywords,
            fields.body,
            fields.publications,
        ] {
            let mut n = 0u64;
            for (reader, set) in searcher.segment_readers().iter().zip(&public) {
                let norms = reader.get_fieldnorms_reader(field)?;
                for d in 0..reader.max_doc() {
                    if set.contains(d) {
                        n += u64::from(norms.fieldnorm(d));
                    }
                }
            }
            tokens.insert(field.field_id(), n);
        }
        Ok(Self {
            generation: searcher.generation().generation_id(),
            public,
            docs,
            faculty,
            tokens,
            df: Mutex::new(HashMap::new()),
        })
    }

    /// The searcher generation these statistics describe.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Public documents (at least one).
    pub fn docs(&self) -> u64 {
        self.docs.max(1)
    }

    /// Public profiles (at least one).
    pub fn faculty(&self) -> u64 {
        self.faculty.max(1)
    }

    /// Tokens of `field` over the public documents.
    pub fn tokens(&self, field: Field) -> u64 {
        self.tokens.get(&field.field_id()).copied().unwrap_or(0)
    }

    /// Public documents with `term`, on `searcher` (the one these statistics were made from).
    pub fn public_doc_freq(&self, searcher: &Searcher, term: &Term) -> tantivy::Result<u64> {
        if let Some(n) = self.df.lock().unwrap_or_else(|p| p.into_inner()).get(term) {
            return Ok(*n);
        }
        let mut n = 0u64;
        for (reader, set) in searcher.segment_readers().iter().zip(&self.public) {
            let inverted = reader.inverted_index(term.field())?;
            let Some(mut postings) = inverted.read_postings(term, IndexRecordOption::Basic)? else {
                continue;
            };
            let mut d = postings.doc();
            while d != TERMINATED {
                if set.contains(d) {
                    n += 1;
                }
                d = postings.advance();
            }
        }
        let mut df = self.df.lock().unwrap_or_else(|p| p.into_inner());
        // Bounded: a generation of a quiet index lives long and meets many words.
        if df.len() >= DF_KEPT {
            df.clear();
        }
        df.insert(term.clone(), n);
        Ok(n)
    }

    /// These statistics as tantivy's BM25 asks for them, on `searcher`.
    pub fn bm25<'a>(&'a self, searcher: &'a Searcher) -> Bm25Public<'a> {
        Bm25Public {
            stats: self,
            searcher,
        }
    }
}

/// [`PublicStats`] bound to its searcher, for `Searcher::search_with_statistics_provider`.
pub struct Bm25Public<'a> {
    stats: &'a PublicStats,
    searcher: &'a Searcher,
}

/// With no public document at all (a new installation with drafts only), the counts are
/// taken as one document of one token a field, so that scores stay numbers.
impl Bm25StatisticsProvider for Bm25Public<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let tokens = self.stats.tokens(field);
        Ok(tokens.max(self.stats.docs()))
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.stats.docs())
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.stats.public_doc_freq(self.searcher, term)
    }
}
