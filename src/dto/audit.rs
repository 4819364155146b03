//! The audit log: who changed which centre, funded project, payment, engagement or
//! membership, when, and what it was before and after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    Restore,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
            Self::Restore => "restore",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "create" => Self::Create,
            "update" => Self::Update,
            "delete" => Self::Delete,
            "restore" => Self::Restore,
            _ => return None,
        })
    }
}

/// What kind of record an entry is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditEntity {
    Center,
    FundedProject,
    Payment,
    Engagement,
    Membership,
    /// An invitation to join an organization (created, then accepted, declined or revoked).
    Invitation,
    Need,
    Organization,
    /// Who owns a faculty profile: linking it to an account, or unlinking it.
    FacultyProfile,
}

impl AuditEntity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Center => "center",
            Self::FundedProject => "funded_project",
            Self::Payment => "payment",
            Self::Engagement => "engagement",
            Self::Membership => "membership",
            Self::Invitation => "invitation",
            Self::Need => "need",
            Self::Organization => "organization",
            Self::FacultyProfile => "faculty_profile",
        }
    }

    pub fn from_db(s: &str) -> Option<Self> {
        Some(match s {
            "center" => Self::Center,
            "funded_project" => Self::FundedProject,
            "payment" => Self::Payment,
            "engagement" => Self::Engagement,
            "membership" => Self::Membership,
            "invitation" => Self::Invitation,
            "need" => Self::Need,
            "organization" => Self::Organization,
            "faculty_profile" => Self::FacultyProfile,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAudit {
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<String>,
    /// Who made the change.
    pub actor_user_id: Option<String>,
    /// Entries concerning this organization (you must be its admin or staff, or an operator).
    pub organization_id: Option<String>,
    pub action: Option<AuditAction>,
    /// Entries at or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    /// The user who made the change (absent for the command line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_user_id: Option<String>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: String,
    /// The organizations the change concerns.
    pub organization_ids: Vec<String>,
    /// The record before the change (absent for a create).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
    /// The record after the change (absent for a delete).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<serde_json::Value>,
    /// Top-level fields whose value differs between `before` and `after`.
    pub changed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    /// Oldest first.
    pub items: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
