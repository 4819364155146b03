//! The ORCID public API v3.0: `/{orcid}/record` for the person, employments and work
//! summaries, then `/{orcid}/works/{put-code,…}` (at most 100 per call) for the full works,
//! whose `short-description` is the abstract.

use serde_json::Value;

use super::{
    Client, Fetch, SourceError, SourceErrorCode, SourceProfile, SourceWork, bare_doi,
    is_local_script, text,
};

/// The bulk works endpoint takes at most 100 put-codes.
const BULK: usize = 100;
/// A profile keeps at most this many publications (as the API accepts).
const MAX_WORKS: usize = 2000;

/// Fetches and reads one public record. `university` (the profile's university's name)
/// chooses among several current employments.
pub fn fetch(client: &Client, orcid: &str, university: &str) -> Result<SourceProfile, SourceError> {
    let record = match client.get(&format!("/{orcid}/record"), "ORCID")? {
        Fetch::Json(v) => v,
        Fetch::Status(status, body) => return Err(status_error(orcid, status, &body)),
    };
    let mut profile = read_record(&record, university)?;
    profile.orcid = Some(orcid.to_owned());
    let summaries = std::mem::take(&mut profile.works);
    let mut works = Vec::with_capacity(summaries.len());
    for chunk in summaries.chunks(BULK) {
        let codes: Vec<String> = chunk.iter().map(|s| s.source_id.clone()).collect();
        let bulk = match client.get(&format!("/{orcid}/works/{}", codes.join(",")), "ORCID")? {
            Fetch::Json(v) => v,
            Fetch::Status(status, body) => return Err(status_error(orcid, status, &body)),
        };
        let full = read_bulk(&bulk)?;
        // A work the bulk answer lacks (an `error` item) keeps what its summary said.
        for summary in chunk {
            works.push(
                full.iter()
                    .find(|w| w.source_id == summary.source_id)
                    .cloned()
                    .unwrap_or_else(|| summary.clone()),
            );
        }
    }
    profile.works = works;
    Ok(profile)
}

/// What a status other than 200 means for a record.
fn status_error(orcid: &str, status: u16, body: &str) -> SourceError {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| text(v.get("developer-message")).or_else(|| text(v.get("user-message"))));
    let said = message.map(|m| format!(" ({m})")).unwrap_or_default();
    match status {
        404 => SourceError::new(
            SourceErrorCode::UnknownId,
            format!("ORCID has no record {orcid}{said}"),
        ),
        409 | 410 => SourceError::new(
            SourceErrorCode::Deactivated,
            format!("ORCID record {orcid} is deactivated or locked{said}"),
        ),
        _ => SourceError::new(
            SourceErrorCode::Refused,
            format!("ORCID answered {status} for {orcid}{said}"),
        ),
    }
}

fn malformed(what: &str) -> SourceError {
    SourceError::new(
        SourceErrorCode::MalformedResponse,
        format!("ORCID's record is not in the v3.0 format: {what}"),
    )
}

/// The `value` of ORCID's `{"value": …}` wrapper at `path`.
fn value_at(v: &Value, path: &str) -> Option<String> {
    text(v.pointer(path))
}

/// A JSON array at `path`; absent or `null` is empty, another type is malformed.
fn array_at<'a>(v: &'a Value, path: &str) -> Result<&'a [Value], SourceError> {
    match v.pointer(path) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(items)) => Ok(items),
        Some(_) => Err(malformed(&format!("{path} is not an array"))),
    }
}

