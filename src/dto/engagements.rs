//! Engagements: a company and a professor working towards a collaboration on one need, and
//! the history of how they got there.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::domain::stored::{DeclineReason, EngagementState};

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"need_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "faculty_id": "019ac9a4-6c1d-7e3f-8a9b-0c1d2e3f4a5b", "state": "invited"}),
    json!({"need_id": "019ac9a4-5b7e-7d2c-9f7a-3c1e2b4d5a6f", "faculty_id": "019ac9a4-6c1d-7e3f-8a9b-0c1d2e3f4a5b", "state": "interested",
           "reason_text": "Our lab works on exactly this"})
))]
pub struct CreateEngagement {
    pub need_id: String,
    pub faculty_id: String,
    /// `shortlisted` or `invited` (the need's company), or `interested` (the profile's owner).
    #[schema(schema_with = opening_state)]
    pub state: EngagementState,
    /// An optional note recorded with the first event.
    #[serde(default)]
    pub reason_text: Option<String>,
}

/// The states an engagement can begin in; the others are reached by transitions only.
fn opening_state() -> utoipa::openapi::Object {
    use utoipa::openapi::schema::{ObjectBuilder, Type};
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(
            "`shortlisted` or `invited` (the need's company), or `interested` (the profile's owner).",
        ))
        .enum_values(Some(
            [
                EngagementState::Shortlisted,
                EngagementState::Invited,
                EngagementState::Interested,
            ]
            .map(EngagementState::as_str),
        ))
        .build()
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(
    json!({"to": "interested"}),
    json!({"to": "declined", "reason_code": "timeline", "reason_text": "Fully booked until spring"}),
    json!({"to": "declined", "reason_code": "other", "reason_text": "On sabbatical"})
))]
pub struct Transition {
    pub to: EngagementState,
    /// Only with `to: declined`.
    #[serde(default)]
    pub reason_code: Option<DeclineReason>,
    /// Free text (up to 2,000 characters); required with `reason_code: other`.
    #[serde(default)]
    pub reason_text: Option<String>,
}

/// One state change, as it happened; events are never changed (a professor's interest that
/// takes the place of a shortlist they could not see carries its events over).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EngagementEvent {
    /// `null` for the event that created the engagement.
    pub from: Option<EngagementState>,
    pub to: EngagementState,
    /// Who made the change.
    pub actor_user_id: String,
    pub reason_code: Option<DeclineReason>,
    pub reason_text: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Engagement {
    pub id: String,
    pub need_id: String,
    pub faculty_id: String,
    pub state: EngagementState,
    /// The states this one may move to next (empty when final); who may make each move is in
    /// docs/api.md.
    pub next_states: Vec<EngagementState>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Every state change, oldest first. The need's company and operators see them all; the
    /// professor and their university's office from the first invitation or interest on (and
    /// `created_by` / `created_at` are that event's): a shortlist is the company's own note.
    pub events: Vec<EngagementEvent>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EngagementList {
    pub items: Vec<Engagement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListEngagements {
    pub need_id: Option<String>,
    pub faculty_id: Option<String>,
    pub state: Option<EngagementState>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}
