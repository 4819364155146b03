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
