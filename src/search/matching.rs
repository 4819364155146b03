//! Matching needs and profiles. There is one score for a pair, computed the same way for the
//! lists in both directions and for a single pair's explanation.
//!
//! **The need is the query.** Its words are analysed like all text (English stemmed, CJK as
//! bigrams); a word's weight is `Σ field weight × (1 + ln tf)` over the need's title (×2),
//! keywords (×2) and summary + description (×1). Of the 256 heaviest words, the 64 with the
//! highest `weight × idf` are kept. Words found in more than a fifth of all documents count at
//! their low idf, but only for the candidates the rarer words find (`COMMON`).
//!
//! **Profile score (BM25F).** For each query word, its occurrences in the profile's keywords
//! (×2.5), interests/bio (×1) and publications (×1.2), each normalised by that field's length
//! against the average (b = 0.75), are summed into one frequency `x`, then saturated:
//! `weight × idf × x / (k1 + x)` (k1 = 3). Dividing the sum by `Σ weight × idf` — what a profile
//! saturated with every query word would approach — plus a fixed prior gives a score in 0..1
//! that does not grow with the length of the need, so scores compare across needs, while a
//! need of only a few words cannot make a profile that shares them look like a full match.
//!
//! **Across languages.** A word inside a glossary term (`glossary`) also counts where the
//! text has the term in another script: in a need saying `distributed training`, a
//! profile's `分散式訓練` counts as an occurrence of both words where all its pieces occur,
//! as BM25F counts a synonym, so the need's norm does not grow and scores within one
//! language do not move. Explanations name the pair (`分散式訓練 ≈ distributed training`).
//!
//! **Best publication.** Each publication (title ×2 and the start of its abstract) is scored
//! the same way on its own and multiplied by a recency factor (1 for the last three years,
//! halving every eight years after, never below 0.25). A profile whose one recent paper is
//! squarely on the need should not be lost in a long publication list.
//!
//! **Pair score** = `0.65 × profile + 0.35 × max(profile, best publication)`: a strong,
//! recent publication lifts a profile; missing publications never sink one.

mod stored;

use std::collections::hash_map::Entry;

use foldhash::{HashMap, HashMapExt as _, HashSet, HashSetExt as _};

use super::SearchIndex;
use super::forms::{FormDocs, FormPostings};
use super::stats::PublicStats;
use std::sync::Arc;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::index::SegmentId;
use tantivy::postings::Postings;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::tokenizer::{TextAnalyzer, TokenStream};
use tantivy::{BitSet, DocAddress, DocId, DocSet, Searcher, TERMINATED, TantivyDocument, Term};

use super::analyzer::{Stemmable, is_cjk, multilingual, unstemmed, word_stemmer};
use super::glossary::{self, Glossary};
use super::index::{FacultyTexts, Fields};
use crate::error::{AppError, AppResult};

/// BM25's saturation. 3 rather than the usual 1.2: a profile's publications are many
/// documents in one field, where a word's repetition across papers is evidence of expertise
/// (the development set, 300 firms: MRR 0.6305 → 0.6478 for needs ranking profiles, 0.5110 →
/// 0.5293 the other way; 2 and 4–6 measured about the same, 1.2 worst).
const K1: f32 = 3.0;
const B: f32 = 0.75;
/// How the need's own fields weigh its words: title, keywords, summary + description.
const NEED_WEIGHTS: [f32; 3] = [2.0, 2.0, 1.0];
/// Profile fields compared with a need, and their BM25F weights. The name is not compared.
pub const PROFILE_FIELDS: [(&str, f32); 3] =
    [("keywords", 2.5), ("body", 1.0), ("publications", 1.2)];
/// Need fields a profile's words are looked up in when finding needs for a profile.
const NEED_FIELDS: [(&str, f32); 3] = [("title", 3.0), ("keywords", 2.5), ("body", 1.0)];
/// How a profile's fields weigh its words when it looks for needs.
const PROFILE_QUERY_WEIGHTS: [f32; 3] = [2.0, 1.0, 0.5];
/// Added to every need's norm, in `weight × idf` units (a need of 64 words weighs about
/// 600–1,500): a need of a few words is only weak evidence, and without it a profile that
/// happens to share those words scores as high as one covering a detailed need, so thin needs
/// crowd the top of a profile's list. Within one need's list it changes no order. The
/// development set, 300 firms, profiles ranking needs: MRR 0.5293 → 0.6106 (100: 0.5917,
/// 500: 0.5983, 1,000: 0.5947); needs ranking profiles unchanged.
const EVIDENCE_PRIOR: f32 = 250.0;
/// Words kept per query.
const MAX_TERMS: usize = 64;
/// Alternatives kept per word (a word in many glossary terms, like `learning`).
const MAX_ALTERNATIVES: usize = 8;
/// A profile's words considered for finding needs.
const MAX_PROFILE_TERMS: usize = 128;
/// Words in more than this share of documents (in a corpus of at least `COMMON_MIN_DOCS`
/// documents) are common. A profile's query drops them (the development set, 1,000 firms,
/// profiles ranking needs: MRR 0.5330 with the cut, 0.5315 without). A need's query keeps them
/// at their low idf and half their weight (`COMMON_WEIGHT`), and they are scored only for the
/// best `POOL` candidates by the other words: the common words are most of the postings a
/// match would read (scored everywhere, a match took about three times as long on 100,000
/// profiles). All 1,979 firms, MRR needs → profiles / profiles → needs: 0.5207 / 0.4702 with
/// the cut, 0.5321 / 0.4573 at full weight (common words lift every profile's score for
/// needs full of them, which then crowd profiles' lists), 0.5277 / 0.4704 at half.
const COMMON: f32 = 0.2;
const COMMON_MIN_DOCS: f32 = 1000.0;
const COMMON_WEIGHT: f32 = 0.5;
/// Candidates by the rarer words that a need's common words are scored for, whatever the
/// depth asked for.
const POOL: usize = 400;
/// Words that say nothing about a research topic, in needs and profiles alike (on top of the
/// analyser's English stop words, which search keeps minimal).
const NOT_TOPICAL: &str = "we our us you your i my me he she his her they them their its also can \
    could would should may might must shall will using use used uses based new novel propose \
    proposed present presents presented paper papers study studies studied result results show \
    shows shown approach approaches method methods work works working looking look seek seeking \
    partner partners company companies project projects team want wants need needs help within \
    between through well more most very many much such other others than which who whom whose \
    what when where while how about over under all any each both few some one two three first \
    second year years make makes made get gets able etc via per including include includes";

fn not_topical() -> &'static HashSet<String> {
    static SET: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut analyzer = multilingual();
        let mut counts = HashMap::new();
        analyse(&mut analyzer, NOT_TOPICAL, &mut counts, None);
        counts.into_keys().collect()
    })
}
/// The profile as a whole vs its best publication.
pub const PROFILE_SHARE: f32 = 0.65;
/// How much of an abstract a publication is judged on.
pub const ABSTRACT_CHARS: usize = 800;
/// Typical length (tokens) of a title plus the start of its abstract.
const PUBLICATION_AVG_LEN: f32 = 110.0;
const PUBLICATION_TITLE_WEIGHT: f32 = 2.0;

/// One word of a query.
#[derive(Debug, Clone)]
pub struct QueryTerm {
    /// The analysed token (stemmed, lowercased, or a CJK bigram).
    pub token: String,
    /// How it was first written (lowercased), for explanations.
    pub surface: String,
    pub weight: f32,
    pub idf: f32,
    /// Tokens that stand for it in other languages or spellings (from the glossary).
    pub alternatives: Vec<Alternative>,
    /// In more than `COMMON` of the documents: scored only for the candidates the other words
    /// find (`rank`), as its long postings would otherwise be most of a match's work.
    common: bool,
}

/// Another form of a query word's glossary term (another language, another script): where
/// all its pieces occur, it counts as occurrences of the word (as many as its rarest piece),
/// as BM25F counts a synonym. So a profile in Chinese scores for `distributed training` as
/// one in English would, and the query's norm (what a full match scores) does not grow.
#[derive(Debug, Clone)]
pub struct Alternative {
    /// Its tokens in the other script.
    pub pieces: Vec<String>,
    /// The glossary forms it comes from, and the one found in the text (for explanations).
    form: usize,
    source: usize,
}

/// A query word's weight, how it was written, and its alternatives, before idf.
#[derive(Debug, Clone, Default)]
struct Weighted {
    weight: f32,
    surface: String,
    alternatives: Vec<Alternative>,
}

