//! The notifier: two threads per process, one per log it follows, of which one per deployment
//! works at a time (each log is held under a lease in `workers`, renewed with every step,
//! taken over by another process when it lapses). The logs:
//! - the search outbox, behind the local index: the records that changed are checked against
//!   the saved alerts (`alerts::evaluate`), each alert's new fits of a step becoming one event;
//! - the events: each becomes a notification for every recipient who may read its record and
//!   has not turned its type off.
//!
//! Each step writes its results and its new position in one transaction, so a crash (kill -9
//! included) redoes at most the step it was in, and the unique keys (one hit per alert and
//! record in `alert_hits`, one notification per user and event) make a redone step add
//! nothing twice.
//! Once a day (and at start) it also records the events time makes due (`events::scan_due`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::mpsc::{self, TryRecvError};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::db::notifications::{self as rows, EventRow, NotificationRow};
use crate::db::outbox::{self, Entity};
use crate::db::{Db, DbConn};
use crate::domain::PublicId;
use crate::domain::stored::{Delivery, EventType};
use crate::error::{AppError, AppResult};
use crate::search::SearchIndex;
use crate::service::accounts::caller_in;
use crate::service::now;
use crate::service::policy::{self, Caller};

const LEASE: Duration = Duration::from_secs(120);
/// How long an idle notifier waits for a write before looking again (writes of another
/// process, and the index catching up, are seen then).
const POLL: Duration = Duration::from_millis(500);
/// Events turned into notifications per transaction.
const EVENTS_BATCH: i64 = 50;
/// Search outbox rows checked against the alerts per step: as many as fit well inside the
/// lease (a step renews it only when it ends). Steps start at the most and halve while they
/// take longer than a quarter of the lease; larger steps cost less per row (each rebuilds
/// the watched needs' queries and compiles every saved search once).
const OUTBOX_BATCH: std::ops::RangeInclusive<i64> = 25..=1000;

pub const ALERTS: &str = "alerts";
pub const NOTIFICATIONS: &str = "notifications";

fn lease_from(t: NaiveDateTime) -> NaiveDateTime {
    t + chrono::Duration::from_std(LEASE).unwrap_or_else(|_| chrono::Duration::seconds(120))
}

/// This process's name in leases: its host and its index folder, which only one running
/// process may hold. A process restarted after a crash has the same name, and so takes its
/// leases back at once instead of waiting for them to lapse.
pub fn process_name(index_dir: &std::path::Path) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned());
    let dir = std::fs::canonicalize(index_dir).unwrap_or_else(|_| index_dir.to_owned());
    format!("{host}:{}", dir.display())
}

/// The handle `AppState` holds; dropping it stops the thread (and gives its leases up).
pub struct Notifier {
    _stop: std::sync::Mutex<Vec<mpsc::Sender<()>>>,
}

impl Notifier {
    /// Starts the threads; they look for events that time makes due every `scan_every`, and
    /// prune what is older than `retention_days` as often.
    pub fn start(
        db: Db,
        index: &Arc<SearchIndex>,
        scan_every: Duration,
        retention_days: u64,
        mail: MailConfig,
        holder: String,
    ) -> anyhow::Result<Arc<Self>> {
        let worker = Worker {
            db,
            index: Arc::downgrade(index),
            holder,
            scan_every,
            mail,
            follows: NOTIFICATIONS,
            retention_days,
        };
        // Two threads, one per log: checking alerts (CPU-bound after a bulk import) never
        // holds up the notifications of what people do.
        let mut stops = Vec::new();
        for (follows, name) in [
            (NOTIFICATIONS, "liaison-notifier"),
            (ALERTS, "liaison-alerts"),
        ] {
            let (tx, rx) = mpsc::channel::<()>();
            let worker = Worker {
                follows,
                ..worker.clone()
            };
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || worker.run(&rx))?;
            stops.push(tx);
        }
        Ok(Arc::new(Self {
            _stop: std::sync::Mutex::new(stops),
        }))
    }
}

