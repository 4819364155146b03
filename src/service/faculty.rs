//! Use cases for faculty profiles: create, read, list, update, delete/restore, bulk import.

use chrono::Datelike;
use diesel::Connection;

use crate::all_valid;
use crate::api::faculty::{
    CollaborationType, CreateFacultyProfile, FacultyList, FacultyProfile, ImportReport, ImportRow,
    ImportStatus, ListFaculty, ProfileVisibility, Publication, UpdateFacultyProfile,
};
use crate::api::organizations::OrganizationKind;
use crate::db::faculty::{
    self as rows, FacultyFields, FacultyFilter, FacultyParts, FacultyRow, PublicationRow,
};
use crate::db::{Db, DbConn, accounts as account_rows, organizations as org_rows};
use crate::domain::{Email, Orcid, PublicId, Text};
use crate::error::{AppError, AppResult, FieldError};

use super::audit::{self, Audited};
use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};
use crate::api::accounts::Role;
use crate::api::audit::{AuditAction, AuditEntity};

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
            Some(v) => PublicId::parse(v)
                .map(Some)
                .ok_or_else(|| FieldError::new("owner_user_id", "invalid_id", "must be a user id")),
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
        let (external_id, name, local_name, title, department, email, orcid, interests) = identity;
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
                visibility: input.visibility.as_str().to_owned(),
            },
            keywords,
            availability,
            publications,
        })
    }

    fn parts(&self, id: &str) -> FacultyParts {
        FacultyParts {
            keywords: self.keywords.clone(),
            availability: self
                .availability
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect(),
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
                })
                .collect(),
        }
    }
}

