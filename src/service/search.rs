//! Search use case: checks the request, turns the caller's rights into the index's
//! visibility filter (from the same policy the database queries use), runs the query off the
//! async workers, and labels organization facets.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::db::{Db, search as source};
use crate::domain::{CountryCode, PublicId};
use crate::dto::centers::{CenterStatus, ParticipantVisibility};
use crate::dto::needs::NeedStatus;
use crate::dto::search::{
    FacetValue, HitStatus, Operator, SearchHit, SearchParams, SearchResults, SearchType,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::search::SearchIndex;
use crate::search::query::{self, Filter, Kind, Visible};

use super::policy::{self, Caller};

const MAX_OFFSET: i64 = 10_000;

pub async fn search(
    db: &Db,
    index: &Arc<SearchIndex>,
    caller: Option<&Caller>,
    p: SearchParams,
) -> AppResult<SearchResults> {
    let Checked {
        search_type,
        kind,
        q,
        operator,
        filters,
        limit,
        offset,
    } = Checked::parse(p)?;
    let request = query::Request {
        kind,
        q,
        all_words: operator.unwrap_or_default() == Operator::And,
        filters,
        visible: visible(db, caller, kind).await?,
        limit,
        offset,
    };
    let (results, operator) = run(index, request, operator).await?;
    let facets = labelled_facets(index, kind, results.facets).await?;
    Ok(SearchResults {
        total: results.total,
        operator,
        offset,
        limit,
        items: results
            .hits
            .into_iter()
            .map(|h| hit(search_type, kind, h))
            .collect(),
        facets,
    })
}

/// Search parameters, checked: every problem is reported at once, as a 400.
struct Checked {
    search_type: SearchType,
    kind: Kind,
    q: Option<String>,
    operator: Option<Operator>,
    filters: Vec<(Filter, String)>,
    limit: usize,
    offset: usize,
}

impl Checked {
    fn parse(p: SearchParams) -> AppResult<Self> {
        let mut errors = Vec::new();
        let (limit, offset) =
            super::limit_and_offset(p.limit, p.offset, 100, MAX_OFFSET, &mut errors);
        let kind = match p.kind {
            SearchType::Faculty => Kind::Faculty,
            SearchType::Need => Kind::Need,
            SearchType::Center => Kind::Center,
        };
        let mut filters = Vec::new();
        let mut ids =
            |field: &str, value: Option<String>| match value.as_deref().map(PublicId::parse) {
                Some(None) => {
                    errors.push(FieldError::new(
                        field,
                        FieldCode::InvalidId,
                        "must be an id",
                    ));
                    None
                }
                other => other.flatten(),
            };
        let university = ids("university_id", p.university_id);
        let company = ids("company_id", p.company_id);
        for (field, value, allowed, filter) in [
            (
                "department",
                p.department,
                &[Kind::Faculty][..],
                Filter::Department,
            ),
            (
                "university_id",
                university,
                &[Kind::Faculty, Kind::Center],
                Filter::Organization,
            ),
            (
                "status",
                p.status.map(|s| s.as_str().to_owned()),
                &[Kind::Need],
                Filter::Status,
            ),
            ("company_id", company, &[Kind::Need], Filter::Organization),
        ] {
            let Some(v) = value else { continue };
            if allowed.contains(&kind) {
                filters.push((filter, v));
            } else {
                let t = match allowed {
                    [Kind::Faculty, Kind::Center] => "faculty or type=center",
                    [Kind::Faculty] => "faculty",
                    _ => "need",
                };
                errors.push(FieldError::new(
                    field,
                    FieldCode::NotApplicable,
                    format!("applies only to type={t}"),
                ));
            }
        }
        if let Some(c) = p.country {
            match CountryCode::parse("country", &c) {
                Ok(c) => filters.push((Filter::Country, c.into_string())),
                Err(e) => errors.push(e),
            }
        }
        if let Some(c) = p.collaboration_type {
            filters.push((Filter::Collaboration, c.as_str().to_owned()));
        }
        if let Some(k) = p.keyword.filter(|k| !k.trim().is_empty()) {
            filters.push((Filter::Keyword, k));
        }
        if !errors.is_empty() {
            return Err(AppError::query(errors));
        }
        Ok(Self {
            search_type: p.kind,
            kind,
            q: p.q,
            operator: p.operator,
            filters,
            limit: limit as usize,
            offset: offset as usize,
        })
    }
}

/// Runs the query on the index's threads. Without an explicit operator, a query no document
/// matches with every word is answered with any word instead (and says so), rather than with
/// nothing.
async fn run(
    index: &Arc<SearchIndex>,
    mut request: query::Request,
    operator: Option<Operator>,
) -> AppResult<(query::Results, Operator)> {
    let owned = index.clone();
    let relax = operator.is_none();
    index
        .cpu_bound(move || {
            let index = &*owned;
            let results = query::run(index, &request)?;
            let blank = request.q.as_deref().is_none_or(|q| q.trim().is_empty());
            if results.total > 0 || !relax || !request.all_words || blank {
                return Ok((results, operator.unwrap_or_default()));
            }
            request.all_words = false;
            Ok((query::run(index, &request)?, Operator::Or))
        })
        .await
}

/// The facets with their organization values (universities, or companies for needs)
/// labelled with the organizations' names.
async fn labelled_facets(
    index: &SearchIndex,
    kind: Kind,
    facets: BTreeMap<String, Vec<(String, u64)>>,
) -> AppResult<BTreeMap<String, Vec<FacetValue>>> {
    let org_facet = if kind == Kind::Need {
        "company"
    } else {
        "university"
    };
    let org_ids: Vec<String> = facets
        .get(org_facet)
        .map(|v| v.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    let names = index.organization_names(org_ids).await?;
    Ok(facets
        .into_iter()
        .map(|(name, values)| {
            let values = values
                .into_iter()
                .map(|(value, count)| FacetValue {
                    label: if name == org_facet {
                        names.get(&value).cloned()
                    } else {
                        None
                    },
                    value,
                    count,
                })
                .collect();
            (name, values)
        })
        .collect())
}

fn hit(search_type: SearchType, kind: Kind, h: query::Hit) -> SearchHit {
    SearchHit {
        kind: search_type,
        id: h.id,
        score: h.score,
        title: h.title,
        organization_id: h.organization_id,
        status: h.status.as_deref().and_then(|s| match kind {
            Kind::Need => NeedStatus::from_wire(s).map(HitStatus::Need),
            Kind::Center => CenterStatus::from_wire(s).map(HitStatus::Center),
            Kind::Faculty => None,
        }),
        highlights: h.highlights.into_iter().collect(),
    }
}

/// The caller's rights as the index's visibility filter: the scopes `policy` decides for the
/// database, translated.
pub(crate) async fn visible(db: &Db, caller: Option<&Caller>, kind: Kind) -> AppResult<Visible> {
    let owned = match owner_to_read(caller, kind)? {
        Some(user) => {
            db.run(move |c| Ok(source::owned_profiles(c, &user)?))
                .await?
        }
        None => Vec::new(),
    };
    visible_from(caller, kind, owned)
}

/// [`visible`] inside a connection the caller holds (the alert worker's).
pub(crate) fn visible_in(
    conn: &mut crate::db::DbConn,
    caller: Option<&Caller>,
    kind: Kind,
) -> AppResult<Visible> {
    let owned = match owner_to_read(caller, kind)? {
        Some(user) => source::owned_profiles(conn, &user)?,
        None => Vec::new(),
    };
    visible_from(caller, kind, owned)
}

/// Whose profiles the visibility filter depends on (needs they were invited to, centres
/// they take part in), if anyone's.
fn owner_to_read(caller: Option<&Caller>, kind: Kind) -> AppResult<Option<String>> {
    Ok(match kind {
        Kind::Faculty => None,
        Kind::Need => {
            let scope = policy::need_scope(caller, false)?;
            scope.invited_user.filter(|_| !scope.all)
        }
        Kind::Center => {
            let scope = policy::participant_scope(caller, false)?;
            scope.user_id.filter(|_| !scope.all)
        }
    })
}

fn visible_from(caller: Option<&Caller>, kind: Kind, owned: Vec<String>) -> AppResult<Visible> {
    Ok(match kind {
        Kind::Faculty => Visible {
            visibilities: policy::faculty_scope(caller, false)?
                .visibilities
                .iter()
                .map(|v| v.as_str())
                .collect(),
            ..Default::default()
        },
        Kind::Need => {
            let scope = policy::need_scope(caller, false)?;
            Visible {
                all: scope.all,
                visibilities: scope.visibilities.iter().map(|v| v.as_str()).collect(),
                member_of: scope.member_of,
                invited_profiles: owned,
            }
        }
        Kind::Center => {
            let scope = policy::participant_scope(caller, false)?;
            Visible {
                all: scope.all,
                visibilities: if scope.public {
                    vec![ParticipantVisibility::Public.as_str()]
                } else {
                    vec![]
                },
                member_of: scope.organizations,
                invited_profiles: owned,
            }
        }
    })
}

/// A saved search, checked as `GET /search` checks its parameters, as the request that finds
/// which changed records it covers (every word must match unless it says `or`).
pub(crate) fn saved_request(p: SearchParams, visible: Visible) -> AppResult<query::Request> {
    let c = Checked::parse(p)?;
    Ok(query::Request {
        kind: c.kind,
        q: c.q,
        all_words: c.operator.unwrap_or_default() == Operator::And,
        filters: c.filters,
        visible,
        limit: c.limit,
        offset: c.offset,
    })
}
