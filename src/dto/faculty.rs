//! Faculty profiles: who a professor is, what they work on, and how they collaborate.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::double_option;

pub use crate::domain::stored::{CollaborationType, ProfileVisibility};

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
    pub research_interests: Option<String>,
    pub keywords: Vec<String>,
    pub bio: Option<String>,
    pub languages: Vec<String>,
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
