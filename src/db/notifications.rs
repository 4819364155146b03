//! Events, notifications, delivery settings, saved alerts and the positions of the workers
//! that follow the event log and the search outbox.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    alert_hits, centers, events, faculty_profiles, funded_projects, mail_outbox, memberships,
    notification_settings, notifications, project_payments, saved_alerts, users, webhook_attempts,
    webhook_deliveries, workers,
};
use crate::domain::stored::{AlertKind, Delivery, EventType, Role};

// Events.

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub event_type: String,
    pub at: NaiveDateTime,
    pub entity: String,
    pub entity_id: String,
    pub audit_entry_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub recipient_user_id: Option<String>,
    pub data: String,
}

pub struct NewEvent<'a> {
    pub id: &'a str,
    pub event_type: EventType,
    pub at: NaiveDateTime,
    pub entity: &'a str,
    pub entity_id: &'a str,
    pub audit_entry_id: Option<&'a str>,
    pub actor_user_id: Option<&'a str>,
    pub recipient_user_id: Option<&'a str>,
    pub data: &'a serde_json::Value,
    pub once_key: Option<&'a str>,
}

/// Records an event in the caller's transaction; false (and nothing written) when its
/// `once_key` was recorded before. On PostgreSQL it takes the outbox's ordering lock first,
/// so that events become visible in `seq` order (see `outbox::enqueue`).
pub fn insert_event(conn: &mut DbConn, e: &NewEvent<'_>) -> QueryResult<bool> {
    if let DbConn::Pg(pg) = conn {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({})",
            super::outbox::OUTBOX_LOCK
        ))
        .execute(pg)?;
    }
    if let Some(key) = e.once_key {
        let seen: i64 = events::table
            .filter(events::once_key.eq(key))
            .count()
            .get_result(conn)?;
        if seen > 0 {
            return Ok(false);
        }
    }
    diesel::insert_into(events::table)
        .values((
            events::id.eq(e.id),
            events::event_type.eq(e.event_type.as_str()),
            events::at.eq(e.at),
            events::entity.eq(e.entity),
            events::entity_id.eq(e.entity_id),
            events::audit_entry_id.eq(e.audit_entry_id),
            events::actor_user_id.eq(e.actor_user_id),
            events::recipient_user_id.eq(e.recipient_user_id),
            events::data.eq(e.data.to_string()),
            events::once_key.eq(e.once_key),
        ))
        .execute(conn)?;
    Ok(true)
}

/// What [`prune`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pruned {
    pub notifications: usize,
    pub deliveries: usize,
    pub mails: usize,
    pub events: usize,
}

/// Forgets what is older than `before`: notifications, webhook deliveries and mails that are
/// no longer pending (a delivery with its attempts), and the events that none of those still
/// points at, that the notifier has passed (`processed`) and that do not keep something from
/// happening twice (`once_key`: an overdue payment, a coming renewal).
pub fn prune(conn: &mut DbConn, before: NaiveDateTime, processed: i64) -> QueryResult<Pruned> {
    let notifications =
        diesel::delete(notifications::table.filter(notifications::created_at.lt(before)))
            .execute(conn)?;
    let finished = webhook_deliveries::table
        .filter(webhook_deliveries::state.ne("pending"))
        .filter(webhook_deliveries::created_at.lt(before));
    diesel::delete(
        webhook_attempts::table
            .filter(webhook_attempts::delivery_id.eq_any(finished.select(webhook_deliveries::id))),
    )
    .execute(conn)?;
    let deliveries = diesel::delete(finished).execute(conn)?;
    let mails = diesel::delete(
        mail_outbox::table
            .filter(mail_outbox::state.ne("pending"))
            .filter(mail_outbox::created_at.lt(before)),
    )
    .execute(conn)?;
    let events = diesel::delete(
        events::table
            .filter(events::at.lt(before))
            .filter(events::seq.le(processed))
            .filter(events::once_key.is_null())
            .filter(diesel::dsl::not(
                events::id.eq_any(notifications::table.select(notifications::event_id)),
            ))
            .filter(diesel::dsl::not(events::id.eq_any(
                webhook_deliveries::table.select(webhook_deliveries::event_id),
            ))),
    )
    .execute(conn)?;
    Ok(Pruned {
        notifications,
        deliveries,
        mails,
        events,
    })
}

/// Events after `seq`, oldest first.
pub fn events_after(conn: &mut DbConn, seq: i64, limit: i64) -> QueryResult<Vec<EventRow>> {
    events::table
        .filter(events::seq.gt(seq))
        .order(events::seq.asc())
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)
}

