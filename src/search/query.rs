//! Running a search: the caller's query, filters and visibility as one tantivy query; BM25
//! with field boosts; totals, facet counts and highlighted snippets, all computed on the same
//! visibility-filtered query, so nothing a caller may not see can leak through any of them.

use std::collections::{BTreeMap, BTreeSet};

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, EnableScoring, Occur,
    PhrasePrefixQuery, PhraseQuery, Query, QueryParser, QueryParserError, TermQuery, TermSetQuery,
};
use tantivy::query_grammar::{self, UserInputAst, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{TantivyDocument, Term};

use super::analyzer::highlighter;
use super::facets::FacetCounts;
use super::index::{Fields, SearchIndex, key};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

/// Field boosts: titles and keywords above bodies, publications a little below.
const BOOSTS: [(&str, f32); 4] = [
    ("title", 3.0),
    ("keywords", 2.5),
    ("body", 1.0),
    ("publications", 0.8),
];
/// Bounds on the caller's query text, checked before tantivy's grammar sees it. The grammar
/// parses nesting (parentheses, `NOT`) by recursion, and text nested a few thousand levels
/// deep overflowed a search thread's stack, which aborts the whole process. The bounds are far
/// above what a person types (a pasted abstract is a few hundred words; nobody nests ten
/// levels) and far below what a thread's stack holds.
pub const MAX_QUERY_CHARS: usize = 2_000;
/// Parentheses open at once, plus every `NOT` (each is a level of the grammar's recursion).
pub const MAX_QUERY_DEPTH: usize = 10;
/// Words, phrases and other leaves of the query.
pub const MAX_QUERY_CLAUSES: usize = 128;
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

/// The parser for the caller's query text over the default fields (`BOOSTS`). It reads
/// `index::query_schema`, which has positions on every text field, and sets no boosts: the
/// query it builds for each word is rewritten by `leaf`, which adds the field boosts and
/// turns phrases on fields without positions into all of their words.
pub(super) fn parser(index: &tantivy::Index) -> QueryParser {
    let schema = super::index::query_schema();
    let fields: Vec<Field> = BOOSTS
        .iter()
        .filter_map(|(n, _)| schema.get_field(n).ok())
        .collect();
    QueryParser::new(schema, fields, index.tokenizers().clone())
}

fn invalid_query(e: impl std::fmt::Display) -> AppError {
    refused(
        FieldCode::InvalidQuerySyntax,
        format!("cannot parse the query: {e}"),
    )
}

fn refused(code: FieldCode, message: String) -> AppError {
    AppError::query(vec![FieldError::new("q", code, message)])
}

/// Refuses text too long or nested too deeply for the grammar to be given it (see
/// `MAX_QUERY_CHARS`). Parentheses inside a phrase are words, not nesting; `NOT` is counted
/// wherever it stands, which can only overcount.
fn check_size(q: &str) -> AppResult<()> {
    let chars = q.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(refused(
            FieldCode::TooLong,
            format!("must be at most {MAX_QUERY_CHARS} characters (this one has {chars})"),
        ));
    }
    let (mut open, mut deepest, mut quoted, mut escaped) = (0usize, 0usize, false, false);
    for c in q.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            '(' if !quoted => {
                open += 1;
                deepest = deepest.max(open);
            }
            ')' if !quoted => open = open.saturating_sub(1),
            _ => {}
        }
    }
    let nots = q
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|w| *w == "NOT")
        .count();
    if deepest + nots > MAX_QUERY_DEPTH {
        return Err(refused(
            FieldCode::TooDeeplyNested,
            format!(
                "may nest at most {MAX_QUERY_DEPTH} levels (parentheses open at once plus each \
                 NOT); this one nests {}",
                deepest + nots
            ),
        ));
    }
    Ok(())
}

