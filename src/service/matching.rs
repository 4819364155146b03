//! Matching use cases: profiles for a need, needs for a profile, and one pair explained.
//! Callers see only what they may see (the records asked about are looked up through the
//! same visibility rules as `GET /needs/{id}` and `GET /faculty/{id}`; candidates through the
//! index's visibility filter built from the same policy). The score itself lives in
//! `search::matching`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::Datelike;

use crate::db::Db;
use crate::db::faculty::Publications;
use crate::db::search::{self as source, FacultySource, NeedSource};
use crate::domain::stored::CollaborationType;
use crate::domain::{CountryCode, PublicId};
use crate::dto::matching::{
    ExplainParams, Explanation, FacultyMatch, FacultyMatchParams, FacultyMatches, FacultySummary,
    NeedMatch, NeedMatchParams, NeedMatches, NeedSummary, PairExplanation, PublicationMatch,
    TermContribution, WhyNot, WhyNotCode,
};
use crate::dto::needs::{NeedStatus, NeedVisibility};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::search::SearchIndex;
use crate::search::analyzer::is_cjk;
use crate::search::index::{faculty_texts, key};
use crate::search::matching::{
    self as m, AnalysedProfile, AnalysedPublication, Corpus, MatchQuery, PairScore,
    PublicationCounts, TermCounter,
};
use crate::search::query::{self, Filter, Kind};

use super::policy::Caller;
use super::search::visible;

const MAX_LIMIT: i64 = 500;
const MAX_OFFSET: i64 = 10_000;
/// A list is the first cut's candidates in fixed blocks of this many, each block ordered by
/// the pair score. Every page is cut from that one order, so paging neither repeats nor
/// skips an item, and a page of 20 is the pair score's best 20 of the first cut's best 40.
/// (Re-scoring as deep as each page's end instead made a candidate move between pages.)
const BLOCK: usize = 40;
/// The deepest first cut a page can need: the last page's end, in whole blocks.
const MAX_DEPTH: usize = (MAX_OFFSET + MAX_LIMIT) as usize / BLOCK * BLOCK + BLOCK;
const TERMS_SHOWN: usize = 10;
const PUBLICATIONS_SHOWN: usize = 3;

/// Limit, offset and minimum score, checked.
struct Page {
    limit: usize,
    offset: usize,
    min_score: f32,
}

fn page(
    limit: Option<i64>,
    offset: Option<i64>,
    min_score: Option<f32>,
    errors: &mut Vec<FieldError>,
) -> Page {
    let (limit, offset) = super::limit_and_offset(limit, offset, MAX_LIMIT, MAX_OFFSET, errors);
    let min_score = min_score.unwrap_or(0.0);
    if !min_score.is_finite() || !(0.0..=1.0).contains(&min_score) {
        errors.push(FieldError::new(
            "min_score",
            FieldCode::OutOfRange,
            "must be between 0 and 1",
        ));
    }
    Page {
        limit: limit as usize,
        offset: offset as usize,
        min_score,
    }
}

impl Page {
    /// The first cut's depth that covers the page when no candidate is left out: its end,
    /// in whole blocks.
    fn depth(&self) -> usize {
        (self.offset + self.limit).div_ceil(BLOCK) * BLOCK
    }

    /// Whether `listed` items (after `min_score` and the records' own checks) cover the page,
    /// or a deeper first cut would add nothing (a cut of `cut` candidates at `depth`).
    fn covered(&self, listed: usize, cut: usize, depth: usize) -> bool {
        listed >= self.offset + self.limit || cut < depth || depth >= MAX_DEPTH
    }

    /// The next first cut's depth when this one did not cover the page.
    fn deeper(depth: usize) -> usize {
        (depth * 2).min(MAX_DEPTH)
    }

    fn cut<T>(&self, listed: Vec<(f32, T)>) -> Vec<(f32, T)> {
        listed
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect()
    }
}

/// A re-scored candidate: its place in the first cut, its pair score and record id.
struct Scored<T> {
    rank: usize,
    score: f32,
    id: String,
    item: T,
}

