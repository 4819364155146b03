//! Nobody has to poll: changes become events (`events`), saved alerts are checked against the
//! records that change as the index takes them in (`alerts`), and one worker per deployment
//! (`worker`) turns events into each recipient's notifications, showing an event only to
//! those the policy lets read its record. This module is the API over a user's own
//! notifications and what they receive.

pub mod alerts;
pub mod events;
pub mod mail;
pub mod webhooks;
pub mod worker;

use std::collections::BTreeMap;

use serde_json::Value;

use crate::db::Db;
use crate::db::notifications::{self as rows, NotificationRow};
use crate::domain::PublicId;
use crate::domain::stored::Language;
use crate::dto::notifications::{
    Delivery, EventType, ListNotifications, MarkRead, MarkedRead, Notification, NotificationList,
    NotificationSettings,
};
use crate::error::{AppError, AppResult, FieldCode, FieldError};

use super::policy::Caller;
use super::{PageRequest, now};

/// One line saying what happened, in English (mails say it in the recipient's language).
fn summary(t: EventType, title: &str, data: &Value) -> String {
    mail::line(Language::En, t, title, data)
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

/// `GET /notification-settings`: every type, with its delivery, and the mail language.
pub async fn settings(db: &Db, caller: &Caller) -> AppResult<NotificationSettings> {
    let user = caller.user_id.clone();
    let (stored, language) = db
        .run(move |conn| {
            let language =
                crate::db::mail::preferences(conn, &user)?.map_or(Language::En, |p| p.language);
            Ok((rows::settings(conn, &user)?, language))
        })
        .await?;
    let mut deliveries: BTreeMap<EventType, Delivery> = EventType::ALL
        .iter()
        .map(|t| (*t, Delivery::InApp))
        .collect();
    for (t, d) in stored {
        if let (Some(t), Some(d)) = (EventType::from_wire(&t), Delivery::from_wire(&d)) {
            deliveries.insert(t, d);
        }
    }
    Ok(NotificationSettings {
        deliveries,
        language: Some(language),
    })
}

/// `PUT /notification-settings`: replaces the deliveries (a type left out is delivered in
/// the app) and sets the language when given. E-mail deliveries need an SMTP server.
pub async fn set_settings(
    db: &Db,
    mail: &mail::MailConfig,
    caller: &Caller,
    body: NotificationSettings,
) -> AppResult<NotificationSettings> {
    if !mail.enabled {
        let errors: Vec<FieldError> = body
            .deliveries
            .iter()
            .filter(|(_, d)| d.mails())
            .map(|(t, _)| {
                FieldError::new(
                    format!("deliveries.{}", t.as_str()),
                    FieldCode::NotAllowed,
                    "this deployment sends no e-mail (no smtp_url): in_app or none",
                )
            })
            .collect();
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
    }
    let user = caller.user_id.clone();
    let changed: Vec<(EventType, Delivery)> = body
        .deliveries
        .into_iter()
        .filter(|(_, d)| *d != Delivery::InApp)
        .collect();
    let language = body.language;
    db.write(move |conn| {
        rows::set_settings(conn, &user, &changed)?;
        if let Some(l) = language {
            mail::preferences(conn, &user)?;
            crate::db::mail::set_language(conn, &user, l)?;
        }
        Ok(())
    })
    .await?;
    settings(db, caller).await
}
