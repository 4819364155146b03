//! How records become documents: which records are indexed, how each is loaded from the
//! database, and which of its texts and values go into which field.

use diesel::QueryResult;
use tantivy::TantivyDocument;

use super::fields::{Fields, key};
use crate::db::DbConn;
use crate::db::outbox::Entity;
use crate::db::search::{self as source, CenterSource, FacultySource, NeedSource};
use crate::error::AppResult;

/// One kind of indexed record: how the indexer finds its records and makes their documents.
/// Indexing a new kind of record is one more entry of [`INDEXED`] (with its loader in
/// `db::search` and its document here).
pub(super) struct Indexed {
    /// What the outbox calls it.
    pub(super) entity: Entity,
    /// At most `limit` live ids after `after`, in id order (a rebuild pages through them).
    pub(super) live_ids: fn(&mut DbConn, &str, i64) -> QueryResult<Vec<String>>,
    /// The ids of an organization's records: they carry its country, so a change of the
    /// organization changes their documents.
    pub(super) of_organization: fn(&mut DbConn, &str) -> QueryResult<Vec<String>>,
    /// The documents of the live records among `ids` (a deleted record has none).
    pub(super) documents: fn(&mut DbConn, &Fields, &[String]) -> AppResult<Vec<TantivyDocument>>,
}

/// Every indexed kind of record, in the order the indexer applies them.
pub(super) const INDEXED: [Indexed; 3] = [
    Indexed {
        entity: Entity::Faculty,
        live_ids: source::live_faculty_ids,
        of_organization: source::faculty_of_organization,
        documents: |conn, f, ids| {
            let live = source::faculty(conn, ids)?.into_iter();
            let live = live.filter(|s| s.row.deleted_at.is_none());
            Ok(live.map(|s| faculty_doc(f, &s)).collect())
        },
    },
    Indexed {
        entity: Entity::Need,
        live_ids: source::live_need_ids,
        of_organization: source::needs_of_organization,
        documents: |conn, f, ids| {
            let live = source::needs(conn, ids)?.into_iter();
            let live = live.filter(|s| s.row.deleted_at.is_none());
            Ok(live.map(|s| need_doc(f, &s)).collect())
        },
    },
    Indexed {
        entity: Entity::Center,
        live_ids: source::live_center_ids,
        of_organization: source::centers_of_organization,
        documents: |conn, f, ids| {
            let live = source::centers(conn, ids)?.into_iter();
            let live = live.filter(|s| s.row.deleted_at.is_none());
            Ok(live.map(|s| center_doc(f, &s)).collect())
        },
    },
];

fn join<'a>(parts: impl IntoIterator<Item = Option<&'a str>>) -> String {
    parts
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A profile's full-text fields as they are indexed (and as matching analyses them).
pub struct FacultyTexts {
    pub title: String,
    pub keywords: String,
    pub body: String,
    pub publications: String,
}

pub fn faculty_texts(s: &FacultySource) -> FacultyTexts {
    let r = &s.row;
    let pubs: Vec<&str> = s
        .parts
        .publications
        .iter()
        .flat_map(|p| {
            [
                Some(p.title.as_str()),
                p.abstract_.as_deref(),
                p.venue.as_deref(),
            ]
        })
        .flatten()
        .collect();
    FacultyTexts {
        title: join([Some(r.name.as_str()), r.local_name.as_deref()]),
        keywords: s.parts.keywords.join("\n"),
        body: join([
            r.title.as_deref(),
            r.department.as_deref(),
            r.research_interests.as_deref(),
            r.bio.as_deref(),
        ]),
        publications: pubs.join("\n"),
    }
}

fn faculty_doc(f: &Fields, s: &FacultySource) -> TantivyDocument {
    let r = &s.row;
    let texts = faculty_texts(s);
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "faculty");
    doc.add_text(f.title, texts.title);
    doc.add_text(f.keywords, texts.keywords);
    doc.add_text(f.body, texts.body);
    doc.add_text(f.publications, texts.publications);
    doc.add_text(f.org, &r.university_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.visibility, r.visibility.as_str());
    if let Some(d) = r
        .department
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        doc.add_text(f.department, key(d));
        doc.add_text(f.department_label, d);
    }
    for k in &s.parts.keywords {
        doc.add_text(f.keyword, key(k));
    }
    for c in &s.parts.availability {
        doc.add_text(f.collaboration, c.as_str());
    }
    doc
}

fn need_doc(f: &Fields, s: &NeedSource) -> TantivyDocument {
    let r = &s.row;
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "need");
    doc.add_text(f.title, &r.title);
    doc.add_text(f.keywords, s.parts.keywords.join("\n"));
    doc.add_text(
        f.body,
        join([
            r.summary.as_deref(),
            r.description.as_deref(),
            r.location.as_deref(),
            compute_text(r).as_deref(),
        ]),
    );
    doc.add_text(f.org, &r.company_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.status, r.status.as_str());
    doc.add_text(f.visibility, r.visibility.as_str());
    for k in &s.parts.keywords {
        doc.add_text(f.keyword, key(k));
    }
    for c in &s.parts.collaboration_types {
        doc.add_text(f.collaboration, c.as_str());
    }
    for p in &s.invited {
        doc.add_text(f.invited, p);
    }
    doc
}

/// A need's compute as words (`brings 5000 gpu hours H100`), so that search finds it by GPU
/// model.
fn compute_text(r: &crate::db::needs::NeedRow) -> Option<String> {
    let unit = match r.compute_unit? {
        crate::domain::stored::ComputeUnit::GpuHours => "GPU hours",
        crate::domain::stored::ComputeUnit::NodeHours => "node hours",
        crate::domain::stored::ComputeUnit::Credits => "cloud credits",
    };
    Some(format!(
        "{} {} {unit} {}",
        r.compute_direction?,
        r.compute_amount?,
        r.compute_gpu_model.as_deref().unwrap_or_default()
    ))
}

/// Shared resources as words: the kind and every value (`gpu H100 64`).
fn resources_text(json: &str) -> String {
    let entries: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(json).unwrap_or_default();
    entries
        .iter()
        .map(|e| {
            e.iter()
                .map(|(k, v)| match v {
                    serde_json::Value::String(s) if k == "kind" => s.replace('_', " "),
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn center_doc(f: &Fields, s: &CenterSource) -> TantivyDocument {
    let r = &s.row;
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, &r.id);
    doc.add_text(f.kind, "center");
    doc.add_text(
        f.title,
        join([Some(r.name.as_str()), r.local_name.as_deref()]),
    );
    doc.add_text(f.keywords, s.parts.focus_areas.join("\n"));
    let resources = resources_text(&r.shared_resources);
    doc.add_text(
        f.body,
        join([r.description.as_deref(), Some(resources.as_str())]),
    );
    doc.add_text(f.org, &r.host_university_id);
    doc.add_text(f.country, key(&s.country));
    doc.add_text(f.status, r.status.as_str());
    doc.add_text(f.visibility, r.visibility.as_str());
    for k in &s.parts.focus_areas {
        doc.add_text(f.keyword, key(k));
    }
    doc.add_text(f.participant, &r.host_university_id);
    for (company, _) in &s.parts.partners {
        doc.add_text(f.participant, company);
    }
    for p in r.director_id.iter().chain(&s.parts.member_ids) {
        doc.add_text(f.participant, p);
    }
    doc
}