#[derive(Clone)]
struct Worker {
    db: Db,
    index: Weak<SearchIndex>,
    /// This process's name in the leases.
    holder: String,
    scan_every: Duration,
    mail: MailConfig,
    /// The log this thread follows: `ALERTS` or `NOTIFICATIONS` (which also scans for what
    /// comes due, makes digests and prunes).
    follows: &'static str,
    /// `notification_retention_days` (0: keep forever).
    retention_days: u64,
}

impl Worker {
    fn run(&self, rx: &mpsc::Receiver<()>) {
        let changes = self.db.changes();
        let mut last_scan: Option<Instant> = None;
        let mut batch = *OUTBOX_BATCH.end();
        loop {
            if matches!(rx.try_recv(), Err(TryRecvError::Disconnected)) {
                let _ = self
                    .db
                    .write_blocking(|c| Ok(rows::release(c, self.follows, &self.holder)?));
                return;
            }
            let seen = changes.current();
            let mut worked = false;
            if self.follows == ALERTS {
                let started = Instant::now();
                let result = self.alerts_step(batch);
                // A failed step (its lease lost to another process) halves too, or two
                // processes could take the same too-long step from each other forever.
                let took = started.elapsed();
                batch = if took > LEASE / 4 {
                    (batch / 2).max(*OUTBOX_BATCH.start())
                } else if matches!(result, Ok(true)) && took < LEASE / 24 {
                    (batch * 2).min(*OUTBOX_BATCH.end())
                } else {
                    batch
                };
                match result {
                    Ok(w) => worked |= w,
                    Err(e) => {
                        tracing::warn!(error = %e.log_message(), "checking saved alerts failed")
                    }
                }
            } else {
                if last_scan.is_none_or(|t| t.elapsed() >= self.scan_every) {
                    last_scan = Some(Instant::now());
                    self.scan();
                }
                match self.events_step() {
                    Ok(w) => worked |= w,
                    Err(e) => {
                        tracing::warn!(error = %e.log_message(), "making notifications failed")
                    }
                }
            }
            if !worked {
                changes.wait(seen, POLL);
            }
        }
    }

    fn scan(&self) {
        let ts = now();
        match self
            .db
            .write_blocking(|c| events::scan_due(c, ts.date(), ts))
        {
            Ok(n) if n > 0 => tracing::info!(events = n, "recorded events that came due"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.log_message(), "scanning for due events failed"),
        }
        // Digests are made by the process that holds the event log, so never twice.
        if !matches!(self.claim(NOTIFICATIONS), Ok(Some(_))) {
            return;
        }
        match self
            .db
            .write_blocking(|c| super::mail::digests(c, &self.mail, ts))
        {
            Ok(n) if n > 0 => tracing::info!(digests = n, "queued e-mail digests"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.log_message(), "queueing digests failed"),
        }
        if self.retention_days == 0 {
            return;
        }
        let before = ts - chrono::Duration::days(self.retention_days.min(36_500) as i64);
        match self.db.write_blocking(|c| {
            let processed = rows::position(c, NOTIFICATIONS)?;
            Ok(rows::prune(c, before, processed)?)
        }) {
            Ok(p) if p != rows::Pruned::default() => tracing::info!(
                notifications = p.notifications,
                webhook_deliveries = p.deliveries,
                mails = p.mails,
                events = p.events,
                "pruned what is past its retention"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.log_message(), "pruning notifications failed"),
        }
    }

    /// Claims the named log when it has work after `position` (looked for with a read, so an
    /// idle notifier never takes SQLite's write lock). Returns the position when held.
    fn claim(&self, name: &str) -> AppResult<Option<i64>> {
        let ts = now();
        self.db
            .write_blocking(|c| Ok(rows::claim(c, name, &self.holder, ts, lease_from(ts))?))
    }