/// Alternatives per word: for every glossary term found in the token sequence, each of its
/// words gets the tokens of the term's other forms.
fn translate(tokens: &[String], out: &mut HashMap<String, Vec<Alternative>>) {
    let gl = Glossary::get();
    for found in gl.find(tokens) {
        let source = gl.form(found.form).script;
        for other in gl.translations(found.form) {
            // Only the pieces in the other script: `EUV 리소그래피` adds the Korean to
            // `EUV lithography`, not `euv` again.
            let pieces: Vec<String> = gl
                .form(other)
                .tokens
                .iter()
                .filter(|t| glossary::script(t) != source)
                .cloned()
                .collect();
            if pieces.is_empty() {
                continue;
            }
            for word in &tokens[found.start..found.start + found.len] {
                let alternatives = out.entry(word.clone()).or_default();
                if alternatives.len() < MAX_ALTERNATIVES
                    && !alternatives.iter().any(|a| a.pieces == pieces)
                {
                    alternatives.push(Alternative {
                        pieces: pieces.clone(),
                        form: other,
                        source: found.form,
                    });
                }
            }
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct MatchQuery {
    pub terms: Vec<QueryTerm>,
    /// `Σ weight × idf + EVIDENCE_PRIOR`: what a profile saturated with every word would
    /// approach, plus the prior (0 when the need has no usable word).
    norm: f32,
}

impl QueryTerm {
    /// What an explanation shows for it: the word as written, or the glossary's pair when
    /// the text has it only in another form.
    pub fn label(&self, via: Option<usize>) -> String {
        let glossary = Glossary::get();
        via.and_then(|i| self.alternatives.get(i)).map_or_else(
            || self.surface.clone(),
            |a| {
                let (form, source) = (glossary.form(a.form), glossary.form(a.source));
                format!("{} ≈ {}", form.written, source.written)
            },
        )
    }
}

/// Where explanation labels are CJK bigrams (a run of Han or Hangul is indexed as overlapping
/// pairs: `記憶體` as `記憶` and `憶體`), the runs of `texts` they were cut from: bigram →
/// the longest run of two or more consecutive bigrams, all among `labels`, that it is part
/// of. An explanation names that run, as written, instead of pieces nobody wrote.
pub fn bigram_runs<'t>(
    texts: impl IntoIterator<Item = &'t str>,
    labels: impl Fn(&str) -> bool,
) -> HashMap<String, String> {
    let mut runs: HashMap<String, String> = HashMap::new();
    let mut pair = String::new();
    for text in texts {
        let chars: Vec<char> = text.chars().collect();
        let shown = |k: usize, pair: &mut String| {
            if !chars[k..k + 2].iter().all(|c| is_cjk(*c)) {
                return false;
            }
            pair.clear();
            pair.extend(&chars[k..k + 2]);
            labels(pair.as_str())
        };
        let mut i = 0;
        while i + 1 < chars.len() {
            let mut j = i;
            while j + 1 < chars.len() && shown(j, &mut pair) {
                j += 1;
            }
            // Bigrams i..j (exclusive) cover the characters i..=j.
            if j - i >= 2 {
                let run: String = chars[i..=j].iter().collect();
                for k in i..j {
                    let piece: String = chars[k..k + 2].iter().collect();
                    let longer = runs
                        .get(&piece)
                        .is_none_or(|r| r.chars().count() < run.chars().count());
                    if longer {
                        runs.insert(piece, run.clone());
                    }
                }
            }
            i = j.max(i + 1);
        }
    }
    runs
}

impl MatchQuery {
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty() || self.norm <= 0.0
    }

    /// The tokens a text must have one of to score at all, as `rank` finds candidates: each
    /// uncommon word, and the first piece of each of its alternatives (an alternative counts
    /// only where all its pieces occur).
    pub fn triggers(&self) -> impl Iterator<Item = &str> {
        self.terms.iter().filter(|t| !t.common).flat_map(|t| {
            std::iter::once(t.token.as_str()).chain(
                t.alternatives
                    .iter()
                    .filter_map(|a| a.pieces.first().map(String::as_str)),
            )
        })
    }
}

/// Counts an analyser's tokens in `text`: token → (count, first surface form), and the total;
/// and the tokens in order, if asked for.
fn analyse(
    analyzer: &mut TextAnalyzer,
    text: &str,
    counts: &mut HashMap<String, (u32, String)>,
    mut sequence: Option<&mut Vec<String>>,
) -> u32 {
    let mut total = 0;
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        total += 1;
        if let Some(s) = sequence.as_deref_mut() {
            s.push(t.text.clone());
        }
        match counts.get_mut(t.text.as_str()) {
            Some(e) => e.0 += 1,
            None => {
                let surface = text
                    .get(t.offset_from..t.offset_to)
                    .unwrap_or(&t.text)
                    .to_lowercase();
                counts.insert(t.text.clone(), (1, surface));
            }
        }
    }
    total
}

/// Corpus statistics for the profile side: document counts and average field lengths.
pub struct Corpus {
    fields: [Field; 3],
    need_fields: [Field; 3],
    docs: f32,
    avg_len: [f32; 3],
    need_avg_len: [f32; 3],
    /// Document frequencies looked up so far (a corpus lives for one request, in which many
    /// queries share words).
    df: std::sync::Mutex<HashMap<String, u64>>,
    stats: Arc<PublicStats>,
}

impl Corpus {
    /// The statistics of the public documents (`stats`): no score depends on a document the
    /// caller may not see.
    pub fn new(fields: &Fields, stats: Arc<PublicStats>) -> AppResult<Self> {
        let profile_fields = [fields.keywords, fields.body, fields.publications];
        let need_fields = [fields.title, fields.keywords, fields.body];
        let faculty = stats.faculty() as f32;
        let tokens = |field: Field| stats.tokens(field) as f32;
        // Publications exist only on profiles, titles are names on profiles; the averages
        // are taken over the documents that have the field's kind of content.
        let all = stats.docs() as f32;
        let avg_len = [
            (tokens(profile_fields[0]) / all).max(1.0),
            (tokens(profile_fields[1]) / all).max(1.0),
            (tokens(profile_fields[2]) / faculty).max(1.0),
        ];
        let need_avg_len = [
            (tokens(need_fields[0]) / all).max(1.0),
            avg_len[0],
            avg_len[1],
        ];
        Ok(Self {
            fields: profile_fields,
            need_fields,
            docs: all,
            avg_len,
            need_avg_len,
            df: Default::default(),
            stats,
        })
    }

    /// Documents with the token in any compared field (the largest of the per-field counts).
    fn doc_freq(&self, searcher: &Searcher, token: &str) -> AppResult<u64> {
        let mut cache = self.df.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(df) = cache.get(token) {
            return Ok(*df);
        }
        let mut df = 0;
        for field in self.fields {
            df = df.max(
                self.stats
                    .public_doc_freq(searcher, &Term::from_field_text(field, token))
                    .map_err(AppError::internal)?,
            );
        }
        cache.insert(token.to_owned(), df);
        Ok(df)
    }

    /// Weighted counts → the `keep` strongest query terms by `weight × idf` (of the
    /// `4 × keep` heaviest; common words kept, marked, only if `keep_common`).
    fn query(
        &self,
        searcher: &Searcher,
        weighted: HashMap<String, Weighted>,
        keep: usize,
        keep_common: bool,
    ) -> AppResult<MatchQuery> {
        let prefilter = keep * 4;
        let mut candidates: Vec<(String, Weighted)> = weighted.into_iter().collect();
        // Deterministic order before any cut: by weight, then token.
        candidates.sort_by(|a, b| {
            b.1.weight
                .total_cmp(&a.1.weight)
                .then_with(|| a.0.cmp(&b.0))
        });
        candidates.truncate(prefilter);
        let mut terms = Vec::with_capacity(candidates.len());
        let mut common = Vec::new();
        for (token, w) in candidates {
            let df = self.doc_freq(searcher, &token)? as f32;
            let idf = (1.0 + (self.docs - df + 0.5) / (df + 0.5)).ln();
            let is_common = self.docs >= COMMON_MIN_DOCS && df > COMMON * self.docs;
            let term = QueryTerm {
                token,
                surface: w.surface,
                weight: if is_common && keep_common {
                    w.weight * COMMON_WEIGHT
                } else {
                    w.weight
                },
                idf,
                alternatives: w.alternatives,
                common: is_common,
            };
            if is_common && !keep_common {
                common.push(term);
            } else {
                terms.push(term);
            }
        }
        if terms.is_empty() {
            terms = common;
        }
        terms.sort_by(|a, b| {
            (b.weight * b.idf)
                .total_cmp(&(a.weight * a.idf))
                .then_with(|| a.token.cmp(&b.token))
        });
        terms.truncate(keep);
        // Common words are deferred, and lightened, only behind rarer ones.
        if terms.iter().all(|t| t.common) {
            for t in &mut terms {
                if keep_common {
                    t.weight /= COMMON_WEIGHT;
                }
                t.common = false;
            }
        }
        let evidence: f32 = terms.iter().map(|t| t.weight * t.idf).sum();
        let norm = if evidence > 0.0 {
            evidence + EVIDENCE_PRIOR
        } else {
            0.0
        };
        Ok(MatchQuery { terms, norm })
    }
}

