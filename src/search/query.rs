//! Running a search: the caller's query, filters and visibility as one tantivy query; BM25
//! with field boosts; totals, facet counts and highlighted snippets, all computed on the same
//! visibility-filtered query, so nothing a caller may not see can leak through any of them.

use std::collections::{BTreeMap, BTreeSet};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, ConstScoreQuery, Query, QueryParser, TermQuery, TermSetQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{TantivyDocument, Term};

use super::analyzer::highlighter;
use super::facets::FacetCounts;
use super::index::{Fields, SearchIndex, key};
use crate::error::{AppError, AppResult, FieldError};

/// Field boosts: titles and keywords above bodies, publications a little below.
const BOOSTS: [(&str, f32); 4] = [
    ("title", 3.0),
    ("keywords", 2.5),
    ("body", 1.0),
    ("publications", 0.8),
];
const FACET_SIZE: usize = 20;
const SNIPPET_CHARS: usize = 180;
/// How much of a field's text highlights are looked for in.
const SNIPPET_SOURCE_CHARS: usize = 1500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Faculty,
    Need,
    Center,
}

/// Which documents a caller may see, from `service::policy` (the same rule the database
/// queries apply).
#[derive(Debug, Clone, Default)]
pub struct Visible {
    /// Operators: everything.
    pub all: bool,
    /// Allowed `visibility` values (profiles; non-draft needs).
    pub visibilities: Vec<&'static str>,
    /// Organizations whose every need the caller sees (drafts, confidential).
    pub member_of: Vec<String>,
    /// Profiles the caller owns: confidential needs they were invited to are visible
    /// (and, for centres, those they direct or belong to).
    pub invited_profiles: Vec<String>,
}

/// Exact-match filters; values are compared lowercased.
#[derive(Debug, Clone, Copy)]
pub enum Filter {
    Organization,
    Country,
    Department,
    Status,
    Collaboration,
    Keyword,
}

pub struct Request {
    pub kind: Kind,
    pub q: Option<String>,
    /// Whether every word of `q` must match (otherwise any may).
    pub all_words: bool,
    pub filters: Vec<(Filter, String)>,
    pub visible: Visible,
    pub limit: usize,
    pub offset: usize,
}

pub struct Hit {
    pub id: String,
    pub score: f32,
    pub title: String,
    pub organization_id: String,
    pub status: Option<String>,
    /// (field, HTML fragment with `<b>` around matches; the text itself is escaped).
    pub highlights: Vec<(String, String)>,
}

pub struct Results {
    pub total: usize,
    pub hits: Vec<Hit>,
    /// Facet name → (value, count), most frequent first.
    pub facets: BTreeMap<String, Vec<(String, u64)>>,
}

