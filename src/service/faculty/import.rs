//! Bulk import of faculty profiles from CSV or NDJSON: each row parsed, keyed and upserted on
//! its own, in transactions bounded by rows and time.

use diesel::Connection;

use crate::db::faculty::{self as rows, FacultyFields, FacultyParts};
use crate::db::{Db, DbConn};
use crate::domain::{Orcid, PublicId};
use crate::dto::faculty::{
    CollaborationType, CreateFacultyProfile, ImportReport, ImportRow, ImportStatus,
    ProfileVisibility, UpdateFacultyProfile,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::{
    NamedIn, ValidProfile, bulk_university, merge, provenance, require_university, to_input,
};
use crate::dto::faculty::DataSource;
use crate::service::now;
use crate::service::policy::Caller;

/// The formats an import accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Csv,
    Ndjson,
}

/// The CSV columns, in the order docs/api.md gives. Lists are separated by `;`.
pub const CSV_COLUMNS: [&str; 14] = [
    "external_id",
    "orcid",
    "openalex_id",
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
        vec![FieldError::new("row", FieldCode::Problem(e.code), e.detail)]
    } else {
        e.errors
    }
}

/// One NDJSON line: a profile object. The university comes from the request (a line may
/// repeat it); ownership is granted through the API, never by a file.
fn ndjson_record(university_id: &str, line: &str) -> Result<UpdateFacultyProfile, Vec<FieldError>> {
    let mut value: serde_json::Value =
        crate::dto::json::parse(line.as_bytes()).map_err(errors_of)?;
    let obj = value.as_object_mut().ok_or_else(|| {
        vec![FieldError::new(
            "row",
            FieldCode::InvalidType,
            "must be a JSON object",
        )]
    })?;
    if obj.contains_key("owner_user_id") {
        return Err(vec![FieldError::new(
            "owner_user_id",
            FieldCode::UnknownField,
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
                FieldCode::Mismatch,
                "differs from the university being imported",
            )]);
        }
    }
    crate::dto::json::from_value(value).map_err(errors_of)
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
                let found =
                    CollaborationType::from_wire(&a.to_lowercase().replace([' ', '-'], "_"));
                if found.is_none() {
                    errors.push(FieldError::new(
                        "availability",
                        FieldCode::InvalidValue,
                        format!("unknown collaboration type {a:?}"),
                    ));
                }
                found
            })
            .collect()
    });
    let visibility = match cell("visibility").flatten() {
        None => None,
        Some(v) => ProfileVisibility::from_wire(&v.to_lowercase()).or_else(|| {
            errors.push(FieldError::new(
                "visibility",
                FieldCode::InvalidValue,
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
        openalex_id: cell("openalex_id"),
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
            FieldCode::InvalidEncoding,
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
                        FieldCode::InvalidCsv,
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
                        FieldCode::UnknownColumn,
                        format!("is not a column; use {}", CSV_COLUMNS.join(", ")),
                    )
                })
                .collect();
            for (i, h) in headers.iter().enumerate() {
                if headers[..i].contains(h) {
                    errors.push(FieldError::new(
                        h.clone(),
                        FieldCode::DuplicateColumn,
                        "appears twice in the header",
                    ));
                }
            }
            if !headers.iter().any(|h| h == "external_id" || h == "orcid") {
                errors.push(FieldError::new(
                    "external_id",
                    FieldCode::MissingColumn,
                    "the header must include external_id or orcid (the key)",
                ));
            }
            if !errors.is_empty() {
                return Err(AppError::validation(errors));
            }
            Ok(Box::new(reader.into_records().enumerate().map(
                move |(i, record)| {
                    let parsed = record
                        .map_err(|e| {
                            vec![FieldError::new("row", FieldCode::InvalidCsv, e.to_string())]
                        })
                        .and_then(|r| csv_record(&headers, &r));
                    (i + 1, parsed)
                },
            )))
        }
    }
}

