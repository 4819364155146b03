//! Use cases for faculty profiles: create, read, list, update, delete/restore, and bulk
//! import (in [`import`]).

use chrono::Datelike;

use crate::all_valid;
use crate::db::faculty::{
    self as rows, FacultyFields, FacultyFilter, FacultyParts, FacultyRow, PublicationRow,
};
use crate::db::{Db, DbConn, accounts as account_rows, organizations as org_rows};
use crate::domain::{Email, Orcid, PublicId, Text};
use crate::dto::faculty::{
    CollaborationType, CreateFacultyProfile, DataSource, FacultyList, FacultyProfile, ListFaculty,
    Provenance, Publication, UpdateFacultyProfile,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::search::matching::AnalysedPublication;

use super::audit::{self, Audited};
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};
use crate::dto::accounts::Role;
use crate::dto::audit::{AuditAction, AuditEntity};

pub mod analysed;
mod import;
pub mod jobs;
pub(crate) mod provenance;
pub mod snapshot;
pub mod sync;
pub use import::{CSV_COLUMNS, ImportFormat, import};

const SHORT: usize = 200;
const MAX_PUBLICATIONS: usize = 2000;

/// A profile's content, validated: the row's columns plus its list-valued parts.
#[derive(Debug, Clone, PartialEq)]
struct ValidProfile {
    fields: FacultyFields,
    keywords: Vec<String>,
    availability: Vec<CollaborationType>,
    publications: Vec<Publication>,
}

impl ValidProfile {
    /// Checks every field, reporting all problems at once.
    fn parse(input: &CreateFacultyProfile) -> AppResult<Self> {
        let owner = match input.owner_user_id.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => PublicId::parse(v).map(Some).ok_or_else(|| {
                FieldError::new("owner_user_id", FieldCode::InvalidId, "must be a user id")
            }),
        };
        let identity = all_valid!(
            external_id = Text::optional("external_id", input.external_id.as_deref(), SHORT),
            name = Text::required("name", &input.name, SHORT),
            local_name = Text::optional("local_name", input.local_name.as_deref(), SHORT),
            title = Text::optional("title", input.title.as_deref(), SHORT),
            department = Text::optional("department", input.department.as_deref(), SHORT),
            email = Email::optional("email", input.email.as_deref()),
            orcid = match input.orcid.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(o) => Orcid::parse("orcid", o).map(|o| Some(o.into_string())),
            },
            openalex_id = match input.openalex_id.as_deref().map(str::trim) {
                None | Some("") => Ok(None),
                Some(a) => crate::sources::openalex::short_id(a)
                    .map(Some)
                    .ok_or_else(|| {
                        FieldError::new(
                            "openalex_id",
                            FieldCode::InvalidId,
                            "must be an OpenAlex author id such as A5023888391",
                        )
                    }),
            },
            interests = Text::multiline(
                "research_interests",
                input.research_interests.as_deref(),
                5000
            ),
        );
        let rest = all_valid!(
            owner = owner,
            bio = Text::multiline("bio", input.bio.as_deref(), 10_000),
            keywords = Text::labels("keywords", &input.keywords, 50, 100),
            languages = Text::labels("languages", &input.languages, 20, 50),
            publications = parse_publications(&input.publications),
        );
        let (identity, rest) = all_valid!(identity = identity, rest = rest)?;
        let (
            external_id,
            name,
            local_name,
            title,
            department,
            email,
            orcid,
            openalex_id,
            interests,
        ) = identity;
        let (owner, bio, keywords, languages, publications) = rest;
        let mut availability = input.availability.clone();
        availability.sort();
        availability.dedup();
        Ok(Self {
            fields: FacultyFields {
                university_id: input.university_id.trim().to_owned(),
                owner_user_id: owner,
                external_id,
                name,
                local_name,
                title,
                department,
                email,
                orcid,
                research_interests: interests,
                bio,
                languages: serde_json::to_string(&languages).unwrap_or_else(|_| "[]".into()),
                visibility: input.visibility,
                openalex_id,
            },
            keywords,
            availability,
            publications,
        })
    }

    fn parts(&self, id: &str) -> FacultyParts {
        FacultyParts {
            keywords: self.keywords.clone(),
            availability: self.availability.clone(),
            publications: self
                .publications
                .iter()
                .enumerate()
                .map(|(i, p)| PublicationRow {
                    faculty_id: id.to_owned(),
                    position: i32::try_from(i).unwrap_or(i32::MAX),
                    title: p.title.clone(),
                    abstract_: p.abstract_.clone(),
                    year: p.year,
                    venue: p.venue.clone(),
                    doi: p.doi.clone(),
                    source: p
                        .provenance
                        .as_ref()
                        .map_or(DataSource::Manual, |v| v.source),
                    source_id: p.provenance.as_ref().and_then(|v| v.source_id.clone()),
                    recorded_at: p.provenance.as_ref().map(|v| v.recorded_at.naive_utc()),
                    analysed: Some(AnalysedPublication::stored(
                        &p.title,
                        p.abstract_.as_deref(),
                    )),
                })
                .collect(),
        }
    }
}