fn term(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

/// Documents with any of `values` in `field`. A term set compiles an automaton for every
/// search, which cost more than the rest of the filter; a handful of values (the usual case:
/// visibility levels, a caller's organizations) are plain term queries instead.
fn any_of(field: Field, values: &[impl AsRef<str>]) -> Box<dyn Query> {
    const FEW: usize = 16;
    match values {
        [one] => term(field, one.as_ref()),
        few if few.len() <= FEW => Box::new(BooleanQuery::union(
            few.iter().map(|v| term(field, v.as_ref())).collect(),
        )),
        many => Box::new(TermSetQuery::new(
            many.iter()
                .map(|v| Term::from_field_text(field, v.as_ref())),
        )),
    }
}

/// The visibility rule as a query (mirrors `db::needs::scoped` and the profile scope).
fn visibility(f: &Fields, kind: Kind, v: &Visible) -> Option<Box<dyn Query>> {
    if v.all {
        return None;
    }
    Some(match kind {
        Kind::Faculty => any_of(f.visibility, &v.visibilities),
        Kind::Need => {
            let mut may_see = vec![any_of(f.visibility, &v.visibilities)];
            if !v.invited_profiles.is_empty() {
                may_see.push(any_of(f.invited, &v.invited_profiles));
            }
            let published: Box<dyn Query> = Box::new(BooleanQuery::intersection(vec![
                any_of(f.status, &["open", "closed", "awarded"]),
                Box::new(BooleanQuery::union(may_see)),
            ]));
            let mut either = vec![published];
            if !v.member_of.is_empty() {
                either.push(any_of(f.org, &v.member_of));
            }
            Box::new(BooleanQuery::union(either))
        }
        // Centres: public ones, and those an organization the caller acts for or a profile
        // they own takes part in (mirrors `db::centers::scoped`).
        Kind::Center => {
            let mut may_see = vec![any_of(f.visibility, &v.visibilities)];
            if !v.member_of.is_empty() {
                may_see.push(any_of(f.participant, &v.member_of));
            }
            if !v.invited_profiles.is_empty() {
                may_see.push(any_of(f.participant, &v.invited_profiles));
            }
            Box::new(BooleanQuery::union(may_see))
        }
    })
}

fn parser(index: &SearchIndex) -> QueryParser {
    let schema = index.index.schema();
    let fields: Vec<Field> = BOOSTS
        .iter()
        .filter_map(|(n, _)| schema.get_field(n).ok())
        .collect();
    let mut parser = QueryParser::for_index(&index.index, fields);
    for (name, boost) in BOOSTS {
        if let Ok(field) = schema.get_field(name) {
            parser.set_field_boost(field, boost);
        }
    }
    parser
}

/// Parses the caller's query text; malformed syntax is a 400 naming `q`.
pub fn parse(index: &SearchIndex, q: &str, all_words: bool) -> AppResult<Box<dyn Query>> {
    let mut parser = parser(index);
    if all_words {
        parser.set_conjunction_by_default();
    }
    parser.parse_query(q).map_err(|e| {
        AppError::query(vec![FieldError::new(
            "q",
            "invalid_query_syntax",
            format!("cannot parse the query: {e}"),
        )])
    })
}

/// The documents of a kind the caller may see that pass the filters, as a query that
/// restricts without scoring (shared by search and matching).
pub fn filter(
    f: &Fields,
    kind: Kind,
    visible: &Visible,
    filters: &[(Filter, String)],
) -> Box<dyn Query> {
    let mut must: Vec<Box<dyn Query>> = vec![term(
        f.kind,
        match kind {
            Kind::Faculty => "faculty",
            Kind::Need => "need",
            Kind::Center => "center",
        },
    )];
    if let Some(v) = visibility(f, kind, visible) {
        must.push(v);
    }
    for (filter, value) in filters {
        let field = match filter {
            Filter::Organization => f.org,
            Filter::Country => f.country,
            Filter::Department => f.department,
            Filter::Status => f.status,
            Filter::Collaboration => f.collaboration,
            Filter::Keyword => f.keyword,
        };
        let value = match filter {
            Filter::Organization | Filter::Status | Filter::Collaboration => {
                value.trim().to_owned()
            }
            _ => key(value),
        };
        must.push(term(field, &value));
    }
    Box::new(ConstScoreQuery::new(
        Box::new(BooleanQuery::intersection(must)),
        0.0,
    ))
}

pub fn run(index: &SearchIndex, req: &Request) -> AppResult<Results> {
    let f = &index.fields;
    let user: Option<Box<dyn Query>> = match req.q.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(q) => Some(parse(index, q, req.all_words)?),
    };
    let filter = filter(f, req.kind, &req.visible, &req.filters);
    let query: Box<dyn Query> = match &user {
        Some(u) => Box::new(BooleanQuery::intersection(vec![u.box_clone(), filter])),
        None => Box::new(BooleanQuery::intersection(vec![Box::new(AllQuery), filter])),
    };

    // Facets: counted over every hit on columnar fields (see `facets`).
    let facet_fields: &[(&str, &'static str)] = match req.kind {
        Kind::Faculty => &[
            ("university", "org"),
            ("department", "department_label"),
            ("keyword", "keyword"),
            ("collaboration_type", "collaboration"),
        ],
        Kind::Need => &[
            ("company", "org"),
            ("status", "status"),
            ("keyword", "keyword"),
            ("collaboration_type", "collaboration"),
        ],
        Kind::Center => &[
            ("university", "org"),
            ("status", "status"),
            ("keyword", "keyword"),
        ],
    };
    let searcher = index.searcher();
    let counter = FacetCounts::new(
        facet_fields.iter().map(|(_, field)| *field).collect(),
        FACET_SIZE,
        &index.facet_values,
        &searcher,
    );
    let top = TopDocs::with_limit(req.limit.max(1))
        .and_offset(req.offset)
        .order_by_score();
    let ((total, top), counts) = searcher
        .search(&query, &((Count, top), counter))
        .map_err(AppError::internal)?;
    let facets = facet_fields
        .iter()
        .zip(counts)
        .map(|((name, _), values)| ((*name).to_owned(), values))
        .collect();

    let generators: Vec<(&str, Field, SnippetGenerator)> = match &user {
        Some(u) => [
            ("title", f.title),
            ("keywords", f.keywords),
            ("body", f.body),
        ]
        .into_iter()
        .filter_map(|(name, field)| {
            // As `SnippetGenerator::create` does, with an analyzer that stems only what can
            // match (see `analyzer::highlighter`).
            let mut terms = BTreeSet::new();
            u.query_terms(&mut |term, _| {
                if term.field() == field {
                    terms.insert(term.clone());
                }
            });
            // Weights only rank a text's fragments against each other, so document
            // frequencies are taken from the largest segment alone: looking every term up
            // in every segment cost more than that ranking is worth.
            let largest = searcher
                .segment_readers()
                .iter()
                .max_by_key(|r| r.num_docs())?
                .inverted_index(field)
                .ok()?;
            let mut weights = BTreeMap::new();
            for term in terms {
                let value = term.value();
                let Some(text) = value.as_str().map(str::to_owned) else {
                    continue;
                };
                let doc_freq = largest.doc_freq(&term).ok()?;
                weights.insert(text, 1.0 / (1.0 + doc_freq as f32));
            }
            let analyzer = highlighter(weights.keys());
            Some((
                name,
                field,
                SnippetGenerator::new(weights, analyzer, field, SNIPPET_CHARS),
            ))
        })
        .collect(),
        None => Vec::new(),
    };
    let text = |doc: &TantivyDocument, field: Field| {
        doc.get_first(field)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let mut hits = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address).map_err(AppError::internal)?;
        let highlights = generators
            .iter()
            .filter_map(|(name, field, g)| {
                // Highlights come from the start of long texts only: analysing whole
                // descriptions for every hit was the largest cost of a search.
                let full = doc
                    .get_first(*field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let end = full
                    .char_indices()
                    .nth(SNIPPET_SOURCE_CHARS)
                    .map_or(full.len(), |(i, _)| i);
                let snippet = g.snippet(&full[..end]);
                (!snippet.highlighted().is_empty()).then(|| ((*name).to_owned(), snippet.to_html()))
            })
            .collect();
        let status = Some(text(&doc, f.status)).filter(|s| !s.is_empty());
        hits.push(Hit {
            id: text(&doc, f.id),
            score,
            title: text(&doc, f.title).replace('\n', " · "),
            organization_id: text(&doc, f.org),
            status,
            highlights,
        });
    }
    Ok(Results {
        total,
        hits,
        facets,
    })
}
