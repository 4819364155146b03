//! The audit log: who changed which centre, funded project, payment, engagement or
//! membership, when, and what it was before and after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::domain::stored::{AuditAction, AuditEntity};

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
