//! Provenance: which writer set each field and publication of a profile, and when; the
//! identity of a publication (DOI first, then normalised title and year), by which syncs
//! avoid duplicates and remember what the owner deleted.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::db::{DbConn, provenance as rows};
use crate::dto::faculty::{DataSource, Provenance, Publication};
use crate::error::AppResult;

use super::ValidProfile;

/// The fields whose writer is remembered: a profile's content, not its ownership or
/// visibility.
pub const TRACKED: [&str; 11] = [
    "name",
    "local_name",
    "title",
    "department",
    "email",
    "orcid",
    "openalex_id",
    "research_interests",
    "bio",
    "keywords",
    "languages",
];

/// The tracked fields' values, comparable (absent and empty are both `Null`).
fn values(p: &ValidProfile) -> [serde_json::Value; 11] {
    use serde_json::Value;
    let text = |v: &Option<String>| v.clone().map_or(Value::Null, Value::String);
    let list = |v: &[String]| {
        if v.is_empty() {
            Value::Null
        } else {
            Value::from(v.to_vec())
        }
    };
    let f = &p.fields;
    let languages: Vec<String> = serde_json::from_str(&f.languages).unwrap_or_default();
    [
        Value::String(f.name.clone()),
        text(&f.local_name),
        text(&f.title),
        text(&f.department),
        text(&f.email),
        text(&f.orcid),
        text(&f.openalex_id),
        text(&f.research_interests),
        text(&f.bio),
        list(&p.keywords),
        list(&languages),
    ]
}

/// The tracked fields `after` sets differently from `before` (on create: those it sets).
pub(super) fn changed_fields(
    before: Option<&ValidProfile>,
    after: &ValidProfile,
) -> Vec<&'static str> {
    let new = values(after);
    let old = before.map(values);
    TRACKED
        .iter()
        .enumerate()
        .filter(|(i, _)| match &old {
            Some(old) => old[*i] != new[*i],
            None => !new[*i].is_null(),
        })
        .map(|(_, f)| *f)
        .collect()
}

/// Records that `source` set `fields` of profile `id` now.
pub fn record_fields(
    conn: &mut DbConn,
    id: &str,
    fields: &[&str],
    source: DataSource,
    at: NaiveDateTime,
) -> AppResult<()> {
    let set: Vec<(&str, &str)> = fields.iter().map(|f| (id, *f)).collect();
    Ok(rows::set_field_sources(conn, &set, source, at)?)
}

/// The field sources of a profile, by field.
pub fn field_sources(conn: &mut DbConn, id: &str) -> AppResult<BTreeMap<String, Provenance>> {
    Ok(rows::field_sources(conn, &[id.to_owned()])?
        .into_iter()
        .map(|r| {
            (
                r.field,
                Provenance {
                    source: r.source,
                    source_id: None,
                    recorded_at: r.recorded_at.and_utc(),
                },
            )
        })
        .collect())
}

/// What makes two records of a publication the same work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Lower-cased.
    pub doi: Option<String>,
    /// The normalised title and the year: see [`title_key`].
    pub title_key: String,
}

impl Identity {
    pub fn of(title: &str, year: Option<i32>, doi: Option<&str>) -> Self {
        Self {
            doi: doi.map(str::to_lowercase),
            title_key: title_key(title, year),
        }
    }

    pub fn of_publication(p: &Publication) -> Self {
        Self::of(&p.title, p.year, p.doi.as_deref())
    }

    /// The same work: the same DOI when both have one, else the same title and year.
    pub fn same(&self, other: &Self) -> bool {
        match (&self.doi, &other.doi) {
            (Some(a), Some(b)) => a == b,
            _ => self.title_key == other.title_key,
        }
    }

    /// `(work_key, title_key)` as a tombstone stores them.
    pub fn tombstone(&self) -> (String, String) {
        let key = match &self.doi {
            Some(d) => format!("doi:{d}"),
            None => format!("title:{}", self.title_key),
        };
        (key, self.title_key.clone())
    }

    pub fn from_tombstone(work_key: &str, title_key: &str) -> Self {
        Self {
            doi: work_key.strip_prefix("doi:").map(str::to_owned),
            title_key: title_key.to_owned(),
        }
    }
}

/// A title compared across sources: lower-cased letters and digits of any script, every
/// other run of characters one space; then `|` and the year (empty when unknown).
pub fn title_key(title: &str, year: Option<i32>) -> String {
    let mut key = String::with_capacity(title.len() + 6);
    let mut gap = false;
    for c in title.chars() {
        if c.is_alphanumeric() {
            if gap && !key.is_empty() {
                key.push(' ');
            }
            gap = false;
            key.extend(c.to_lowercase());
        } else {
            gap = true;
        }
    }
    key.push('|');
    if let Some(y) = year {
        key.push_str(&y.to_string());
    }
    key
}

/// Gives each incoming publication its provenance: an unchanged one keeps what it had
/// (matched by content), anything else was written by `source` now.
pub fn carry(
    existing: &[Publication],
    incoming: &mut [Publication],
    source: DataSource,
    at: DateTime<Utc>,
) {
    let content = |p: &Publication| {
        (
            p.title.clone(),
            p.abstract_.clone(),
            p.year,
            p.venue.clone(),
            p.doi.clone(),
        )
    };
    for p in incoming.iter_mut() {
        let same = existing.iter().find(|e| content(e) == content(p));
        p.provenance = Some(match same.and_then(|e| e.provenance.clone()) {
            Some(kept) => kept,
            None => Provenance {
                source,
                source_id: None,
                recorded_at: at,
            },
        });
    }
}

/// Remembers the publications of `existing` that no publication of `kept` is the same work
/// as: they were deleted, and no sync brings them back.
pub fn bury_removed(
    conn: &mut DbConn,
    id: &str,
    existing: &[Publication],
    kept: &[Publication],
    at: NaiveDateTime,
) -> AppResult<()> {
    let kept: Vec<Identity> = kept.iter().map(Identity::of_publication).collect();
    let removed: Vec<(String, String)> = existing
        .iter()
        .map(Identity::of_publication)
        .filter(|e| !kept.iter().any(|k| k.same(e)))
        .map(|e| e.tombstone())
        .collect();
    if removed.is_empty() {
        return Ok(());
    }
    Ok(rows::add_tombstones(conn, id, &removed, at)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_compare_without_case_punctuation_or_spacing() {
        assert_eq!(
            title_key("Scaling LLM Training: on GPU-Clusters!", Some(2024)),
            title_key("scaling llm training on gpu clusters", Some(2024))
        );
        assert_ne!(
            title_key("Scaling LLM training", Some(2024)),
            title_key("Scaling LLM training", Some(2023))
        );
        assert_eq!(title_key("大型語言模型 訓練", None), "大型語言模型 訓練|");
    }

    #[test]
    fn identity_is_the_doi_first_then_the_title() {
        let a = Identity::of("A", Some(2020), Some("10.1/X"));
        let b = Identity::of("B", Some(2021), Some("10.1/x"));
        let c = Identity::of("A", Some(2020), None);
        let d = Identity::of("A", Some(2020), Some("10.1/other"));
        assert!(a.same(&b), "the same DOI, whatever the titles");
        assert!(a.same(&c), "one side has no DOI: the title and year decide");
        assert!(!a.same(&d), "two different DOIs are two works");
        let (key, title) = a.tombstone();
        assert!(Identity::from_tombstone(&key, &title).same(&a));
    }
}
