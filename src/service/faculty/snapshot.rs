//! `liaison import openalex`: a university's researchers in bulk from OpenAlex snapshot files
//! (gzip JSON Lines of author and work objects, as OpenAlex publishes them under
//! `data/jsonl/authors/updated_date=…/part_0000.gz` and `…/works/…`). Authors are read
//! first (those of one institution, when asked), then the works that name them; each author
//! becomes or updates a profile through the same merge as a sync from the OpenAlex API.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use diesel::Connection;
use serde::Serialize;
use serde_json::Value;

use crate::db::faculty as rows;
use crate::db::{Db, DbConn};
use crate::domain::PublicId;
use crate::dto::faculty::{CreateFacultyProfile, DataSource, SyncSource};
use crate::error::{AppError, AppResult, FieldCode, FieldError};
use crate::service::now;
use crate::service::policy::Caller;
use crate::sources::openalex::{read_author, read_work, short_id, work_author_ids};
use crate::sources::{SourceProfile, text};

use super::{MAX_PUBLICATIONS, ValidProfile, provenance};

/// The longest line read (an author or work object); a longer one is reported and skipped.
const MAX_LINE: u64 = 16 * 1024 * 1024;
/// Authors one import takes at most (their works are held in memory until written): a whole
/// snapshot is filtered with `--institution`.
const MAX_AUTHORS: usize = 200_000;
/// Profiles written per transaction.
const CHUNK: usize = 100;
/// Failures the report lists (the rest are counted).
const MAX_ERRORS: usize = 100;

#[derive(Debug, Clone, Default, Serialize)]
pub struct SnapshotReport {
    pub files: usize,
    pub authors_read: usize,
    /// Authors of the institution asked for (all of them without `--institution`).
    pub authors_taken: usize,
    pub works_read: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub failed: usize,
    pub errors: Vec<String>,
}

impl SnapshotReport {
    fn fail(&mut self, what: String) {
        self.failed += 1;
        if self.errors.len() < MAX_ERRORS {
            self.errors.push(what);
        }
    }
}

/// Which kind of object a snapshot file holds, from its path.
fn kind_of(path: &Path) -> Option<&'static str> {
    let text = path.to_string_lossy().to_lowercase();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if !(name.ends_with(".gz") || name.ends_with(".jsonl") || name.ends_with(".json")) {
        return None;
    }
    if text.contains("/authors/") || name.starts_with("authors") {
        Some("authors")
    } else if text.contains("/works/") || name.starts_with("works") {
        Some("works")
    } else {
        None
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files(&path, out)?;
        } else if kind_of(&path).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// Each non-empty line of a file (gunzipped when it ends in `.gz`), parsed; a line that is
/// not JSON or too long is reported through `bad`.
fn each_object(
    path: &Path,
    bad: &mut dyn FnMut(String),
    f: &mut dyn FnMut(Value),
) -> std::io::Result<()> {
    let file = std::fs::File::open(path)?;
    let reader: Box<dyn Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    };
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    for n in 1.. {
        line.clear();
        let read = reader
            .by_ref()
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            break;
        }
        if !line.ends_with(b"\n") && read as u64 == MAX_LINE {
            bad(format!(
                "{}:{n}: longer than {MAX_LINE} bytes",
                path.display()
            ));
            // Skip the rest of the long line, a buffer at a time.
            loop {
                let buf = reader.fill_buf()?;
                if buf.is_empty() {
                    break;
                }
                match buf.iter().position(|b| *b == b'\n') {
                    Some(end) => {
                        reader.consume(end + 1);
                        break;
                    }
                    None => {
                        let len = buf.len();
                        reader.consume(len);
                    }
                }
            }
            continue;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<Value>(&line) {
            Ok(v) => f(v),
            Err(e) => bad(format!("{}:{n}: not JSON ({e})", path.display())),
        }
    }
    Ok(())
}

/// The last segment of an OpenAlex or ROR id, upper-cased: `I148366613`, `00SE2K293`.
fn id_tail(id: &str) -> String {
    id.trim()
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_uppercase()
}

