//! The rules of the service: validation, permissions and workflows, one function per use
//! case. Each use case owns its transaction; handlers only translate HTTP to these calls.

pub mod accounts;
pub mod audit;
pub mod auth;
pub mod centers;
pub mod compute;
mod edit;
pub mod engagements;
pub mod faculty;
pub mod invitations;
pub mod lifecycle;
pub mod matching;
pub mod needs;
pub mod notifications;
pub mod ops;
pub mod organizations;
pub mod policy;
pub mod projects;
pub mod reports;
pub mod search;

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, Utc};

use crate::db::Seek;
use crate::domain::PublicId;
use crate::domain::stored::Workflow;
use crate::dto::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};

/// Applies a JSON merge patch (RFC 7396) to a resource in its create shape, which is how every
/// update compares, validates and stores it: each listed field the patch has replaces the
/// current value (for a field that may be null, a null clears it). `required` fields may not
/// be null; the update refuses a null before merging, so here only a value counts. Every
/// field of the patch type is listed.
macro_rules! merge_patch {
    ($base:ident, $patch:ident: $ty:ident, [$($field:ident),* $(,)?] $(, required: [$($req:ident),* $(,)?])?) => {{
        // Destructured, so that a field added to the patch type and not listed here does not
        // compile rather than being silently ignored.
        let $ty { $($field,)* $($($req,)*)? } = $patch;
        let mut base = $base;
        $(
            if let Some(v) = $field {
                base.$field = v;
            }
        )*
        $($(
            if let Some(Some(v)) = $req {
                base.$req = v;
            }
        )*)?
        base
    }};
}
pub(crate) use merge_patch;

/// A resource plus its version, which the HTTP layer turns into an `ETag`.
#[derive(Debug, Clone)]
pub struct Versioned<T> {
    pub value: T,
    pub version: i64,
}

/// What the client sent in `If-Match`, already parsed by the HTTP layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match` header.
    None,
    /// `If-Match: *`: the resource must exist, any version.
    Any,
    /// `If-Match: "<version>", ...`: the current version must be one of these. A tag that is
    /// not one of ours can never match, so it is kept as an impossible version.
    Versions(Vec<i64>),
}

impl Precondition {
    /// Checks a current version against the precondition. `required` makes a missing header a
    /// 428, so that no update can silently overwrite a change the client has not seen.
    pub fn check(&self, current: i64, required: bool) -> AppResult<()> {
        let ok = match self {
            Self::None if required => {
                return Err(AppError::new(
                    ErrorCode::PreconditionRequired,
                    "This operation requires an If-Match header with the ETag from your last read",
                ));
            }
            Self::None | Self::Any => true,
            Self::Versions(vs) => vs.contains(&current),
        };
        if ok { Ok(()) } else { Err(AppError::stale()) }
    }
}

