//! Syncing a profile from ORCID and OpenAlex: fetch each source the profile has an identifier
//! for (outside any transaction), then merge what answered into the stored profile in one
//! write, under the provenance rules:
//!
//! - a field is set by a sync only if it was never set or a sync set it (what a person typed
//!   or a file imported stays); a sync never clears a field;
//! - a publication is the same work as another by DOI first, then normalised title and year:
//!   a work already listed is not added again; one typed by hand or imported is left as it
//!   is; one a sync added follows its source (updated when the source changes it, removed
//!   when the source no longer lists it);
//! - a work the owner deleted is never brought back;
//! - a re-sync of unchanged sources changes nothing (no new version, nothing re-indexed).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Datelike, NaiveDateTime, Utc};

use crate::db::faculty::{self as rows, FacultyRow};
use crate::db::{Db, DbConn, organizations as org_rows, provenance as provenance_rows};
use crate::dto::faculty::{
    CreateFacultyProfile, DataSource, Provenance, Publication, PublicationChanges, SourceOutcome,
    SourceStatus, SourceSync, SyncReport, SyncSource,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::now;
use crate::service::policy::{self, Action, Caller};
use crate::sources::openalex::AuthorId;
use crate::sources::{SourceError, SourceErrorCode, SourceProfile, Sources};

use super::provenance::{self, Identity};
use super::{MAX_PUBLICATIONS, SHORT, ValidProfile, to_input};

/// What to fetch for one profile.
#[derive(Debug, Clone)]
pub struct Plan {
    pub faculty_id: String,
    /// The profile's university's name: it picks the current employment among several.
    university: String,
    targets: Vec<(SyncSource, Target)>,
}

#[derive(Debug, Clone)]
enum Target {
    Orcid(String),
    OpenAlex(AuthorId),
}

impl Plan {
    /// The sources of `wanted` the profile has an identifier for: ORCID needs the iD;
    /// OpenAlex takes its own author id, else the iD. An author id a sync found (rather than
    /// one a person gave) yields to the iD, which may have been corrected since.
    pub fn new(
        row: &FacultyRow,
        university: String,
        wanted: &[SyncSource],
        openalex_id_synced: bool,
    ) -> Self {
        let mut targets = Vec::new();
        for source in wanted {
            match source {
                SyncSource::Orcid => {
                    if let Some(o) = &row.orcid {
                        targets.push((*source, Target::Orcid(o.clone())));
                    }
                }
                SyncSource::OpenAlex => match (&row.openalex_id, &row.orcid) {
                    (Some(_), Some(o)) if openalex_id_synced => {
                        targets.push((*source, Target::OpenAlex(AuthorId::Orcid(o.clone()))));
                    }
                    (Some(a), _) => {
                        targets.push((*source, Target::OpenAlex(AuthorId::OpenAlex(a.clone()))));
                    }
                    (None, Some(o)) => {
                        targets.push((*source, Target::OpenAlex(AuthorId::Orcid(o.clone()))));
                    }
                    (None, None) => {}
                },
            }
        }
        Self {
            faculty_id: row.id.clone(),
            university,
            targets,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }
}

/// What each source answered.
pub type Fetched = Vec<(SyncSource, Result<SourceProfile, SourceError>)>;

/// Asks each source of the plan, one after the other (blocking: never on an HTTP worker).
pub fn fetch(sources: &Sources, plan: &Plan) -> Fetched {
    plan.targets
        .iter()
        .map(|(source, target)| {
            let answer = match target {
                Target::Orcid(o) => crate::sources::orcid::fetch(&sources.orcid, o, &plan.university),
                Target::OpenAlex(a) => {
                    crate::sources::openalex::fetch(&sources.openalex, &sources.polite, a)
                }
            };
            if let Err(e) = &answer {
                tracing::info!(faculty_id = %plan.faculty_id, %source, error = %e, "sync source failed");
            }
            (*source, answer)
        })
        .collect()
}

/// The sources a request names (`orcid,openalex`); both when it names none.
pub fn parse_sources(list: Option<&str>) -> AppResult<Vec<SyncSource>> {
    let Some(list) = list.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(SyncSource::ALL.to_vec());
    };
    let mut out = Vec::new();
    for name in list.split(',').map(str::trim) {
        let source = SyncSource::from_wire(name).ok_or_else(|| {
            AppError::query(vec![FieldError::new(
                "sources",
                FieldCode::InvalidValue,
                format!("{name:?} is not a source; use orcid, openalex or both, comma-separated"),
            )])
        })?;
        if !out.contains(&source) {
            out.push(source);
        }
    }
    out.sort();
    Ok(out)
}

fn nothing_to_sync() -> AppError {
    AppError::validation(vec![FieldError::new(
        "orcid",
        FieldCode::Required,
        "the profile needs an ORCID iD (for ORCID and OpenAlex) or an OpenAlex id (for \
         OpenAlex) to be synced from the sources asked for",
    )])
}

/// `POST /faculty/{id}/sync`: the profile's owner, its university's office, operators.
pub async fn sync_one(
    db: &Db,
    sources: Arc<Sources>,
    caller: Option<&Caller>,
    id: String,
    wanted: Option<&str>,
) -> AppResult<SyncReport> {
    let wanted = parse_sources(wanted)?;
    policy::require_signed_in(caller)?;
    let scope = policy::faculty_scope(caller, false)?;
    let caller = caller.cloned();
    let plan = db
        .run(move |conn| {
            let row = rows::find_visible(conn, &scope, &id)?
                .ok_or_else(|| AppError::not_found("Faculty profile"))?;
            policy::authorize(
                caller.as_ref(),
                Action::EditFacultyProfile {
                    university_id: &row.university_id,
                    owner_user_id: row.owner_user_id.as_deref(),
                },
            )?;
            plan_for(conn, &row, &wanted)
        })
        .await?;
    if plan.is_empty() {
        return Err(nothing_to_sync());
    }
    let permit = sources.syncs.clone().try_acquire_owned().map_err(|_| {
        AppError::new(
            crate::error::ErrorCode::TooManyRequests,
            format!(
                "{} syncs are already waiting on the sources; try again shortly",
                crate::sources::CONCURRENT_SYNCS
            ),
        )
        .with_header("retry-after", "5".to_owned())
    })?;
    let (plan, fetched) = actix_web::rt::task::spawn_blocking(move || {
        let fetched = fetch(&sources, &plan);
        drop(permit);
        (plan, fetched)
    })
    .await
    .map_err(AppError::internal)?;
    db.write(move |conn| apply(conn, &plan.faculty_id, &fetched, now()))
        .await
}

/// The plan for a stored profile.
pub fn plan_for(conn: &mut DbConn, row: &FacultyRow, wanted: &[SyncSource]) -> AppResult<Plan> {
    let university = org_rows::find(conn, &row.university_id)?
        .map(|o| o.name)
        .unwrap_or_default();
    let openalex_id_synced = provenance::field_sources(conn, &row.id)?
        .get("openalex_id")
        .is_some_and(|p| p.source.is_synced());
    Ok(Plan::new(row, university, wanted, openalex_id_synced))
}

/// Syncs one profile without a caller (the runner of bulk jobs, the CLI): blocking.
pub fn sync_blocking(
    db: &Db,
    sources: &Sources,
    faculty_id: &str,
    wanted: &[SyncSource],
) -> AppResult<SyncReport> {
    let plan = db.run_blocking(|conn| {
        let row = rows::find_any(conn, faculty_id)?
            .filter(|r| r.deleted_at.is_none())
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        plan_for(conn, &row, wanted)
    })?;
    if plan.is_empty() {
        return Err(nothing_to_sync());
    }
    let fetched = fetch(sources, &plan);
    db.write_blocking(|conn| apply(conn, faculty_id, &fetched, now()))
}

/// Merges what the sources answered into the stored profile (in the caller's transaction)
/// and records each source's outcome.
pub fn apply(
    conn: &mut DbConn,
    faculty_id: &str,
    fetched: &Fetched,
    ts: NaiveDateTime,
) -> AppResult<SyncReport> {
    rows::lock(conn, faculty_id)?;
    let current = rows::find_any(conn, faculty_id)?
        .filter(|r| r.deleted_at.is_none())
        .ok_or_else(|| AppError::not_found("Faculty profile"))?;
    let (mut parts, _) = rows::load_parts(
        conn,
        std::slice::from_ref(&current.id),
        rows::Publications::Whole,
    )?;
    let input = to_input(&current, parts.remove(&current.id).unwrap_or_default())?;
    let field_sources = provenance::field_sources(conn, faculty_id)?;
    let tombstones: Vec<Identity> = provenance_rows::tombstones(conn, faculty_id)?
        .iter()
        .map(|(work, title)| Identity::from_tombstone(work, title))
        .collect();
    // In order of precedence, whatever order they were asked in.
    let mut answered: Vec<(SyncSource, &SourceProfile)> = fetched
        .iter()
        .filter_map(|(s, r)| r.as_ref().ok().map(|p| (*s, p)))
        .collect();
    answered.sort_by_key(|(s, _)| *s);
    // Whether every source the profile has an identifier for answered.
    let complete = SyncSource::ALL.iter().all(|s| {
        let available = match s {
            SyncSource::Orcid => current.orcid.is_some(),
            SyncSource::OpenAlex => current.orcid.is_some() || current.openalex_id.is_some(),
        };
        !available || answered.iter().any(|(a, _)| a == s)
    });
    let mut merged = merge(
        &input,
        &field_sources,
        &tombstones,
        &answered,
        complete,
        ts.and_utc(),
    );
    // An iD OpenAlex names that another profile of the university holds is left out: the
    // two profiles are for an office to reconcile, and the rest of the sync still counts.
    if let Some(orcid) = merged
        .fields
        .iter()
        .any(|(f, _)| *f == "orcid")
        .then(|| merged.input.orcid.clone())
        .flatten()
        && rows::find_by_key(conn, &current.university_id, None, Some(&orcid))?
            .is_some_and(|other| other.id != current.id)
    {
        merged.input.orcid.clone_from(&input.orcid);
        merged.fields.retain(|(f, _)| *f != "orcid");
    }
    let before = ValidProfile::parse(&input)?;
    let valid = ValidProfile::parse(&merged.input)?;
    let changed = before != valid;
    if changed {
        rows::update(conn, faculty_id, current.version, &valid.fields, ts)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, faculty_id, &valid.parts(faculty_id))?;
        for source in [DataSource::Orcid, DataSource::OpenAlex] {
            let fields: Vec<&str> = merged
                .fields
                .iter()
                .filter(|(_, s)| *s == source)
                .map(|(f, _)| *f)
                .collect();
            provenance::record_fields(conn, faculty_id, &fields, source, ts)?;
        }
    }
    for (source, result) in fetched {
        let error = result
            .as_ref()
            .err()
            .map(|e| (e.code_str(), e.detail.as_str()));
        provenance_rows::record_sync(conn, faculty_id, *source, ts, error)?;
    }
    Ok(SyncReport {
        faculty_id: faculty_id.to_owned(),
        changed,
        fields: merged.fields.iter().map(|(f, _)| (*f).to_owned()).collect(),
        publications: merged.publications,
        sources: fetched
            .iter()
            .map(|(source, result)| SourceOutcome {
                source: *source,
                status: if result.is_ok() {
                    SourceStatus::Succeeded
                } else {
                    SourceStatus::Failed
                },
                works: result.as_ref().map_or(0, |p| p.works.len()),
                affiliation: result.as_ref().ok().and_then(|p| p.affiliation.clone()),
                error: result.as_ref().err().cloned(),
            })
            .collect(),
    })
}