/// Sums `field weight × (1 + ln tf)` per token over texts, with the tokens' alternatives.
fn weigh(texts: &[(&str, f32)]) -> HashMap<String, Weighted> {
    let mut analyzer = multilingual();
    let mut weighted: HashMap<String, Weighted> = HashMap::new();
    let mut alternatives = HashMap::new();
    for (text, w) in texts {
        let mut counts = HashMap::new();
        let mut sequence = Vec::new();
        analyse(&mut analyzer, text, &mut counts, Some(&mut sequence));
        translate(&sequence, &mut alternatives);
        for (token, (n, surface)) in counts {
            if not_topical().contains(&token) {
                continue;
            }
            let e = weighted.entry(token).or_insert_with(|| Weighted {
                surface,
                ..Default::default()
            });
            e.weight += w * (1.0 + (n as f32).ln());
        }
    }
    for (token, a) in alternatives {
        if let Some(e) = weighted.get_mut(&token) {
            e.alternatives = a;
        }
    }
    weighted
}

/// The query for a need: its title, keywords, and summary + description.
pub fn need_query(
    corpus: &Corpus,
    searcher: &Searcher,
    title: &str,
    keywords: &[String],
    body: &str,
) -> AppResult<MatchQuery> {
    let keywords = keywords.join("\n");
    let weighted = weigh(&[
        (title, NEED_WEIGHTS[0]),
        (&keywords, NEED_WEIGHTS[1]),
        (body, NEED_WEIGHTS[2]),
    ]);
    corpus.query(searcher, weighted, MAX_TERMS, true)
}

/// A text's occurrences of one query word: the count in each compared field (an
/// alternative's occurrences count by its share), and which alternative they came from when
/// the word itself is absent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TermHits {
    pub tf: [f32; 3],
    /// The word itself occurs.
    own: bool,
    /// The first alternative that occurs.
    alternative: Option<usize>,
}

impl TermHits {
    fn add(&mut self, field: usize, count: f32, alternative: Option<usize>) {
        if count <= 0.0 {
            return;
        }
        self.tf[field] += count;
        match alternative {
            None => self.own = true,
            Some(a) => self.alternative = Some(self.alternative.map_or(a, |b| b.min(a))),
        }
    }

    /// The alternative the counts stand on: set when only alternatives occur.
    pub fn via(&self) -> Option<usize> {
        if self.own { None } else { self.alternative }
    }
}

/// A term's hits from per-token counts (`lookup` gives a token's counts per field).
fn term_hits(t: &QueryTerm, lookup: impl Fn(&str) -> [u32; 3]) -> TermHits {
    let mut hits = TermHits::default();
    for (k, c) in lookup(&t.token).into_iter().enumerate() {
        hits.add(k, c as f32, None);
    }
    for (i, a) in t.alternatives.iter().enumerate() {
        let mut counts = [u32::MAX; 3];
        for piece in &a.pieces {
            for (k, c) in lookup(piece).into_iter().enumerate() {
                counts[k] = counts[k].min(c);
            }
        }
        for (k, c) in counts.into_iter().enumerate() {
            hits.add(k, c as f32, Some(i));
        }
    }
    hits
}

/// A profile's occurrences of a query's words: per query term, the counts in each compared
/// field; and each field's (quantised, as the index stores it) length.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileHits {
    pub tf: Vec<TermHits>,
    pub len: [u32; 3],
}

/// One query word's part of a score.
#[derive(Debug, Clone)]
pub struct TermShare {
    /// Index into the query's terms.
    pub term: usize,
    /// Its part of the score (the parts add up to the score).
    pub value: f32,
    /// How its occurrences split over the compared fields (sums to 1).
    pub fields: [f32; 3],
    /// The alternative (index into the term's) its occurrences stand on, if the word itself
    /// is absent.
    pub via: Option<usize>,
}

fn saturated_bm25f(
    q: &MatchQuery,
    tf: &[TermHits],
    len: [u32; 3],
    weights: [f32; 3],
    avg: [f32; 3],
) -> (f32, Vec<TermShare>) {
    if q.is_empty() {
        return (0.0, Vec::new());
    }
    let mut total = 0.0;
    let mut shares = Vec::new();
    for (i, (t, hits)) in q.terms.iter().zip(tf).enumerate() {
        let mut parts = [0.0f32; 3];
        for k in 0..3 {
            if hits.tf[k] > 0.0 {
                parts[k] = weights[k] * hits.tf[k] / (1.0 - B + B * len[k] as f32 / avg[k]);
            }
        }
        let x: f32 = parts.iter().sum();
        if x <= 0.0 {
            continue;
        }
        let value = t.weight * t.idf * x / (K1 + x) / q.norm;
        total += value;
        shares.push(TermShare {
            term: i,
            value,
            fields: parts.map(|p| p / x),
            via: hits.via(),
        });
    }
    (total, shares)
}

/// The profile part of a pair's score.
pub fn profile_score(q: &MatchQuery, corpus: &Corpus, hits: &ProfileHits) -> (f32, Vec<TermShare>) {
    saturated_bm25f(
        q,
        &hits.tf,
        hits.len,
        PROFILE_FIELDS.map(|f| f.1),
        corpus.avg_len,
    )
}

/// A profile analysed in memory the way the index analyses it: per token its count in each
/// compared field, and the field lengths. Used for a single pair and for a profile's needs.
pub struct AnalysedProfile {
    tf: HashMap<String, [u32; 3]>,
    surface: HashMap<String, String>,
    len: [u32; 3],
    /// Its words' glossary alternatives, for its query.
    alternatives: HashMap<String, Vec<Alternative>>,
}

impl AnalysedProfile {
    pub fn new(texts: &FacultyTexts) -> Self {
        let mut analyzer = multilingual();
        let mut tf: HashMap<String, [u32; 3]> = HashMap::new();
        let mut surface = HashMap::new();
        let mut len = [0u32; 3];
        let mut alternatives = HashMap::new();
        for (k, text) in [&texts.keywords, &texts.body, &texts.publications]
            .into_iter()
            .enumerate()
        {
            let mut counts = HashMap::new();
            let mut sequence = Vec::new();
            let n = analyse(&mut analyzer, text, &mut counts, Some(&mut sequence));
            translate(&sequence, &mut alternatives);
            // The index stores lengths quantised to one byte; so does this.
            len[k] = FieldNormReader::id_to_fieldnorm(FieldNormReader::fieldnorm_to_id(n));
            for (token, (c, s)) in counts {
                tf.entry(token.clone()).or_default()[k] += c;
                surface.entry(token).or_insert(s);
            }
        }
        Self {
            tf,
            surface,
            len,
            alternatives,
        }
    }

    /// Whether any of its compared texts has this token.
    pub fn has(&self, token: &str) -> bool {
        self.tf.contains_key(token)
    }

    /// Its tokens, in no order.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.tf.keys().map(String::as_str)
    }

    pub fn hits(&self, q: &MatchQuery) -> ProfileHits {
        ProfileHits {
            tf: q
                .terms
                .iter()
                .map(|t| term_hits(t, |token| self.tf.get(token).copied().unwrap_or_default()))
                .collect(),
            len: self.len,
        }
    }

    /// The profile as a query for needs: its keywords, interests/bio and publications.
    pub fn query(&self, corpus: &Corpus, searcher: &Searcher) -> AppResult<MatchQuery> {
        let weighted = self
            .tf
            .iter()
            .filter(|(token, _)| !not_topical().contains(*token))
            .map(|(token, counts)| {
                let w: f32 = counts
                    .iter()
                    .zip(PROFILE_QUERY_WEIGHTS)
                    .filter(|(c, _)| **c > 0)
                    .map(|(c, w)| w * (1.0 + (*c as f32).ln()))
                    .sum();
                let weighted = Weighted {
                    weight: w,
                    surface: self.surface.get(token).cloned().unwrap_or_default(),
                    alternatives: self.alternatives.get(token).cloned().unwrap_or_default(),
                };
                (token.clone(), weighted)
            })
            .collect();
        corpus.query(searcher, weighted, MAX_PROFILE_TERMS, false)
    }
}