/// Refuses what the parsed text asks for that search does not offer: more than
/// `MAX_QUERY_CLAUSES` leaves, a field other than the text fields of `BOOSTS` (the rest of
/// the schema is the service's bookkeeping: visibility, invitations), and the leaves that
/// are not about words (`field:*`, ranges, regular expressions), which tantivy answers only
/// on columnar fields and would fail at search time.
fn check_leaves(ast: &UserInputAst) -> AppResult<()> {
    fn walk<'a>(ast: &'a UserInputAst, leaves: &mut Vec<&'a UserInputLeaf>) {
        match ast {
            UserInputAst::Clause(clauses) => clauses.iter().for_each(|(_, a)| walk(a, leaves)),
            UserInputAst::Boost(a, _) => walk(a, leaves),
            UserInputAst::Leaf(leaf) => leaves.push(leaf),
        }
    }
    let mut leaves = Vec::new();
    walk(ast, &mut leaves);
    if leaves.len() > MAX_QUERY_CLAUSES {
        return Err(refused(
            FieldCode::TooManyClauses,
            format!(
                "may have at most {MAX_QUERY_CLAUSES} words and phrases (this one has {})",
                leaves.len()
            ),
        ));
    }
    let searchable = || {
        let names: Vec<&str> = BOOSTS.iter().map(|(n, _)| *n).collect();
        names.join(", ")
    };
    for leaf in leaves {
        let field = match leaf {
            UserInputLeaf::Literal(l) => l.field_name.as_deref(),
            UserInputLeaf::Set { field, .. } => field.as_deref(),
            UserInputLeaf::All => None,
            UserInputLeaf::Exists { .. }
            | UserInputLeaf::Range { .. }
            | UserInputLeaf::Regex { .. } => {
                return Err(refused(
                    FieldCode::UnsupportedQuery,
                    format!(
                        "`field:*`, ranges and regular expressions are not supported; search \
                         for words or phrases, optionally in one of the fields {}",
                        searchable()
                    ),
                ));
            }
        };
        if let Some(name) = field.filter(|n| !BOOSTS.iter().any(|(b, _)| b == n)) {
            return Err(refused(
                FieldCode::UnknownField,
                format!(
                    "`{name}` is not a field that can be searched; the fields are {}",
                    searchable()
                ),
            ));
        }
    }
    Ok(())
}

/// Parses the caller's query text; malformed syntax is a 400 naming `q`.
///
/// The grammar and the meaning of each word are tantivy's parser's. The clauses and boosts
/// of the text are built here, each word by the parser (see `leaf`), because the parser
/// wraps what it builds in boosts that cannot be looked into, and a phrase on a field
/// without positions must become a conjunction before that.
pub fn parse(index: &SearchIndex, q: &str, all_words: bool) -> AppResult<Box<dyn Query>> {
    parse_with(&index.parser, &index.index.schema(), q, all_words)
}

fn parse_with(
    parser: &QueryParser,
    schema: &tantivy::schema::Schema,
    q: &str,
    all_words: bool,
) -> AppResult<Box<dyn Query>> {
    let mut parser = parser.clone();
    if all_words {
        parser.set_conjunction_by_default();
    }
    check_size(q)?;
    let ast = query_grammar::parse_query(q)
        .map_err(|_| invalid_query(QueryParserError::SyntaxError(q.to_owned())))?;
    check_leaves(&ast)?;
    // The whole text once through the parser, for its checks of the query as a whole
    // (e.g. nothing but exclusions is refused).
    parser
        .build_query_from_user_input_ast(ast.clone())
        .map_err(invalid_query)?;
    let default = if all_words {
        Occur::Must
    } else {
        Occur::Should
    };
    Ok(build(&parser, schema, ast, default)?.unwrap_or_else(|| Box::new(EmptyQuery)))
}

/// The query for a part of the caller's text, as tantivy's parser builds it (clauses left
/// empty, e.g. by stop words, are dropped); `None` when nothing of it can match.
fn build(
    parser: &QueryParser,
    schema: &tantivy::schema::Schema,
    ast: UserInputAst,
    default: Occur,
) -> AppResult<Option<Box<dyn Query>>> {
    Ok(match ast {
        UserInputAst::Clause(clauses) => {
            let mut built = Vec::with_capacity(clauses.len());
            for (occur, sub) in clauses {
                if let Some(query) = build(parser, schema, sub, default)? {
                    built.push((occur.unwrap_or(default), query));
                }
            }
            (!built.is_empty()).then(|| Box::new(BooleanQuery::new(built)) as Box<dyn Query>)
        }
        UserInputAst::Boost(sub, boost) => build(parser, schema, *sub, default)?
            .map(|q| Box::new(BoostQuery::new(q, boost.into_inner() as f32)) as Box<dyn Query>),
        UserInputAst::Leaf(word) => {
            let query = parser
                .build_query_from_user_input_ast(UserInputAst::Leaf(word))
                .map_err(invalid_query)?;
            leaf(query, schema)
        }
    })
}

