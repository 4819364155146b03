//! Faculty profiles: who a professor is, what they work on, and how they collaborate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;

pub use crate::domain::stored::{
    CollaborationType, DataSource, ProfileVisibility, SyncJobKind, SyncJobState, SyncSource,
};
pub use crate::sources::SourceError;

/// Where a field or publication came from, and when that writer last set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    pub source: DataSource,
    /// The source's id of the publication (an ORCID put-code, an OpenAlex work id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Publication {
    pub title: String,
    #[serde(default, rename = "abstract")]
    pub abstract_: Option<String>,
    #[serde(default)]
    pub year: Option<i32>,
    #[serde(default)]
    pub venue: Option<String>,
    #[serde(default)]
    pub doi: Option<String>,
    /// Read-only: where the publication came from. Ignored on input (a client may send back
    /// what it read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(read_only)]
    pub provenance: Option<Provenance>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"university_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "name": "Chen Chien-Hung", "local_name": "陳建宏",
           "title": "Professor", "department": "Computer Science", "email": "chchen@nycu.edu.tw",
           "orcid": "0000-0002-1825-0097", "research_interests": "Large language model training on GPU clusters; distributed systems",
           "keywords": ["LLM", "GPU clusters", "distributed training"], "languages": ["zh-TW", "en"],
           "publications": [{"title": "Scaling LLM training on commodity GPU clusters", "year": 2025, "venue": "MLSys"}],
           "availability": ["sponsored_research", "joint_lab"], "visibility": "public"}),
    json!({"university_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "name": "Kim Min-jun", "local_name": "김민준",
           "title": "부교수", "department": "전기정보공학부", "research_interests": "GPU 클러스터 기반 LLM 학습, 반도체 설계 자동화",
           "keywords": ["반도체", "LLM"], "languages": ["ko", "en"], "availability": ["consulting"], "visibility": "members"})
))]
pub struct CreateFacultyProfile {
    /// The university (an organization of kind `university`).
    pub university_id: String,
    /// The professor's own account, if they maintain the profile themselves: a faculty member
    /// of the university (422 `not_faculty_member` otherwise). Set by the university's admins
    /// and operators (403 for its staff), or by a professor for themselves; audited.
    #[serde(default)]
    pub owner_user_id: Option<String>,
    /// The office's own identifier: a stable key for imports.
    #[serde(default)]
    pub external_id: Option<String>,
    #[schema(min_length = 1)]
    pub name: String,
    #[serde(default)]
    pub local_name: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Checksum-validated, e.g. `0000-0002-1825-0097`.
    #[serde(default)]
    pub orcid: Option<String>,
    /// The OpenAlex author id, e.g. `A5023888391` (or its `https://openalex.org/` URL).
    #[serde(default)]
    pub openalex_id: Option<String>,
    #[serde(default)]
    pub research_interests: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub bio: Option<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub publications: Vec<Publication>,
    #[serde(default)]
    pub availability: Vec<CollaborationType>,
    #[serde(default = "default_profile_visibility")]
    pub visibility: ProfileVisibility,
}

impl CreateFacultyProfile {
    /// An empty profile of a university, for imports to fill in.
    pub fn blank(university_id: &str) -> Self {
        Self {
            university_id: university_id.to_owned(),
            owner_user_id: None,
            external_id: None,
            name: String::new(),
            local_name: None,
            title: None,
            department: None,
            email: None,
            orcid: None,
            openalex_id: None,
            research_interests: None,
            keywords: Vec::new(),
            bio: None,
            languages: Vec::new(),
            publications: Vec::new(),
            availability: Vec::new(),
            visibility: default_profile_visibility(),
        }
    }
}

fn default_profile_visibility() -> ProfileVisibility {
    ProfileVisibility::Public
}