/// The list pages are cut from: blocks of the first cut in order, each by pair score (ties by
/// id), without what scores zero or below `min_score`.
fn listed<T>(mut scored: Vec<Scored<T>>, min_score: f32) -> Vec<(f32, T)> {
    scored.sort_by(|a, b| {
        (a.rank / BLOCK)
            .cmp(&(b.rank / BLOCK))
            .then_with(|| b.score.total_cmp(&a.score))
            .then_with(|| a.id.cmp(&b.id))
    });
    scored
        .into_iter()
        .filter(|s| s.score > 0.0 && s.score >= min_score)
        .map(|s| (s.score, s.item))
        .collect()
}

/// Candidates re-scored per part, at least this many to a part.
const PART: usize = 10;

/// Runs `work` over a first cut in parts, one per core the index computes on (each part read
/// from the database and re-scored on its own), and gathers what each returns, in order.
/// `work` is told where its part starts in the cut. A list's re-scoring is most of a match and
/// runs on one core otherwise: on a quiet service the parts take about half the time, and
/// under load they cost the same CPU as one part would.
async fn in_parts<T, U>(
    index: &SearchIndex,
    cut: Vec<T>,
    work: impl AsyncFn(usize, Vec<T>) -> AppResult<Vec<U>>,
) -> AppResult<Vec<U>> {
    let parts = index.cpu_threads().min(cut.len().div_ceil(PART)).max(1);
    let size = cut.len().div_ceil(parts).max(1);
    let mut rest = cut.into_iter();
    let mut started = Vec::with_capacity(parts);
    for p in 0..parts {
        started.push(work(p * size, rest.by_ref().take(size).collect()));
    }
    let done = futures_util::future::try_join_all(started).await?;
    Ok(done.into_iter().flatten().collect())
}

/// What every round of a list's first cut reads: one searcher, so that a deeper cut extends
/// the one before, with the corpus, the query and the filter built once.
#[derive(Clone)]
struct FirstCut {
    index: Arc<SearchIndex>,
    searcher: tantivy::Searcher,
    corpus: Arc<Corpus>,
    q: Arc<MatchQuery>,
    filter: Arc<dyn tantivy::query::Query>,
}

impl FirstCut {
    /// Profiles for a need's query, `depth` deep (`m::rank_profiles`).
    async fn profiles(&self, depth: usize) -> AppResult<(usize, Vec<m::Candidate>)> {
        let c = self.clone();
        self.index
            .cpu_bound(move || {
                m::rank_profiles(&c.index, &c.searcher, &c.corpus, &*c.filter, &c.q, depth)
            })
            .await
    }

    /// Needs for a profile's query, `depth` deep (`m::rank_needs`).
    async fn needs(&self, depth: usize) -> AppResult<(usize, Vec<String>)> {
        let c = self.clone();
        self.index
            .cpu_bound(move || {
                m::rank_needs(&c.index, &c.searcher, &c.corpus, &*c.filter, &c.q, depth)
            })
            .await
    }
}

/// The list for page `p`: `round` cuts the first cut `depth` deep and lists it (how many
/// candidates there are in all, how many the cut holds, the list); a cut that does not cover
/// the page is made deeper.
async fn deepen<T>(
    p: &Page,
    mut round: impl AsyncFnMut(usize) -> AppResult<(usize, usize, Vec<(f32, T)>)>,
) -> AppResult<(usize, Vec<(f32, T)>)> {
    let mut depth = p.depth();
    loop {
        let (total, cut, list) = round(depth).await?;
        if p.covered(list.len(), cut, depth) {
            return Ok((total, list));
        }
        depth = Page::deeper(depth);
    }
}

fn id_param(field: &str, value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = value?;
    let parsed = PublicId::parse(v);
    if parsed.is_none() {
        errors.push(FieldError::new(
            field,
            FieldCode::InvalidId,
            "must be an id",
        ));
    }
    parsed
}