/// A profile's last sync per source.
pub fn states(conn: &mut DbConn, faculty_id: &str) -> AppResult<Vec<SourceSync>> {
    let mut rows = provenance_rows::sync_states(conn, faculty_id)?;
    rows.sort_by_key(|r| r.source);
    Ok(rows
        .into_iter()
        .map(|r| SourceSync {
            source: r.source,
            attempted_at: r.attempted_at.and_utc(),
            succeeded_at: r.succeeded_at.map(|t| t.and_utc()),
            error: r.error_code.map(|code| SourceError {
                code: serde_json::from_value(serde_json::Value::String(code))
                    .unwrap_or(SourceErrorCode::SourceUnavailable),
                detail: r.error_detail.unwrap_or_default(),
            }),
        })
        .collect())
}

/// Text from a source fitted to a field: control characters become spaces (line ends and
/// tabs stay in free text), cut to `max` characters; `None` when nothing is left.
fn fit(s: &str, max: usize, multiline: bool) -> Option<String> {
    let cleaned: String = s
        .chars()
        .map(|c| {
            if c.is_control() && !(multiline && (c == '\n' || c == '\t')) {
                ' '
            } else {
                c
            }
        })
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(
        trimmed
            .chars()
            .take(max)
            .collect::<String>()
            .trim()
            .to_owned(),
    )
}

