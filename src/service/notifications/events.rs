//! Events: what happened that someone should hear of. Every change is recorded in the audit
//! log inside its own transaction; the changes others care about also become events there
//! (`from_change`), so an event exists exactly when its change does, and who may see it is
//! decided by the audit entry it points at, through the audit log's own visibility rules.
//! Events that come from time passing (a payment falling overdue, a centre's renewal coming
//! up) are found by a daily scan (`scan_due`) and point at their record's latest entry; a
//! saved alert's hits are meant for its owner alone (`alert_matched`).

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::{Value, json};

use crate::db::DbConn;
use crate::db::audit::Change;
pub use crate::db::notifications::ALERT_ENTITY;
use crate::db::notifications::{self as rows, NewEvent};
use crate::domain::PublicId;
use crate::domain::stored::{AuditAction, AuditEntity, EventType};
use crate::error::AppResult;

/// How long before its renewal date a centre's renewal is announced.
pub const RENEWAL_NOTICE_DAYS: i64 = 60;

fn text<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a str> {
    v?.get(key)?.as_str()
}

/// The event a change makes, if any.
fn event_type(c: &Change<'_>) -> Option<EventType> {
    let (before, after) = (c.before.as_ref(), c.after.as_ref());
    match c.entity {
        AuditEntity::Need => {
            let was = text(before, "status");
            let now = text(after, "status");
            match (c.action, was, now) {
                (AuditAction::Delete, Some("open"), _) => Some(EventType::NeedClosed),
                (AuditAction::Create | AuditAction::Update, _, Some("open")) => {
                    if was == Some("open") {
                        Some(EventType::NeedUpdated)
                    } else {
                        Some(EventType::NeedPublished)
                    }
                }
                (AuditAction::Update, Some("open"), Some("closed" | "awarded")) => {
                    Some(EventType::NeedClosed)
                }
                _ => None,
            }
        }
        AuditEntity::Engagement => {
            let to = text(after, "state")?;
            if c.action == AuditAction::Delete || text(before, "state") == Some(to) {
                return None;
            }
            Some(if to == "invited" {
                EventType::InvitationReceived
            } else {
                EventType::EngagementStateChanged
            })
        }
        AuditEntity::FundedProject if c.action == AuditAction::Create => {
            Some(EventType::FundedProjectCreated)
        }
        AuditEntity::Payment
            if c.action != AuditAction::Delete
                && text(after, "status") == Some("received")
                && text(before, "status") != Some("received") =>
        {
            Some(EventType::PaymentReceived)
        }
        AuditEntity::WebhookEndpoint
            if c.actor_user_id.is_none()
                && c.after.as_ref().and_then(|a| a.get("enabled")) == Some(&Value::Bool(false))
                && c.before.as_ref().and_then(|b| b.get("enabled")) == Some(&Value::Bool(true)) =>
        {
            Some(EventType::WebhookDisabled)
        }
        AuditEntity::ComputeAllocation => {
            let to = text(after, "state")?;
            (matches!(to, "approved" | "rejected") && text(before, "state") != Some(to))
                .then_some(EventType::AllocationDecided)
        }
        _ => None,
    }
}

/// What an event carries of its record: its title and the ids and states a reader of the
/// notification or the webhook wants without fetching it.
fn data_of(snapshot: Option<&Value>, before: Option<&Value>) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(obj) = snapshot.and_then(Value::as_object) {
        for key in [
            "title",
            "name",
            "status",
            "state",
            "company_id",
            "need_id",
            "faculty_id",
            "project_id",
            "resource_id",
            "applicant_id",
            "requested_by",
            "amount_minor",
            "currency",
            "due_date",
            "renewal_date",
            "visibility",
            "url",
            "organization_id",
            "disabled_reason",
        ] {
            if let Some(v) = obj.get(key).filter(|v| !v.is_null()) {
                out.insert(key.to_owned(), v.clone());
            }
        }
    }
    for key in ["status", "state"] {
        if let Some(v) = before.and_then(|b| b.get(key)).filter(|v| !v.is_null()) {
            out.insert(format!("previous_{key}"), v.clone());
        }
    }
    Value::Object(out)
}

/// Records the event a change makes (if it makes one), in the change's transaction.
pub fn from_change(conn: &mut DbConn, entry_id: &str, c: &Change<'_>) -> AppResult<()> {
    let Some(t) = event_type(c) else {
        return Ok(());
    };
    let data = data_of(c.after.as_ref().or(c.before.as_ref()), c.before.as_ref());
    rows::insert_event(
        conn,
        &NewEvent {
            id: &PublicId::generate(),
            event_type: t,
            at: c.at,
            entity: c.entity.as_str(),
            entity_id: c.entity_id,
            audit_entry_id: Some(entry_id),
            actor_user_id: c.actor_user_id,
            recipient_user_id: None,
            data: &data,
            once_key: None,
        },
    )?;
    Ok(())
}

/// How many of one step's hits an `alert.matched` event lists, best first (all of them are in
/// `GET /alerts/{id}/hits`).
pub const LISTED_HITS: usize = 10;