fn parse_publications(input: &[Publication]) -> Result<Vec<Publication>, Vec<FieldError>> {
    if input.len() > MAX_PUBLICATIONS {
        return Err(vec![FieldError::new(
            "publications",
            FieldCode::TooMany,
            format!("must have at most {MAX_PUBLICATIONS} entries"),
        )]);
    }
    let this_year = chrono::Utc::now().year();
    let mut errors = Vec::new();
    let mut out = Vec::with_capacity(input.len());
    for (i, p) in input.iter().enumerate() {
        let f = |name: &str| format!("publications[{i}].{name}");
        let year = match p.year {
            Some(y) if !(1900..=this_year + 1).contains(&y) => Err(FieldError::new(
                f("year"),
                FieldCode::OutOfRange,
                format!("must be between 1900 and {}", this_year + 1),
            )),
            y => Ok(y),
        };
        let doi = match p.doi.as_deref().map(str::trim) {
            None | Some("") => Ok(None),
            Some(d) => {
                let d = d
                    .strip_prefix("https://doi.org/")
                    .or_else(|| d.strip_prefix("doi:"))
                    .unwrap_or(d);
                if d.starts_with("10.")
                    && d.contains('/')
                    && d.len() <= 255
                    && !d.contains(char::is_whitespace)
                {
                    Ok(Some(d.to_owned()))
                } else {
                    Err(FieldError::new(
                        f("doi"),
                        FieldCode::InvalidDoi,
                        "must be a DOI such as 10.1145/3620665.3640366",
                    ))
                }
            }
        };
        let parsed: AppResult<_> = all_valid!(
            title = Text::required(&f("title"), &p.title, 1000),
            abstract_ = Text::multiline(&f("abstract"), p.abstract_.as_deref(), 20_000),
            venue = Text::optional(&f("venue"), p.venue.as_deref(), 300),
            year = year,
            doi = doi,
        );
        match parsed {
            Ok((title, abstract_, venue, year, doi)) => out.push(Publication {
                title,
                abstract_,
                year,
                venue,
                doi,
                provenance: p.provenance.clone(),
            }),
            Err(e) => errors.extend(e.errors),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks references inside the transaction: the university exists and is a university. (The
/// owner is checked when it changes: [`link_owner`].)
fn check_references(conn: &mut DbConn, valid: &ValidProfile) -> AppResult<()> {
    let org = org_rows::find(conn, &valid.fields.university_id)?;
    if org.as_ref().map(|o| o.kind) != Some(OrganizationKind::University) {
        return Err(AppError::validation(vec![FieldError::new(
            "university_id",
            FieldCode::NotAUniversity,
            "must be the id of an organization of kind university",
        )]));
    }
    Ok(())
}

/// Where a bulk operation names its university: a query parameter (the import) or a body
/// field (a sync job, the CLI); bad values are refused as such.
#[derive(Debug, Clone, Copy)]
enum NamedIn {
    Query,
    Body,
}

impl NamedIn {
    fn refuse(self, code: FieldCode, message: &str) -> AppError {
        let errors = vec![FieldError::new("university_id", code, message)];
        match self {
            Self::Query => AppError::query(errors),
            Self::Body => AppError::validation(errors),
        }
    }
}

/// The university a bulk operation (import, sync job, snapshot import) works on: its id,
/// once the caller may import its profiles.
fn bulk_university(caller: Option<&Caller>, raw: &str, named_in: NamedIn) -> AppResult<String> {
    let id = PublicId::parse(raw)
        .ok_or_else(|| named_in.refuse(FieldCode::InvalidId, "must be an id"))?;
    policy::authorize(caller, Action::ImportFaculty { university_id: &id })?;
    Ok(id)
}

/// Checks, in the operation's transaction, that the organization is a university.
fn require_university(conn: &mut DbConn, id: &str, named_in: NamedIn) -> AppResult<()> {
    let org = org_rows::find(conn, id)?;
    if org.as_ref().map(|o| o.kind) == Some(OrganizationKind::University) {
        Ok(())
    } else {
        Err(named_in.refuse(
            FieldCode::NotAUniversity,
            "must be the id of an organization of kind university",
        ))
    }
}

/// The owner as a request names it: absent, or an empty string, is no owner.
fn requested_owner(owner: Option<&str>) -> Option<&str> {
    owner.map(str::trim).filter(|o| !o.is_empty())
}

/// Who owns a profile, as the audit log keeps it.
#[derive(serde::Serialize)]
struct Ownership<'a> {
    id: &'a str,
    university_id: &'a str,
    name: &'a str,
    owner_user_id: Option<&'a str>,
}

/// A change of owner concerns the profile's university: its admins and staff read the entry.
impl Audited for Ownership<'_> {
    const ENTITY: AuditEntity = AuditEntity::FacultyProfile;
    fn audit_id(&self) -> &str {
        self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![self.university_id]
    }
}

/// A profile is linked only to an account that is a faculty member of its university (422
/// `not_faculty_member` otherwise; a user who does not exist is not one either). Checked
/// before the write, once the caller was allowed to link ([`Action::LinkFacultyProfile`]).
fn check_owner(conn: &mut DbConn, valid: &ValidProfile) -> AppResult<()> {
    let Some(owner) = valid.fields.owner_user_id.as_deref() else {
        return Ok(());
    };
    let member = account_rows::find_user(conn, owner)?.is_some()
        && account_rows::find_membership(conn, &valid.fields.university_id, owner)?
            .is_some_and(|m| m.role == Role::Faculty);
    if member {
        Ok(())
    } else {
        Err(AppError::validation(vec![FieldError::new(
            "owner_user_id",
            FieldCode::NotFacultyMember,
            "must be the id of a user who is a faculty member of the profile's university",
        )]))
    }
}

/// Audits a link of a profile to an account, or its unlinking, in the write's transaction.
/// `before` is the stored profile (`None` on create), `after` the row as written.
fn link_owner(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    before: Option<&FacultyRow>,
    after: &FacultyRow,
) -> AppResult<()> {
    fn ownership<'a>(after: &'a FacultyRow, owner: &'a FacultyRow) -> Ownership<'a> {
        Ownership {
            id: &after.id,
            university_id: &after.university_id,
            name: &after.name,
            owner_user_id: owner.owner_user_id.as_deref(),
        }
    }
    let before = before.map(|b| ownership(after, b));
    audit::change(
        conn,
        caller,
        if before.is_some() {
            AuditAction::Update
        } else {
            AuditAction::Create
        },
        before.as_ref(),
        Some(&ownership(after, after)),
    )
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateFacultyProfile,
) -> AppResult<Versioned<FacultyProfile>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let owner = requested_owner(input.owner_user_id.as_deref());
        policy::authorize(
            caller.as_ref(),
            Action::CreateFacultyProfile {
                university_id: input.university_id.trim(),
                owner_user_id: owner,
            },
        )?;
        if owner.is_some() {
            policy::authorize(
                caller.as_ref(),
                Action::LinkFacultyProfile {
                    university_id: input.university_id.trim(),
                    owner_user_id: owner,
                },
            )?;
        }
        let ts = now();
        let mut valid = ValidProfile::parse(&input)?;
        provenance::carry(
            &[],
            &mut valid.publications,
            DataSource::Manual,
            ts.and_utc(),
        );
        check_references(conn, &valid)?;
        check_owner(conn, &valid)?;
        let id = PublicId::generate();
        let row = rows::insert(conn, &id, &valid.fields, ts)?;
        rows::replace_parts(conn, &id, &valid.parts(&id))?;
        let fields = provenance::changed_fields(None, &valid);
        provenance::record_fields(conn, &id, &fields, DataSource::Manual, ts)?;
        if row.owner_user_id.is_some() {
            link_owner(conn, caller.as_ref(), None, &row)?;
        }
        full_view(conn, row)
    })
    .await
}