fn parse_publications(input: &[Publication]) -> Result<Vec<Publication>, Vec<FieldError>> {
    if input.len() > MAX_PUBLICATIONS {
        return Err(vec![FieldError::new(
            "publications",
            "too_many",
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
                "out_of_range",
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
                        "invalid_doi",
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
    if org
        .as_ref()
        .and_then(|o| OrganizationKind::from_db(&o.kind))
        != Some(OrganizationKind::University)
    {
        return Err(AppError::validation(vec![FieldError::new(
            "university_id",
            "not_a_university",
            "must be the id of an organization of kind university",
        )]));
    }
    Ok(())
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
            .is_some_and(|m| Role::from_db(&m.role) == Some(Role::Faculty));
    if member {
        Ok(())
    } else {
        Err(AppError::validation(vec![FieldError::new(
            "owner_user_id",
            "not_faculty_member",
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
        let valid = ValidProfile::parse(&input)?;
        check_references(conn, &valid)?;
        check_owner(conn, &valid)?;
        let id = PublicId::generate();
        let row = rows::insert(conn, &id, &valid.fields, now())?;
        rows::replace_parts(conn, &id, &valid.parts(&id))?;
        if row.owner_user_id.is_some() {
            link_owner(conn, caller.as_ref(), None, &row)?;
        }
        full_view(conn, row)
    })
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
        collaboration_type: q.collaboration_type.map(|c| c.as_str().to_owned()),
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let (mut parts, counts) = rows::load_parts(conn, &ids, false)?;
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
        .map(|_| FieldError::new("name", "required", "cannot be null: it is required"))
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
        let (mut parts, _) = rows::load_parts(conn, std::slice::from_ref(&current.id), true)?;
        let current_input = to_input(&current, parts.remove(&current.id).unwrap_or_default())?;
        let valid = ValidProfile::parse(&merge(current_input.clone(), patch))?;
        if ValidProfile::parse(&current_input)? == valid {
            return full_view(conn, current);
        }
        check_references(conn, &valid)?;
        if relinks {
            check_owner(conn, &valid)?;
        }
        let row = rows::update(conn, &id, current.version, &valid.fields, now())?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &id, &valid.parts(&id))?;
        if row.owner_user_id != current.owner_user_id {
            link_owner(conn, caller.as_ref(), Some(&current), &row)?;
        }
        full_view(conn, row)
    })
    .await
}

fn merge(mut base: CreateFacultyProfile, p: UpdateFacultyProfile) -> CreateFacultyProfile {
    fn set(target: &mut Option<String>, v: Option<Option<String>>) {
        if let Some(v) = v {
            *target = v;
        }
    }
    set(&mut base.owner_user_id, p.owner_user_id);
    set(&mut base.external_id, p.external_id);
    if let Some(Some(n)) = p.name {
        base.name = n;
    }
    set(&mut base.local_name, p.local_name);
    set(&mut base.title, p.title);
    set(&mut base.department, p.department);
    set(&mut base.email, p.email);
    set(&mut base.orcid, p.orcid);
    set(&mut base.research_interests, p.research_interests);
    set(&mut base.bio, p.bio);
    if let Some(v) = p.keywords {
        base.keywords = v;
    }
    if let Some(v) = p.languages {
        base.languages = v;
    }
    if let Some(v) = p.publications {
        base.publications = v;
    }
    if let Some(v) = p.availability {
        base.availability = v;
    }
    if let Some(v) = p.visibility {
        base.visibility = v;
    }
    base
}

/// The stored profile as a create request, so that patches and imports merge and compare
/// in one shape.
fn to_input(row: &FacultyRow, parts: FacultyParts) -> AppResult<CreateFacultyProfile> {
    let mut availability: Vec<CollaborationType> = parts
        .availability
        .iter()
        .filter_map(|c| CollaborationType::from_db(c))
        .collect();
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
        visibility: ProfileVisibility::from_db(&row.visibility)
            .ok_or_else(|| AppError::internal("unknown profile visibility"))?,
    })
}

fn publication_view(p: PublicationRow) -> Publication {
    Publication {
        title: p.title,
        abstract_: p.abstract_,
        year: p.year,
        venue: p.venue,
        doi: p.doi,
    }
}

pub(super) fn full_view(
    conn: &mut DbConn,
    row: FacultyRow,
) -> AppResult<Versioned<FacultyProfile>> {
    let (mut parts, _) = rows::load_parts(conn, std::slice::from_ref(&row.id), true)?;
    let p = parts.remove(&row.id).unwrap_or_default();
    let n = p.publications.len();
    view(row, p, n, true)
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
            research_interests: input.research_interests,
            keywords: input.keywords,
            bio: input.bio,
            languages: input.languages,
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

// ---------------------------------------------------------------------------------------
// Bulk import

/// The formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Ndjson,
}

/// The CSV columns, in the order docs/api.md gives. Lists are separated by `;`.
pub const CSV_COLUMNS: [&str; 13] = [
    "external_id",
    "orcid",
    "name",
    "local_name",
    "title",
    "department",
    "email",
    "research_interests",
    "keywords",
    "bio",
    "languages",
    "availability",
    "visibility",
];

/// One row of a file: the fields it provides, as a patch. A CSV column or NDJSON key that is
/// absent leaves the stored value alone (so a CSV file never wipes publications); an empty
/// cell or `null` clears it.
type Record = (usize, Result<UpdateFacultyProfile, Vec<FieldError>>);

fn errors_of(e: AppError) -> Vec<FieldError> {
    if e.errors.is_empty() {
        vec![FieldError::new("row", e.code.as_str(), e.detail)]
    } else {
        e.errors
    }
}

/// One NDJSON line: a profile object. The university comes from the request (a line may
/// repeat it); ownership is granted through the API, never by a file.
fn ndjson_record(university_id: &str, line: &str) -> Result<UpdateFacultyProfile, Vec<FieldError>> {
    let mut value: serde_json::Value =
        crate::api::json::parse(line.as_bytes()).map_err(errors_of)?;
    let obj = value.as_object_mut().ok_or_else(|| {
        vec![FieldError::new(
            "row",
            "invalid_type",
            "must be a JSON object",
        )]
    })?;
    if obj.contains_key("owner_user_id") {
        return Err(vec![FieldError::new(
            "owner_user_id",
            "unknown_field",
            "ownership is not set by imports",
        )]);
    }
    match obj.remove("university_id") {
        Some(serde_json::Value::String(u))
            if PublicId::parse(&u).as_deref() == Some(university_id) => {}
        None => {}
        Some(_) => {
            return Err(vec![FieldError::new(
                "university_id",
                "mismatch",
                "differs from the university being imported",
            )]);
        }
    }
    crate::api::json::from_value(value).map_err(errors_of)
}

/// One CSV row as a patch of the columns the header names.
fn csv_record(
    headers: &[String],
    record: &csv::StringRecord,
) -> Result<UpdateFacultyProfile, Vec<FieldError>> {
    let cell = |col: &str| -> Option<Option<String>> {
        let p = headers.iter().position(|h| h == col)?;
        Some(
            record
                .get(p)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        )
    };
    let list = |col: &str| -> Option<Vec<String>> {
        cell(col).map(|v| {
            v.map(|v| {
                v.split(';')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
        })
    };
    let mut errors = Vec::new();
    let availability = list("availability").map(|items| {
        items
            .into_iter()
            .filter_map(|a| {
                let found = CollaborationType::from_db(&a.to_lowercase().replace([' ', '-'], "_"));
                if found.is_none() {
                    errors.push(FieldError::new(
                        "availability",
                        "invalid_value",
                        format!("unknown collaboration type {a:?}"),
                    ));
                }
                found
            })
            .collect()
    });
    let visibility = match cell("visibility").flatten() {
        None => None,
        Some(v) => ProfileVisibility::from_db(&v.to_lowercase()).or_else(|| {
            errors.push(FieldError::new(
                "visibility",
                "invalid_value",
                "must be public or members",
            ));
            None
        }),
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(UpdateFacultyProfile {
        owner_user_id: None,
        external_id: cell("external_id"),
        name: cell("name"),
        local_name: cell("local_name"),
        title: cell("title"),
        department: cell("department"),
        email: cell("email"),
        orcid: cell("orcid"),
        research_interests: cell("research_interests"),
        keywords: list("keywords"),
        bio: cell("bio"),
        languages: list("languages"),
        publications: None,
        availability,
        visibility,
    })
}

/// A file's numbered records, each parsed or rejected on its own, read one at a time as the
/// import takes them: a file is held in memory once, not also whole as parsed rows. What
/// refuses the whole file (not UTF-8; a CSV header without a key column, or with unknown or
/// repeated columns) is found before any row is read.
type Records<'a> = Box<dyn Iterator<Item = Record> + Send + 'a>;

fn parse_records<'a>(
    university_id: &'a str,
    format: ImportFormat,
    body: &'a [u8],
) -> AppResult<Records<'a>> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let text = std::str::from_utf8(body).map_err(|e| {
        AppError::validation(vec![FieldError::new(
            "body",
            "invalid_encoding",
            format!("must be UTF-8 ({e})"),
        )])
    })?;
    match format {
        ImportFormat::Ndjson => Ok(Box::new(
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(move |(i, line)| (i + 1, ndjson_record(university_id, line))),
        )),
        ImportFormat::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .flexible(false)
                .from_reader(text.as_bytes());
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| {
                    AppError::validation(vec![FieldError::new(
                        "body",
                        "invalid_csv",
                        e.to_string(),
                    )])
                })?
                .iter()
                .map(|h| h.trim().to_owned())
                .collect();
            let mut errors: Vec<FieldError> = headers
                .iter()
                .filter(|h| !CSV_COLUMNS.contains(&h.as_str()))
                .map(|h| {
                    FieldError::new(
                        h.clone(),
                        "unknown_column",
                        format!("is not a column; use {}", CSV_COLUMNS.join(", ")),
                    )
                })
                .collect();
            for (i, h) in headers.iter().enumerate() {
                if headers[..i].contains(h) {
                    errors.push(FieldError::new(
                        h.clone(),
                        "duplicate_column",
                        "appears twice in the header",
                    ));
                }
            }
            if !headers.iter().any(|h| h == "external_id" || h == "orcid") {
                errors.push(FieldError::new(
                    "external_id",
                    "missing_column",
                    "the header must include external_id or orcid (the key)",
                ));
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            Ok(Box::new(reader.into_records().enumerate().map(
                move |(i, record)| {
                    let parsed = record
                        .map_err(|e| vec![FieldError::new("row", "invalid_csv", e.to_string())])
                        .and_then(|r| csv_record(&headers, &r));
                    (i + 1, parsed)
                },
            )))
        }
    }
}

