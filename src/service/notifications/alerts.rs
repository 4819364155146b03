//! Saved alerts: a user's standing question ("needs that fit my profile with a score of at
//! least 0.4", "profiles that a search finds"), and the check of the records that just
//! changed against every alert (`evaluate`), which the notifier runs as the index takes the
//! changes in. Nothing re-runs an alert over the whole corpus: an alert sees a record when
//! the record changes, and fits it once.

use std::collections::{BTreeSet, HashMap};

use crate::db::notifications::{self as rows, AlertRow};
use crate::db::outbox::Entity;
use crate::db::search::{self as source, FacultySource, NeedSource};
use crate::db::{Db, DbConn};
use crate::domain::stored::{AuditEntity, NeedStatus};
use crate::domain::{PublicId, Text};
use crate::dto::notifications::{
    Alert, AlertHit, AlertHitList, AlertKind, AlertList, AlertSearch, ListAlertHits, NewAlert,
};
use crate::dto::search::SearchType;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};
use crate::search::SearchIndex;
use crate::search::index::faculty_texts;
use crate::search::matching::{
    self as m, AnalysedProfile, Ceiling, Corpus, MatchQuery, PublicationCounts, QuerySet,
    TermCounter,
};
use crate::search::query::{self, Kind, Visible};
use crate::service::matching::{
    analysed_publications, candidates, need_query, publication_counts, this_year,
};
use crate::service::policy::{self, Action, Caller};
use crate::service::search::{saved_request, visible_in};
use crate::service::{limit_and_offset, now};

use super::worker::{Callers, record_readable};

/// Alerts one account may keep.
pub const MAX_ALERTS: i64 = 100;

fn target_of(kind: SearchType) -> &'static str {
    match kind {
        SearchType::Faculty => "faculty",
        SearchType::Need => "need",
        SearchType::Center => "center",
    }
}

fn search_type(target: &str) -> SearchType {
    match target {
        "need" => SearchType::Need,
        "center" => SearchType::Center,
        _ => SearchType::Faculty,
    }
}

fn view(row: AlertRow) -> AppResult<Alert> {
    let search = row
        .search
        .as_deref()
        .map(serde_json::from_str::<AlertSearch>)
        .transpose()
        .map_err(AppError::internal)?;
    Ok(Alert {
        target: search_type(&row.target),
        id: row.id,
        name: row.name,
        kind: row.kind,
        search,
        need_id: row.need_id,
        faculty_id: row.faculty_id,
        min_score: row.min_score,
        created_at: row.created_at.and_utc(),
    })
}

/// A search's parameter errors, as errors of the body's `search` object.
fn in_search(e: AppError) -> AppError {
    if e.errors.is_empty() {
        return AppError::validation(vec![FieldError::new(
            "search.q",
            FieldCode::InvalidQuerySyntax,
            e.detail,
        )]);
    }
    AppError::validation(
        e.errors
            .into_iter()
            .map(|mut f| {
                f.field = format!("search.{}", f.field);
                f
            })
            .collect(),
    )
}