    fn advance(&self, conn: &mut DbConn, name: &str, position: i64) -> AppResult<()> {
        if rows::advance(conn, name, &self.holder, position, lease_from(now()))? {
            Ok(())
        } else {
            Err(AppError::internal(format!("lost the {name} lease")))
        }
    }

    /// Checks the records changed after the alerts' position, up to what the local index
    /// has taken in, against the saved alerts.
    fn alerts_step(&self, batch: i64) -> AppResult<bool> {
        let Some(index) = self.index.upgrade() else {
            return Ok(false);
        };
        let applied = index.progress().applied;
        let position = self.db.run_blocking(|c| Ok(rows::position(c, ALERTS)?))?;
        if applied <= position {
            return Ok(false);
        }
        let Some(position) = self.claim(ALERTS)? else {
            return Ok(false);
        };
        let found = self
            .db
            .run_blocking(|c| Ok(outbox::after(c, position, batch)?))?;
        let found: Vec<_> = found.into_iter().filter(|r| r.0 <= applied).collect();
        let Some(last) = found.last().map(|r| r.0) else {
            return Ok(false);
        };
        let mut changed: HashMap<Entity, BTreeSet<String>> = HashMap::new();
        for (_, entity, id) in found {
            if let Some(e) = Entity::from_db(&entity).filter(|e| *e != Entity::Organization) {
                changed.entry(e).or_default().insert(id);
            }
        }
        let hits = alerts::evaluate(&self.db, &index, &changed)?;
        // One event per alert and step, listing its hits.
        let mut by_alert: BTreeMap<&str, Vec<&alerts::Hit>> = BTreeMap::new();
        for h in &hits {
            by_alert.entry(h.alert.id.as_str()).or_default().push(h);
        }
        let ts = now();
        self.db.write_blocking(|conn| {
            for group in by_alert.values() {
                if let Some(first) = group.first() {
                    events::alert_matched(conn, &first.alert, group, ts)?;
                }
            }
            self.advance(conn, ALERTS, last)
        })?;
        Ok(true)
    }

    /// Turns the events after the notifications' position into notifications.
    fn events_step(&self) -> AppResult<bool> {
        let position = self
            .db
            .run_blocking(|c| Ok(rows::position(c, NOTIFICATIONS)?))?;
        let pending = self
            .db
            .run_blocking(|c| Ok(rows::events_after(c, position, 1)?))?;
        if pending.is_empty() {
            return Ok(false);
        }
        let Some(position) = self.claim(NOTIFICATIONS)? else {
            return Ok(false);
        };
        self.db.write_blocking(|conn| {
            let found = rows::events_after(conn, position, EVENTS_BATCH)?;
            let Some(last) = found.last().map(|e| e.seq) else {
                return Ok(());
            };
            let mut callers = Callers::default();
            for e in &found {
                deliver(conn, e, &mut callers, &self.mail)?;
            }
            self.advance(conn, NOTIFICATIONS, last)
        })?;
        Ok(true)
    }
}

use super::mail::MailConfig;
use super::{alerts, events};

/// Accounts as callers, loaded once per batch.
#[derive(Default)]
pub(super) struct Callers(HashMap<String, Option<Caller>>);

impl Callers {
    pub(super) fn get(&mut self, conn: &mut DbConn, user_id: &str) -> AppResult<Option<Caller>> {
        if let Some(c) = self.0.get(user_id) {
            return Ok(c.clone());
        }
        let c = caller_in(conn, user_id)?;
        self.0.insert(user_id.to_owned(), c.clone());
        Ok(c)
    }
}

fn text(data: &Value, key: &str) -> Option<String> {
    data.get(key)?.as_str().map(str::to_owned)
}