/// The ids of the live profiles the caller maintains as their own (a professor's, usually
/// one).
pub async fn own_ids(db: &Db, caller: &Caller) -> AppResult<Vec<String>> {
    let user = caller.user_id.clone();
    db.run(move |conn| Ok(crate::db::search::owned_profiles(conn, &user)?))
        .await
}

pub async fn get(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    include_deleted: bool,
) -> AppResult<Versioned<FacultyProfile>> {
    let scope = policy::faculty_scope(caller, include_deleted)?;
    db.run(move |conn| {
        let row = rows::find_visible(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        full_view(conn, row)
    })
    .await
}

pub async fn list(db: &Db, caller: Option<&Caller>, q: ListFaculty) -> AppResult<FacultyList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let scope = policy::faculty_scope(caller, q.include_deleted.unwrap_or(false))?;
    let university_id = PublicId::query_param("university_id", q.university_id.as_deref())?;
    let filter = FacultyFilter {
        university_id,
        department: q.department.map(|d| d.trim().to_owned()),
        keyword_key: q.keyword.map(|k| k.trim().to_lowercase()),
        collaboration_type: q.collaboration_type,
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let (mut parts, counts) = rows::load_parts(conn, &ids, rows::Publications::Counted)?;
        let items = found
            .into_iter()
            .map(|r| {
                let p = parts.remove(&r.id).unwrap_or_default();
                let n = counts.get(&r.id).copied().unwrap_or(0);
                view(r, p, n, false).map(|v| v.value)
            })
            .collect::<AppResult<_>>()?;
        Ok(FacultyList { items, next_cursor })
    })
    .await
}