/// A publication analysed for matching against any number of queries (a profile's needs).
pub struct AnalysedPublication {
    /// token → (count in title, count in abstract start)
    tf: HashMap<String, (u32, u32)>,
    len: u32,
    pub year: Option<i32>,
}

fn abstract_start(text: &str) -> &str {
    // A text of at most ABSTRACT_CHARS bytes has at most as many characters; an ASCII start
    // is cut by bytes. Only the rest need counting characters.
    if text.len() <= ABSTRACT_CHARS {
        return text;
    }
    if text.as_bytes()[..ABSTRACT_CHARS].is_ascii() {
        return &text[..ABSTRACT_CHARS];
    }
    let end = text
        .char_indices()
        .nth(ABSTRACT_CHARS)
        .map_or(text.len(), |(i, _)| i);
    &text[..end]
}

impl AnalysedPublication {
    pub fn new(title: &str, abstract_: Option<&str>, year: Option<i32>) -> Self {
        let mut analyzer = multilingual();
        let mut tf: HashMap<String, (u32, u32)> = HashMap::new();
        let mut len = 0;
        let texts = [(Some(title), false), (abstract_.map(abstract_start), true)];
        for (text, in_abstract) in texts {
            let Some(text) = text else { continue };
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                len += 1;
                let token = &stream.token().text;
                let e = match tf.get_mut(token.as_str()) {
                    Some(e) => e,
                    None => tf.entry(token.clone()).or_default(),
                };
                if in_abstract {
                    e.1 += 1;
                } else {
                    e.0 += 1;
                }
            }
        }
        Self { tf, len, year }
    }

    /// The stored form of a publication's text: what `new(..).encode()` gives, made without a
    /// map of owned tokens (every publication written pays for it).
    pub fn stored(title: &str, abstract_: Option<&str>) -> Vec<u8> {
        let mut analyzer = multilingual();
        // Every token's text in one buffer; (start, end, in the abstract) per token.
        let mut text = String::with_capacity(title.len() + ABSTRACT_CHARS);
        let mut spans: Vec<(u32, u32, bool)> = Vec::with_capacity(160);
        let texts = [(Some(title), false), (abstract_.map(abstract_start), true)];
        for (t, in_abstract) in texts {
            let Some(t) = t else { continue };
            let mut stream = analyzer.token_stream(t);
            while stream.advance() {
                let start = text.len() as u32;
                text.push_str(&stream.token().text);
                spans.push((start, text.len() as u32, in_abstract));
            }
        }
        let token = |s: &(u32, u32, bool)| &text[s.0 as usize..s.1 as usize];
        spans.sort_unstable_by(|a, b| token(a).cmp(token(b)));
        let mut tokens: Vec<(&str, u32, u32)> = Vec::with_capacity(spans.len());
        for s in &spans {
            let t = token(s);
            let (title, abs) = (u32::from(!s.2), u32::from(s.2));
            match tokens.last_mut() {
                Some(last) if last.0 == t => {
                    last.1 += title;
                    last.2 += abs;
                }
                _ => tokens.push((t, title, abs)),
            }
        }
        stored::encode(spans.len() as u32, &tokens)
    }

    /// Its stored form (`publications.analysed`, see `stored`), tokens in order.
    pub fn encode(&self) -> Vec<u8> {
        let mut tokens: Vec<(&str, u32, u32)> = self
            .tf
            .iter()
            .map(|(t, (title, abs))| (t.as_str(), *title, *abs))
            .collect();
        tokens.sort_unstable_by(|a, b| a.0.cmp(b.0));
        stored::encode(self.len, &tokens)
    }

    /// Whether a stored form can be read (made by this analyser, undamaged).
    pub fn readable(bytes: &[u8]) -> bool {
        stored::decode(bytes, |_, _, _| ()).is_some()
    }

    /// From its stored form; `None` when that was made by another analyser or is damaged.
    pub fn decode(bytes: &[u8], year: Option<i32>) -> Option<Self> {
        let mut tf = HashMap::new();
        let len = stored::decode(bytes, |t, title, abs| {
            tf.insert(t.to_owned(), (title, abs));
        })?;
        Some(Self { tf, len, year })
    }

    /// Its counts of one query's words.
    pub fn counts(&self, q: &MatchQuery) -> PublicationCounts {
        PublicationCounts {
            tf: q
                .terms
                .iter()
                .map(|t| {
                    term_hits(t, |token| {
                        let (title, abs) = self.tf.get(token).copied().unwrap_or_default();
                        [title, abs, 0]
                    })
                })
                .collect(),
            len: self.len,
            year: self.year,
        }
    }
}

fn saturation(x: f32) -> f32 {
    x / (K1 + x)
}

/// The most each of a profile's tokens can add to a pair's score, per unit of a query word's
/// `weight × idf / norm`: the larger of its saturation over the profile's fields and in any
/// one publication (times that publication's recency). Summed over a query's words and the
/// first piece of each alternative (`QuerySet`), this bounds the pair's score from above:
/// the score is at most the larger of its profile part and its best publication's, each a
/// sum over words of that unit times a saturation; saturation grows with every count and is
/// subadditive (a word's own occurrences and its alternatives' add), and an alternative
/// counts no more often than its first piece.
pub struct Ceiling(HashMap<String, f32>);

impl Ceiling {
    pub fn new(
        profile: &AnalysedProfile,
        publications: &[AnalysedPublication],
        corpus: &Corpus,
        this_year: i32,
    ) -> Self {
        let weights = PROFILE_FIELDS.map(|f| f.1);
        let mut most: HashMap<String, f32> = HashMap::with_capacity(profile.tf.len());
        for (token, tf) in &profile.tf {
            let x: f32 = (0..3)
                .filter(|k| tf[*k] > 0)
                .map(|k| {
                    weights[k] * tf[k] as f32
                        / (1.0 - B + B * profile.len[k] as f32 / corpus.avg_len[k])
                })
                .sum();
            most.insert(token.clone(), saturation(x));
        }
        for p in publications {
            let r = recency(p.year, this_year);
            let norm = 1.0 - B + B * p.len.max(1) as f32 / PUBLICATION_AVG_LEN;
            for (token, (title, abs)) in &p.tf {
                let x = (PUBLICATION_TITLE_WEIGHT * *title as f32 + *abs as f32) / norm;
                let v = saturation(x) * r;
                match most.get_mut(token.as_str()) {
                    Some(e) => *e = e.max(v),
                    None => {
                        most.insert(token.clone(), v);
                    }
                }
            }
        }
        Self(most)
    }
}

/// Many queries inverted by token, to find the few a profile can score enough against
/// without scoring it against all (saved alerts: one changed profile, thousands of needs).
pub struct QuerySet {
    /// token → (query, `weight × idf / norm` of the word it stands for)
    by_token: HashMap<String, Vec<(u32, f32)>>,
    len: usize,
}

impl QuerySet {
    pub fn new<'a>(queries: impl IntoIterator<Item = &'a MatchQuery>) -> Self {
        let mut by_token: HashMap<String, Vec<(u32, f32)>> = HashMap::new();
        let mut len = 0;
        for (i, q) in queries.into_iter().enumerate() {
            len = i + 1;
            if q.is_empty() {
                continue;
            }
            for t in &q.terms {
                let unit = t.weight * t.idf / q.norm;
                let first_pieces = t.alternatives.iter().filter_map(|a| a.pieces.first());
                for token in std::iter::once(&t.token).chain(first_pieces) {
                    by_token
                        .entry(token.clone())
                        .or_default()
                        .push((i as u32, unit));
                }
            }
        }
        Self { by_token, len }
    }

    /// For each query, in the order given, the most the profile can score against it (at
    /// least its pair score).
    pub fn ceilings(&self, profile: &Ceiling) -> Vec<f32> {
        let mut out = vec![0.0f32; self.len];
        for (token, most) in &profile.0 {
            for (i, unit) in self.by_token.get(token.as_str()).into_iter().flatten() {
                out[*i as usize] += unit * most;
            }
        }
        out
    }
}