/// `POST /alerts`.
pub async fn create(
    db: &Db,
    index: &std::sync::Arc<SearchIndex>,
    caller: &Caller,
    input: NewAlert,
) -> AppResult<Alert> {
    let mut errors = Vec::new();
    let name = Text::required("name", &input.name, 200)
        .map_err(|e| errors.push(e))
        .ok();
    let chosen = [
        input.search.is_some(),
        input.need_id.is_some(),
        input.faculty_id.is_some(),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if chosen != 1 {
        errors.push(FieldError::new(
            "search",
            FieldCode::Invalid,
            "give exactly one of search, need_id and faculty_id",
        ));
    }
    let need_id = input.need_id.as_deref().map(|v| {
        PublicId::parse(v)
            .ok_or_else(|| FieldError::new("need_id", FieldCode::InvalidId, "must be an id"))
    });
    let faculty_id = input.faculty_id.as_deref().map(|v| {
        PublicId::parse(v)
            .ok_or_else(|| FieldError::new("faculty_id", FieldCode::InvalidId, "must be an id"))
    });
    let need_id = need_id
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let faculty_id = faculty_id
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let matching = input.need_id.is_some() || input.faculty_id.is_some();
    match (matching, input.min_score) {
        (true, None) => errors.push(FieldError::new(
            "min_score",
            FieldCode::Required,
            "is required with need_id or faculty_id",
        )),
        (true, Some(s)) if !(0.0..=1.0).contains(&s) || s.is_nan() => errors.push(FieldError::new(
            "min_score",
            FieldCode::OutOfRange,
            "must be between 0 and 1",
        )),
        (false, Some(_)) => errors.push(FieldError::new(
            "min_score",
            FieldCode::NotApplicable,
            "applies only with need_id or faculty_id",
        )),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(AppError::validation(errors));
    }
    let name = name.unwrap_or_default();
    // A search is checked as `GET /search` checks it, query syntax included.
    if let Some(search) = &input.search {
        let req = saved_request(search.params(), Visible::default()).map_err(in_search)?;
        if let Some(q) = req.q.as_deref().filter(|q| !q.trim().is_empty()) {
            query::parse(index, q, req.all_words).map_err(in_search)?;
        }
    }
    let caller = caller.clone();
    let search = input
        .search
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(AppError::internal)?;
    let target = match (&input.search, &need_id) {
        (Some(s), _) => target_of(s.kind),
        (None, Some(_)) => "faculty",
        (None, None) => "need",
    };
    let row = AlertRow {
        id: PublicId::generate(),
        user_id: caller.user_id.clone(),
        name,
        kind: if matching {
            AlertKind::Match
        } else {
            AlertKind::Search
        },
        target: target.to_owned(),
        search,
        need_id,
        faculty_id,
        min_score: input.min_score,
        created_at: now(),
    };
    db.write(move |conn| {
        // Profiles for a need: those who manage the company's needs. Needs for a profile:
        // those who may edit it (its owner, its university's office).
        if let Some(need) = &row.need_id {
            let found = crate::db::needs::find_visible(
                conn,
                &policy::need_scope(Some(&caller), false)?,
                need,
            )?
            .filter(|n| n.deleted_at.is_none())
            .ok_or_else(|| AppError::not_found("Need"))?;
            policy::authorize(
                Some(&caller),
                Action::ManageNeeds {
                    company_id: &found.company_id,
                },
            )?;
        }
        if let Some(f) = &row.faculty_id {
            let found = crate::db::faculty::find_visible(
                conn,
                &policy::faculty_scope(Some(&caller), false)?,
                f,
            )?
            .filter(|p| p.deleted_at.is_none())
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
            policy::authorize(
                Some(&caller),
                Action::EditFacultyProfile {
                    university_id: &found.university_id,
                    owner_user_id: found.owner_user_id.as_deref(),
                },
            )?;
        }
        if rows::alert_count(conn, &caller.user_id)? >= MAX_ALERTS {
            return Err(AppError::new(
                ErrorCode::QuotaExceeded,
                format!("An account keeps at most {MAX_ALERTS} alerts; delete one first"),
            ));
        }
        rows::insert_alert(conn, &row)?;
        view(row)
    })
    .await
}

/// `GET /alerts`: the caller's own.
pub async fn list(db: &Db, caller: &Caller) -> AppResult<AlertList> {
    let user = caller.user_id.clone();
    db.run(move |conn| {
        Ok(AlertList {
            items: rows::alerts_of(conn, &user)?
                .into_iter()
                .map(view)
                .collect::<AppResult<_>>()?,
        })
    })
    .await
}

fn own(conn: &mut DbConn, caller: &Caller, id: &str) -> AppResult<AlertRow> {
    rows::find_alert(conn, id)?
        .filter(|a| a.user_id == caller.user_id)
        .ok_or_else(|| AppError::not_found("Alert"))
}

/// `GET /alerts/{id}`: the caller's own (anyone else's is not found).
pub async fn get(db: &Db, caller: &Caller, id: String) -> AppResult<Alert> {
    let caller = caller.clone();
    db.run(move |conn| view(own(conn, &caller, &id)?)).await
}

/// `DELETE /alerts/{id}`.
pub async fn delete(db: &Db, caller: &Caller, id: String) -> AppResult<()> {
    let caller = caller.clone();
    db.write(move |conn| {
        own(conn, &caller, &id)?;
        rows::delete_alert(conn, &id)?;
        Ok(())
    })
    .await
}

/// `GET /alerts/{id}/hits`: the caller's alert's hits, newest first, those whose record they
/// may no longer read left out.
pub async fn hits(
    db: &Db,
    caller: &Caller,
    id: String,
    q: ListAlertHits,
) -> AppResult<AlertHitList> {
    let mut errors = Vec::new();
    let (limit, offset) = limit_and_offset(q.limit, q.offset, 100, 1_000_000, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::query(errors));
    }
    let caller = caller.clone();
    db.run(move |conn| {
        own(conn, &caller, &id)?;
        let mut found = rows::hits_of(conn, &id, limit + 1, offset)?;
        let more = found.len() as i64 > limit;
        found.truncate(limit as usize);
        let mut items = Vec::with_capacity(found.len());
        for h in found {
            if record_readable(conn, &caller, &h.entity, &h.entity_id)? {
                items.push(AlertHit {
                    entity: h.entity,
                    id: h.entity_id,
                    title: h.title,
                    score: h.score,
                    found_at: h.found_at.and_utc(),
                });
            }
        }
        Ok(AlertHitList {
            items,
            next_offset: more.then_some(offset + limit),
        })
    })
    .await
}

