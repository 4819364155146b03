//! Notifications, what each user receives, and saved alerts.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::domain::stored::{AlertKind, Delivery, EventType, Language};

use super::faculty::CollaborationType;
use super::needs::NeedStatus;
use super::search::{Operator, SearchParams, SearchType};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When it was made (shortly after the event).
    pub created_at: DateTime<Utc>,
    /// When the user marked it read (`null`: unread).
    pub read_at: Option<DateTime<Utc>>,
    /// What the event is about: `need`, `engagement`, `funded_project`, `payment`, `center`,
    /// `compute_allocation`, `webhook_endpoint`, or for `alert.matched` `saved_alert` (the
    /// records it found are in `data.records`).
    pub entity: String,
    pub entity_id: String,
    /// The record's title as the recipient may see it (a need's, a project's, a centre's; an
    /// alert's name).
    pub title: String,
    /// One line saying what happened, in English.
    pub summary: String,
    /// The event's details: states before and after, ids of related records; for
    /// `alert.matched` the alert's `alert_id` and `alert_name`, `count` (its hits since the
    /// notification was made) and `records` (the best 10: `entity`, `id`, `title`, `score`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NotificationList {
    /// Newest first.
    pub items: Vec<Notification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// How many of the user's notifications are unread (all pages).
    pub unread_count: i64,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListNotifications {
    /// Only unread ones.
    pub unread: Option<bool>,
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Marks notifications read: every unread one, or those up to and including `up_to` (the
/// newest one the user has seen, so that one arriving meanwhile stays unread).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    pub up_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MarkedRead {
    /// How many were unread and are now read.
    pub marked: usize,
    pub unread_count: i64,
}

/// What a user receives: for every type of event, how: `in_app`; `immediate`, `daily` or
/// `weekly` (in the app and by e-mail, at once or in a digest; only where the deployment has
/// an SMTP server); or `none`. A type left out of a `PUT` is delivered in the app.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationSettings {
    #[schema(value_type = BTreeMap<String, Delivery>)]
    pub deliveries: BTreeMap<EventType, Delivery>,
    /// The language of e-mails (`en` unless set; a `PUT` without it keeps it).
    #[serde(default)]
    pub language: Option<Language>,
}

/// The search a search alert saves: `GET /search`'s parameters without paging.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertSearch {
    #[serde(rename = "type")]
    pub kind: SearchType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Unset: every word must match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<Operator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub university_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<NeedStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collaboration_type: Option<CollaborationType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
}

impl AlertSearch {
    pub fn params(&self) -> SearchParams {
        SearchParams {
            q: self.q.clone(),
            operator: self.operator,
            kind: self.kind,
            university_id: self.university_id.clone(),
            company_id: self.company_id.clone(),
            country: self.country.clone(),
            department: self.department.clone(),
            status: self.status,
            collaboration_type: self.collaboration_type,
            keyword: self.keyword.clone(),
            limit: None,
            offset: None,
        }
    }
}

/// A saved alert. Exactly one of `search`, `need_id` and `faculty_id`: `search` watches for
/// new and changed records that search finds; `need_id` (a need of the caller's company)
/// for profiles whose match score for it reaches `min_score`; `faculty_id` (the caller's own
/// profile, or one of their university's for its office) for open needs whose score for it
/// reaches `min_score`. A record fits an alert once: a later change of it does not notify
/// again.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    /// 1–200 characters.
    pub name: String,
    pub search: Option<AlertSearch>,
    pub need_id: Option<String>,
    pub faculty_id: Option<String>,
    /// 0–1 (a match score, as the match lists show it); required with `need_id` or
    /// `faculty_id`.
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub min_score: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: String,
    pub name: String,
    pub kind: AlertKind,
    /// What it watches: profiles (`faculty`), needs (`need`) or centres (`center`).
    pub target: SearchType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<AlertSearch>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub faculty_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_score: Option<f64>,
    pub created_at: DateTime<Utc>,
}

/// Paging of an alert's hits.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListAlertHits {
    /// 1–100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// Hits to skip: `next_offset` of the previous page. At most 1,000,000.
    #[param(minimum = 0, maximum = 1000000)]
    pub offset: Option<i64>,
}

/// A record an alert found (once: a record fits an alert once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertHit {
    /// `faculty_profile`, `need` or `center`.
    pub entity: String,
    pub id: String,
    /// Its title (a profile's name) when it was found.
    pub title: String,
    /// Its pair score when found (match alerts; `null` for searches).
    pub score: Option<f64>,
    pub found_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertHitList {
    /// Newest first; only records the caller may still read.
    pub items: Vec<AlertHit>,
    /// The `offset` of the next page, if there is one.
    pub next_offset: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    /// Oldest first.
    pub items: Vec<Alert>,
}