/// One transaction takes rows until it has run for `IMPORT_BATCH_TIME` or taken
/// `IMPORT_BATCH` rows; each row also runs in its own savepoint. Commits are what a bulk load
/// pays per transaction (on SQLite an fsync, while its one writer waits): 250 rows a
/// transaction imported 1,321–1,406 profiles/s here at 30,000 profiles, 1,000 rows or 250 ms
/// 1,530–1,543 (at 100,000 one pair of runs showed no difference: 1,198 vs 1,193). The time
/// bound keeps what other writers wait for (SQLite has one writer at a time) short on a slow
/// disk.
const IMPORT_BATCH: usize = 1_000;
const IMPORT_BATCH_TIME: std::time::Duration = std::time::Duration::from_millis(250);

/// Upserts profiles of one university by their stable key (`external_id`, else ORCID iD).
/// Every row is reported; valid rows are saved even when others are rejected; importing the
/// same file again reports every row unchanged and writes nothing.
pub async fn import(
    db: &Db,
    caller: Option<&Caller>,
    university_id: String,
    format: ImportFormat,
    body: Vec<u8>,
) -> AppResult<ImportReport> {
    let university_id = PublicId::parse(&university_id).ok_or_else(|| {
        AppError::query(vec![FieldError::new(
            "university_id",
            "invalid_id",
            "must be an id",
        )])
    })?;
    policy::authorize(
        caller,
        Action::ImportFaculty {
            university_id: &university_id,
        },
    )?;
    let mut records = parse_records(&university_id, format, &body)?.map(keyed);
    let mut report = ImportReport {
        created: 0,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        rows: Vec::new(),
    };
    let mut pending: std::collections::VecDeque<Keyed> = std::collections::VecDeque::new();
    loop {
        // Rows left by the last transaction first, then the file's next ones.
        let wanted = IMPORT_BATCH.saturating_sub(pending.len());
        pending.extend(records.by_ref().take(wanted));
        if pending.is_empty() {
            break;
        }
        let batch: Vec<_> = pending.drain(..).collect();
        let uni = university_id.clone();
        let (rows_out, left) = db
            .write(move |conn| {
                let org = org_rows::find(conn, &uni)?;
                if org
                    .as_ref()
                    .and_then(|o| OrganizationKind::from_db(&o.kind))
                    != Some(OrganizationKind::University)
                {
                    return Err(AppError::query(vec![FieldError::new(
                        "university_id",
                        "not_a_university",
                        "must be the id of a university",
                    )]));
                }
                import_rows(conn, &uni, batch)
            })
            .await?;
        // Rows the time bound left go first into the next transaction, in order.
        for r in left.into_iter().rev() {
            pending.push_front(r);
        }
        for r in rows_out {
            match r.status {
                ImportStatus::Created => report.created += 1,
                ImportStatus::Updated => report.updated += 1,
                ImportStatus::Unchanged => report.unchanged += 1,
                ImportStatus::Rejected => report.rejected += 1,
            }
            report.rows.push(r);
        }
    }
    if report.created + report.updated > 0 {
        // What was imported is saved either way: statistics that could not be refreshed now
        // are autovacuum's to refresh later.
        let refreshed = db
            .run(|c| {
                Ok(crate::db::statistics::refresh(
                    c,
                    &crate::db::statistics::FACULTY_TABLES,
                )?)
            })
            .await;
        match refreshed {
            Ok(tables) if !tables.is_empty() => {
                tracing::debug!(?tables, "refreshed planner statistics after an import");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.detail, "refreshing planner statistics failed"),
        }
    }
    Ok(report)
}