/// A record that fits an alert.
pub(super) struct Hit {
    pub alert: AlertRow,
    pub entity: AuditEntity,
    pub record_id: String,
    pub title: String,
    pub score: Option<f32>,
}

/// The fits of the changed records (`changed`, by kind) with every alert watching their
/// kind, each only where the alert's owner may read the record.
pub(super) fn evaluate(
    db: &Db,
    index: &SearchIndex,
    changed: &HashMap<Entity, BTreeSet<String>>,
) -> AppResult<Vec<Hit>> {
    let searcher = index.searcher();
    db.run_blocking(|conn| {
        let mut hits = Vec::new();
        let mut callers = Callers::default();
        let mut corpus: Option<Corpus> = None;
        for (entity, kind, audit) in [
            (Entity::Faculty, Kind::Faculty, AuditEntity::FacultyProfile),
            (Entity::Need, Kind::Need, AuditEntity::Need),
            (Entity::Center, Kind::Center, AuditEntity::Center),
        ] {
            let Some(ids) = changed.get(&entity) else {
                continue;
            };
            let ids: Vec<String> = ids.iter().cloned().collect();
            let target = target_of(match kind {
                Kind::Faculty => SearchType::Faculty,
                Kind::Need => SearchType::Need,
                Kind::Center => SearchType::Center,
            });
            let alerts = rows::alerts_watching(conn, target)?;
            if alerts.is_empty() {
                continue;
            }
            let (searches, matches): (Vec<AlertRow>, Vec<AlertRow>) = alerts
                .into_iter()
                .partition(|a| a.kind == AlertKind::Search);
            hits.extend(searches_among(
                conn,
                index,
                &searcher,
                &mut callers,
                kind,
                audit,
                searches,
                &ids,
            )?);
            if matches.is_empty() {
                continue;
            }
            if corpus.is_none() {
                corpus = Some(Corpus::new(index.fields(), index.public_stats(&searcher)?)?);
            }
            let Some(corpus) = corpus.as_ref() else {
                continue;
            };
            match kind {
                Kind::Faculty => hits.extend(profiles_for_needs(
                    conn,
                    &searcher,
                    corpus,
                    &mut callers,
                    matches,
                    &ids,
                )?),
                Kind::Need => hits.extend(needs_for_profiles(
                    conn,
                    index,
                    &searcher,
                    corpus,
                    &mut callers,
                    matches,
                    &ids,
                )?),
                Kind::Center => {}
            }
        }
        Ok(hits)
    })
}

