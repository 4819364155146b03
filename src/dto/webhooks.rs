//! Webhook endpoints and their deliveries.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::domain::stored::{DeliveryState, EventType};

/// A new endpoint of an organization. Deliveries follow the Standard Webhooks conventions:
/// a POST of `{"type", "timestamp", "data"}` with the headers `webhook-id` (the same on
/// every retry and replay), `webhook-timestamp` and `webhook-signature`
/// (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` keyed with the secret).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// `https://` (or `http://`) URL; private, loopback and link-local addresses are refused
    /// unless the deployment allows them.
    pub url: String,
    /// At least one.
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    /// `whsec_` followed by the base64 of 24–64 random bytes; generated when left out.
    pub secret: Option<String>,
}

/// Changes to an endpoint (`If-Match` required). `enabled: true` turns a disabled endpoint
/// back on: its pending deliveries go out again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub event_types: Option<Vec<EventType>>,
    #[serde(default, deserialize_with = "crate::dto::double_option")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Endpoint {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    pub event_types: Vec<EventType>,
    pub description: Option<String>,
    /// The signing secret (only the organization's admins read endpoints).
    pub secret: String,
    pub enabled: bool,
    /// Why it was disabled (`null` while enabled).
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EndpointList {
    pub items: Vec<Endpoint>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListPage {
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListDeliveries {
    pub state: Option<DeliveryState>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryAttempt {
    pub attempt: i32,
    pub at: DateTime<Utc>,
    /// The endpoint's HTTP status (`null`: no answer, see `error`).
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    /// The start of the answer's body (at most 1,000 characters).
    pub response: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDelivery {
    /// The `webhook-id` it is sent with.
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    pub state: DeliveryState,
    pub attempts: i32,
    /// When the next attempt is due (`null` once delivered or failed).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// The body sent (the same on every attempt).
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// Oldest first.
    pub attempt_log: Vec<DeliveryAttempt>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDeliveryList {
    /// Newest first.
    pub items: Vec<WebhookDelivery>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
