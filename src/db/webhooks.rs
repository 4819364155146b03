//! Webhook endpoints, their deliveries (claimed by a sender under a lease, so that one that
//! died hands its delivery on with the same id), and the log of attempts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organizations, webhook_attempts, webhook_deliveries, webhook_endpoints};
use super::{DbConn, Seek};
use crate::domain::stored::{DeliveryState, OrganizationKind};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointRow {
    pub id: String,
    pub organization_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: String,
    pub secret: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, e: &EndpointRow) -> QueryResult<()> {
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(&e.id),
            webhook_endpoints::organization_id.eq(&e.organization_id),
            webhook_endpoints::url.eq(&e.url),
            webhook_endpoints::description.eq(&e.description),
            webhook_endpoints::event_types.eq(&e.event_types),
            webhook_endpoints::secret.eq(&e.secret),
            webhook_endpoints::enabled.eq(e.enabled),
            webhook_endpoints::disabled_reason.eq(&e.disabled_reason),
            webhook_endpoints::version.eq(e.version),
            webhook_endpoints::created_at.eq(e.created_at),
            webhook_endpoints::updated_at.eq(e.updated_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Writes `e` over the stored endpoint if its version is still `expected`; false otherwise.
pub fn update(conn: &mut DbConn, e: &EndpointRow, expected: i64) -> QueryResult<bool> {
    let n = diesel::update(
        webhook_endpoints::table
            .filter(webhook_endpoints::id.eq(&e.id))
            .filter(webhook_endpoints::version.eq(expected)),
    )
    .set((
        webhook_endpoints::url.eq(&e.url),
        webhook_endpoints::description.eq(&e.description),
        webhook_endpoints::event_types.eq(&e.event_types),
        webhook_endpoints::enabled.eq(e.enabled),
        webhook_endpoints::disabled_reason.eq(&e.disabled_reason),
        webhook_endpoints::version.eq(e.version),
        webhook_endpoints::updated_at.eq(e.updated_at),
        webhook_endpoints::deleted_at.eq(e.deleted_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id))
        .filter(webhook_endpoints::deleted_at.is_null())
        .select(EndpointRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    organization_id: &str,
    page: &Seek,
) -> QueryResult<Vec<EndpointRow>> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .filter(webhook_endpoints::deleted_at.is_null())
        .into_boxed();
    if let Some(after) = &page.after {
        q = q.filter(webhook_endpoints::id.gt(after.clone()));
    }
    q.order(webhook_endpoints::id.asc())
        .limit(page.limit)
        .select(EndpointRow::as_select())
        .load(conn)
}

pub fn count_of(conn: &mut DbConn, organization_id: &str) -> QueryResult<i64> {
    webhook_endpoints::table
        .filter(webhook_endpoints::organization_id.eq(organization_id))
        .filter(webhook_endpoints::deleted_at.is_null())
        .count()
        .get_result(conn)
}

/// Enabled endpoints subscribed to `event_type`, with their organization's kind.
pub fn subscribed(
    conn: &mut DbConn,
    event_type: &str,
) -> QueryResult<Vec<(EndpointRow, OrganizationKind)>> {
    // Event types are stored as a JSON array of plain names: a quoted name is a whole item.
    let pattern = format!("%\"{event_type}\"%");
    webhook_endpoints::table
        .inner_join(
            organizations::table.on(organizations::id.eq(webhook_endpoints::organization_id)),
        )
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::deleted_at.is_null())
        .filter(organizations::deleted_at.is_null())
        .filter(webhook_endpoints::event_types.like(pattern))
        .select((EndpointRow::as_select(), organizations::kind))
        .load(conn)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct DeliveryRow {
    pub id: String,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub state: DeliveryState,
    pub attempts: i32,
    pub retry_base: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub runner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Queues a delivery unless the endpoint has one for the event; true when queued.
pub fn enqueue(
    conn: &mut DbConn,
    id: &str,
    endpoint_id: &str,
    event_id: &str,
    event_type: &str,
    payload: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let seen: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .filter(webhook_deliveries::event_id.eq(event_id))
        .count()
        .get_result(conn)?;
    if seen > 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(id),
            webhook_deliveries::endpoint_id.eq(endpoint_id),
            webhook_deliveries::event_id.eq(event_id),
            webhook_deliveries::event_type.eq(event_type),
            webhook_deliveries::payload.eq(payload),
            webhook_deliveries::state.eq(DeliveryState::Pending),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Due deliveries of enabled endpoints that nobody holds, oldest due first.
/// (Those `runner` held before it restarted included.)
pub fn due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    runner: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    webhook_deliveries::table
        .inner_join(
            webhook_endpoints::table.on(webhook_endpoints::id.eq(webhook_deliveries::endpoint_id)),
        )
        .filter(webhook_endpoints::enabled.eq(true))
        .filter(webhook_endpoints::deleted_at.is_null())
        .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
        .filter(webhook_deliveries::next_attempt_at.le(now))
        .filter(
            webhook_deliveries::lease_until
                .is_null()
                .or(webhook_deliveries::lease_until.lt(now))
                .or(webhook_deliveries::runner.eq(runner)),
        )
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select(webhook_deliveries::id)
        .load(conn)
}

/// Takes a due delivery for `runner` until `until`; None when another took it first.
pub fn claim(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Option<DeliveryRow>> {
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::state.eq(DeliveryState::Pending))
            .filter(
                webhook_deliveries::lease_until
                    .is_null()
                    .or(webhook_deliveries::lease_until.lt(now))
                    .or(webhook_deliveries::runner.eq(runner)),
            ),
    )
    .set((
        webhook_deliveries::runner.eq(runner),
        webhook_deliveries::lease_until.eq(until),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    find_delivery(conn, id)
}

pub fn find_delivery(conn: &mut DbConn, id: &str) -> QueryResult<Option<DeliveryRow>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .select(DeliveryRow::as_select())
        .first(conn)
        .optional()
}

/// What one attempt found.
pub struct Attempt<'a> {
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<&'a str>,
    pub response: Option<&'a str>,
}

/// Records an attempt by `runner` and the delivery's next state; false (nothing written) when
/// the runner no longer holds the delivery.
pub fn record_attempt(
    conn: &mut DbConn,
    d: &DeliveryRow,
    runner: &str,
    a: &Attempt<'_>,
    state: DeliveryState,
    next_attempt_at: Option<NaiveDateTime>,
) -> QueryResult<bool> {
    let attempt = d.attempts + 1;
    let n = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(&d.id))
            .filter(webhook_deliveries::runner.eq(runner))
            .filter(webhook_deliveries::attempts.eq(d.attempts)),
    )
    .set((
        webhook_deliveries::state.eq(state),
        webhook_deliveries::attempts.eq(attempt),
        webhook_deliveries::next_attempt_at.eq(next_attempt_at),
        webhook_deliveries::last_status.eq(a.status),
        webhook_deliveries::last_error.eq(a.error),
        webhook_deliveries::runner.eq(None::<String>),
        webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
        webhook_deliveries::delivered_at.eq((state == DeliveryState::Delivered).then_some(a.at)),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(false);
    }
    diesel::insert_into(webhook_attempts::table)
        .values((
            webhook_attempts::delivery_id.eq(&d.id),
            webhook_attempts::attempt.eq(attempt),
            webhook_attempts::at.eq(a.at),
            webhook_attempts::status.eq(a.status),
            webhook_attempts::latency_ms.eq(a.latency_ms),
            webhook_attempts::error.eq(a.error),
            webhook_attempts::response.eq(a.response),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Queues a delivery again (a replay): due now, with the whole retry schedule ahead of it,
/// its attempts kept in the log.
pub fn requeue(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    let n = diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq(id)))
        .set((
            webhook_deliveries::retry_base.eq(webhook_deliveries::attempts),
            webhook_deliveries::state.eq(DeliveryState::Pending),
            webhook_deliveries::next_attempt_at.eq(now),
            webhook_deliveries::runner.eq(None::<String>),
            webhook_deliveries::lease_until.eq(None::<NaiveDateTime>),
            webhook_deliveries::delivered_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// An endpoint's deliveries, newest first, before the cursor.
pub fn deliveries(
    conn: &mut DbConn,
    endpoint_id: &str,
    state: Option<DeliveryState>,
    before: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(s) = state {
        q = q.filter(webhook_deliveries::state.eq(s));
    }
    if let Some(b) = before {
        q = q.filter(webhook_deliveries::id.lt(b.to_owned()));
    }
    q.order(webhook_deliveries::id.desc())
        .limit(limit)
        .select(DeliveryRow::as_select())
        .load(conn)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_attempts)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: i32,
    pub at: NaiveDateTime,
    pub status: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub response: Option<String>,
}

/// The attempts of these deliveries, in order.
pub fn attempts_of(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<AttemptRow>> {
    webhook_attempts::table
        .filter(webhook_attempts::delivery_id.eq_any(ids))
        .order((
            webhook_attempts::delivery_id.asc(),
            webhook_attempts::attempt.asc(),
        ))
        .select(AttemptRow::as_select())
        .load(conn)
}