struct Merged {
    input: CreateFacultyProfile,
    /// The fields set, with the source that set each.
    fields: Vec<(&'static str, DataSource)>,
    publications: PublicationChanges,
}

/// A work from a source, fitted to a publication.
struct Candidate {
    source: DataSource,
    source_id: String,
    publication: Publication,
    identity: Identity,
}

/// Fills what `fresh` lacks from `kept`.
fn fill_gaps(fresh: &mut Publication, kept: &Publication) {
    if fresh.abstract_.is_none() {
        fresh.abstract_.clone_from(&kept.abstract_);
    }
    if fresh.venue.is_none() {
        fresh.venue.clone_from(&kept.venue);
    }
    if fresh.year.is_none() {
        fresh.year = kept.year;
    }
    if fresh.doi.is_none() {
        fresh.doi.clone_from(&kept.doi);
    }
}

fn content(p: &Publication) -> (&str, Option<&str>, Option<i32>, Option<&str>, Option<&str>) {
    (
        &p.title,
        p.abstract_.as_deref(),
        p.year,
        p.venue.as_deref(),
        p.doi.as_deref(),
    )
}

/// The merge rules (see the module's documentation). `answered` holds the sources that
/// answered, in order of precedence (ORCID, the record its owner keeps, first); `complete`
/// says whether every source asked answered.
fn merge(
    current: &CreateFacultyProfile,
    field_sources: &BTreeMap<String, Provenance>,
    tombstones: &[Identity],
    answered: &[(SyncSource, &SourceProfile)],
    complete: bool,
    at: DateTime<Utc>,
) -> Merged {
    let answered_sources: Vec<DataSource> =
        answered.iter().map(|(s, _)| DataSource::from(*s)).collect();
    // A field may take a value from `from` if it was never set, or a sync set it and `from`
    // ranks with or above that sync's source, or that source answered this time (and so
    // had the chance to win): one source failing never hands its fields to the other.
    let may_set = |field: &str, from: DataSource| {
        field_sources.get(field).is_none_or(|p| {
            p.source.is_synced()
                && (rank(from) <= rank(p.source) || answered_sources.contains(&p.source))
        })
    };
    let first = |pick: &dyn Fn(&SourceProfile) -> Option<&String>, max: usize, multiline: bool| {
        answered.iter().find_map(|(source, profile)| {
            pick(profile)
                .and_then(|v| fit(v, max, multiline))
                .map(|v| (DataSource::from(*source), v))
        })
    };
    let mut out = current.clone();
    let mut fields: Vec<(&'static str, DataSource)> = Vec::new();

    if let Some((source, name)) = first(&|p| p.name.as_ref(), SHORT, false)
        && may_set("name", source)
        && name != out.name
    {
        out.name = name;
        fields.push(("name", source));
    }
    macro_rules! optional_field {
        ($field:ident, $max:expr, $multiline:expr) => {
            if let Some((source, value)) = first(&|p| p.$field.as_ref(), $max, $multiline)
                && may_set(stringify!($field), source)
                && out.$field.as_ref() != Some(&value)
            {
                out.$field = Some(value);
                fields.push((stringify!($field), source));
            }
        };
    }
    optional_field!(local_name, SHORT, false);
    optional_field!(title, SHORT, false);
    optional_field!(department, SHORT, false);
    optional_field!(bio, 10_000, true);
    optional_field!(openalex_id, SHORT, false);
    // An iD OpenAlex knows fills an empty one; it never replaces one.
    if out.orcid.is_none() {
        optional_field!(orcid, SHORT, false);
    }
    // Keywords are the union of the sources' (ORCID's keywords, OpenAlex's topics), under
    // the same rule as any field (the first source that gives one is their source).
    {
        let mut keywords: Vec<String> = Vec::new();
        let mut from = None;
        for (source, profile) in answered {
            for k in &profile.keywords {
                let Some(k) = fit(k, 100, false) else {
                    continue;
                };
                if keywords.len() < 50
                    && !keywords
                        .iter()
                        .any(|x| x.to_lowercase() == k.to_lowercase())
                {
                    keywords.push(k);
                    from.get_or_insert(DataSource::from(*source));
                }
            }
        }
        if let Some(source) = from
            && may_set("keywords", source)
            && keywords != out.keywords
        {
            out.keywords = keywords;
            fields.push(("keywords", source));
        }
    }

    let (publications, changes) =
        merge_publications(&current.publications, tombstones, answered, complete, at);
    out.publications = publications;
    Merged {
        input: out,
        fields,
        publications: changes,
    }
}

/// Precedence between sources: ORCID (the record its owner keeps) first.
fn rank(source: DataSource) -> u8 {
    match source {
        DataSource::Orcid => 0,
        DataSource::OpenAlex => 1,
        DataSource::Manual | DataSource::Import => 2,
    }
}

fn merge_publications(
    existing: &[Publication],
    tombstones: &[Identity],
    answered: &[(SyncSource, &SourceProfile)],
    complete: bool,
    at: DateTime<Utc>,
) -> (Vec<Publication>, PublicationChanges) {
    let mut changes = PublicationChanges::default();
    let this_year = Utc::now().year();
    // The works of every source that answered, each work once: a later source's record of a
    // work fills what an earlier one left empty.
    let mut candidates: Vec<Candidate> = Vec::new();
    for (source, profile) in answered {
        for w in &profile.works {
            let Some(title) = fit(&w.title, 1000, false) else {
                changes.skipped_invalid += 1;
                continue;
            };
            let publication = Publication {
                title,
                abstract_: w.abstract_.as_deref().and_then(|a| fit(a, 20_000, true)),
                year: w.year.filter(|y| (1900..=this_year + 1).contains(y)),
                venue: w.venue.as_deref().and_then(|v| fit(v, 300, false)),
                doi: w.doi.clone(),
                provenance: None,
            };
            let identity = Identity::of_publication(&publication);
            if let Some(earlier) = candidates.iter_mut().find(|c| c.identity.same(&identity)) {
                let p = &mut earlier.publication;
                if p.abstract_.is_none() {
                    p.abstract_ = publication.abstract_;
                }
                if p.venue.is_none() {
                    p.venue = publication.venue;
                }
                if p.year.is_none() {
                    p.year = publication.year;
                }
                if p.doi.is_none() {
                    p.doi = publication.doi;
                }
                earlier.identity = Identity::of_publication(p);
                continue;
            }
            candidates.push(Candidate {
                source: DataSource::from(*source),
                source_id: fit(&w.source_id, 100, false).unwrap_or_default(),
                publication,
                identity,
            });
        }
    }
    let answered_sources: Vec<DataSource> =
        answered.iter().map(|(s, _)| DataSource::from(*s)).collect();
    let synced = |c: &Candidate| {
        let mut p = c.publication.clone();
        p.provenance = Some(Provenance {
            source: c.source,
            source_id: Some(c.source_id.clone()),
            recorded_at: at,
        });
        p
    };
    let mut seen = vec![false; candidates.len()];
    let mut out: Vec<Publication> = Vec::with_capacity(existing.len() + candidates.len());
    for e in existing {
        let origin = e
            .provenance
            .as_ref()
            .map_or(DataSource::Manual, |p| p.source);
        // A synced publication follows its source only when that source answered this time.
        let follows = origin.is_synced() && answered_sources.contains(&origin);
        let identity = Identity::of_publication(e);
        // Every work that is this publication is accounted for by it (a preprint and its
        // journal version without DOIs on one side are both this one).
        let mut matched = None;
        for (i, c) in candidates.iter().enumerate() {
            if c.identity.same(&identity) {
                seen[i] = true;
                matched.get_or_insert(i);
            }
        }
        match matched {
            Some(i) => {
                let c = &candidates[i];
                if follows {
                    let mut fresh = synced(c);
                    // What a source that did not answer this time gave stays.
                    if !complete {
                        fill_gaps(&mut fresh, e);
                    }
                    let same_origin = e.provenance.as_ref().is_some_and(|p| {
                        p.source == c.source && p.source_id.as_deref() == Some(&c.source_id)
                    });
                    if content(e) == content(&fresh) && same_origin {
                        out.push(e.clone());
                    } else {
                        if content(e) != content(&fresh) {
                            changes.updated += 1;
                        }
                        out.push(fresh);
                    }
                } else {
                    if !origin.is_synced() {
                        changes.kept += 1;
                    }
                    out.push(e.clone());
                }
            }
            None if follows => changes.removed += 1,
            None => out.push(e.clone()),
        }
    }
    for (c, seen) in candidates.iter().zip(seen) {
        if seen {
            continue;
        }
        if tombstones.iter().any(|t| t.same(&c.identity)) {
            changes.skipped_deleted += 1;
        } else if out.len() >= MAX_PUBLICATIONS {
            changes.skipped_invalid += 1;
        } else {
            out.push(synced(c));
            changes.added += 1;
        }
    }
    (out, changes)
}