/// Whether an author belongs to the institution (its OpenAlex id or ROR): among the last
/// known institutions or the affiliations.
fn at_institution(author: &Value, institution: &str) -> bool {
    let wanted = id_tail(institution);
    let matches = |i: &Value| {
        [i.get("id"), i.get("ror")]
            .into_iter()
            .filter_map(|v| text(v))
            .any(|v| id_tail(&v) == wanted)
    };
    let last_known = author
        .get("last_known_institutions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(matches);
    let affiliated = author
        .get("affiliations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|a| a.get("institution"))
        .any(matches);
    last_known || affiliated
}

/// Imports the researchers of `dir`'s snapshot files into the university's profiles.
/// `progress` is told after each file read and each group of profiles written.
pub fn import_openalex(
    db: &Db,
    caller: &Caller,
    university_id: &str,
    dir: &Path,
    institution: Option<&str>,
    progress: &mut dyn FnMut(&SnapshotReport),
) -> AppResult<SnapshotReport> {
    let university_id = super::bulk_university(Some(caller), university_id, super::NamedIn::Body)?;
    db.run_blocking(|conn| super::require_university(conn, &university_id, super::NamedIn::Body))?;
    let mut paths = Vec::new();
    files(dir, &mut paths).map_err(|e| {
        AppError::validation(vec![FieldError::new(
            "dir",
            FieldCode::InvalidValue,
            format!("cannot read {}: {e}", dir.display()),
        )])
    })?;
    paths.sort();
    let mut report = SnapshotReport {
        files: paths.len(),
        ..SnapshotReport::default()
    };
    let io_error = |path: &Path, e: std::io::Error| {
        AppError::validation(vec![FieldError::new(
            "dir",
            FieldCode::InvalidValue,
            format!("cannot read {}: {e}", path.display()),
        )])
    };

    // Authors first: which ids to collect works for.
    let mut order: Vec<String> = Vec::new();
    let mut authors: HashMap<String, SourceProfile> = HashMap::new();
    let mut orcids: HashMap<String, String> = HashMap::new();
    for path in paths.iter().filter(|p| kind_of(p) == Some("authors")) {
        let (mut bad, mut unreadable) = (Vec::new(), Vec::new());
        each_object(path, &mut |e| bad.push(e), &mut |author| {
            report.authors_read += 1;
            if institution.is_some_and(|i| !at_institution(&author, i)) {
                return;
            }
            match read_author(&author) {
                Ok(profile) => {
                    let Some(id) = profile.openalex_id.clone() else {
                        return;
                    };
                    if authors.contains_key(&id) {
                        return;
                    }
                    // OpenAlex sometimes splits one person into two authors with one iD:
                    // the first is taken, so that a second import settles.
                    if let Some(orcid) = &profile.orcid
                        && let Some(first) = orcids.get(orcid)
                    {
                        unreadable.push(format!(
                            "author {id}: has the ORCID iD of author {first}, taken first"
                        ));
                        return;
                    }
                    if order.len() == MAX_AUTHORS {
                        unreadable.push(format!(
                            "author {id}: more than {MAX_AUTHORS} authors; name an --institution"
                        ));
                        return;
                    }
                    if let Some(orcid) = &profile.orcid {
                        orcids.insert(orcid.clone(), id.clone());
                    }
                    order.push(id.clone());
                    authors.insert(id, profile);
                }
                Err(e) => unreadable.push(format!("{}: {}", path.display(), e.detail)),
            }
        })
        .map_err(|e| io_error(path, e))?;
        for b in bad.into_iter().chain(unreadable) {
            report.fail(b);
        }
        progress(&report);
    }
    report.authors_taken = order.len();

    for path in paths.iter().filter(|p| kind_of(p) == Some("works")) {
        let mut bad = Vec::new();
        each_object(path, &mut |e| bad.push(e), &mut |work| {
            report.works_read += 1;
            let ids = work_author_ids(&work);
            if !ids.iter().any(|a| authors.contains_key(a)) {
                return;
            }
            let Some(read) = read_work(&work) else {
                return;
            };
            for id in ids {
                if let Some(author) = authors.get_mut(&id)
                    && author.works.len() < MAX_PUBLICATIONS
                    && !author.works.iter().any(|w| w.source_id == read.source_id)
                {
                    author.works.push(read.clone());
                }
            }
        })
        .map_err(|e| io_error(path, e))?;
        for b in bad {
            report.fail(b);
        }
        progress(&report);
    }

    for chunk in order.chunks(CHUNK) {
        let outcomes = db.write_blocking(|conn| {
            let ts = now();
            Ok(chunk
                .iter()
                .map(|id| {
                    let profile = &authors[id];
                    let outcome =
                        conn.transaction(|conn| upsert(conn, &university_id, profile, ts));
                    (id.clone(), outcome)
                })
                .collect::<Vec<_>>())
        })?;
        for (id, outcome) in outcomes {
            match outcome {
                Ok(Upserted::Created) => report.created += 1,
                Ok(Upserted::Updated) => report.updated += 1,
                Ok(Upserted::Unchanged) => report.unchanged += 1,
                Err(e) => report.fail(format!("author {id}: {}", e.describe())),
            }
        }
        progress(&report);
    }
    Ok(report)
}

enum Upserted {
    Created,
    Updated,
    Unchanged,
}

/// Creates or updates the profile of one author: found by OpenAlex id, else ORCID iD; a new
/// one gets the author's name and ids, then everything goes through the sync's merge.
fn upsert(
    conn: &mut DbConn,
    university_id: &str,
    author: &SourceProfile,
    ts: chrono::NaiveDateTime,
) -> AppResult<Upserted> {
    let openalex_id = author.openalex_id.as_deref().and_then(short_id);
    let existing = match rows::find_by_openalex(conn, university_id, openalex_id.as_deref())? {
        Some(row) => Some(row),
        None => rows::find_by_key(conn, university_id, None, author.orcid.as_deref())?,
    };
    let fetched = vec![(SyncSource::OpenAlex, Ok(author.clone()))];
    let Some(row) = existing else {
        let mut input = CreateFacultyProfile::blank(university_id);
        input.name = author
            .name
            .clone()
            .unwrap_or_default()
            .chars()
            .take(super::SHORT)
            .collect();
        input.orcid = author.orcid.clone();
        input.openalex_id = openalex_id;
        let valid = ValidProfile::parse(&input)?;
        let id = PublicId::generate();
        rows::insert(conn, &id, &valid.fields, ts)?;
        let fields = provenance::changed_fields(None, &valid);
        provenance::record_fields(conn, &id, &fields, DataSource::OpenAlex, ts)?;
        super::sync::apply(conn, &id, &fetched, ts)?;
        return Ok(Upserted::Created);
    };
    if row.deleted_at.is_some() {
        return Err(AppError::validation(vec![FieldError::new(
            "openalex_id",
            FieldCode::Deleted,
            "matches a deleted profile; an operator can restore it first",
        )]));
    }
    let report = super::sync::apply(conn, &row.id, &fetched, ts)?;
    Ok(if report.changed {
        Upserted::Updated
    } else {
        Upserted::Unchanged
    })
}