/// Merge-patch: omitted fields stay; `null` clears an optional field; lists are replaced whole.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"department": "인공지능학과", "keywords": ["LLM", "반도체", "GPU"], "email": null}))]
pub struct UpdateFacultyProfile {
    /// Link the profile to a faculty member of its university, or unlink it (`null`): the
    /// university's admins and operators only (403 for anyone else); audited.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub owner_user_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub external_id: Option<Option<String>>,
    /// Required: may be left out, but not cleared (`null` is refused).
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = String, min_length = 1)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub local_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub title: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub department: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub orcid: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub openalex_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub research_interests: Option<Option<String>>,
    #[serde(default)]
    pub keywords: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub bio: Option<Option<String>>,
    #[serde(default)]
    pub languages: Option<Vec<String>>,
    #[serde(default)]
    pub publications: Option<Vec<Publication>>,
    #[serde(default)]
    pub availability: Option<Vec<CollaborationType>>,
    #[serde(default)]
    pub visibility: Option<ProfileVisibility>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FacultyProfile {
    pub id: String,
    pub university_id: String,
    pub owner_user_id: Option<String>,
    pub external_id: Option<String>,
    pub name: String,
    pub local_name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub email: Option<String>,
    pub orcid: Option<String>,
    pub openalex_id: Option<String>,
    pub research_interests: Option<String>,
    pub keywords: Vec<String>,
    pub bio: Option<String>,
    pub languages: Vec<String>,
    /// In the single-profile view: which writer last set each field that has been set
    /// (`manual`, `import`, `orcid`, `openalex`) and when. A sync changes only fields that
    /// were never set or that a sync set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<std::collections::BTreeMap<String, Provenance>>,
    /// In the single-profile view: the last sync from each source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync: Option<Vec<SourceSync>>,
    /// In the single-profile view; lists show `publication_count` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publications: Option<Vec<Publication>>,
    pub publication_count: usize,
    pub availability: Vec<CollaborationType>,
    pub visibility: ProfileVisibility,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on deleted profiles (seen only by operators, who may restore them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct FacultyList {
    pub items: Vec<FacultyProfile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListFaculty {
    pub university_id: Option<String>,
    /// Exact department name.
    pub department: Option<String>,
    /// A keyword the profile lists (case-insensitive).
    pub keyword: Option<String>,
    /// Available for this kind of collaboration.
    pub collaboration_type: Option<CollaborationType>,
    /// Operators only: include deleted profiles.
    pub include_deleted: Option<bool>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// One row's outcome in a bulk import.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportRow {
    /// 1-based data row (CSV: not counting the header) or line (NDJSON).
    pub row: usize,
    /// The row's key: its `external_id` or ORCID iD.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub status: ImportStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub errors: Vec<crate::error::FieldError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Created,
    Updated,
    Unchanged,
    Rejected,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rejected: usize,
    pub rows: Vec<ImportRow>,
}

#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The university whose profiles these are.
    pub university_id: String,
    /// `wait_for`: answer only once the imported changes are searchable.
    pub refresh: Option<crate::dto::search::Refresh>,
}

/// A profile's last sync from one source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceSync {
    pub source: SyncSource,
    pub attempted_at: DateTime<Utc>,
    /// The last sync that got an answer (absent: none has yet).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub succeeded_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SourceError>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SyncQuery {
    /// Comma-separated sources (`orcid`, `openalex`); default: every source the profile has
    /// an identifier for (`orcid` for both, `openalex_id` for OpenAlex).
    pub sources: Option<String>,
    /// `wait_for`: answer only once the changes are searchable.
    pub refresh: Option<crate::dto::search::Refresh>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// The source answered and its record was merged.
    Succeeded,
    /// The source gave no usable answer (see `error`); nothing of it was changed.
    Failed,
}

/// What one source gave in a sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SourceOutcome {
    pub source: SyncSource,
    pub status: SourceStatus,
    /// Works the source listed.
    pub works: usize,
    /// The current employer the source names (ORCID's current employment, OpenAlex's last
    /// known institution): a hint when it is not the profile's university.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affiliation: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<SourceError>,
}

/// What a sync did to the profile's publications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PublicationChanges {
    /// New publications.
    pub added: usize,
    /// Synced publications whose content changed at the source.
    pub updated: usize,
    /// Synced publications the source no longer lists.
    pub removed: usize,
    /// Works that are the same as a publication typed by hand or imported (left as they are).
    pub kept: usize,
    /// Works the owner deleted earlier (not brought back).
    pub skipped_deleted: usize,
    /// Works that could not be kept (no title, or over the limit of publications).
    pub skipped_invalid: usize,
}

/// The outcome of syncing one profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncReport {
    pub faculty_id: String,
    /// Whether the profile changed (its version and ETag then changed too).
    pub changed: bool,
    /// The fields the sync set.
    pub fields: Vec<String>,
    pub publications: PublicationChanges,
    pub sources: Vec<SourceOutcome>,
}

/// Start a bulk sync of a university's profiles.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"university_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "sources": ["orcid", "openalex"]}))]
pub struct StartSync {
    pub university_id: String,
    /// Default: both. A profile is synced from the sources it has an identifier for.
    #[serde(default)]
    pub sources: Option<Vec<SyncSource>>,
}

/// One profile's failure in a bulk sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncJobError {
    pub faculty_id: String,
    /// The source that failed; absent when what the sources gave could not be saved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<SyncSource>,
    /// A source's error code (`unknown_id`, `timeout`, ...), or the problem code of what
    /// refused the merged profile (e.g. `conflict`).
    pub code: String,
    pub detail: String,
}

/// A bulk sync, polled until its `state` is `succeeded` or `failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SyncJob {
    pub id: String,
    /// Absent for the periodic refresh, which covers every university.
    pub university_id: Option<String>,
    pub kind: SyncJobKind,
    pub state: SyncJobState,
    pub sources: Vec<SyncSource>,
    /// Profiles with an identifier to sync, counted when the job started.
    pub total: i32,
    pub processed: i32,
    pub updated: i32,
    pub unchanged: i32,
    /// Profiles for which at least one source failed (see `errors`).
    pub failed: i32,
    /// The first 100 failures.
    pub errors: Vec<SyncJobError>,
    /// Why a failed job stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SyncJobList {
    pub items: Vec<SyncJob>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListSyncJobs {
    /// Only this university's jobs.
    pub university_id: Option<String>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