/// One word (or phrase) of the caller's text, as the parser built it: alone for a field it
/// names, or a union over the default fields. Adds each field's boost, and turns a phrase on
/// a field the index keeps without positions into a conjunction of its words.
fn leaf(query: Box<dyn Query>, schema: &tantivy::schema::Schema) -> Option<Box<dyn Query>> {
    if query.is::<EmptyQuery>() {
        return None;
    }
    if let Some(union) = query.downcast_ref::<BooleanQuery>() {
        let clauses: Vec<(Occur, Box<dyn Query>)> = union
            .clauses()
            .iter()
            .filter_map(|(occur, q)| Some((*occur, leaf(q.box_clone(), schema)?)))
            .collect();
        return (!clauses.is_empty())
            .then(|| Box::new(BooleanQuery::new(clauses)) as Box<dyn Query>);
    }
    let positions = |field: Field| {
        schema
            .get_field_entry(field)
            .field_type()
            .get_index_record_option()
            .is_some_and(|o| o.has_positions())
    };
    let words = |terms: Vec<Term>| -> Box<dyn Query> {
        Box::new(BooleanQuery::intersection(
            terms
                .into_iter()
                .map(|t| {
                    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>
                })
                .collect(),
        ))
    };
    let (field, query) = if let Some(t) = query.downcast_ref::<TermQuery>() {
        (t.term().field(), query)
    } else if let Some(p) = query.downcast_ref::<PhraseQuery>() {
        let field = p.field();
        if positions(field) {
            (field, query)
        } else {
            (field, words(p.phrase_terms()))
        }
    } else if let Some(p) = query.downcast_ref::<PhrasePrefixQuery>() {
        // A phrase whose last word is a prefix: on a field without positions, its whole
        // words (the prefix is left out, so this field matches a little more loosely).
        let field = p.field();
        if positions(field) {
            (field, query)
        } else {
            // (`phrase_terms` are the words before the prefix.)
            let terms = p.phrase_terms();
            if terms.is_empty() {
                return None;
            }
            (field, words(terms))
        }
    } else {
        return Some(query);
    };
    let name = schema.get_field_name(field);
    Some(match BOOSTS.iter().find(|(n, _)| *n == name) {
        Some((_, boost)) if *boost != 1.0 => Box::new(BoostQuery::new(query, *boost)),
        _ => query,
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

/// [`filter`], admitting only the documents of `among` (record ids).
pub fn filter_among(
    f: &Fields,
    kind: Kind,
    visible: &Visible,
    filters: &[(Filter, String)],
    among: &[String],
) -> Box<dyn Query> {
    Box::new(BooleanQuery::intersection(vec![
        filter(f, kind, visible, filters),
        any_of(f.id, among),
    ]))
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
    // Scores from the statistics of public documents only: see `stats`.
    let stats = index.public_stats(&searcher)?;
    let ((total, top), counts) = searcher
        .search_with_statistics_provider(&query, &((Count, top), counter), &stats.bm25(&searcher))
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
            // Weights rank a text's fragments against each other; from the public
            // statistics too, so that which fragment is shown says nothing of hidden documents.
            let mut weights = BTreeMap::new();
            for term in terms {
                let value = term.value();
                let Some(text) = value.as_str().map(str::to_owned) else {
                    continue;
                };
                let doc_freq = stats.public_doc_freq(&searcher, &term).ok()?;
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
                // descriptions for every hit would be the largest cost of a search.
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

/// A set of documents found once (the records a step of the alert check looks at) and then
/// intersected with any number of searches: compiling the ids into a term set for every
/// search cost more than the searches themselves.
#[derive(Clone, Debug)]
pub struct Among(
    std::sync::Arc<std::collections::HashMap<tantivy::index::SegmentId, tantivy::BitSet>>,
);

impl Among {
    /// The live documents with one of `ids`.
    pub fn new(
        index: &SearchIndex,
        searcher: &tantivy::Searcher,
        ids: &[String],
    ) -> AppResult<Self> {
        let mut sets = std::collections::HashMap::new();
        if !ids.is_empty() {
            let found = searcher
                .search(
                    &*any_of(index.fields.id, ids),
                    &tantivy::collector::DocSetCollector,
                )
                .map_err(AppError::internal)?;
            for address in found {
                let reader = searcher.segment_reader(address.segment_ord);
                sets.entry(reader.segment_id())
                    .or_insert_with(|| tantivy::BitSet::with_max_value(reader.max_doc()))
                    .insert(address.doc_id);
            }
        }
        Ok(Self(std::sync::Arc::new(sets)))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Query for Among {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn tantivy::query::Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl tantivy::query::Weight for Among {
    fn scorer(
        &self,
        reader: &tantivy::SegmentReader,
        boost: tantivy::Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        Ok(match self.0.get(&reader.segment_id()) {
            Some(set) => Box::new(tantivy::query::ConstScorer::new(
                tantivy::query::BitSetDocSet::from(set.clone()),
                boost,
            )),
            None => Box::new(tantivy::query::EmptyScorer),
        })
    }

    fn explain(
        &self,
        reader: &tantivy::SegmentReader,
        doc: tantivy::DocId,
    ) -> tantivy::Result<tantivy::query::Explanation> {
        let found = self
            .0
            .get(&reader.segment_id())
            .is_some_and(|s| s.contains(doc));
        if found {
            Ok(tantivy::query::Explanation::new(
                "among the changed records",
                1.0,
            ))
        } else {
            Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is not among the changed records"
            )))
        }
    }
}

/// Which of the documents `among` the request's query and filters find, with their titles:
/// a saved search checked against the records that just changed. No scoring, facets or
/// highlights; `limit` and `offset` are ignored.
pub fn found_among(
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    req: &Request,
    among: &Among,
) -> AppResult<Vec<(String, String)>> {
    if among.is_empty() {
        return Ok(Vec::new());
    }
    let f = &index.fields;
    let mut parts: Vec<Box<dyn Query>> = vec![
        Box::new(among.clone()),
        filter(f, req.kind, &req.visible, &req.filters),
    ];
    if let Some(q) = req.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        parts.push(parse(index, q, req.all_words)?);
    }
    let query = BooleanQuery::intersection(parts);
    let found = searcher
        .search(&query, &tantivy::collector::DocSetCollector)
        .map_err(AppError::internal)?;
    let mut out = Vec::with_capacity(found.len());
    for address in found {
        let doc: TantivyDocument = searcher.doc(address).map_err(AppError::internal)?;
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        out.push((text(f.id), text(f.title).replace('\n', " · ")));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use tantivy::collector::TopDocs;
    use tantivy::schema::Schema;
    use tantivy::{Index, IndexWriter};

    use super::*;
    use crate::search::analyzer::{MULTILINGUAL, multilingual};
    use crate::search::index::{query_schema, schema};

    type Result<T> = anyhow::Result<T>;

    /// (title, body, publications) per document; ids are their positions.
    const DOCS: [(&str, &str, &str); 6] = [
        (
            "Alice Wang",
            "Training deep neural networks on shared GPU clusters",
            "Silicon photonics interconnects for AI accelerators",
        ),
        (
            "Bob Lee",
            "Laser radar for military and civil use",
            "Photonics of silicon nitride waveguides",
        ),
        (
            "Kim Min-jun",
            "대규모 언어 모델 학습",
            "GPU 클러스터 기반 분산 학습 시스템",
        ),
        (
            "Lin Mei-Ling",
            "先進製程良率分析",
            "半導體缺陷檢測與深度學習",
        ),
        (
            "Carol Diaz",
            "Silicon photonics for neural network accelerators",
            "Laser cooling of atoms",
        ),
        (
            "Dan Park",
            "Photonics and silicon in one lab; neural computing",
            "",
        ),
    ];

    fn index(schema: Schema, f: &Fields) -> Result<Index> {
        let index = Index::create_in_ram(schema);
        index.tokenizers().register(MULTILINGUAL, multilingual());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        for (i, (title, body, publications)) in DOCS.iter().enumerate() {
            let mut doc = TantivyDocument::new();
            doc.add_text(f.id, i.to_string());
            doc.add_text(f.title, title);
            doc.add_text(f.body, body);
            doc.add_text(f.publications, publications);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        Ok(index)
    }

    /// (id, score) of every hit, by id.
    fn hits(index: &Index, f: &Fields, query: &dyn Query) -> Result<Vec<(String, f32)>> {
        let searcher = index.reader()?.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(10).order_by_score())?;
        let mut hits = Vec::new();
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            let id = doc
                .get_first(f.id)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            hits.push((id.to_owned(), score));
        }
        hits.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(hits)
    }

    fn ids(hits: Vec<(String, f32)>) -> Vec<String> {
        hits.into_iter().map(|h| h.0).collect()
    }

    fn ours(index: &Index, q: &str, all_words: bool) -> AppResult<Box<dyn Query>> {
        parse_with(&parser(index), &index.schema(), q, all_words)
    }

    /// tantivy's parser with the field boosts, on `index`'s own schema.
    fn reference(index: &Index, q: &str, all_words: bool) -> Result<Box<dyn Query>> {
        let schema = index.schema();
        let mut fields = Vec::new();
        for (name, _) in BOOSTS {
            fields.push(schema.get_field(name)?);
        }
        let mut parser = QueryParser::for_index(index, fields.clone());
        for (field, (_, boost)) in fields.into_iter().zip(BOOSTS) {
            parser.set_field_boost(field, boost);
        }
        if all_words {
            parser.set_conjunction_by_default();
        }
        Ok(parser.parse_query(q)?)
    }

    /// For each query, with every word and with any: our query on `index` finds what the
    /// parser's finds on `with` (hits by id), with the same scores when `scores`.
    fn agree(
        index: &Index,
        with: &Index,
        f: &Fields,
        queries: &[&str],
        scores: bool,
    ) -> Result<()> {
        for q in queries {
            for all_words in [true, false] {
                let got = hits(index, f, ours(index, q, all_words)?.as_ref())?;
                let expected = hits(with, f, reference(with, q, all_words)?.as_ref())?;
                let (got_ids, expected_ids) = (ids(got.clone()), ids(expected.clone()));
                assert_eq!(got_ids, expected_ids, "{q} (all words: {all_words})");
                for (g, e) in got.iter().zip(&expected).filter(|_| scores) {
                    assert!(
                        (g.1 - e.1).abs() < 1e-4,
                        "{q}: {got:?} against {expected:?}"
                    );
                }
            }
        }
        Ok(())
    }

    /// The index of `DOCS` with the service's schema, and its fields.
    fn fixture() -> Result<(Index, Fields)> {
        let (schema, f) = schema();
        Ok((index(schema, &f)?, f))
    }

    /// Our query finds what tantivy's parser finds. Text without phrases: on the same index,
    /// with the same scores. Phrases that, where they occur, occur in order: the parser on an
    /// index with positions everywhere reads them the same (hits only: a phrase and a
    /// conjunction score differently).
    #[test]
    fn our_query_agrees_with_the_parsers() -> Result<()> {
        let (index, f) = fixture()?;
        let positions = self::index(query_schema(), &f)?;
        let cases: [(&Index, bool, &[&str]); 2] = [
            (
                &index,
                true,
                &[
                    "network",
                    "neural networks training",
                    "+laser -military",
                    "title:alice",
                    "gpu^2 neural",
                    "neural OR laser",
                    "(photonics silicon) -title:bob",
                    "the neural",
                    "딥러닝 OR 학습",
                ],
            ),
            (
                &positions,
                false,
                &[
                    "\"neural networks\"",
                    "\"laser cooling\" OR \"laser radar\"",
                    "GPU 클러스터",
                    "半導體 深度學習",
                    "\"distributed systems\"",
                ],
            ),
        ];
        for (reference, scores, queries) in cases {
            agree(&index, reference, &f, queries, scores)?;
        }
        Ok(())
    }

    #[test]
    fn phrases_are_exact_except_in_publications_where_all_their_words_must_occur() -> Result<()> {
        let (index, f) = fixture()?;
        let found = |q: &str| -> Result<Vec<String>> {
            Ok(ids(hits(&index, &f, ours(&index, q, true)?.as_ref())?))
        };
        // In order in 0's publications and 4's body; apart in 1's publications (which
        // matches there) and in 5's body (which does not).
        assert_eq!(found("\"silicon photonics\"")?, ["0", "1", "4"]);
        assert_eq!(found("body:\"silicon photonics\"")?, ["4"]);
        assert_eq!(found("publications:\"silicon photonics\"")?, ["0", "1"]);
        // Korean and Chinese words are phrases of bigrams: found in publications too.
        assert_eq!(found("클러스터")?, ["2"]);
        assert_eq!(found("분산 학습")?, ["2"]);
        assert_eq!(found("缺陷檢測")?, ["3"]);
        assert_eq!(found("良率分析")?, ["3"]);
        // A phrase prefix: exact where there are positions, whole words in publications.
        assert_eq!(found("\"silicon phot\"*")?, ["0", "1", "4"]);
        Ok(())
    }

    /// The code of the one problem with `q`, or `None` if the text is accepted.
    fn refusal(index: &Index, q: &str) -> Option<String> {
        let e = ours(index, q, true).err()?;
        assert_eq!(e.code, crate::error::ErrorCode::InvalidQuery, "{q}");
        assert_eq!(e.errors.len(), 1, "{q}");
        assert_eq!(e.errors[0].field, "q", "{q}");
        Some(e.errors[0].code.as_str().to_owned())
    }

    #[test]
    fn malformed_or_refused_text_is_a_query_error() -> Result<()> {
        let (index, _) = fixture()?;
        let nested = |n: usize| format!("{}gpu{}", "(".repeat(n), ")".repeat(n));
        // (The grammar keeps one of repeated words: these are all different.)
        let words = |n: usize| (0..n).map(|i| format!("w{i} ")).collect::<String>();
        let cases = [
            ("(unbalanced", "invalid_query_syntax"),
            ("-military", "invalid_query_syntax"),
            ("nosuchfield:x", "unknown_field"),
            // The schema's bookkeeping fields are not the caller's to search.
            ("invited:x", "unknown_field"),
            ("visibility:confidential", "unknown_field"),
            ("body:*", "unsupported_query"),
            ("invited:*", "unsupported_query"),
            ("title:[a TO z]", "unsupported_query"),
            ("title:/al.*/", "unsupported_query"),
            (&words(MAX_QUERY_CLAUSES + 1), "too_many_clauses"),
            (&"x".repeat(MAX_QUERY_CHARS + 1), "too_long"),
            (&nested(10_000), "too_long"),
            (&nested(MAX_QUERY_DEPTH + 1), "too_deeply_nested"),
            (
                &format!("{}gpu", "NOT ".repeat(MAX_QUERY_DEPTH + 1)),
                "too_deeply_nested",
            ),
            (
                &format!("a {}", "NOT b ".repeat(MAX_QUERY_DEPTH + 1)),
                "too_deeply_nested",
            ),
        ];
        for (q, code) in cases {
            assert_eq!(refusal(&index, q).as_deref(), Some(code), "{q}");
        }
        // Just inside every bound, and parentheses inside a phrase are words, not nesting.
        let phrase = format!("\"{}\"", "(".repeat(50));
        for q in [
            nested(MAX_QUERY_DEPTH),
            words(MAX_QUERY_CLAUSES),
            "x".repeat(MAX_QUERY_CHARS),
            phrase,
            "title:(neural OR laser) keywords:gpu".to_owned(),
            "*".to_owned(),
        ] {
            assert_eq!(refusal(&index, &q), None, "{q}");
        }
        Ok(())
    }
}