pub async fn update(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: UpdateFacultyProfile,
) -> AppResult<Versioned<FacultyProfile>> {
    let caller = caller.cloned();
    let nulls: Vec<FieldError> = patch
        .name
        .as_ref()
        .filter(|n| n.is_none())
        .map(|_| {
            FieldError::new(
                "name",
                FieldCode::Required,
                "cannot be null: it is required",
            )
        })
        .into_iter()
        .collect();
    if !nulls.is_empty() {
        return Err(AppError::validation(nulls));
    }
    policy::require_signed_in(caller.as_ref())?;
    db.write(move |conn| {
        let scope = policy::faculty_scope(caller.as_ref(), false)?;
        let current = rows::find_visible(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        policy::authorize(
            caller.as_ref(),
            Action::EditFacultyProfile {
                university_id: &current.university_id,
                owner_user_id: current.owner_user_id.as_deref(),
            },
        )?;
        precondition.check(current.version, true)?;
        // Handing a profile to another owner (or to none) is not an edit of its content.
        let new_owner = patch
            .owner_user_id
            .as_ref()
            .map(|o| requested_owner(o.as_deref()));
        let relinks = new_owner.is_some_and(|o| o != current.owner_user_id.as_deref());
        if let Some(owner) = new_owner.filter(|_| relinks) {
            policy::authorize(
                caller.as_ref(),
                Action::LinkFacultyProfile {
                    university_id: &current.university_id,
                    owner_user_id: owner,
                },
            )?;
        }
        let (mut parts, _) = rows::load_parts(
            conn,
            std::slice::from_ref(&current.id),
            rows::Publications::Whole,
        )?;
        let current_input = to_input(&current, parts.remove(&current.id).unwrap_or_default())?;
        let ts = now();
        // Provenance is carried over by content once it is normalised (a DOI sent back as a
        // URL is the same publication).
        let mut valid = ValidProfile::parse(&merge(current_input.clone(), patch))?;
        provenance::carry(
            &current_input.publications,
            &mut valid.publications,
            DataSource::Manual,
            ts.and_utc(),
        );
        let before = ValidProfile::parse(&current_input)?;
        if before == valid {
            return full_view(conn, current);
        }
        check_references(conn, &valid)?;
        if relinks {
            check_owner(conn, &valid)?;
        }
        let row = rows::update(conn, &id, current.version, &valid.fields, ts)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &id, &valid.parts(&id))?;
        provenance::bury_removed(
            conn,
            &id,
            &current_input.publications,
            &valid.publications,
            ts,
        )?;
        let fields = provenance::changed_fields(Some(&before), &valid);
        provenance::record_fields(conn, &id, &fields, DataSource::Manual, ts)?;
        if row.owner_user_id != current.owner_user_id {
            link_owner(conn, caller.as_ref(), Some(&current), &row)?;
        }
        full_view(conn, row)
    })
    .await
}

