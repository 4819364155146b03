//! Operational responses: liveness and readiness.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the process answers.
    pub status: String,
    pub version: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `unavailable` (then the response is a 503 problem with these checks).
    pub status: String,
    pub checks: Vec<Check>,
    /// How far the search index is behind the database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchLag>,
}

/// The search index's position in the outbox against the newest change.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchLag {
    /// The outbox position the searchable index covers.
    pub applied: i64,
    /// The newest outbox position in the database.
    pub latest: i64,
    /// `latest - applied`: changes not yet searchable.
    pub lag: i64,
    /// Whether the index is being rebuilt from the database.
    pub rebuilding: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Check {
    /// `database` or `index`.
    pub name: String,
    pub ok: bool,
    /// Why the check failed (generic; the cause is in the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}
