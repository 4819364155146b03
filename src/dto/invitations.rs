//! Invitations to join an organization: what an admin sends, what the invited account sees.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::accounts::Role;
use super::organizations::OrganizationKind;

pub use crate::domain::stored::InvitationStatus;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"email": "minjun.kim@snu.ac.kr", "role": "faculty"})))]
pub struct InviteMember {
    pub email: String,
    pub role: Role,
}

/// An invitation of an email address to join an organization in a role. It says nothing about
/// whether an account with that address exists.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberInvitation {
    pub id: String,
    pub organization_id: String,
    pub organization_name: String,
    pub organization_kind: OrganizationKind,
    pub email: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Until when a pending invitation can be answered (`invitation_lifetime_days` after it
    /// was sent or last renewed, 14 by default); past it, its status reads `expired`. Absent
    /// once it is answered or revoked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MemberInvitationList {
    pub items: Vec<MemberInvitation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListInvitations {
    /// Only invitations in this status.
    pub status: Option<InvitationStatus>,
    /// Page size, 1-100 (default 20).
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