/// A status move is allowed when it stays put or goes to one of `from`'s next statuses;
/// otherwise a 409 naming the allowed next states, in the detail and as a field error.
pub fn check_transition<S: Workflow>(from: S, to: S) -> AppResult<()> {
    if from == to || from.next().contains(&to) {
        return Ok(());
    }
    let next = if from.next().is_empty() {
        "none (it is final)".to_owned()
    } else {
        from.next()
            .iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let what = S::WHAT;
    Err(AppError::new(
        ErrorCode::Conflict,
        format!("A {what} cannot go from {from} to {to}; allowed next states: {next}"),
    )
    .with_errors(vec![FieldError::new(
        S::FIELD,
        FieldCode::InvalidTransition,
        format!("from {from} the allowed next states are: {next}"),
    )]))
}

/// One page of rows as their views, with each row's parts (keywords, members, …) read for
/// the whole page in one query; a row with none gets empty parts.
pub(crate) fn page_views<Row, Parts: Default, View>(
    found: Vec<Row>,
    id: impl Fn(&Row) -> &str,
    parts_of: impl FnOnce(&[String]) -> diesel::QueryResult<HashMap<String, Parts>>,
    view: impl Fn(Row, Parts) -> AppResult<Versioned<View>>,
) -> AppResult<Vec<View>> {
    let ids: Vec<String> = found.iter().map(|r| id(r).to_owned()).collect();
    let mut parts = parts_of(&ids)?;
    found
        .into_iter()
        .map(|r| {
            let p = parts.remove(id(&r)).unwrap_or_default();
            view(r, p).map(|v| v.value)
        })
        .collect()
}

/// The current time, truncated to microseconds (what PostgreSQL stores), so that a value
/// returned by a write equals the one a later read returns on either backend.
pub fn now() -> NaiveDateTime {
    let t = Utc::now().naive_utc();
    let micros = t.and_utc().timestamp_micros();
    chrono::DateTime::from_timestamp_micros(micros)
        .map(|d| d.naive_utc())
        .unwrap_or(t)
}

/// `limit` (default 20, 1 to `max_limit`) and `offset` (default 0, 0 to `max_offset`) of a
/// list paged by offset, each out-of-range value named in `errors`; the values returned are
/// clamped into range (used only when `errors` stays empty).
pub fn limit_and_offset(
    limit: Option<i64>,
    offset: Option<i64>,
    max_limit: i64,
    max_offset: i64,
    errors: &mut Vec<FieldError>,
) -> (i64, i64) {
    let limit = limit.unwrap_or(20);
    if !(1..=max_limit).contains(&limit) {
        errors.push(FieldError::new(
            "limit",
            FieldCode::OutOfRange,
            format!("must be between 1 and {max_limit}"),
        ));
    }
    let offset = offset.unwrap_or(0);
    if !(0..=max_offset).contains(&offset) {
        errors.push(FieldError::new(
            "offset",
            FieldCode::OutOfRange,
            format!("must be between 0 and {max_offset}"),
        ));
    }
    (limit.clamp(1, max_limit), offset.clamp(0, max_offset))
}

/// A validated page request: how many rows, and after which id.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<String>,
}

impl PageRequest {
    /// Checks `limit` and decodes the opaque `cursor` (base64url of the last id seen).
    pub fn parse(limit: Option<i64>, cursor: Option<&str>) -> AppResult<Self> {
        let mut errors = Vec::new();
        let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            errors.push(FieldError::new(
                "limit",
                FieldCode::OutOfRange,
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        let after = match cursor {
            None => None,
            Some(c) => {
                let id = URL_SAFE_NO_PAD
                    .decode(c.trim())
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .and_then(|s| PublicId::parse(&s));
                if id.is_none() {
                    errors.push(FieldError::new(
                        "cursor",
                        FieldCode::InvalidCursor,
                        "is not a cursor returned by this endpoint",
                    ));
                }
                id
            }
        };
        if errors.is_empty() {
            Ok(Self { limit, after })
        } else {
            Err(AppError::query(errors))
        }
    }

    /// What to read: the rows after the cursor, one more than the page holds, so that
    /// [`PageRequest::finish`] can tell whether another page follows.
    pub fn seek(&self) -> Seek {
        Seek {
            after: self.after.clone(),
            limit: self.limit + 1,
        }
    }

    /// Reads one page: `read` loads the rows of [`PageRequest::seek`], and the extra row
    /// becomes the next cursor.
    pub fn read<R>(
        &self,
        read: impl FnOnce(&Seek) -> diesel::QueryResult<Vec<R>>,
        id: impl Fn(&R) -> &str,
    ) -> AppResult<(Vec<R>, Option<String>)> {
        let rows = read(&self.seek())?;
        Ok(self.finish(rows, id))
    }

    /// Splits the extra row of a [`PageRequest::seek`] off into a cursor.
    pub fn finish<R>(&self, mut rows: Vec<R>, id: impl Fn(&R) -> &str) -> (Vec<R>, Option<String>) {
        let limit = usize::try_from(self.limit).unwrap_or(usize::MAX);
        let next = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|r| URL_SAFE_NO_PAD.encode(id(r)))
        } else {
            None
        };
        (rows, next)
    }
}