/// One transaction takes rows until it has run for `IMPORT_BATCH_TIME` or taken
/// `IMPORT_BATCH` rows; each row also runs in its own savepoint. Commits are what a bulk load
/// pays per transaction (on SQLite an fsync, while its one writer waits), so a transaction
/// takes many rows (figures in bench/README.md, "An import transaction takes rows until 250
/// ms or 1,000 rows"). The time bound keeps what other writers wait for (SQLite has one
/// writer at a time) short on a slow disk.
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
    let university_id = bulk_university(caller, &university_id, NamedIn::Query)?;
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
        let batch = actix_web::rt::task::spawn_blocking(move || prepare(&uni, batch))
            .await
            .map_err(AppError::internal)?;
        let uni = university_id.clone();
        let (rows_out, left) = db
            .write(move |conn| {
                require_university(conn, &uni, NamedIn::Query)?;
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
    /// The row validated as a new profile, before the transaction (`prepare`).
    as_new: Option<AppResult<AsNew>>,
}

/// A row validated as a new profile, with its parts as they will be written.
struct AsNew {
    id: String,
    valid: ValidProfile,
    parts: FacultyParts,
}

fn as_new(university_id: &str, patch: UpdateFacultyProfile) -> AppResult<AsNew> {
    let mut valid = ValidProfile::parse(&merge(CreateFacultyProfile::blank(university_id), patch))?;
    provenance::carry(
        &[],
        &mut valid.publications,
        DataSource::Import,
        now().and_utc(),
    );
    let id = PublicId::generate();
    let parts = valid.parts(&id);
    Ok(AsNew { id, valid, parts })
}

/// Validates every row as a new profile, off the write transaction: most rows of a bulk
/// import are new, and their validation and parts (each publication analysed for matching)
/// would otherwise hold the database's write lock. A row that turns out to update a profile
/// is imported by `import_one` as before.
fn prepare(university_id: &str, batch: Vec<Keyed>) -> Vec<Keyed> {
    batch
        .into_iter()
        .map(|k| {
            k.map(|mut k| {
                k.as_new = Some(as_new(university_id, k.patch.clone()));
                k
            })
        })
        .collect()
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
                FieldCode::Required,
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
        as_new: None,
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
    let mut fresh = Fresh::default();
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
                row,
                key,
                patch,
                as_new: prepared,
                ..
            } = k;
            match prepared.unwrap_or_else(|| as_new(university_id, patch)) {
                Ok(AsNew { id, valid, parts }) => {
                    out.push(ImportRow {
                        row,
                        key: Some(key),
                        status: ImportStatus::Created,
                        id: Some(id.clone()),
                        errors: Vec::new(),
                    });
                    fresh.fields.push(provenance::changed_fields(None, &valid));
                    fresh.profiles.push((id, valid.fields, parts));
                    if fresh.profiles.len() == FRESH_GROUP {
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

/// New profiles validated but not yet written, with the fields each sets (their provenance).
#[derive(Default)]
struct Fresh {
    profiles: Vec<(String, FacultyFields, FacultyParts)>,
    fields: Vec<Vec<&'static str>>,
}

/// Writes the new profiles `import_rows` gathered (see there), and empties `fresh`.
fn write_fresh(conn: &mut DbConn, fresh: &mut Fresh, out: &mut [ImportRow]) -> AppResult<()> {
    if fresh.profiles.is_empty() {
        return Ok(());
    }
    let ts = now();
    let Fresh { profiles, fields } = std::mem::take(fresh);
    fn sources<'a>(
        profiles: &'a [(String, FacultyFields, FacultyParts)],
        fields: &[Vec<&'static str>],
    ) -> Vec<(&'a str, &'static str)> {
        profiles
            .iter()
            .zip(fields)
            .flat_map(|((id, _, _), fields)| fields.iter().map(move |f| (id.as_str(), *f)))
            .collect()
    }
    let together = conn.transaction(|conn| {
        rows::insert_many(conn, &profiles, ts)?;
        crate::db::provenance::set_field_sources(
            conn,
            &sources(&profiles, &fields),
            DataSource::Import,
            ts,
        )
    });
    if together.is_ok() {
        return Ok(());
    }
    for (profile, fields) in profiles.into_iter().zip(fields) {
        let alone = conn.transaction(|conn| {
            let one = std::slice::from_ref(&profile);
            rows::insert_many(conn, one, ts)?;
            crate::db::provenance::set_field_sources(
                conn,
                &sources(one, std::slice::from_ref(&fields)),
                DataSource::Import,
                ts,
            )
        });
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
        as_new: prepared,
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
            let AsNew { id, valid, parts } = match prepared {
                Some(prepared) => prepared?,
                None => as_new(university_id, patch)?,
            };
            let fields = provenance::changed_fields(None, &valid);
            rows::insert_many(conn, &[(id.clone(), valid.fields, parts)], ts)?;
            provenance::record_fields(conn, &id, &fields, DataSource::Import, ts)?;
            return Ok((ImportStatus::Created, id));
        };
        // Files neither bring back deleted profiles silently nor change ownership.
        if current.deleted_at.is_some() {
            return Err(AppError::validation(vec![FieldError::new(
                "external_id",
                FieldCode::Deleted,
                "matches a deleted profile; an operator can restore it first",
            )]));
        }
        let (mut parts, _) = rows::load_parts(
            conn,
            std::slice::from_ref(&current.id),
            rows::Publications::Whole,
        )?;
        let existing = to_input(&current, parts.remove(&current.id).unwrap_or_default())?;
        let mut valid = ValidProfile::parse(&merge(existing.clone(), patch))?;
        provenance::carry(
            &existing.publications,
            &mut valid.publications,
            DataSource::Import,
            ts.and_utc(),
        );
        let before = ValidProfile::parse(&existing)?;
        if before == valid {
            return Ok((ImportStatus::Unchanged, current.id));
        }
        rows::update(conn, &current.id, current.version, &valid.fields, ts)?
            .ok_or_else(AppError::stale)?;
        rows::replace_parts(conn, &current.id, &valid.parts(&current.id))?;
        provenance::bury_removed(
            conn,
            &current.id,
            &existing.publications,
            &valid.publications,
            ts,
        )?;
        let fields = provenance::changed_fields(Some(&before), &valid);
        provenance::record_fields(conn, &current.id, &fields, DataSource::Import, ts)?;
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