fn merge(base: CreateFacultyProfile, p: UpdateFacultyProfile) -> CreateFacultyProfile {
    super::merge_patch!(
        base,
        p: UpdateFacultyProfile,
        [
            owner_user_id,
            external_id,
            local_name,
            title,
            department,
            email,
            orcid,
            openalex_id,
            research_interests,
            bio,
            keywords,
            languages,
            publications,
            availability,
            visibility,
        ], required: [name]
    )
}

/// The stored profile as a create request, so that patches and imports merge and compare
/// in one shape.
fn to_input(row: &FacultyRow, parts: FacultyParts) -> AppResult<CreateFacultyProfile> {
    let mut availability = parts.availability;
    availability.sort();
    Ok(CreateFacultyProfile {
        university_id: row.university_id.clone(),
        owner_user_id: row.owner_user_id.clone(),
        external_id: row.external_id.clone(),
        name: row.name.clone(),
        local_name: row.local_name.clone(),
        title: row.title.clone(),
        department: row.department.clone(),
        email: row.email.clone(),
        orcid: row.orcid.clone(),
        openalex_id: row.openalex_id.clone(),
        research_interests: row.research_interests.clone(),
        keywords: parts.keywords,
        bio: row.bio.clone(),
        languages: serde_json::from_str(&row.languages).unwrap_or_default(),
        publications: parts
            .publications
            .into_iter()
            .map(publication_view)
            .collect(),
        availability,
        visibility: row.visibility,
    })
}

fn publication_view(p: PublicationRow) -> Publication {
    Publication {
        title: p.title,
        abstract_: p.abstract_,
        year: p.year,
        venue: p.venue,
        doi: p.doi,
        provenance: p.recorded_at.map(|at| Provenance {
            source: p.source,
            source_id: p.source_id,
            recorded_at: at.and_utc(),
        }),
    }
}

pub(super) fn full_view(
    conn: &mut DbConn,
    row: FacultyRow,
) -> AppResult<Versioned<FacultyProfile>> {
    let (mut parts, _) = rows::load_parts(
        conn,
        std::slice::from_ref(&row.id),
        rows::Publications::Whole,
    )?;
    let p = parts.remove(&row.id).unwrap_or_default();
    let n = p.publications.len();
    let fields = provenance::field_sources(conn, &row.id)?;
    let sync = sync::states(conn, &row.id)?;
    let mut v = view(row, p, n, true)?;
    v.value.provenance = Some(fields);
    v.value.sync = Some(sync);
    Ok(v)
}

fn view(
    row: FacultyRow,
    parts: FacultyParts,
    publication_count: usize,
    with_publications: bool,
) -> AppResult<Versioned<FacultyProfile>> {
    let input = to_input(&row, parts)?;
    Ok(Versioned {
        version: row.version,
        value: FacultyProfile {
            id: row.id,
            university_id: input.university_id,
            owner_user_id: input.owner_user_id,
            external_id: input.external_id,
            name: input.name,
            local_name: input.local_name,
            title: input.title,
            department: input.department,
            email: input.email,
            orcid: input.orcid,
            openalex_id: input.openalex_id,
            research_interests: input.research_interests,
            keywords: input.keywords,
            bio: input.bio,
            languages: input.languages,
            provenance: None,
            sync: None,
            publications: with_publications.then_some(input.publications),
            publication_count,
            availability: input.availability,
            visibility: input.visibility,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            deleted_at: row.deleted_at.map(|t| t.and_utc()),
        },
    })
}