/// The person and employments of a record. A record showing nothing publicly (no name, no
/// keywords, no biography, no works) is a private record.
pub fn read_record(record: &Value, university: &str) -> Result<SourceProfile, SourceError> {
    if !record.is_object() || record.get("orcid-identifier").is_none() {
        return Err(malformed("no orcid-identifier"));
    }
    let given = value_at(record, "/person/name/given-names/value");
    let family = value_at(record, "/person/name/family-name/value");
    let credit = value_at(record, "/person/name/credit-name/value");
    let full = match (&given, &family) {
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    // A published name in Korean or Chinese script is the local name; the romanised given
    // and family names are the name.
    let (name, local_name) = match credit {
        Some(c) if is_local_script(&c) => (full.or_else(|| Some(c.clone())), Some(c)),
        Some(c) => (Some(c), None),
        None => (full, None),
    };
    let bio = value_at(record, "/person/biography/content");
    let keywords: Vec<String> = array_at(record, "/person/keywords/keyword")?
        .iter()
        .filter_map(|k| text(k.get("content")))
        .collect();
    let summaries = work_summaries(record);
    if name.is_none() && bio.is_none() && keywords.is_empty() && summaries.is_empty() {
        return Err(SourceError::new(
            SourceErrorCode::PrivateRecord,
            "the ORCID record shows nothing publicly (its owner keeps it private)",
        ));
    }
    let employment = current_employment(record, university)?;
    Ok(SourceProfile {
        name,
        local_name,
        bio,
        keywords,
        department: employment.as_ref().and_then(|e| e.department.clone()),
        title: employment.as_ref().and_then(|e| e.role.clone()),
        affiliation: employment.and_then(|e| e.organization),
        orcid: value_at(record, "/orcid-identifier/path"),
        openalex_id: None,
        works: summaries,
    })
}

struct Employment {
    organization: Option<String>,
    department: Option<String>,
    role: Option<String>,
    start: (i32, i32),
}

/// The current employment (no end date): the one at the profile's university when there is
/// one, else the one that started last.
fn current_employment(record: &Value, university: &str) -> Result<Option<Employment>, SourceError> {
    let mut current = Vec::new();
    for group in array_at(record, "/activities-summary/employments/affiliation-group")? {
        for summary in array_at(group, "/summaries")? {
            let Some(e) = summary.get("employment-summary") else {
                continue;
            };
            if e.get("end-date").is_some_and(|d| !d.is_null()) {
                continue;
            }
            let year = |p: &str| {
                value_at(e, p)
                    .and_then(|y| y.parse::<i32>().ok())
                    .unwrap_or(0)
            };
            current.push(Employment {
                organization: value_at(e, "/organization/name"),
                department: text(e.get("department-name")),
                role: text(e.get("role-title")),
                start: (
                    year("/start-date/year/value"),
                    year("/start-date/month/value"),
                ),
            });
        }
    }
    let university = university.to_lowercase();
    let at_university = |e: &Employment| {
        e.organization.as_ref().is_some_and(|o| {
            let o = o.to_lowercase();
            !university.is_empty() && (o.contains(&university) || university.contains(&o))
        })
    };
    current.sort_by_key(|e| (at_university(e), e.start));
    Ok(current.pop())
}

/// One summary per work group: ORCID groups the versions of one work that different sources
/// added; the preferred one has the highest `display-index`.
pub fn work_summaries(record: &Value) -> Vec<SourceWork> {
    let groups = array_at(record, "/activities-summary/works/group").unwrap_or(&[]);
    let mut out = Vec::new();
    for group in groups {
        let versions = array_at(group, "/work-summary").unwrap_or(&[]);
        // Ties go to the first listed, which is how ORCID orders a group.
        let preferred = versions
            .iter()
            .enumerate()
            .max_by_key(|(i, w)| {
                let index = w
                    .get("display-index")
                    .and_then(|d| {
                        d.as_str()
                            .and_then(|s| s.parse::<i64>().ok())
                            .or_else(|| d.as_i64())
                    })
                    .unwrap_or(0);
                (index, std::cmp::Reverse(*i))
            })
            .map(|(_, w)| w);
        if let Some(work) = preferred.and_then(read_work) {
            out.push(work);
        }
        if out.len() == MAX_WORKS {
            break;
        }
    }
    out
}

/// A work or work summary: put-code, title, year, venue, DOI, and the short description.
fn read_work(w: &Value) -> Option<SourceWork> {
    let put_code = w.get("put-code").and_then(|p| {
        p.as_i64()
            .map(|n| n.to_string())
            .or_else(|| p.as_str().map(str::to_owned))
    })?;
    let title = value_at(w, "/title/title/value")?;
    let doi = array_at(w, "/external-ids/external-id")
        .unwrap_or(&[])
        .iter()
        .filter(|id| {
            id.get("external-id-type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("doi"))
        })
        // The work's own DOI before one of a part or version of it.
        .max_by_key(|id| {
            id.get("external-id-relationship")
                .and_then(Value::as_str)
                .is_some_and(|r| r == "self")
        })
        .and_then(|id| {
            value_at(id, "/external-id-normalized/value")
                .or_else(|| text(id.get("external-id-value")))
        })
        .and_then(|d| bare_doi(&d));
    Some(SourceWork {
        source_id: put_code,
        title,
        abstract_: text(w.get("short-description")),
        year: value_at(w, "/publication-date/year/value").and_then(|y| y.parse().ok()),
        venue: value_at(w, "/journal-title/value"),
        doi,
    })
}

/// The works of a bulk answer (`{"bulk": [{"work": …} | {"error": …}]}`).
fn read_bulk(bulk: &Value) -> Result<Vec<SourceWork>, SourceError> {
    let items = bulk
        .get("bulk")
        .and_then(Value::as_array)
        .ok_or_else(|| malformed("the works answer has no bulk array"))?;
    Ok(items
        .iter()
        .filter_map(|item| item.get("work"))
        .filter_map(read_work)
        .collect())
}