/// A publication's counts of a query's words (title, abstract start) and its length.
#[derive(Debug, PartialEq)]
pub struct PublicationCounts {
    tf: Vec<TermHits>,
    len: u32,
    pub year: Option<i32>,
}

/// Counts one query's words in texts, stemming only the words that can be one of them (the
/// same tokens as the full analyser: see `analyzer::unstemmed`). Much cheaper than analysing
/// whole texts, which is what matching a need against many profiles' publications needs.
pub struct TermCounter<'q> {
    query: &'q MatchQuery,
    /// The tokens the query looks for: its words and their alternatives' pieces.
    wanted: HashSet<&'q str>,
    stemmable: Stemmable,
    /// Words already stemmed in this counter's texts → the token they are, if a wanted one.
    seen: HashMap<String, Option<&'q str>>,
    pre: TextAnalyzer,
    stem: TextAnalyzer,
}

impl<'q> TermCounter<'q> {
    pub fn new(q: &'q MatchQuery) -> Self {
        let mut wanted = HashSet::new();
        for t in &q.terms {
            wanted.insert(t.token.as_str());
            for a in &t.alternatives {
                wanted.extend(a.pieces.iter().map(String::as_str));
            }
        }
        Self {
            query: q,
            stemmable: Stemmable::new(wanted.iter()),
            wanted,
            seen: HashMap::new(),
            pre: unstemmed(),
            stem: word_stemmer(),
        }
    }

    /// Counts the wanted tokens of a text into `counts` at `slot`; returns its length.
    fn count(&mut self, text: &str, counts: &mut HashMap<&'q str, [u32; 3]>, slot: usize) -> u32 {
        let mut len = 0;
        let mut stream = self.pre.token_stream(text);
        while stream.advance() {
            len += 1;
            let word = &stream.token().text;
            if !self.stemmable.may_become_one(word) {
                continue;
            }
            let token = match self.seen.get(word.as_str()) {
                Some(t) => *t,
                None => {
                    let mut stemmed = self.stem.token_stream(word);
                    let t = if stemmed.advance() {
                        self.wanted.get(stemmed.token().text.as_str()).copied()
                    } else {
                        None
                    };
                    self.seen.insert(word.clone(), t);
                    t
                }
            };
            if let Some(t) = token {
                counts.entry(t).or_default()[slot] += 1;
            }
        }
        len
    }

    pub fn publication(
        &mut self,
        title: &str,
        abstract_: Option<&str>,
        year: Option<i32>,
    ) -> PublicationCounts {
        let mut counts = HashMap::new();
        let mut len = self.count(title, &mut counts, 0);
        if let Some(text) = abstract_ {
            len += self.count(abstract_start(text), &mut counts, 1);
        }
        self.counted(&counts, len, year)
    }

    /// The same counts from a publication's stored form (`AnalysedPublication::encode`), which
    /// takes a lookup per distinct token instead of analysing the text; `None` when that form
    /// was made by another analyser or is damaged.
    pub fn stored(&self, bytes: &[u8], year: Option<i32>) -> Option<PublicationCounts> {
        let mut counts: HashMap<&'q str, [u32; 3]> = HashMap::new();
        let len = stored::decode(bytes, |token, title, abs| {
            if let Some(t) = self.wanted.get(token) {
                let c = counts.entry(*t).or_default();
                c[0] += title;
                c[1] += abs;
            }
        })?;
        Some(self.counted(&counts, len, year))
    }

    fn counted(
        &self,
        counts: &HashMap<&'q str, [u32; 3]>,
        len: u32,
        year: Option<i32>,
    ) -> PublicationCounts {
        let tf = self
            .query
            .terms
            .iter()
            .map(|t| term_hits(t, |token| counts.get(token).copied().unwrap_or_default()))
            .collect();
        PublicationCounts { tf, len, year }
    }
}

/// How much a publication of `year` counts in `this_year`.
pub fn recency(year: Option<i32>, this_year: i32) -> f32 {
    match year {
        None => 0.5,
        Some(y) => {
            let age = (this_year - y).max(0) as f32;
            if age <= 3.0 {
                1.0
            } else {
                0.5f32.powf((age - 3.0) / 8.0).max(0.25)
            }
        }
    }
}

/// One publication's score against a query.
#[derive(Debug, Clone)]
pub struct PublicationScore {
    /// Index into the profile's publications.
    pub index: usize,
    /// Coverage × recency.
    pub score: f32,
    pub recency: f32,
    pub terms: Vec<TermShare>,
}

pub fn publication_score(
    q: &MatchQuery,
    index: usize,
    p: &PublicationCounts,
    this_year: i32,
) -> PublicationScore {
    let len = p.len.max(1);
    let (coverage, terms) = saturated_bm25f(
        q,
        &p.tf,
        [len, len, 1],
        [PUBLICATION_TITLE_WEIGHT, 1.0, 0.0],
        [PUBLICATION_AVG_LEN, PUBLICATION_AVG_LEN, 1.0],
    );
    let r = recency(p.year, this_year);
    PublicationScore {
        index,
        score: coverage * r,
        recency: r,
        terms: terms
            .into_iter()
            .map(|mut s| {
                s.value *= r;
                s
            })
            .collect(),
    }
}

/// A pair's score and what it is made of.
#[derive(Debug, Clone, Default)]
pub struct PairScore {
    pub score: f32,
    pub profile: f32,
    pub publication: f32,
    /// Per query word, its part of `score` (they add up to it), largest first.
    pub terms: Vec<TermShare>,
    /// The publications that matched, best first.
    pub publications: Vec<PublicationScore>,
}

pub fn pair_score(
    q: &MatchQuery,
    corpus: &Corpus,
    hits: &ProfileHits,
    publications: &[PublicationCounts],
    this_year: i32,
) -> PairScore {
    let (profile, profile_terms) = profile_score(q, corpus, hits);
    let mut pubs: Vec<PublicationScore> = publications
        .iter()
        .enumerate()
        .map(|(i, p)| publication_score(q, i, p, this_year))
        .filter(|p| p.score > 0.0)
        .collect();
    pubs.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    let best = pubs.first().map_or(0.0, |p| p.score);
    let rest = 1.0 - PROFILE_SHARE;
    let score = PROFILE_SHARE * profile + rest * profile.max(best);
    // Each word's part: its profile part, plus its part of whichever side the max took.
    let mut parts: HashMap<usize, TermShare> = HashMap::new();
    let from_best = best > profile;
    for s in &profile_terms {
        let v = s.value * if from_best { PROFILE_SHARE } else { 1.0 };
        parts.insert(
            s.term,
            TermShare {
                term: s.term,
                value: v,
                fields: s.fields,
                via: s.via,
            },
        );
    }
    if from_best && let Some(p) = pubs.first() {
        for s in &p.terms {
            let e = parts.entry(s.term).or_insert(TermShare {
                term: s.term,
                value: 0.0,
                // Found only in a publication: it is a publications-field match.
                fields: [0.0, 0.0, 1.0],
                via: s.via,
            });
            e.value += rest * s.value;
        }
    }
    let mut terms: Vec<TermShare> = parts.into_values().collect();
    // Common words only tell apart the candidates the rarer words find: alone they make no
    // match, as neither list would find the pair.
    if !terms
        .iter()
        .any(|s| s.value > 0.0 && !q.terms[s.term].common)
    {
        return PairScore::default();
    }
    terms.sort_by(|a, b| b.value.total_cmp(&a.value).then(a.term.cmp(&b.term)));
    PairScore {
        score: score.clamp(0.0, 1.0),
        profile,
        publication: best,
        terms,
        publications: pubs,
    }
}

/// The glossary forms a query has read in one segment's field (see `FormPostings`), by form.
type FormHits = HashMap<usize, FormDocs>;

/// An alternative's documents in one segment's field, read once per query (`kept`) and once
/// per segment (`FormPostings`).
fn form_docs<'k>(
    kept: &'k mut FormHits,
    forms: &FormPostings,
    reader: &tantivy::SegmentReader,
    inverted: &tantivy::InvertedIndexReader,
    field: Field,
    a: &Alternative,
    live: &[SegmentId],
) -> AppResult<&'k FormDocs> {
    Ok(match kept.entry(a.form) {
        Entry::Occupied(e) => e.into_mut(),
        Entry::Vacant(e) => e.insert(forms.docs(reader, inverted, field, a.form, &a.pieces, live)?),
    })
}

/// A candidate found in the index: its record id, its first-stage score, and its counts.
pub struct Candidate {
    pub id: String,
    pub rough: f32,
    pub hits: ProfileHits,
}

