//! Nobody has to poll: changes become events (`events`), saved alerts are checked against the
//! records that change as the index takes them in (`alerts`), and one worker per deployment
//! (`worker`) turns events into each recipient's notifications, showing an event only to
//! those the policy lets read its record. This module is the API over a user's own
//! notifications and what they receive.

pub mod alerts;
pub mod events;
pub mod webhooks;
pub mod worker;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::db::Db;
use crate::db::notifications::{self as rows, NotificationRow};
use crate::domain::PublicId;
use crate::dto::notifications::{
    Delivery, EventType, ListNotifications, MarkRead, MarkedRead, Notification, NotificationList,
    NotificationSettings,
};
use crate::error::{AppError, AppResult};

use super::policy::Caller;
use super::{PageRequest, now};

fn field(data: &Value, key: &str) -> String {
    match data.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// One line saying what happened (English; the e-mail digests carry the translations).
fn summary(t: EventType, title: &str, data: &Value) -> String {
    match t {
        EventType::NeedPublished => format!("New need: {title}"),
        EventType::NeedUpdated => format!("Need updated: {title}"),
        EventType::NeedClosed => format!("Need closed: {title}"),
        EventType::EngagementStateChanged => {
            format!("Engagement on “{title}” is now {}", field(data, "state"))
        }
        EventType::InvitationReceived => format!("Invitation to “{title}”"),
        EventType::FundedProjectCreated => format!("New funded project: {title}"),
        EventType::PaymentReceived => format!(
            "Payment received for {title}: {} {} (minor units)",
            field(data, "amount_minor"),
            field(data, "currency")
        ),
        EventType::PaymentOverdue => format!(
            "Payment overdue for {title} (due {})",
            field(data, "due_date")
        ),
        EventType::CenterRenewalDue => {
            format!("Renewal of {title} due on {}", field(data, "renewal_date"))
        }
        EventType::AllocationDecided => {
            format!("Compute allocation on {title} {}", field(data, "state"))
        }
        EventType::AlertMatched => {
            format!("{title} fits your alert “{}”", field(data, "alert_name"))
        }
        EventType::WebhookDisabled => format!(
            "Webhook endpoint {title} was disabled: {}",
            field(data, "disabled_reason")
        ),
    }
}

fn view(row: NotificationRow) -> AppResult<Notification> {
    let kind = EventType::from_wire(&row.event_type)
        .ok_or_else(|| AppError::internal(format!("unknown event type {}", row.event_type)))?;
    let data: Value = serde_json::from_str(&row.data).map_err(AppError::internal)?;
    Ok(Notification {
        summary: summary(kind, &row.title, &data),
        id: row.id,
        kind,
        created_at: row.created_at.and_utc(),
        read_at: row.read_at.map(|t| t.and_utc()),
        entity: row.entity,
        entity_id: row.entity_id,
        title: row.title,
        data,
    })
}

/// `GET /notifications`: the caller's, newest first.
pub async fn list(db: &Db, caller: &Caller, q: ListNotifications) -> AppResult<NotificationList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let user = caller.user_id.clone();
    db.run(move |conn| {
        let found = rows::list(
            conn,
            &user,
            q.unread.unwrap_or(false),
            page.after.as_deref(),
            page.limit + 1,
        )?;
        let (found, next_cursor) = page.finish(found, |r| &r.id);
        Ok(NotificationList {
            items: found.into_iter().map(view).collect::<AppResult<_>>()?,
            next_cursor,
            unread_count: rows::unread_count(conn, &user)?,
        })
    })
    .await
}

/// `POST /notifications/{id}/read`: idempotent; 404 for another user's.
pub async fn mark_one(db: &Db, caller: &Caller, id: String) -> AppResult<Notification> {
    let user = caller.user_id.clone();
    db.write(move |conn| {
        if rows::find(conn, &user, &id)?.is_none() {
            return Err(AppError::not_found("Notification"));
        }
        rows::mark_read(conn, &user, Some(&id), None, now())?;
        rows::find(conn, &user, &id)?
            .ok_or_else(|| AppError::not_found("Notification"))
            .and_then(view)
    })
    .await
}

/// `POST /notifications/read`: every unread one, or those up to `up_to`.
pub async fn mark_all(db: &Db, caller: &Caller, body: MarkRead) -> AppResult<MarkedRead> {
    let up_to = PublicId::body_field("up_to", body.up_to.as_deref())?;
    let user = caller.user_id.clone();
    db.write(move |conn| {
        let marked = rows::mark_read(conn, &user, None, up_to.as_deref(), now())?;
        Ok(MarkedRead {
            marked,
            unread_count: rows::unread_count(conn, &user)?,
        })
    })
    .await
}

/// `GET /notification-settings`: every type, with its delivery.
pub async fn settings(db: &Db, caller: &Caller) -> AppResult<NotificationSettings> {
    let user = caller.user_id.clone();
    let stored = db.run(move |conn| Ok(rows::settings(conn, &user)?)).await?;
    let mut deliveries: BTreeMap<EventType, Delivery> = EventType::ALL
        .iter()
        .map(|t| (*t, Delivery::InApp))
        .collect();
    for (t, d) in stored {
        if let (Some(t), Some(d)) = (EventType::from_wire(&t), Delivery::from_wire(&d)) {
            deliveries.insert(t, d);
        }
    }
    Ok(NotificationSettings { deliveries })
}

/// `PUT /notification-settings`: replaces them (a type left out is delivered in the app).
pub async fn set_settings(
    db: &Db,
    caller: &Caller,
    body: NotificationSettings,
) -> AppResult<NotificationSettings> {
    let user = caller.user_id.clone();
    let changed: Vec<(EventType, Delivery)> = body
        .deliveries
        .into_iter()
        .filter(|(_, d)| *d != Delivery::InApp)
        .collect();
    db.write(move |conn| Ok(rows::set_settings(conn, &user, &changed)?))
        .await?;
    settings(db, caller).await
}