/// Records an alert's hits, and one `alert.matched` event for its owner listing the best of
/// them and how many there are. Records the alert found before are left out: a record fits
/// an alert once. Returns whether any hit was new.
pub(super) fn alert_matched(
    conn: &mut DbConn,
    alert: &rows::AlertRow,
    hits: &[&super::alerts::Hit],
    at: NaiveDateTime,
) -> AppResult<bool> {
    // The alert may have been deleted (its account too) while the step was checked.
    if rows::find_alert(conn, &alert.id)?.is_none() {
        return Ok(false);
    }
    let ids: Vec<&str> = hits.iter().map(|h| h.record_id.as_str()).collect();
    let known = rows::hits_known(conn, &alert.id, &ids)?;
    let mut seen = std::collections::HashSet::new();
    let mut new: Vec<&super::alerts::Hit> = hits
        .iter()
        .copied()
        .filter(|h| !known.contains(&h.record_id) && seen.insert(h.record_id.as_str()))
        .collect();
    if new.is_empty() {
        return Ok(false);
    }
    rows::insert_hits(
        conn,
        &new.iter()
            .map(|h| rows::AlertHitRow {
                alert_id: alert.id.clone(),
                entity_id: h.record_id.clone(),
                entity: h.entity.as_str().to_owned(),
                title: h.title.clone(),
                score: h.score.map(f64::from),
                found_at: at,
            })
            .collect::<Vec<_>>(),
    )?;
    new.sort_by(|a, b| {
        b.score
            .unwrap_or(0.0)
            .total_cmp(&a.score.unwrap_or(0.0))
            .then_with(|| a.title.cmp(&b.title))
    });
    let records: Vec<Value> = new
        .iter()
        .take(LISTED_HITS)
        .map(|h| {
            let mut r = json!({"entity": h.entity.as_str(), "id": h.record_id, "title": h.title});
            if let Some(s) = h.score {
                r["score"] = json!(s);
            }
            r
        })
        .collect();
    let data = json!({
        "alert_id": alert.id,
        "alert_name": alert.name,
        "count": new.len(),
        "records": records,
    });
    rows::insert_event(
        conn,
        &NewEvent {
            id: &PublicId::generate(),
            event_type: EventType::AlertMatched,
            at,
            entity: ALERT_ENTITY,
            entity_id: &alert.id,
            audit_entry_id: None,
            actor_user_id: None,
            recipient_user_id: Some(&alert.user_id),
            data: &data,
            once_key: None,
        },
    )?;
    Ok(true)
}

/// An alert notification's data with a later batch's hits added: the counts summed, the best
/// [`LISTED_HITS`] records of both kept, best first.
pub(super) fn merge_hits(old: &str, new: &str) -> String {
    let (Ok(mut old), Ok(new)) = (
        serde_json::from_str::<Value>(old),
        serde_json::from_str::<Value>(new),
    ) else {
        return new.to_owned();
    };
    let count = |v: &Value| v.get("count").and_then(Value::as_u64).unwrap_or(0);
    let records = |v: &Value| {
        v.get("records")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut all = records(&new);
    for r in records(&old) {
        if !all.iter().any(|n| n.get("id") == r.get("id")) {
            all.push(r);
        }
    }
    let score = |r: &Value| r.get("score").and_then(Value::as_f64).unwrap_or(0.0);
    let title = |r: &Value| {
        r.get("title")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    all.sort_by(|a, b| {
        score(b)
            .total_cmp(&score(a))
            .then_with(|| title(a).cmp(&title(b)))
    });
    all.truncate(LISTED_HITS);
    old["count"] = Value::from(count(&old) + count(&new));
    old["records"] = Value::Array(all);
    old.to_string()
}

/// Records the events time makes due by `today`: scheduled payments past their due date,
/// and active centres whose renewal date is at most [`RENEWAL_NOTICE_DAYS`] away. Each once
/// per record and date (a new due date is announced again). Returns how many were recorded.
pub fn scan_due(conn: &mut DbConn, today: NaiveDate, at: NaiveDateTime) -> AppResult<usize> {
    let mut made = 0;
    let due: Vec<(EventType, AuditEntity, String, NaiveDate)> =
        rows::overdue_payments(conn, today)?
            .into_iter()
            .map(|(id, d)| (EventType::PaymentOverdue, AuditEntity::Payment, id, d))
            .chain(
                rows::renewals_due(
                    conn,
                    today,
                    today + chrono::Days::new(RENEWAL_NOTICE_DAYS as u64),
                )?
                .into_iter()
                .map(|(id, d)| (EventType::CenterRenewalDue, AuditEntity::Center, id, d)),
            )
            .collect();
    for (t, entity, id, date) in due {
        let key = format!("{}:{id}:{date}", t.as_str());
        if rows::once_seen(conn, &key)? {
            continue;
        }
        // Who may see it is who may see the record as it now stands: its latest entry.
        let Some(entry) = crate::db::audit::latest_for(conn, entity, &id)? else {
            continue;
        };
        let snapshot: Option<Value> = entry
            .after
            .as_deref()
            .or(entry.before.as_deref())
            .and_then(|s| serde_json::from_str(s).ok());
        let data = data_of(snapshot.as_ref(), None);
        if rows::insert_event(
            conn,
            &NewEvent {
                id: &PublicId::generate(),
                event_type: t,
                at,
                entity: entity.as_str(),
                entity_id: &id,
                audit_entry_id: Some(&entry.id),
                actor_user_id: None,
                recipient_user_id: None,
                data: &data,
                once_key: Some(&key),
            },
        )? {
            made += 1;
        }
    }
    Ok(made)
}