/// Search alerts: each alert's search, over the changed records only, with its owner's
/// visibility.
#[allow(clippy::too_many_arguments)]
fn searches_among(
    conn: &mut DbConn,
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    callers: &mut Callers,
    kind: Kind,
    entity: AuditEntity,
    alerts: Vec<AlertRow>,
    ids: &[String],
) -> AppResult<Vec<Hit>> {
    let mut visible: HashMap<String, Visible> = HashMap::new();
    let mut hits = Vec::new();
    if alerts.is_empty() {
        return Ok(hits);
    }
    let among = query::Among::new(index, searcher, ids)?;
    for alert in alerts {
        let Some(caller) = callers.get(conn, &alert.user_id)? else {
            continue;
        };
        let Some(search) = alert
            .search
            .as_deref()
            .and_then(|s| serde_json::from_str::<AlertSearch>(s).ok())
        else {
            continue;
        };
        let v = match visible.get(&alert.user_id) {
            Some(v) => v.clone(),
            None => {
                let v = visible_in(conn, Some(&caller), kind)?;
                visible.insert(alert.user_id.clone(), v.clone());
                v
            }
        };
        // A saved search that no longer checks (a filter's organization gone) finds nothing.
        let Ok(req) = saved_request(search.params(), v) else {
            continue;
        };
        for (id, title) in query::found_among(index, searcher, &req, &among)? {
            hits.push(Hit {
                alert: alert.clone(),
                entity,
                record_id: id,
                title,
                score: None,
            });
        }
    }
    Ok(hits)
}

/// Profiles for needs: each changed profile is analysed once, bounded against every watched
/// need at once (`QuerySet`), and scored (as the need's match list scores it) only against
/// the needs whose bound reaches one of their alerts' `min_score`.
fn profiles_for_needs(
    conn: &mut DbConn,
    searcher: &tantivy::Searcher,
    corpus: &Corpus,
    callers: &mut Callers,
    alerts: Vec<AlertRow>,
    ids: &[String],
) -> AppResult<Vec<Hit>> {
    let need_ids: Vec<String> = alerts.iter().filter_map(|a| a.need_id.clone()).collect();
    let mut needs: HashMap<String, NeedSource> = source::needs(conn, &need_ids)?
        .into_iter()
        .filter(|n| n.row.deleted_at.is_none())
        .map(|n| (n.row.id.clone(), n))
        .collect();
    // One entry per watched need: its query, its alerts, and the lowest score they ask for.
    let mut watched: Vec<(NeedSource, MatchQuery, Vec<AlertRow>, f64)> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    for alert in alerts {
        let Some(need_id) = alert.need_id.clone() else {
            continue;
        };
        let min = alert.min_score.unwrap_or(1.0);
        if let Some(&i) = position.get(&need_id) {
            watched[i].3 = watched[i].3.min(min);
            watched[i].2.push(alert);
            continue;
        }
        let Some(need) = needs.remove(&need_id) else {
            continue;
        };
        let q = need_query(corpus, searcher, &need)?;
        if q.is_empty() {
            continue;
        }
        position.insert(need_id, watched.len());
        watched.push((need, q, vec![alert], min));
    }
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let set = QuerySet::new(watched.iter().map(|w| &w.1));
    let profiles: Vec<FacultySource> = source::faculty(conn, ids)?
        .into_iter()
        .filter(|f| f.row.deleted_at.is_none())
        .collect();
    let year = this_year();
    let mut hits = Vec::new();
    for f in profiles {
        let analysed = AnalysedProfile::new(&faculty_texts(&f));
        let pubs = analysed_publications(&f);
        let ceilings = set.ceilings(&Ceiling::new(&analysed, &pubs, corpus, year));
        for ((need, q, alerts, min), ceiling) in watched.iter().zip(ceilings) {
            // The bound adds the same parts in another order: a hair of slack for rounding.
            if ceiling <= 0.0 || f64::from(ceiling) * 1.001 + 1e-6 < *min {
                continue;
            }
            let counts: Vec<PublicationCounts> = pubs.iter().map(|p| p.counts(q)).collect();
            let s = m::pair_score(q, corpus, &analysed.hits(q), &counts, year);
            for alert in alerts {
                if s.score <= 0.0 || f64::from(s.score) < alert.min_score.unwrap_or(1.0) {
                    continue;
                }
                let Some(caller) = callers.get(conn, &alert.user_id)? else {
                    continue;
                };
                // The owner must still manage the need's company's needs.
                if policy::authorize(
                    Some(&caller),
                    Action::ManageNeeds {
                        company_id: &need.row.company_id,
                    },
                )
                .is_err()
                    || !record_readable(conn, &caller, "faculty_profile", &f.row.id)?
                {
                    continue;
                }
                hits.push(Hit {
                    alert: alert.clone(),
                    entity: AuditEntity::FacultyProfile,
                    record_id: f.row.id.clone(),
                    title: f.row.name.clone(),
                    score: Some(s.score),
                });
            }
        }
    }
    Ok(hits)
}

