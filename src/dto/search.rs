//! Full-text search over faculty profiles, needs and joint lab centres.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::centers::CenterStatus;
use super::faculty::CollaborationType;
use super::needs::NeedStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchType {
    Faculty,
    Need,
    Center,
}

/// How the words of `q` combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Every word must match (in any field).
    #[default]
    And,
    /// Any word may match; documents with more of them rank higher.
    Or,
}

/// A hit's status: a need's or a centre's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HitStatus {
    Need(NeedStatus),
    Center(CenterStatus),
}

/// Documented as one enum of every need and centre status. Derived, it was a `oneOf` of the
/// two enums, and since both have `closed`, a closed need or centre matched both branches and
/// a valid answer failed validation.
impl utoipa::PartialSchema for HitStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        let needs = [
            NeedStatus::Draft,
            NeedStatus::Open,
            NeedStatus::Closed,
            NeedStatus::Awarded,
        ]
        .map(NeedStatus::as_str);
        let centres = [
            CenterStatus::Planned,
            CenterStatus::Active,
            CenterStatus::Renewing,
            CenterStatus::Closed,
        ]
        .map(CenterStatus::as_str);
        let mut values: Vec<&str> = needs.into_iter().chain(centres).collect();
        let mut seen = std::collections::HashSet::new();
        values.retain(|v| seen.insert(*v));
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "A need's status (`type=need`) or a centre's (`type=center`).",
            ))
            .enum_values(Some(values))
            .into()
    }
}

impl utoipa::ToSchema for HitStatus {}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Query text in any mix of English, Korean and Chinese. By default every word must
    /// match (see `operator`); hits are ranked by BM25 (titles and keywords weigh more than
    /// bodies). `+word` requires, `-word` excludes, `"..."` is a phrase (in publications,
    /// which are indexed without positions: all its words, in any order), `title:word`
    /// targets a field, `a OR b` accepts either. Omit to browse with filters only.
    pub q: Option<String>,
    /// `and`: a hit has every word of `q`; `or`: any of them, more matching words ranking
    /// higher. A run of Chinese or Korean characters counts as one word. Unset: `and`, or
    /// `or` when no document has every word (the response's `operator` tells which).
    pub operator: Option<Operator>,
    /// What to search.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: SearchType,
    /// Profiles of this university (`type=faculty`), or centres it hosts (`type=center`).
    pub university_id: Option<String>,
    /// Needs of this company (`type=need`).
    pub company_id: Option<String>,
    /// ISO 3166-1 alpha-2 country of the university (host university for centres) or company.
    #[param(value_type = Option<crate::dto::IsoCountry>)]
    pub country: Option<String>,
    /// Department, exact match ignoring case (`type=faculty`).
    pub department: Option<String>,
    /// Need status (`type=need`).
    pub status: Option<NeedStatus>,
    /// Profiles available for, or needs asking for, this kind of collaboration.
    pub collaboration_type: Option<CollaborationType>,
    /// Keyword (a centre's focus area), exact match ignoring case.
    pub keyword: Option<String>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Hits to skip, 0–10000 (with `limit`, for pages).
    #[param(minimum = 0, maximum = 10000)]
    pub offset: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    #[serde(rename = "type")]
    pub kind: SearchType,
    pub id: String,
    /// BM25 relevance (higher is better; comparable only within one search).
    pub score: f32,
    /// Profile or centre name (with local-script name) or need title.
    pub title: String,
    /// University (profiles), company (needs) or host university (centres).
    pub organization_id: String,
    /// Need or centre status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<HitStatus>,
    /// Fragments around the matches by field (`title`, `keywords`, `body`): HTML-escaped
    /// text with the matching words in `<b>`.
    pub highlights: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacetValue {
    pub value: String,
    /// A readable name where the value is an id (organizations).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "total": 1, "operator": "and", "offset": 0, "limit": 20,
    "items": [{"type": "faculty", "id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "score": 7.25,
               "title": "Chen Chien-Hung · 陳建宏",
               "organization_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60",
               "highlights": {"body": "Large language model training on <b>GPU</b> clusters"}}],
    "facets": {"university": [{"value": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a60", "label": "NYCU", "count": 1}],
               "department": [{"value": "Computer Science", "count": 1}],
               "keyword": [{"value": "llm", "count": 1}],
               "collaboration_type": [{"value": "joint_lab", "count": 1}]}
}))]
pub struct SearchResults {
    /// Every hit the caller may see, not just this page.
    pub total: usize,
    /// How the words of `q` were combined: `and` (every word), or `or` (any word) when asked
    /// for or when, without an explicit `operator`, no document had every word.
    pub operator: Operator,
    pub offset: usize,
    pub limit: usize,
    pub items: Vec<SearchHit>,
    /// Counts over all hits (not just this page): for profiles `university`, `department`,
    /// `keyword`, `collaboration_type`; for needs `company`, `status`, `keyword`,
    /// `collaboration_type`; for centres `university`, `status`, `keyword`. At most 20 values
    /// each, most frequent first.
    pub facets: BTreeMap<String, Vec<FacetValue>>,
}

/// Makes a write wait until its change is searchable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Refresh {
    /// Answer at once; the change is searchable within about a second.
    #[default]
    False,
    /// Answer once the change is searchable (at most 10 s; then `Search-Refresh: timeout`).
    WaitFor,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RefreshParams {
    /// `wait_for`: answer only once the change is searchable.
    pub refresh: Option<Refresh>,
}