fn country_param(value: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    match CountryCode::parse("country", value?) {
        Ok(c) => Some(c.into_string()),
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

pub(crate) fn this_year() -> i32 {
    chrono::Utc::now().year()
}

/// What of a need is matched: its summary and description (not its location).
fn need_body(n: &NeedSource) -> String {
    [n.row.summary.as_deref(), n.row.description.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn need_query(
    corpus: &Corpus,
    searcher: &tantivy::Searcher,
    n: &NeedSource,
) -> AppResult<MatchQuery> {
    m::need_query(
        corpus,
        searcher,
        &n.row.title,
        &n.parts.keywords,
        &need_body(n),
    )
}

/// Candidate profiles as matching reads them: their publications without the abstracts, whose
/// words are counted from the stored form (`PublicationRow::analysed`). Publications without
/// a readable one (written before it, or by another analyser) have their abstracts read too.
pub(crate) fn candidates(
    c: &mut crate::db::DbConn,
    ids: &[String],
) -> AppResult<Vec<FacultySource>> {
    let mut sources = source::faculty_with(c, ids, Publications::WithoutAbstracts)?;
    let unread: Vec<String> = sources
        .iter()
        .filter(|f| {
            f.parts.publications.iter().any(|p| {
                !p.analysed
                    .as_deref()
                    .is_some_and(AnalysedPublication::readable)
            })
        })
        .map(|f| f.row.id.clone())
        .collect();
    if !unread.is_empty() {
        let mut abstracts = crate::db::faculty::abstracts(c, &unread)?;
        for f in &mut sources {
            for p in &mut f.parts.publications {
                p.abstract_ = abstracts.remove(&(p.faculty_id.clone(), p.position));
            }
        }
    }
    Ok(sources)
}

/// A profile's publications' counts of one query's words (one counter per query: it
/// remembers the words it has stemmed).
pub(crate) fn publication_counts(
    counter: &mut TermCounter<'_>,
    f: &FacultySource,
) -> Vec<PublicationCounts> {
    f.parts
        .publications
        .iter()
        .map(|p| {
            p.analysed
                .as_deref()
                .and_then(|bytes| counter.stored(bytes, p.year))
                .unwrap_or_else(|| counter.publication(&p.title, p.abstract_.as_deref(), p.year))
        })
        .collect()
}

/// A profile's publications analysed once, to be counted against many queries.
pub(crate) fn analysed_publications(f: &FacultySource) -> Vec<AnalysedPublication> {
    f.parts
        .publications
        .iter()
        .map(|p| {
            p.analysed
                .as_deref()
                .and_then(|bytes| AnalysedPublication::decode(bytes, p.year))
                .unwrap_or_else(|| {
                    AnalysedPublication::new(&p.title, p.abstract_.as_deref(), p.year)
                })
        })
        .collect()
}

/// Rows of an explanation with the CJK bigrams of one run joined under it (`bigram_runs`),
/// best first.
fn join_runs(
    need: &NeedSource,
    rows: Vec<(String, f32, [f32; 3])>,
) -> Vec<(String, f32, [f32; 3])> {
    // Most explanations name no Chinese or Korean word: the need's text is not read then.
    let bigram = |l: &str| {
        let mut chars = l.chars();
        matches!((chars.next(), chars.next(), chars.next()), (Some(a), Some(b), None) if is_cjk(a) && is_cjk(b))
    };
    let runs = if rows.iter().any(|r| bigram(&r.0)) {
        let body = need_body(need);
        let texts = [need.row.title.as_str(), body.as_str()]
            .into_iter()
            .chain(need.parts.keywords.iter().map(String::as_str));
        m::bigram_runs(texts, |l| rows.iter().any(|r| r.0 == l))
    } else {
        Default::default()
    };
    let mut joined: Vec<(String, f32, [f32; 3])> = Vec::with_capacity(rows.len());
    for (label, value, fields) in rows {
        let label = runs.get(&label).cloned().unwrap_or(label);
        match joined.iter_mut().find(|r| r.0 == label) {
            Some(row) => {
                row.1 += value;
                for (sum, f) in row.2.iter_mut().zip(fields) {
                    *sum += f;
                }
            }
            None => joined.push((label, value, fields)),
        }
    }
    joined.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    joined
}

fn explanation(q: &MatchQuery, s: &PairScore, need: &NeedSource, f: &FacultySource) -> Explanation {
    let total = s.score.max(f32::MIN_POSITIVE);
    let names = m::PROFILE_FIELDS.map(|f| f.0);
    // One row per written term: the pieces of a term found through the glossary share one,
    // and so do the bigrams of one Chinese or Korean word.
    let mut rows: Vec<(String, f32, [f32; 3])> = Vec::new();
    for t in &s.terms {
        let Some(term) = q.terms.get(t.term) else {
            continue;
        };
        let label = term.label(t.via);
        match rows.iter_mut().find(|r| r.0 == label) {
            Some(row) => {
                for k in 0..3 {
                    row.2[k] += t.fields[k] * t.value;
                }
                row.1 += t.value;
            }
            None => rows.push((label, t.value, t.fields.map(|f| f * t.value))),
        }
    }
    let terms = join_runs(need, rows)
        .into_iter()
        .take(TERMS_SHOWN)
        .map(|(term, value, fields)| TermContribution {
            term,
            share: (value / total).clamp(0.0, 1.0),
            fields: names
                .iter()
                .zip(fields)
                .filter(|(_, v)| *v > 0.0)
                .map(|(n, v)| ((*n).to_owned(), v / value.max(f32::MIN_POSITIVE)))
                .collect(),
        })
        .collect();
    let publications = s
        .publications
        .iter()
        .take(PUBLICATIONS_SHOWN)
        .filter_map(|p| {
            let row = f.parts.publications.get(p.index)?;
            let mut rows: Vec<(String, f32, [f32; 3])> = Vec::new();
            for t in &p.terms {
                let Some(term) = q.terms.get(t.term) else {
                    continue;
                };
                let label = term.label(t.via);
                match rows.iter_mut().find(|r| r.0 == label) {
                    Some(row) => row.1 += t.value,
                    None => rows.push((label, t.value, [0.0; 3])),
                }
            }
            let terms = join_runs(need, rows)
                .into_iter()
                .take(5)
                .map(|r| r.0)
                .collect();
            Some(PublicationMatch {
                title: row.title.clone(),
                year: row.year,
                score: p.score,
                recency: p.recency,
                terms,
            })
        })
        .collect();
    let theirs: HashSet<String> = f.parts.keywords.iter().map(|k| key(k)).collect();
    let mut seen = HashSet::new();
    let shared_keywords = need
        .parts
        .keywords
        .iter()
        .filter(|k| theirs.contains(&key(k)) && seen.insert(key(k)))
        .cloned()
        .collect();
    Explanation {
        profile_score: s.profile,
        best_publication_score: s.publication,
        terms,
        publications,
        shared_keywords,
    }
}

fn faculty_summary(f: &FacultySource, names: &HashMap<String, String>) -> FacultySummary {
    let r = &f.row;
    FacultySummary {
        id: r.id.clone(),
        university_id: r.university_id.clone(),
        university_name: names.get(&r.university_id).cloned(),
        name: r.name.clone(),
        local_name: r.local_name.clone(),
        title: r.title.clone(),
        department: r.department.clone(),
        keywords: f.parts.keywords.clone(),
        availability: f.parts.availability.clone(),
    }
}

fn need_summary(n: &NeedSource, names: &HashMap<String, String>) -> AppResult<NeedSummary> {
    let r = &n.row;
    Ok(NeedSummary {
        id: r.id.clone(),
        company_id: r.company_id.clone(),
        company_name: names.get(&r.company_id).cloned(),
        title: r.title.clone(),
        summary: r.summary.clone(),
        keywords: n.parts.keywords.clone(),
        collaboration_types: n.parts.collaboration_types.clone(),
        status: r.status,
        visibility: r.visibility,
        deadline: r.deadline,
        compute: super::needs::compute_of(r),
    })
}

async fn load_need(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<NeedSource> {
    // Visibility first, through the same rule as `GET /needs/{id}` (invisible = 404).
    super::needs::get(db, caller, id.clone(), false).await?;
    db.run(move |c| Ok(source::needs(c, std::slice::from_ref(&id))?))
        .await?
        .into_iter()
        .find(|n| n.row.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("Need"))
}

async fn load_profile(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<FacultySource> {
    super::faculty::get(db, caller, id.clone(), false).await?;
    db.run(move |c| Ok(source::faculty(c, std::slice::from_ref(&id))?))
        .await?
        .into_iter()
        .find(|f| f.row.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("Faculty profile"))
}

async fn names(db: &Db, ids: Vec<String>) -> AppResult<HashMap<String, String>> {
    db.run(move |c| Ok(source::organization_names(c, ids)?))
        .await
}

/// Profiles for a need, best first.
pub async fn need_matches(
    db: &Db,
    index: &Arc<SearchIndex>,
    caller: Option<&Caller>,
    need_id: String,
    params: NeedMatchParams,
) -> AppResult<FacultyMatches> {
    let mut errors = Vec::new();
    let p = page(params.limit, params.offset, params.min_score, &mut errors);
    let mut filters = Vec::new();
    if let Some(u) = id_param(
        "university_id",
        params.university_id.as_deref(),
        &mut errors,
    ) {
        filters.push((Filter::Organization, u));
    }
    if let Some(c) = country_param(params.country.as_deref(), &mut errors) {
        filters.push((Filter::Country, c));
    }
    if let Some(a) = params.availability {
        filters.push((Filter::Collaboration, a.as_str().to_owned()));
    }
    if !errors.is_empty() {
        return Err(AppError::query(errors));
    }
    let need = Arc::new(load_need(db, caller, need_id).await?);
    let visible = visible(db, caller, Kind::Faculty).await?;
    let idx = index.clone();
    let n = need.clone();
    // One searcher for every round, so that a deeper first cut extends the one before.
    let (searcher, corpus, q) = index
        .cpu_bound(move || {
            let searcher = idx.searcher();
            let corpus = Corpus::new(idx.fields(), idx.public_stats(&searcher)?)?;
            let q = need_query(&corpus, &searcher, &n)?;
            Ok((searcher, Arc::new(corpus), Arc::new(q)))
        })
        .await?;
    let cut_from = FirstCut {
        index: index.clone(),
        searcher,
        corpus: corpus.clone(),
        q: q.clone(),
        filter: query::filter(index.fields(), Kind::Faculty, &visible, &filters).into(),
    };
    let year = this_year();
    let (total, listed) = deepen(&p, async |depth| {
        let (total, found) = cut_from.profiles(depth).await?;
        let cut = found.len();
        let scored = in_parts(index, found, async |start, part: Vec<m::Candidate>| {
            let (c, mq) = (corpus.clone(), q.clone());
            let ids: Vec<String> = part.iter().map(|c| c.id.clone()).collect();
            let sources = db.run(move |c| candidates(c, &ids)).await?;
            index
                .cpu_bound(move || {
                    let mut by_id: HashMap<String, FacultySource> = sources
                        .into_iter()
                        .filter(|s| s.row.deleted_at.is_none())
                        .map(|s| (s.row.id.clone(), s))
                        .collect();
                    let mut scored = Vec::with_capacity(part.len());
                    let mut counter = TermCounter::new(&mq);
                    for (i, cand) in part.into_iter().enumerate() {
                        let Some(f) = by_id.remove(&cand.id) else {
                            continue;
                        };
                        let pubs = publication_counts(&mut counter, &f);
                        let s = m::pair_score(&mq, &c, &cand.hits, &pubs, year);
                        scored.push(Scored {
                            rank: start + i,
                            score: s.score,
                            id: cand.id,
                            item: (s, f),
                        });
                    }
                    Ok(scored)
                })
                .await
        })
        .await?;
        Ok((total, cut, listed(scored, p.min_score)))
    })
    .await?;
    let page = p.cut(listed);
    let names = names(
        db,
        page.iter()
            .map(|(_, (_, f))| f.row.university_id.clone())
            .chain([need.row.company_id.clone()])
            .collect(),
    )
    .await?;
    let items = page
        .into_iter()
        .map(|(score, (s, f))| FacultyMatch {
            explanation: explanation(&q, &s, &need, &f),
            faculty: faculty_summary(&f, &names),
            score,
        })
        .collect();
    Ok(FacultyMatches {
        need_id: need.row.id.clone(),
        candidates: total,
        offset: p.offset,
        limit: p.limit,
        items,
    })
}

/// Open needs the caller may see, for a profile, best first.
pub async fn faculty_matches(
    db: &Db,
    index: &Arc<SearchIndex>,
    caller: Option<&Caller>,
    faculty_id: String,
    params: FacultyMatchParams,
) -> AppResult<NeedMatches> {
    let mut errors = Vec::new();
    let p = page(params.limit, params.offset, params.min_score, &mut errors);
    let mut filters = vec![(Filter::Status, NeedStatus::Open.as_str().to_owned())];
    if let Some(c) = id_param("company_id", params.company_id.as_deref(), &mut errors) {
        filters.push((Filter::Organization, c));
    }
    if let Some(c) = country_param(params.country.as_deref(), &mut errors) {
        filters.push((Filter::Country, c));
    }
    if let Some(a) = params.collaboration_type {
        filters.push((Filter::Collaboration, a.as_str().to_owned()));
    }
    if !errors.is_empty() {
        return Err(AppError::query(errors));
    }
    let profile = Arc::new(load_profile(db, caller, faculty_id).await?);
    let visible = visible(db, caller, Kind::Need).await?;
    let idx = index.clone();
    let f = profile.clone();
    // One searcher for every round, so that a deeper first cut extends the one before.
    let (searcher, corpus, analysed, q, pubs) = index
        .cpu_bound(move || {
            let searcher = idx.searcher();
            let corpus = Corpus::new(idx.fields(), idx.public_stats(&searcher)?)?;
            let analysed = AnalysedProfile::new(&faculty_texts(&f));
            let q = analysed.query(&corpus, &searcher)?;
            let pubs = analysed_publications(&f);
            Ok((
                searcher,
                Arc::new(corpus),
                Arc::new(analysed),
                Arc::new(q),
                Arc::new(pubs),
            ))
        })
        .await?;
    let cut_from = FirstCut {
        index: index.clone(),
        searcher: searcher.clone(),
        corpus: corpus.clone(),
        q,
        filter: query::filter(index.fields(), Kind::Need, &visible, &filters).into(),
    };
    let year = this_year();
    let (total, listed) = deepen(&p, async |depth| {
        let (total, ids) = cut_from.needs(depth).await?;
        let cut = ids.len();
        let scored = in_parts(index, ids, async |start, part: Vec<String>| {
            let (c, s, analysed, pubs) = (
                corpus.clone(),
                searcher.clone(),
                analysed.clone(),
                pubs.clone(),
            );
            let rank: HashMap<String, usize> = part
                .iter()
                .enumerate()
                .map(|(i, id)| (id.clone(), start + i))
                .collect();
            let needs = db.run(move |c| Ok(source::needs(c, &part)?)).await?;
            index
                .cpu_bound(move || {
                    let mut scored = Vec::with_capacity(needs.len());
                    for n in needs {
                        // The index may trail the database by a moment: the database
                        // decides.
                        if n.row.deleted_at.is_some() || n.row.status != NeedStatus::Open {
                            continue;
                        }
                        let Some(&rank) = rank.get(&n.row.id) else {
                            continue;
                        };
                        let q = need_query(&c, &s, &n)?;
                        let counts: Vec<PublicationCounts> =
                            pubs.iter().map(|p| p.counts(&q)).collect();
                        let score = m::pair_score(&q, &c, &analysed.hits(&q), &counts, year);
                        scored.push(Scored {
                            rank,
                            score: score.score,
                            id: n.row.id.clone(),
                            item: (q, score, n),
                        });
                    }
                    Ok(scored)
                })
                .await
        })
        .await?;
        Ok((total, cut, listed(scored, p.min_score)))
    })
    .await?;
    let page = p.cut(listed);
    let names = names(
        db,
        page.iter()
            .map(|(_, (_, _, n))| n.row.company_id.clone())
            .chain([profile.row.university_id.clone()])
            .collect(),
    )
    .await?;
    let items = page
        .into_iter()
        .map(|(score, (q, s, n))| {
            Ok(NeedMatch {
                explanation: explanation(&q, &s, &n, &profile),
                need: need_summary(&n, &names)?,
                score,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(NeedMatches {
        faculty_id: profile.row.id.clone(),
        candidates: total,
        offset: p.offset,
        limit: p.limit,
        items,
    })
}

/// The score of one pair, computed as the lists compute it (used by explain and `eval`).
pub fn score_pair(
    index: &SearchIndex,
    need: &NeedSource,
    profile: &FacultySource,
    year: i32,
) -> AppResult<(MatchQuery, PairScore)> {
    let searcher = index.searcher();
    let corpus = Corpus::new(index.fields(), index.public_stats(&searcher)?)?;
    let q = need_query(&corpus, &searcher, need)?;
    let analysed = AnalysedProfile::new(&faculty_texts(profile));
    let s = m::pair_score(
        &q,
        &corpus,
        &analysed.hits(&q),
        &publication_counts(&mut TermCounter::new(&q), profile),
        year,
    );
    Ok((q, s))
}

/// One pair: its score and explanation, and whether (and why not) it would be listed.
pub async fn explain(
    db: &Db,
    index: &Arc<SearchIndex>,
    caller: Option<&Caller>,
    params: ExplainParams,
) -> AppResult<PairExplanation> {
    let (need_id, faculty_id, filters) = ExplainFilters::parse(params)?;
    let need = load_need(db, caller, need_id).await?;
    let profile = load_profile(db, caller, faculty_id).await?;
    let names = names(
        db,
        vec![
            need.row.company_id.clone(),
            profile.row.university_id.clone(),
        ],
    )
    .await?;
    let idx = index.clone();
    let year = this_year();
    let (need, profile, q, s) = index
        .cpu_bound(move || {
            let (q, s) = score_pair(&idx, &need, &profile, year)?;
            Ok((need, profile, q, s))
        })
        .await?;
    let reasons = filters.why_not(s.score, &need, &profile);
    // A pair hidden from the profile's owner is still listed for the company and operators.
    let listed = |list: &str| {
        !reasons
            .iter()
            .any(|r| r.list == list && r.code != WhyNotCode::NotVisibleToFaculty)
    };
    Ok(PairExplanation {
        explanation: explanation(&q, &s, &need, &profile),
        need: need_summary(&need, &names)?,
        faculty: faculty_summary(&profile, &names),
        score: s.score,
        in_need_matches: listed(NEED_MATCHES),
        in_faculty_matches: listed(FACULTY_MATCHES),
        reasons,
    })
}

/// The two lists a pair may be missing from, as `WhyNot::list` names them.
const NEED_MATCHES: &str = "need_matches";
const FACULTY_MATCHES: &str = "faculty_matches";

/// The list filters explain is asked about: the pair is checked against each, as the lists
/// would apply it.
struct ExplainFilters {
    min_score: f32,
    university: Option<String>,
    company: Option<String>,
    country: Option<String>,
    availability: Option<CollaborationType>,
    collaboration_type: Option<CollaborationType>,
}

impl ExplainFilters {
    /// The pair's ids and the filters, every malformed parameter named in one 400.
    fn parse(params: ExplainParams) -> AppResult<(String, String, Self)> {
        let mut errors = Vec::new();
        let need_id = id_param("need_id", Some(&params.need_id), &mut errors);
        let faculty_id = id_param("faculty_id", Some(&params.faculty_id), &mut errors);
        let filters = ExplainFilters {
            min_score: page(None, None, params.min_score, &mut errors).min_score,
            university: id_param(
                "university_id",
                params.university_id.as_deref(),
                &mut errors,
            ),
            company: id_param("company_id", params.company_id.as_deref(), &mut errors),
            country: country_param(params.country.as_deref(), &mut errors),
            availability: params.availability,
            collaboration_type: params.collaboration_type,
        };
        match (need_id, faculty_id, errors.is_empty()) {
            (Some(n), Some(f), true) => Ok((n, f, filters)),
            _ => Err(AppError::query(errors)),
        }
    }

    /// Why the pair would be missing from either list: its score, each filter that excludes
    /// it, the need's status, and whether the profile's owner may see the need.
    fn why_not(&self, score: f32, need: &NeedSource, profile: &FacultySource) -> Vec<WhyNot> {
        let mut reasons = Vec::new();
        let mut why = |code, list: &str, detail: String| {
            reasons.push(WhyNot {
                code,
                list: list.to_owned(),
                detail,
            })
        };
        let filtered = WhyNotCode::FilteredOut;
        if score <= 0.0 {
            for list in [NEED_MATCHES, FACULTY_MATCHES] {
                why(
                    WhyNotCode::NoSharedTerms,
                    list,
                    "the profile has none of the need's words that count (words found in \
                     over a fifth of all documents count only beside rarer ones)"
                        .into(),
                );
            }
        } else if score < self.min_score {
            for list in [NEED_MATCHES, FACULTY_MATCHES] {
                why(
                    WhyNotCode::BelowMinScore,
                    list,
                    format!("score {score:.3} is below min_score {}", self.min_score),
                );
            }
        }
        if self
            .university
            .as_ref()
            .is_some_and(|u| *u != profile.row.university_id)
        {
            let detail = "university_id: the profile is at another university";
            why(filtered, NEED_MATCHES, detail.into());
        }
        if let Some(c) = &self.country {
            if key(c) != key(&profile.country) {
                let detail = format!(
                    "country: the profile's university is in {}",
                    profile.country
                );
                why(filtered, NEED_MATCHES, detail);
            }
            if key(c) != key(&need.country) {
                let detail = format!("country: the need's company is in {}", need.country);
                why(filtered, FACULTY_MATCHES, detail);
            }
        }
        if let Some(a) = self.availability
            && !profile.parts.availability.contains(&a)
        {
            let detail = format!("availability: the profile is not available for {a}");
            why(filtered, NEED_MATCHES, detail);
        }
        if self
            .company
            .as_ref()
            .is_some_and(|c| *c != need.row.company_id)
        {
            let detail = "company_id: the need belongs to another company";
            why(filtered, FACULTY_MATCHES, detail.into());
        }
        if let Some(t) = self.collaboration_type
            && !need.parts.collaboration_types.contains(&t)
        {
            let detail = format!("collaboration_type: the need does not ask for {t}");
            why(filtered, FACULTY_MATCHES, detail);
        }
        if need.row.status != NeedStatus::Open {
            let detail = format!(
                "the need is {}; only open needs are matched to profiles",
                need.row.status
            );
            why(WhyNotCode::NeedNotOpen, FACULTY_MATCHES, detail);
        }
        if let Some(detail) = hidden_from_owner(need, profile) {
            why(WhyNotCode::NotVisibleToFaculty, FACULTY_MATCHES, detail);
        }
        reasons
    }
}

/// Why the profile's owner would not see the need, if they would not (the rule of
/// `policy::need_scope` seen from the owner's side, without their company memberships).
fn hidden_from_owner(need: &NeedSource, profile: &FacultySource) -> Option<String> {
    let invited = need.invited.contains(&profile.row.id);
    match (need.row.visibility, need.row.status) {
        (_, NeedStatus::Draft) => Some("the need is a draft: only its company sees it".into()),
        (NeedVisibility::Confidential, _) if !invited => Some(
            "the need is confidential and this professor is not invited: inviting them lets \
             them see it"
                .into(),
        ),
        (NeedVisibility::Members, _) if profile.row.owner_user_id.is_none() => {
            Some("the need is for signed-in members and the profile has no account".into())
        }
        _ => None,
    }
}