/// A row with its key: the office's own id, else the ORCID iD (normalised, so URL and bare
/// forms match); or its report entry when it has none or could not be read.
type Keyed = Result<KeyedRow, ImportRow>;

struct KeyedRow {
    row: usize,
    key: String,
    external_id: Option<String>,
    orcid: Option<String>,
    patch: UpdateFacultyProfile,
}

fn rejected(row: usize, key: Option<String>, errors: Vec<FieldError>) -> ImportRow {
    ImportRow {
        row,
        key,
        status: ImportStatus::Rejected,
        id: None,
        errors,
    }
}

fn keyed((row, parsed): Record) -> Keyed {
    let patch = match parsed {
        Ok(p) => p,
        Err(errors) => return Err(rejected(row, None, errors)),
    };
    let external_id = patch
        .external_id
        .clone()
        .flatten()
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty());
    let orcid = patch
        .orcid
        .clone()
        .flatten()
        .and_then(|o| Orcid::parse("orcid", o.trim()).ok())
        .map(Orcid::into_string);
    let Some(key) = external_id.clone().or_else(|| orcid.clone()) else {
        return Err(rejected(
            row,
            None,
            vec![FieldError::new(
                "external_id",
                "required",
                "each row needs an external_id or a valid orcid as its key",
            )],
        ));
    };
    Ok(KeyedRow {
        row,
        key,
        external_id,
        orcid,
        patch,
    })
}