pub fn find_event(conn: &mut DbConn, id: &str) -> QueryResult<Option<EventRow>> {
    events::table
        .filter(events::id.eq(id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()
}

/// Whether an event with this once-key was recorded.
pub fn once_seen(conn: &mut DbConn, key: &str) -> QueryResult<bool> {
    let n: i64 = events::table
        .filter(events::once_key.eq(key))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Scheduled payments of live projects whose due date is before `today`.
pub fn overdue_payments(
    conn: &mut DbConn,
    today: chrono::NaiveDate,
) -> QueryResult<Vec<(String, chrono::NaiveDate)>> {
    project_payments::table
        .inner_join(funded_projects::table.on(funded_projects::id.eq(project_payments::project_id)))
        .filter(funded_projects::deleted_at.is_null())
        .filter(project_payments::status.eq("scheduled"))
        .filter(project_payments::due_date.lt(today))
        .select((
            project_payments::id,
            project_payments::due_date.assume_not_null(),
        ))
        .load(conn)
}

/// Active live centres whose renewal date falls between `from` and `to`.
pub fn renewals_due(
    conn: &mut DbConn,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> QueryResult<Vec<(String, chrono::NaiveDate)>> {
    centers::table
        .filter(centers::deleted_at.is_null())
        .filter(centers::status.eq("active"))
        .filter(centers::renewal_date.ge(from))
        .filter(centers::renewal_date.le(to))
        .select((centers::id, centers::renewal_date.assume_not_null()))
        .load(conn)
}

// Workers.

/// Takes (or renews) the named worker's lease for `holder` when it is free, expired or
/// already `holder`'s; returns its position when taken.
pub fn claim(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Option<i64>> {
    let n = diesel::update(
        workers::table.filter(workers::name.eq(name)).filter(
            workers::holder
                .is_null()
                .or(workers::holder.eq(holder))
                .or(workers::lease_until.lt(now)),
        ),
    )
    .set((workers::holder.eq(holder), workers::lease_until.eq(until)))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    workers::table
        .filter(workers::name.eq(name))
        .select(workers::position)
        .first(conn)
        .optional()
}

/// Moves the worker to `position` if `holder` still holds it; false when it lost the lease
/// (the caller's transaction must then be rolled back).
pub fn advance(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    position: i64,
    until: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        workers::table
            .filter(workers::name.eq(name))
            .filter(workers::holder.eq(holder)),
    )
    .set((
        workers::position.eq(position),
        workers::lease_until.eq(until),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives the lease up (a clean stop), so that another process takes over at once.
pub fn release(conn: &mut DbConn, name: &str, holder: &str) -> QueryResult<()> {
    diesel::update(
        workers::table
            .filter(workers::name.eq(name))
            .filter(workers::holder.eq(holder)),
    )
    .set((
        workers::holder.eq(None::<String>),
        workers::lease_until.eq(None::<NaiveDateTime>),
    ))
    .execute(conn)?;
    Ok(())
}

pub fn position(conn: &mut DbConn, name: &str) -> QueryResult<i64> {
    workers::table
        .filter(workers::name.eq(name))
        .select(workers::position)
        .first(conn)
}

// Recipients.

/// The admins and staff (the office, at a university) of these organizations, enabled.
pub fn staff_of(conn: &mut DbConn, organizations: &[String]) -> QueryResult<Vec<String>> {
    memberships::table
        .inner_join(users::table.on(users::id.eq(memberships::user_id)))
        .filter(memberships::organization_id.eq_any(organizations))
        .filter(memberships::role.eq_any([Role::Admin, Role::Staff]))
        .filter(users::disabled.eq(false))
        .filter(users::deleted_at.is_null())
        .select(users::id)
        .distinct()
        .load(conn)
}

/// The accounts that own these profiles.
pub fn owners_of(conn: &mut DbConn, faculty_ids: &[String]) -> QueryResult<Vec<String>> {
    faculty_profiles::table
        .filter(faculty_profiles::id.eq_any(faculty_ids))
        .filter(faculty_profiles::owner_user_id.is_not_null())
        .select(faculty_profiles::owner_user_id.assume_not_null())
        .distinct()
        .load(conn)
}

// Notifications.

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: String,
    pub user_id: String,
    pub event_id: String,
    pub event_type: String,
    pub entity: String,
    pub entity_id: String,
    pub title: String,
    pub data: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

/// The user's unread, unmailed notification of an alert's hits, if any: new hits of the
/// alert join it.
pub fn open_alert_notification(
    conn: &mut DbConn,
    user_id: &str,
    alert_id: &str,
) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::event_type.eq(EventType::AlertMatched.as_str()))
        .filter(notifications::entity.eq(ALERT_ENTITY))
        .filter(notifications::entity_id.eq(alert_id))
        .filter(notifications::read_at.is_null())
        .filter(notifications::mailed_at.is_null())
        .order(notifications::id.desc())
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

/// Deletes a notification if it is still unread and unmailed; true when it was.
pub fn take_open_notification(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(
        notifications::table
            .filter(notifications::id.eq(id))
            .filter(notifications::read_at.is_null())
            .filter(notifications::mailed_at.is_null()),
    )
    .execute(conn)?
        == 1)
}

/// What an `alert.matched` event is about: the saved alert (its records are in its data).
pub const ALERT_ENTITY: &str = "saved_alert";

/// Adds a notification unless the user already has one for the event; true when added.
pub fn notify(conn: &mut DbConn, row: &NotificationRow) -> QueryResult<bool> {
    let seen: i64 = notifications::table
        .filter(notifications::user_id.eq(&row.user_id))
        .filter(notifications::event_id.eq(&row.event_id))
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    diesel::insert_into(notifications::table)
        .values((
            notifications::id.eq(&row.id),
            notifications::user_id.eq(&row.user_id),
            notifications::event_id.eq(&row.event_id),
            notifications::event_type.eq(&row.event_type),
            notifications::entity.eq(&row.entity),
            notifications::entity_id.eq(&row.entity_id),
            notifications::title.eq(&row.title),
            notifications::data.eq(&row.data),
            notifications::created_at.eq(row.created_at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// A user's notifications, newest first, before the cursor's id.
pub fn list(
    conn: &mut DbConn,
    user_id: &str,
    unread_only: bool,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<NotificationRow>> {
    let mut q = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .into_boxed();
    if unread_only {
        q = q.filter(notifications::read_at.is_null());
    }
    if let Some(b) = before {
        q = q.filter(notifications::id.lt(b.to_owned()));
    }
    q.order(notifications::id.desc())
        .limit(limit)
        .select(NotificationRow::as_select())
        .load(conn)
}

pub fn unread_count(conn: &mut DbConn, user_id: &str) -> QueryResult<i64> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .count()
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, user_id: &str, id: &str) -> QueryResult<Option<NotificationRow>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::id.eq(id))
        .select(NotificationRow::as_select())
        .first(conn)
        .optional()
}

/// Marks the user's unread notifications read: one, or all up to and including `up_to`
/// (None: all).
pub fn mark_read(
    conn: &mut DbConn,
    user_id: &str,
    only: Option<&str>,
    up_to: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut q = diesel::update(notifications::table)
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    if let Some(id) = only {
        q = q.filter(notifications::id.eq(id.to_owned()));
    }
    if let Some(id) = up_to {
        q = q.filter(notifications::id.le(id.to_owned()));
    }
    q.set(notifications::read_at.eq(now)).execute(conn)
}

// Settings.

/// The user's deliveries that differ from the default (in the app), by event type.
pub fn settings(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(String, String)>> {
    notification_settings::table
        .filter(notification_settings::user_id.eq(user_id))
        .select((
            notification_settings::event_type,
            notification_settings::delivery,
        ))
        .load(conn)
}

/// Replaces the user's settings.
pub fn set_settings(
    conn: &mut DbConn,
    user_id: &str,
    deliveries: &[(EventType, Delivery)],
) -> QueryResult<()> {
    diesel::delete(notification_settings::table.filter(notification_settings::user_id.eq(user_id)))
        .execute(conn)?;
    for (t, d) in deliveries {
        diesel::insert_into(notification_settings::table)
            .values((
                notification_settings::user_id.eq(user_id),
                notification_settings::event_type.eq(t.as_str()),
                notification_settings::delivery.eq(d.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// How each of these users receives this type of event (`in_app` unless they chose otherwise).
pub fn deliveries(
    conn: &mut DbConn,
    user_ids: &[String],
    t: EventType,
) -> QueryResult<std::collections::HashMap<String, Delivery>> {
    let chosen: Vec<(String, String)> = notification_settings::table
        .filter(notification_settings::user_id.eq_any(user_ids))
        .filter(notification_settings::event_type.eq(t.as_str()))
        .select((
            notification_settings::user_id,
            notification_settings::delivery,
        ))
        .load(conn)?;
    let mut out: std::collections::HashMap<String, Delivery> = user_ids
        .iter()
        .map(|u| (u.clone(), Delivery::InApp))
        .collect();
    for (u, d) in chosen {
        if let Some(d) = Delivery::from_wire(&d) {
            out.insert(u, d);
        }
    }
    Ok(out)
}

// Saved alerts.

/// A record a saved alert has found (once: the key is the alert and the record).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = alert_hits, treat_none_as_default_value = false)]
pub struct AlertHitRow {
    pub alert_id: String,
    pub entity_id: String,
    pub entity: String,
    pub title: String,
    pub score: Option<f64>,
    pub found_at: NaiveDateTime,
}

/// Ids per statement, under SQLite's limit on bound parameters.
const CHUNK: usize = 500;

/// Of `ids`, those `alert` has found before.
pub fn hits_known(
    conn: &mut DbConn,
    alert: &str,
    ids: &[&str],
) -> QueryResult<std::collections::HashSet<String>> {
    let mut known = std::collections::HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        known.extend(
            alert_hits::table
                .filter(alert_hits::alert_id.eq(alert))
                .filter(alert_hits::entity_id.eq_any(chunk))
                .select(alert_hits::entity_id)
                .load::<String>(conn)?,
        );
    }
    Ok(known)
}

pub fn insert_hits(conn: &mut DbConn, rows: &[AlertHitRow]) -> QueryResult<()> {
    // Many rows per statement (the generic connection has no batch insert).
    for chunk in rows.chunks(CHUNK / 6) {
        let insert = diesel::insert_into(alert_hits::table).values(chunk);
        match conn {
            DbConn::Sqlite(c) => insert.execute(c)?,
            DbConn::Pg(c) => insert.execute(c)?,
        };
    }
    Ok(())
}

/// An alert's hits of one step (found at `at`), best scored first.
pub fn hits_found_at(
    conn: &mut DbConn,
    alert: &str,
    at: NaiveDateTime,
) -> QueryResult<Vec<AlertHitRow>> {
    alert_hits::table
        .filter(alert_hits::alert_id.eq(alert))
        .filter(alert_hits::found_at.eq(at))
        .order((alert_hits::score.desc(), alert_hits::title.asc()))
        .select(AlertHitRow::as_select())
        .load(conn)
}

/// An alert's hits, newest first.
pub fn hits_of(
    conn: &mut DbConn,
    alert: &str,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<AlertHitRow>> {
    alert_hits::table
        .filter(alert_hits::alert_id.eq(alert))
        .order((alert_hits::found_at.desc(), alert_hits::entity_id.asc()))
        .limit(limit)
        .offset(offset)
        .select(AlertHitRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = saved_alerts)]
pub struct AlertRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub kind: AlertKind,
    pub target: String,
    pub search: Option<String>,
    pub need_id: Option<String>,
    pub faculty_id: Option<String>,
    pub min_score: Option<f64>,
    pub created_at: NaiveDateTime,
}

pub fn insert_alert(conn: &mut DbConn, a: &AlertRow) -> QueryResult<()> {
    diesel::insert_into(saved_alerts::table)
        .values((
            saved_alerts::id.eq(&a.id),
            saved_alerts::user_id.eq(&a.user_id),
            saved_alerts::name.eq(&a.name),
            saved_alerts::kind.eq(a.kind),
            saved_alerts::target.eq(&a.target),
            saved_alerts::search.eq(&a.search),
            saved_alerts::need_id.eq(&a.need_id),
            saved_alerts::faculty_id.eq(&a.faculty_id),
            saved_alerts::min_score.eq(a.min_score),
            saved_alerts::created_at.eq(a.created_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// A user's alerts, oldest first.
pub fn alerts_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<AlertRow>> {
    saved_alerts::table
        .filter(saved_alerts::user_id.eq(user_id))
        .order(saved_alerts::id.asc())
        .select(AlertRow::as_select())
        .load(conn)
}

/// How many alerts a user has saved.
pub fn alert_count(conn: &mut DbConn, user_id: &str) -> QueryResult<i64> {
    saved_alerts::table
        .filter(saved_alerts::user_id.eq(user_id))
        .count()
        .get_result(conn)
}

pub fn find_alert(conn: &mut DbConn, id: &str) -> QueryResult<Option<AlertRow>> {
    saved_alerts::table
        .filter(saved_alerts::id.eq(id))
        .select(AlertRow::as_select())
        .first(conn)
        .optional()
}

pub fn delete_alert(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    Ok(diesel::delete(saved_alerts::table.filter(saved_alerts::id.eq(id))).execute(conn)? == 1)
}

/// Every alert watching records of `target` (`faculty`, `need`, `center`), by id.
pub fn alerts_watching(conn: &mut DbConn, target: &str) -> QueryResult<Vec<AlertRow>> {
    saved_alerts::table
        .filter(saved_alerts::target.eq(target))
        .order(saved_alerts::id.asc())
        .select(AlertRow::as_select())
        .load(conn)
}

// Titles a notification shows.

pub fn need_title(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    super::schema::needs::table
        .filter(super::schema::needs::id.eq(id))
        .select(super::schema::needs::title)
        .first(conn)
        .optional()
}

pub fn project_title(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    funded_projects::table
        .filter(funded_projects::id.eq(id))
        .select(funded_projects::title)
        .first(conn)
        .optional()
}

pub fn resource_name(conn: &mut DbConn, id: &str) -> QueryResult<Option<String>> {
    super::schema::compute_resources::table
        .filter(super::schema::compute_resources::id.eq(id))
        .select(super::schema::compute_resources::name)
        .first(conn)
        .optional()
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::db::Db;
    use crate::error::AppResult;

    fn event(conn: &mut DbConn, id: &str, at: NaiveDateTime, once: Option<&str>) -> i64 {
        let data = serde_json::json!({});
        insert_event(
            conn,
            &NewEvent {
                id,
                event_type: EventType::NeedPublished,
                at,
                entity: "need",
                entity_id: "n",
                audit_entry_id: None,
                actor_user_id: None,
                recipient_user_id: None,
                data: &data,
                once_key: once,
            },
        )
        .ok();
        events::table
            .filter(events::id.eq(id))
            .select(events::seq)
            .first(conn)
            .unwrap_or(-1)
    }

    /// Retention forgets old notifications and the events nothing needs any more, and keeps
    /// events not yet turned into notifications, those a notification still points at, and
    /// those that stop an announcement from repeating.
    #[test]
    fn pruning_keeps_what_is_still_needed() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url, 2, Duration::from_secs(5))?;
        db.migrate()?;
        let now = chrono::Utc::now().naive_utc();
        let old = now - chrono::TimeDelta::days(400);
        let cutoff = now - chrono::TimeDelta::days(365);
        let left = db.write_blocking(|c| -> AppResult<(Pruned, Vec<String>, usize)> {
            crate::db::accounts::insert_user(
                c,
                &crate::db::accounts::NewUser {
                    id: "u",
                    email: "u@example.com",
                    email_key: "u@example.com",
                    display_name: "U",
                    password_hash: "x",
                    is_platform_operator: false,
                    disabled: false,
                    version: 1,
                    created_at: old,
                    updated_at: old,
                },
            )?;
            event(c, "old-notified-old", old, None);
            event(c, "old-notified-recently", old, None);
            event(c, "old-alone", old, None);
            event(c, "old-once", old, Some("payment:p:2025-01-01"));
            let processed = event(c, "recent", now, None);
            let pending = event(c, "old-not-yet-processed", old, None);
            assert!(pending > processed);
            for (id, event_id, at) in [
                ("n1", "old-notified-old", old),
                ("n2", "old-notified-recently", now),
            ] {
                notify(
                    c,
                    &NotificationRow {
                        id: id.into(),
                        user_id: "u".into(),
                        event_id: event_id.into(),
                        event_type: "need.published".into(),
                        entity: "need".into(),
                        entity_id: "n".into(),
                        title: "t".into(),
                        data: "{}".into(),
                        created_at: at,
                        read_at: None,
                    },
                )?;
            }
            let pruned = prune(c, cutoff, processed)?;
            let kept: Vec<String> = events::table
                .order(events::seq.asc())
                .select(events::id)
                .load(c)?;
            let notes = notifications::table.count().get_result::<i64>(c)? as usize;
            Ok((pruned, kept, notes))
        })?;
        let (pruned, kept, notes) = left;
        assert_eq!(pruned.notifications, 1);
        assert_eq!(pruned.events, 2, "{kept:?}");
        assert_eq!(
            kept,
            [
                "old-notified-recently",
                "old-once",
                "recent",
                "old-not-yet-processed"
            ]
        );
        assert_eq!(notes, 1);
        Ok(())
    }
}