/// Scores every document the filter admits against the query's words over three fields
/// (postings read directly, no top-k cut-off: every document sharing a word is found), and
/// returns how many scored above zero and the best `depth` with their per-field counts.
/// The three fields a query's words are looked up in, their weights and average lengths.
struct Side {
    fields: [Field; 3],
    weights: [f32; 3],
    avg: [f32; 3],
}

/// Per field, its weight over its length normalisation for each of the 256 length codes a
/// field norm is stored as: a table lookup per posting instead of a division.
fn length_factors(weights: [f32; 3], avg: [f32; 3]) -> [[f32; 256]; 3] {
    std::array::from_fn(|k| {
        std::array::from_fn(|id| {
            let len = FieldNormReader::id_to_fieldnorm(id as u8) as f32;
            weights[k] / (1.0 - B + B * len / avg[k])
        })
    })
}

/// Segments of at least this many documents have their first pass split in two when the
/// pool is idle (below it, a thread costs more than it saves).
const SPLIT_AT: DocId = 20_000;

/// What the first pass over one segment reads.
struct Pass<'a> {
    q: &'a MatchQuery,
    fields: [Field; 3],
    /// Per field, its weight over its length normalisation, by length code.
    factors: &'a [[f32; 256]; 3],
    allowed: &'a BitSet,
    norms: &'a [FieldNormReader],
    inverted: &'a [Arc<tantivy::InvertedIndexReader>],
    /// The glossary forms' documents, read beforehand (`form_docs`).
    kept: &'a [FormHits; 3],
}

impl Pass<'_> {
    /// Every admitted posting of the rarer words among the documents of `range`, added up:
    /// (score, document) of each that scores.
    fn run(&self, range: std::ops::Range<DocId>) -> AppResult<Vec<(f32, DocId)>> {
        let from = range.start;
        let len = (range.end - range.start) as usize;
        let mut score = vec![0f32; len];
        let mut acc = vec![0f32; len];
        let mut touched: Vec<DocId> = Vec::new();
        for t in self.q.terms.iter().filter(|t| !t.common) {
            for k in 0..3 {
                let factor = &self.factors[k];
                let norms = &self.norms[k];
                let mut add = |d: DocId, tf: u32| {
                    let slot = &mut acc[(d - from) as usize];
                    if *slot == 0.0 {
                        touched.push(d);
                    }
                    *slot += factor[norms.fieldnorm_id(d) as usize] * tf as f32;
                };
                for a in &t.alternatives {
                    let Some(docs) = self.kept[k].get(&a.form) else {
                        continue;
                    };
                    for &(d, tf) in docs.iter() {
                        if range.contains(&d) && self.allowed.contains(d) {
                            add(d, tf);
                        }
                    }
                }
                let term = Term::from_field_text(self.fields[k], &t.token);
                let Some(mut block) = self.inverted[k]
                    .read_block_postings(&term, IndexRecordOption::WithFreqs)
                    .map_err(AppError::internal)?
                else {
                    continue;
                };
                // Block by block from the range's start: every posting in it is read, so
                // skipping is of no use past that.
                let mut at = if from > 0 { block.seek(from) } else { 0 };
                'blocks: loop {
                    let docs = block.docs();
                    if docs.is_empty() {
                        break;
                    }
                    for (&d, &tf) in docs[at.min(docs.len())..]
                        .iter()
                        .zip(&block.freqs()[at.min(docs.len())..])
                    {
                        if d >= range.end {
                            break 'blocks;
                        }
                        if self.allowed.contains(d) {
                            add(d, tf);
                        }
                    }
                    at = 0;
                    block.advance();
                }
            }
            let c = t.weight * t.idf / self.q.norm;
            for d in touched.drain(..) {
                let i = (d - from) as usize;
                let x = std::mem::take(&mut acc[i]);
                score[i] += c * x / (K1 + x);
            }
        }
        Ok(score
            .into_iter()
            .enumerate()
            .filter(|(_, s)| *s > 0.0)
            .map(|(i, s)| (s, from + i as DocId))
            .collect())
    }
}

fn rank(
    index: &SearchIndex,
    searcher: &Searcher,
    filter: &dyn Query,
    q: &MatchQuery,
    side: Side,
    depth: usize,
) -> AppResult<(usize, Vec<Candidate>)> {
    if q.is_empty() {
        return Ok((0, Vec::new()));
    }
    let (forms, id_field) = (index.form_postings(), index.fields().id);
    let Side {
        fields,
        weights,
        avg,
    } = side;
    let weight = filter
        .weight(EnableScoring::disabled_from_searcher(searcher))
        .map_err(AppError::internal)?;
    let described = format!("{filter:?}");
    let mut found: Vec<(f32, DocAddress)> = Vec::new();
    let live: Vec<_> = searcher
        .segment_readers()
        .iter()
        .map(|r| r.segment_id())
        .collect();
    // Per segment and field, each glossary form's documents: a form is the alternative of
    // each of its words (`分散式訓練` of both `distributed` and `training`), so each is
    // fetched once and the second pass below reuses it.
    let mut segment_forms: Vec<[FormHits; 3]> = Vec::new();
    let factors = length_factors(weights, avg);
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        segment_forms.push(Default::default());
        let max = reader.max_doc();
        let allowed = index.admitted().docs(reader, &described, &*weight)?;
        if allowed.len() == 0 {
            continue;
        }
        let mut norms = Vec::with_capacity(3);
        let mut inverted = Vec::with_capacity(3);
        for f in fields {
            norms.push(
                reader
                    .get_fieldnorms_reader(f)
                    .map_err(AppError::internal)?,
            );
            inverted.push(reader.inverted_index(f).map_err(AppError::internal)?);
        }
        // The glossary forms are read before the pass, which only looks them up.
        let kept = &mut segment_forms[ord];
        for t in q.terms.iter().filter(|t| !t.common) {
            for (k, kept) in kept.iter_mut().enumerate() {
                for a in &t.alternatives {
                    form_docs(kept, forms, reader, &inverted[k], fields[k], a, &live)?;
                }
            }
        }
        let pass = Pass {
            q,
            fields,
            factors: &factors,
            allowed: &allowed,
            norms: &norms,
            inverted: &inverted,
            kept,
        };
        // On an otherwise idle pool a large segment is read in two halves at once, one on a
        // thread of its own: at concurrency 1 the first pass is the longest part of a match
        // that runs on one core. Each document is in one half and is scored by the same
        // additions in the same order, so the halves find exactly what one pass finds.
        let halves = index.cpu_threads() > 1 && max >= SPLIT_AT && index.cpu_queued() == 0;
        let scored = if halves {
            let mid = max / 2;
            std::thread::scope(|scope| {
                let second = scope.spawn(|| pass.run(mid..max));
                let first = pass.run(0..mid);
                let second = second
                    .join()
                    .map_err(|_| AppError::internal("a first-pass thread panicked"))?;
                first.map(|mut f| {
                    f.extend(second?);
                    Ok::<_, AppError>(f)
                })?
            })?
        } else {
            pass.run(0..max)?
        };
        found.extend(
            scored
                .into_iter()
                .map(|(s, d)| (s, DocAddress::new(ord as u32, d))),
        );
    }
    let total = found.len();
    let order =
        |a: &(f32, DocAddress), b: &(f32, DocAddress)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    // The common words are scored for a fixed pool, the best `POOL` by the rarer words, so
    // that the first cut's order does not depend on the depth asked for: a deeper cut extends
    // a shallower one (pages of a match list are cut from one order). Past the pool the order
    // is the rarer words' alone, which is the same order a pool candidate's score keeps above.
    let pool = if q.terms.iter().any(|t| t.common) {
        found.len().min(POOL)
    } else {
        0
    };
    if pool > 0 {
        if found.len() > pool {
            found.select_nth_unstable_by(pool - 1, order);
        }
        let side = Side {
            fields,
            weights,
            avg,
        };
        add_common(
            searcher,
            forms,
            &live,
            &mut segment_forms,
            q,
            &side,
            &mut found[..pool],
        )?;
        found[..pool].sort_by(order);
    }
    let want = if depth == 0 {
        found.len()
    } else {
        depth.max(pool).min(found.len())
    };
    let keep = want - pool;
    if keep > 0 && keep < found.len() - pool {
        found[pool..].select_nth_unstable_by(keep - 1, order);
    }
    found.truncate(want);
    found[pool..].sort_by(order);
    if depth > 0 {
        found.truncate(depth);
    }

    // Second pass over the chosen few: their exact counts per word and field.
    let mut by_segment: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, (_, a)) in found.iter().enumerate() {
        by_segment.entry(a.segment_ord).or_default().push(i);
    }
    let mut hits: Vec<ProfileHits> = found
        .iter()
        .map(|_| ProfileHits {
            tf: vec![TermHits::default(); q.terms.len()],
            len: [0; 3],
        })
        .collect();
    for (ord, mut idx) in by_segment {
        idx.sort_by_key(|i| found[*i].1.doc_id);
        let reader = searcher.segment_reader(ord);
        let mut chosen = BitSet::with_max_value(reader.max_doc());
        let mut at = HashMap::new();
        for i in &idx {
            chosen.insert(found[*i].1.doc_id);
            at.insert(found[*i].1.doc_id, *i);
        }
        for (k, &field) in fields.iter().enumerate() {
            let norms = reader
                .get_fieldnorms_reader(field)
                .map_err(AppError::internal)?;
            for i in &idx {
                hits[*i].len[k] = norms.fieldnorm(found[*i].1.doc_id);
            }
            let inverted = reader.inverted_index(field).map_err(AppError::internal)?;
            for (ti, t) in q.terms.iter().enumerate() {
                for (ai, a) in t.alternatives.iter().enumerate() {
                    let Some(list) = segment_forms[ord as usize][k].get(&a.form) else {
                        continue;
                    };
                    for &(d, tf) in list.iter() {
                        if chosen.contains(d) {
                            hits[at[&d]].tf[ti].add(k, tf as f32, Some(ai));
                        }
                    }
                }
                let term = Term::from_field_text(field, &t.token);
                let Some(mut p) = inverted
                    .read_postings(&term, IndexRecordOption::WithFreqs)
                    .map_err(AppError::internal)?
                else {
                    continue;
                };
                for i in &idx {
                    let doc = found[*i].1.doc_id;
                    if p.doc() > doc {
                        continue;
                    }
                    if p.seek(doc) == doc {
                        hits[*i].tf[ti].add(k, p.term_freq() as f32, None);
                    }
                    if p.doc() == TERMINATED {
                        break;
                    }
                }
            }
        }
    }
    let mut out = Vec::with_capacity(found.len());
    for ((rough, address), hits) in found.into_iter().zip(hits) {
        let doc: TantivyDocument = searcher.doc(address).map_err(AppError::internal)?;
        let id = doc
            .get_first(id_field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned();
        out.push(Candidate { id, rough, hits });
    }
    Ok((total, out))
}