/// Who an event may concern: the admins and staff of the organizations its audit entry
/// concerns, the professor of the record (an engagement's, an allocation's), the account that
/// asked for an allocation, and for a need's events the professors it reached (invited, or
/// interested, at some point: closing a need closes their engagements in the same change). Whether each may read it is
/// decided after.
fn candidates(
    conn: &mut DbConn,
    e: &EventRow,
    t: EventType,
    data: &Value,
) -> AppResult<Vec<String>> {
    if let Some(r) = &e.recipient_user_id {
        return Ok(vec![r.clone()]);
    }
    let Some(entry) = &e.audit_entry_id else {
        return Ok(Vec::new());
    };
    let orgs = crate::db::audit::organizations_of(conn, std::slice::from_ref(entry))?
        .remove(entry)
        .unwrap_or_default();
    let mut users = rows::staff_of(conn, &orgs)?;
    let mut faculty: Vec<String> = text(data, "faculty_id").into_iter().collect();
    if matches!(
        t,
        EventType::NeedPublished | EventType::NeedUpdated | EventType::NeedClosed
    ) {
        faculty.extend(crate::db::engagements::faculty_reached(
            conn,
            &e.entity_id,
            &policy::DISCLOSED_BY,
        )?);
    }
    users.extend(rows::owners_of(conn, &faculty)?);
    // Who asked for compute hears of the decision.
    users.extend(text(data, "requested_by"));
    users.sort();
    users.dedup();
    users.retain(|u| Some(u) != e.actor_user_id.as_ref());
    Ok(users)
}

/// Whether `caller` may read the event's record: through its audit entry's visibility, or
/// (an alert's hit) through the record's own scope.
pub(super) fn may_read(conn: &mut DbConn, caller: &Caller, e: &EventRow) -> AppResult<bool> {
    if let Some(entry) = &e.audit_entry_id {
        let Some(entry) = crate::db::audit::find(conn, entry)? else {
            return Ok(false);
        };
        return crate::service::audit::record_visible_to(conn, caller, entry);
    }
    record_readable(conn, caller, &e.entity, &e.entity_id)
}

/// Whether `caller` may read a need, profile or centre now, by the scopes the reads use.
pub(super) fn record_readable(
    conn: &mut DbConn,
    caller: &Caller,
    entity: &str,
    id: &str,
) -> AppResult<bool> {
    let ids = [id.to_owned()];
    Ok(match entity {
        "need" => {
            !crate::db::needs::visible_among(conn, &policy::need_scope(Some(caller), false)?, &ids)?
                .is_empty()
        }
        "faculty_profile" => crate::db::faculty::find_visible(
            conn,
            &policy::faculty_scope(Some(caller), false)?,
            id,
        )?
        .is_some(),
        events::ALERT_ENTITY => {
            rows::find_alert(conn, id)?.is_some_and(|a| a.user_id == caller.user_id)
        }
        "center" => !crate::db::centers::visible_among(
            conn,
            &policy::participant_scope(Some(caller), false)?,
            &ids,
        )?
        .is_empty(),
        _ => false,
    })
}

/// The title a recipient is shown: the record's own, or for an engagement the need's (only
/// if they may read the need), for a payment its project's, for an allocation its resource's.
fn title_for(conn: &mut DbConn, caller: &Caller, e: &EventRow, data: &Value) -> AppResult<String> {
    if let Some(t) = text(data, "title")
        .or_else(|| text(data, "name"))
        .or_else(|| text(data, "url"))
        .or_else(|| text(data, "alert_name"))
    {
        return Ok(t);
    }
    Ok(match e.entity.as_str() {
        "engagement" => match text(data, "need_id") {
            Some(need) if record_readable(conn, caller, "need", &need)? => {
                rows::need_title(conn, &need)?.unwrap_or_default()
            }
            _ => "a need".to_owned(),
        },
        "payment" => match text(data, "project_id") {
            Some(p) => rows::project_title(conn, &p)?.unwrap_or_default(),
            None => String::new(),
        },
        "compute_allocation" => match text(data, "resource_id") {
            Some(r) => rows::resource_name(conn, &r)?.unwrap_or_default(),
            None => String::new(),
        },
        _ => String::new(),
    })
}