/// Needs for profiles: each changed open need is ranked against the profiles that alerts
/// watch, as the need's match list ranks and scores them.
fn needs_for_profiles(
    conn: &mut DbConn,
    index: &SearchIndex,
    searcher: &tantivy::Searcher,
    corpus: &Corpus,
    callers: &mut Callers,
    alerts: Vec<AlertRow>,
    ids: &[String],
) -> AppResult<Vec<Hit>> {
    let mut by_profile: HashMap<String, Vec<AlertRow>> = HashMap::new();
    for a in alerts {
        if let Some(f) = a.faculty_id.clone() {
            by_profile.entry(f).or_default().push(a);
        }
    }
    let watched: Vec<String> = by_profile.keys().cloned().collect();
    let profiles: HashMap<String, FacultySource> = candidates(conn, &watched)?
        .into_iter()
        .filter(|f| f.row.deleted_at.is_none())
        .map(|f| (f.row.id.clone(), f))
        .collect();
    let needs = source::needs(conn, ids)?
        .into_iter()
        .filter(|n| n.row.deleted_at.is_none() && n.row.status == NeedStatus::Open);
    let filter = query::filter_among(
        index.fields(),
        Kind::Faculty,
        &Visible {
            all: true,
            ..Default::default()
        },
        &[],
        &watched,
    );
    let year = this_year();
    let mut hits = Vec::new();
    for need in needs {
        let q = need_query(corpus, searcher, &need)?;
        let (_, candidates) =
            m::rank_profiles(index, searcher, corpus, &*filter, &q, watched.len())?;
        let mut counter = TermCounter::new(&q);
        for c in candidates {
            let Some(f) = profiles.get(&c.id) else {
                continue;
            };
            let pubs = publication_counts(&mut counter, f);
            let s = m::pair_score(&q, corpus, &c.hits, &pubs, year);
            for alert in by_profile.get(&c.id).into_iter().flatten() {
                if s.score <= 0.0 || f64::from(s.score) < alert.min_score.unwrap_or(1.0) {
                    continue;
                }
                let Some(caller) = callers.get(conn, &alert.user_id)? else {
                    continue;
                };
                // The owner must still be one who may edit the profile.
                let may_edit = policy::authorize(
                    Some(&caller),
                    Action::EditFacultyProfile {
                        university_id: &f.row.university_id,
                        owner_user_id: f.row.owner_user_id.as_deref(),
                    },
                )
                .is_ok();
                if !may_edit || !record_readable(conn, &caller, "need", &need.row.id)? {
                    continue;
                }
                hits.push(Hit {
                    alert: alert.clone(),
                    entity: AuditEntity::Need,
                    record_id: need.row.id.clone(),
                    title: need.row.title.clone(),
                    score: Some(s.score),
                });
            }
        }
    }
    Ok(hits)
}