/// Adds the common words' scores to the candidates in `found`, reading their postings only
/// at the candidates (skipping ahead), where the first pass read every posting of the rarer
/// words. Scores as that pass does; the forms read are kept for the second pass.
fn add_common(
    searcher: &Searcher,
    forms: &FormPostings,
    live: &[SegmentId],
    segment_forms: &mut [[FormHits; 3]],
    q: &MatchQuery,
    side: &Side,
    found: &mut [(f32, DocAddress)],
) -> AppResult<()> {
    let mut by_segment: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, (_, a)) in found.iter().enumerate() {
        by_segment.entry(a.segment_ord).or_default().push(i);
    }
    for (ord, mut idx) in by_segment {
        idx.sort_by_key(|i| found[*i].1.doc_id);
        let reader = searcher.segment_reader(ord);
        let mut chosen = BitSet::with_max_value(reader.max_doc());
        let mut at = HashMap::with_capacity(idx.len());
        for (j, i) in idx.iter().enumerate() {
            chosen.insert(found[*i].1.doc_id);
            at.insert(found[*i].1.doc_id, j);
        }
        // Per candidate and field: the field's weight over its length normalisation.
        let mut factor = vec![[0f32; 3]; idx.len()];
        let mut inverted = Vec::with_capacity(3);
        for (k, &field) in side.fields.iter().enumerate() {
            let norms = reader
                .get_fieldnorms_reader(field)
                .map_err(AppError::internal)?;
            for (j, i) in idx.iter().enumerate() {
                let len = norms.fieldnorm(found[*i].1.doc_id) as f32;
                factor[j][k] = side.weights[k] / (1.0 - B + B * len / side.avg[k]);
            }
            inverted.push(reader.inverted_index(field).map_err(AppError::internal)?);
        }
        let kept = &mut segment_forms[ord as usize];
        let mut x = vec![0f32; idx.len()];
        for t in q.terms.iter().filter(|t| t.common) {
            x.fill(0.0);
            for k in 0..3 {
                for a in &t.alternatives {
                    let docs = form_docs(
                        &mut kept[k],
                        forms,
                        reader,
                        &inverted[k],
                        side.fields[k],
                        a,
                        live,
                    )?;
                    for &(d, tf) in docs.iter() {
                        if chosen.contains(d) {
                            let j = at[&d];
                            x[j] += factor[j][k] * tf as f32;
                        }
                    }
                }
                let term = Term::from_field_text(side.fields[k], &t.token);
                let Some(mut p) = inverted[k]
                    .read_postings(&term, IndexRecordOption::WithFreqs)
                    .map_err(AppError::internal)?
                else {
                    continue;
                };
                for (j, i) in idx.iter().enumerate() {
                    let doc = found[*i].1.doc_id;
                    if p.doc() > doc {
                        continue;
                    }
                    if p.seek(doc) == doc {
                        x[j] += factor[j][k] * p.term_freq() as f32;
                    }
                    if p.doc() == TERMINATED {
                        break;
                    }
                }
            }
            let c = t.weight * t.idf / q.norm;
            for (j, i) in idx.iter().enumerate() {
                if x[j] > 0.0 {
                    found[*i].0 += c * x[j] / (K1 + x[j]);
                }
            }
        }
    }
    Ok(())
}

/// Profiles (admitted by `filter`) for a need's query: how many share any word, and the
/// best `depth` by profile score with their counts.
pub fn rank_profiles(
    index: &SearchIndex,
    searcher: &Searcher,
    corpus: &Corpus,
    filter: &dyn Query,
    q: &MatchQuery,
    depth: usize,
) -> AppResult<(usize, Vec<Candidate>)> {
    let side = Side {
        fields: corpus.fields,
        weights: PROFILE_FIELDS.map(|f| f.1),
        avg: corpus.avg_len,
    };
    rank(index, searcher, filter, q, side, depth)
}

/// Needs (admitted by `filter`) for a profile's query, by how well the need's title, keywords
/// and text cover the profile's words: a first cut, which the caller re-scores by the pair
/// score.
pub fn rank_needs(
    index: &SearchIndex,
    searcher: &Searcher,
    corpus: &Corpus,
    filter: &dyn Query,
    q: &MatchQuery,
    depth: usize,
) -> AppResult<(usize, Vec<String>)> {
    let side = Side {
        fields: corpus.need_fields,
        weights: NEED_FIELDS.map(|f| f.1),
        avg: corpus.need_avg_len,
    };
    let (total, found) = rank(index, searcher, filter, q, side, depth)?;
    Ok((total, found.into_iter().map(|c| c.id).collect()))
}

#[cfg(test)]
mod tests {
    use tantivy::Index;

    use super::*;
    use crate::search::analyzer::MULTILINGUAL;
    use crate::search::index::schema;

    type Result<T> = anyhow::Result<T>;

    const NEEDS: [(&str, &str, &str); 4] = [
        (
            "Distributed training on GPU clusters",
            "distributed training, GPU",
            "We want to cut the time to train large language models on our shared GPU cluster.",
        ),
        (
            "EUV lithography resist",
            "EUV lithography, photoresist",
            "Defects of chemically amplified resists under extreme ultraviolet exposure.",
        ),
        (
            "반도체 공정 최적화",
            "반도체, 공정",
            "반도체 공정의 수율을 높이는 기계 학습 방법을 찾습니다.",
        ),
        (
            "電池材料",
            "固態電池, 電解質",
            "開發高能量密度的固態電池電解質材料。",
        ),
    ];