/// Imports rows in one transaction until `IMPORT_BATCH_TIME` has passed; returns their
/// report rows and the rows left for the next transaction.
///
/// Rows whose key no profile holds (nor an earlier row of the batch) are new profiles: they
/// are validated one by one and written together, one multi-row INSERT per table, which cost
/// a fraction of a dozen statements per row. Every other row (an update, or a key repeated
/// within the batch) is imported on its own, after the new rows before it are written, so
/// rows take effect in file order. If writing new rows together fails, each is written on
/// its own instead, so a failure is reported for its row only.
fn import_rows(
    conn: &mut DbConn,
    university_id: &str,
    batch: Vec<Keyed>,
) -> AppResult<(Vec<ImportRow>, Vec<Keyed>)> {
    let started = std::time::Instant::now();
    let mut out: Vec<ImportRow> = Vec::with_capacity(batch.len());
    let (external_ids, orcids) = {
        let rows = batch.iter().flatten();
        let external_ids: Vec<&str> = rows
            .clone()
            .filter_map(|k| k.external_id.as_deref())
            .collect();
        let orcids: Vec<&str> = rows.filter_map(|k| k.orcid.as_deref()).collect();
        rows::existing_keys(conn, university_id, &external_ids, &orcids)?
    };
    // Keys held by a profile, or by a row of this batch before the current one.
    let (mut taken_external, mut taken_orcids) = (external_ids, orcids);
    // New profiles validated but not yet written.
    let mut fresh: Vec<(String, FacultyFields, FacultyParts)> = Vec::new();
    let mut rows_in = batch.into_iter();
    for k in rows_in.by_ref() {
        let k = match k {
            Ok(k) => k,
            Err(row) => {
                out.push(row);
                continue;
            }
        };
        let held = k
            .external_id
            .as_ref()
            .is_some_and(|e| taken_external.contains(e))
            || k.orcid.as_ref().is_some_and(|o| taken_orcids.contains(o));
        taken_external.extend(k.external_id.clone());
        taken_orcids.extend(k.orcid.clone());
        if held {
            write_fresh(conn, &mut fresh, &mut out)?;
            out.push(import_one(conn, university_id, k));
        } else {
            let KeyedRow {
                row, key, patch, ..
            } = k;
            match ValidProfile::parse(&merge(CreateFacultyProfile::blank(university_id), patch)) {
                Ok(valid) => {
                    let id = PublicId::generate();
                    let parts = valid.parts(&id);
                    out.push(ImportRow {
                        row,
                        key: Some(key),
                        status: ImportStatus::Created,
                        id: Some(id.clone()),
                        errors: Vec::new(),
                    });
                    fresh.push((id, valid.fields, parts));
                    if fresh.len() == FRESH_GROUP {
                        write_fresh(conn, &mut fresh, &mut out)?;
                    }
                }
                Err(e) => out.push(rejected(row, Some(key), errors_of(e))),
            }
        }
        if started.elapsed() >= IMPORT_BATCH_TIME {
            break;
        }
    }
    write_fresh(conn, &mut fresh, &mut out)?;
    Ok((out, rows_in.collect()))
}