/// The event's data as `caller` is shown it: an alert's hits only where they may still read
/// the record (none left: no notification).
fn shown_data(
    conn: &mut DbConn,
    caller: &Caller,
    t: EventType,
    e: &EventRow,
    data: &Value,
) -> AppResult<Option<String>> {
    let Some(records) = data
        .get("records")
        .and_then(Value::as_array)
        .filter(|_| t == EventType::AlertMatched)
    else {
        return Ok(Some(e.data.clone()));
    };
    let mut kept = Vec::with_capacity(records.len());
    for r in records {
        let (Some(entity), Some(id)) = (text(r, "entity"), text(r, "id")) else {
            continue;
        };
        if record_readable(conn, caller, &entity, &id)? {
            kept.push(r.clone());
        }
    }
    if kept.len() == records.len() {
        return Ok(Some(e.data.clone()));
    }
    // Some listed record was hidden since: the step's hits are read again, each re-checked,
    // so the notification lists and counts only what the recipient may read.
    let alert = text(data, "alert_id").unwrap_or_default();
    let mut count = 0u64;
    kept.clear();
    for h in rows::hits_found_at(conn, &alert, e.at)? {
        if !record_readable(conn, caller, &h.entity, &h.entity_id)? {
            continue;
        }
        count += 1;
        if kept.len() < events::LISTED_HITS {
            let mut r =
                serde_json::json!({"entity": h.entity, "id": h.entity_id, "title": h.title});
            if let Some(s) = h.score {
                r["score"] = Value::from(s);
            }
            kept.push(r);
        }
    }
    if kept.is_empty() {
        return Ok(None);
    }
    let mut shown = data.clone();
    shown["count"] = Value::from(count);
    shown["records"] = Value::Array(kept);
    Ok(Some(shown.to_string()))
}

/// Makes the event's notifications and queues its webhook deliveries (in the caller's
/// transaction). Returns how many notifications.
fn deliver(
    conn: &mut DbConn,
    e: &EventRow,
    callers: &mut Callers,
    mail: &MailConfig,
) -> AppResult<usize> {
    let Some(t) = EventType::from_wire(&e.event_type) else {
        tracing::warn!(event = %e.id, kind = %e.event_type, "unknown event type skipped");
        return Ok(0);
    };
    super::webhooks::enqueue(conn, e, t, &mut may_read)?;
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    let users = candidates(conn, e, t, &data)?;
    if users.is_empty() {
        return Ok(0);
    }
    let deliveries = rows::deliveries(conn, &users, t)?;
    let mut made = 0;
    for user in &users {
        let delivery = deliveries.get(user).copied().unwrap_or(Delivery::InApp);
        if delivery == Delivery::None {
            continue;
        }
        let Some(caller) = callers.get(conn, user)? else {
            continue;
        };
        if !may_read(conn, &caller, e)? {
            continue;
        }
        let Some(shown) = shown_data(conn, &caller, t, e, &data)? else {
            continue;
        };
        // An alert's new hits join its unread notification rather than add one per batch
        // (a bulk import is many batches); mailed ones stay as they were mailed.
        // It is made again, newest, with a new id: a client that saw it (or marked read up to
        // it) sees the new hits as new.
        let mut shown = shown;
        if t == EventType::AlertMatched
            && e.entity == events::ALERT_ENTITY
            && delivery != Delivery::Immediate
            && let Some(open) = rows::open_alert_notification(conn, user, &e.entity_id)?
            && rows::take_open_notification(conn, &open.id)?
        {
            shown = events::merge_hits(&open.data, &shown);
        }
        let title = title_for(conn, &caller, e, &data)?;
        let row = NotificationRow {
            id: PublicId::generate(),
            user_id: user.clone(),
            event_id: e.id.clone(),
            event_type: e.event_type.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id.clone(),
            title,
            data: shown,
            created_at: now(),
            read_at: None,
        };
        if rows::notify(conn, &row)? {
            made += 1;
            if delivery == Delivery::Immediate {
                super::mail::immediate(conn, mail, &row)?;
            }
        }
    }
    Ok(made)
}