    /// (keywords, body, publications as (title, abstract, year)).
    type Profile = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str, i32)],
    );
    const PROFILES: [Profile; 4] = [
        (
            "machine learning, distributed systems",
            "Scaling distributed training of deep networks.",
            &[
                (
                    "Pipeline parallel training on GPU clusters",
                    "We train models on 512 GPUs with pipeline parallelism and cut training time by half.",
                    2024,
                ),
                (
                    "Federated learning",
                    "Privacy in federated training of language models.",
                    2012,
                ),
            ],
        ),
        (
            "lithography, photoresist",
            "Extreme ultraviolet lithography and resist chemistry.",
            &[
                (
                    "Stochastic defects in EUV resists",
                    "Chemically amplified resists under EUV exposure show stochastic defects.",
                    2023,
                ),
                (
                    "EUV 리소그래피 공정",
                    "반도체 공정에서 EUV 리소그래피의 결함을 줄인다.",
                    2022,
                ),
            ],
        ),
        (
            "半導體, 機器學習",
            "以機器學習提升半導體製程良率。",
            &[("半導體製程良率", "利用機器學習方法分析製程資料。", 2021)],
        ),
        (
            "solid-state batteries",
            "Solid electrolytes for lithium batteries.",
            &[(
                "Sulfide solid electrolytes",
                "High energy density solid-state batteries with sulfide electrolytes.",
                2020,
            )],
        ),
    ];

    /// The ceiling of every pair is at least its score, whatever the query and the profile:
    /// saved alerts skip a pair on it, so a bound below the score would lose a hit.
    #[test]
    fn cjk_bigrams_are_named_by_the_run_they_were_cut_from() {
        let labels: HashSet<&str> = [
            "記憶", "憶體", "體內", "內運", "運算", "低功", "功耗", "패키", "키지", "良率",
        ]
        .into_iter()
        .collect();
        let runs = bigram_runs(
            [
                "記憶體內運算與低功耗",
                "HBM 패키지의 열 관리",
                "良率分析 記憶體",
            ],
            |l| labels.contains(l),
        );
        assert_eq!(runs["記憶"], "記憶體內運算", "the longest run wins");
        assert_eq!(runs["運算"], "記憶體內運算");
        assert_eq!(runs["功耗"], "低功耗");
        assert_eq!(runs["패키"], "패키지", "not 지의: not a label");
        assert!(!runs.contains_key("良率"), "a lone bigram keeps its name");
    }

    /// The queries of `NEEDS`, against an empty corpus.
    fn need_queries() -> Result<(Corpus, Vec<MatchQuery>)> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(MULTILINGUAL, multilingual());
        let searcher = index.reader()?.searcher();
        let corpus = Corpus::new(&fields, Arc::new(PublicStats::new(&fields, &searcher)?))?;
        let queries: Vec<MatchQuery> = NEEDS
            .iter()
            .map(|(title, keywords, body)| {
                let keywords: Vec<String> = keywords.split(", ").map(str::to_owned).collect();
                need_query(&corpus, &searcher, title, &keywords, body)
            })
            .collect::<AppResult<_>>()?;
        Ok((corpus, queries))
    }

    #[test]
    fn a_ceiling_is_never_below_the_score() -> Result<()> {
        let (corpus, queries) = need_queries()?;
        let set = QuerySet::new(&queries);
        let mut scored = 0;
        for (keywords, body, publications) in PROFILES {
            let texts = FacultyTexts {
                title: String::new(),
                keywords: keywords.to_owned(),
                body: body.to_owned(),
                publications: publications
                    .iter()
                    .map(|(t, a, _)| format!("{t}\n{a}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            let profile = AnalysedProfile::new(&texts);
            let pubs: Vec<AnalysedPublication> = publications
                .iter()
                .map(|(t, a, y)| AnalysedPublication::new(t, Some(a), Some(*y)))
                .collect();
            let ceilings = set.ceilings(&Ceiling::new(&profile, &pubs, &corpus, 2026));
            for (q, ceiling) in queries.iter().zip(ceilings) {
                let counts: Vec<PublicationCounts> = pubs.iter().map(|p| p.counts(q)).collect();
                let s = pair_score(q, &corpus, &profile.hits(q), &counts, 2026);
                assert!(
                    s.score <= ceiling * 1.0001 + 1e-7,
                    "score {} above its ceiling {ceiling}",
                    s.score
                );
                if s.score > 0.0 {
                    scored += 1;
                }
            }
        }
        // Not vacuous: most profiles score against their own need, one across languages.
        assert!(scored >= 4, "{scored} pairs scored");
        Ok(())
    }

    /// A publication's stored form counts every query's words as analysing its text does,
    /// both ways it is read (a need's candidates, a profile's own publications).
    #[test]
    fn a_stored_publication_counts_what_its_text_counts() -> Result<()> {
        let (_, queries) = need_queries()?;
        // An abstract longer than the start that counts, cut inside a multi-byte character.
        let long = format!(
            "{} 深度學習 lithography",
            "Resists under EUV exposure. ".repeat(40)
        );
        let mut publications: Vec<(&str, Option<&str>, Option<i32>)> = PROFILES
            .iter()
            .flat_map(|(_, _, pubs)| pubs.iter().map(|(t, a, y)| (*t, Some(*a), Some(*y))))
            .collect();
        publications.push(("EUV lithography", Some(&long), None));
        publications.push(("Training without an abstract", None, Some(2020)));
        let mut found = 0;
        for q in &queries {
            let mut counter = TermCounter::new(q);
            for (title, abstract_, year) in &publications {
                let from_text = counter.publication(title, *abstract_, *year);
                let bytes = AnalysedPublication::new(title, *abstract_, *year).encode();
                assert_eq!(
                    AnalysedPublication::stored(title, *abstract_),
                    bytes,
                    "{title}"
                );
                assert_eq!(
                    counter.stored(&bytes, *year),
                    Some(counter.publication(title, *abstract_, *year))
                );
                let decoded = AnalysedPublication::decode(&bytes, *year).map(|d| d.counts(q));
                assert_eq!(decoded, Some(from_text), "{title}");
                found += counter
                    .publication(title, *abstract_, *year)
                    .tf
                    .iter()
                    .filter(|h| h.tf != [0.0; 3])
                    .count();
            }
        }
        // Not vacuous: the needs' words occur in these publications.
        assert!(found >= 10, "{found} words found");
        Ok(())
    }

    #[test]
    fn a_first_pass_in_parts_finds_what_one_pass_finds() -> Result<()> {
        let (schema, fields) = schema();
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(MULTILINGUAL, multilingual());
        let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        // Enough documents for postings of several full blocks (128 each), of varying lengths.
        for i in 0..700 {
            let (keywords, body, publications) = PROFILES[i % PROFILES.len()];
            let mut doc = TantivyDocument::default();
            doc.add_text(fields.kind, "faculty");
            doc.add_text(fields.visibility, "public");
            doc.add_text(fields.keywords, keywords);
            doc.add_text(fields.body, format!("{body} {}", "filler ".repeat(i % 37)));
            let pubs: Vec<String> = publications
                .iter()
                .map(|(t, a, _)| format!("{t}\n{a}"))
                .collect();
            doc.add_text(fields.publications, pubs.join("\n"));
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        assert_eq!(searcher.segment_readers().len(), 1);
        let reader = &searcher.segment_readers()[0];
        let corpus = Corpus::new(&fields, Arc::new(PublicStats::new(&fields, &searcher)?))?;
        let max = reader.max_doc();
        // A filter that leaves some documents out.
        let mut allowed = BitSet::with_max_value(max);
        for d in (0..max).filter(|d| d % 5 != 0) {
            allowed.insert(d);
        }
        let mut norms = Vec::new();
        let mut inverted = Vec::new();
        for f in corpus.fields {
            norms.push(reader.get_fieldnorms_reader(f)?);
            inverted.push(reader.inverted_index(f)?);
        }
        let factors = length_factors(PROFILE_FIELDS.map(|f| f.1), corpus.avg_len);
        let kept: [FormHits; 3] = Default::default();
        // Needs whose words' postings span more than one block.
        let mut long = 0;
        for (title, keywords, body) in NEEDS {
            let keywords: Vec<String> = keywords.split(", ").map(str::to_owned).collect();
            let q = need_query(&corpus, &searcher, title, &keywords, body)?;
            let pass = Pass {
                q: &q,
                fields: corpus.fields,
                factors: &factors,
                allowed: &allowed,
                norms: &norms,
                inverted: &inverted,
                kept: &kept,
            };
            let whole = pass.run(0..max)?;
            if whole.len() > 128 {
                long += 1;
            }
            for mid in [1, 127, 128, 129, 350, max - 1] {
                let mut parts = pass.run(0..mid)?;
                parts.extend(pass.run(mid..max)?);
                assert_eq!(parts, whole, "split at {mid}");
            }
        }
        assert!(
            long >= 3,
            "only {long} needs scored more than a block of documents"
        );
        Ok(())
    }
}