/// New profiles written together at most: a group's rows are held in memory twice (as
/// validated, and bound to the statements), so groups stay small beside a transaction's
/// 1,000 rows; 250 statements fewer per 250 rows is most of the gain.
const FRESH_GROUP: usize = 250;

/// Writes the new profiles `import_rows` gathered (see there), and empties `fresh`.
fn write_fresh(
    conn: &mut DbConn,
    fresh: &mut Vec<(String, FacultyFields, FacultyParts)>,
    out: &mut [ImportRow],
) -> AppResult<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let ts = now();
    let profiles = std::mem::take(fresh);
    let together = conn.transaction(|conn| rows::insert_many(conn, &profiles, ts));
    if together.is_ok() {
        return Ok(());
    }
    for profile in profiles {
        let alone =
            conn.transaction(|conn| rows::insert_many(conn, std::slice::from_ref(&profile), ts));
        if let Err(e) = alone {
            let id = Some(profile.0.as_str());
            if let Some(row) = out.iter_mut().find(|r| r.id.as_deref() == id) {
                *row = rejected(row.row, row.key.take(), errors_of(AppError::from(e)));
            }
        }
    }
    Ok(())
}

/// Imports one row on its own (in a savepoint): creates, updates or leaves its profile.
fn import_one(conn: &mut DbConn, university_id: &str, k: KeyedRow) -> ImportRow {
    let KeyedRow {
        row,
        key,
        external_id,
        orcid,
        patch,
    } = k;
    let result: AppResult<(ImportStatus, String)> = conn.transaction(|conn| {
        let ts = now();
        let Some(current) = rows::find_by_key(
            conn,
            university_id,
            external_id.as_deref(),
            orcid.as_deref(),
        )?
        else {
            let valid =
                ValidProfile::parse(&merge(CreateFacultyProfile::blank(university_id), patch))?;
            let id = PublicId::generate();
            let parts = valid.parts(&id);
            rows::insert_many(conn, &[(id.clone(), valid.fields, parts)], ts)?;
            return Ok((ImportStatus::Created, id));
        };
        // Files neither bring back deleted profiles silently nor change ownership.
        if current.deleted_at.is_some() {
            return Err(AppError::validation(vec![FieldError::new(
                "external_id",
                "deleted",
                "matches a deleted profile; an operator can restore it first",
            )]));
        }
        let (mut parts, _) = rows::load_parts(conn, std::slice::from_ref(&current.id), true)?;
        let existing = to_input(&current, parts.remove(&current.id).unwrap_or_default())?;
        let valid = ValidProfile::parse(&merge(existing.clone(), patch))?;
        if ValidProfile::parse(&existing)? == valid {
            return Ok((ImportStatus::Unchanged, current.id));
        }
        rows::update(conn, &current.id, current.version, &valid.fields, ts)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &current.id, &valid.parts(&current.id))?;
        Ok((ImportStatus::Updated, current.id))
    });
    match result {
        Ok((status, id)) => ImportRow {
            row,
            key: Some(key),
            status,
            id: Some(id),
            errors: Vec::new(),
        },
        Err(e) => rejected(row, Some(key), errors_of(e)),
    }
}
