//! Webhooks: an organization's admins register endpoints; every event the organization may
//! read (by the same rule as notifications: its admin's reads) becomes a delivery to each
//! endpoint subscribed to its type, queued in the transaction that makes the event's
//! notifications (`enqueue`). A sender thread per process (`Sender`) posts due deliveries
//! under a lease, signed by the Standard Webhooks rules, and records every attempt; a failed
//! attempt is retried on the configured schedule, and when the schedule is used up (or the
//! endpoint answers 410 Gone) the delivery fails and the endpoint is disabled, which its
//! admins hear of (`webhook.disabled`). A delivery keeps its id, the `webhook-id` header,
//! through retries, replays and a crash of the sender (kill -9 included): it is sent again
//! only when its lease lapses, with the same id.
//!
//! Targets: private, loopback and link-local addresses are refused when an endpoint is
//! registered, and the sender resolves a name once and connects only to the addresses it
//! allowed, so DNS cannot point a delivery inside (unless the deployment allows it).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::mpsc::{self, TryRecvError};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::config::Settings;
use crate::db::notifications::EventRow;
use crate::db::webhooks::{self as rows, Attempt, DeliveryRow, EndpointRow};
use crate::db::{Db, DbConn};
use crate::domain::stored::{
    AuditAction, AuditEntity, DeliveryState, EventType, OrganizationKind, Role,
};
use crate::domain::{PublicId, Text};
use crate::dto::webhooks::{
    DeliveryAttempt, Endpoint, EndpointList, EndpointPatch, ListDeliveries, ListPage, NewEndpoint,
    WebhookDelivery, WebhookDeliveryList,
};
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};
use crate::service::policy::{self, Action, Caller, CallerMembership};
use crate::service::{PageRequest, Precondition, Versioned, now};

/// Endpoints one organization may register.
pub const MAX_ENDPOINTS: i64 = 20;
/// How much of an endpoint's answer the log keeps.
const RESPONSE_EXCERPT: usize = 1000;
/// A sender holds a delivery this long past the longest attempt; one that died hands it on
/// then.
const LEASE_MARGIN_SECS: i64 = 60;
const POLL: Duration = Duration::from_millis(500);
/// The error of a delivery not sent because its organization may no longer read its record.
const WITHDRAWN: &str = "not sent: the organization may no longer read this record";

// Signing.

/// The key of a `whsec_` secret.
fn key_of(secret: &str) -> Option<Vec<u8>> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

/// `webhook-signature`: `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> AppResult<String> {
    let key =
        key_of(secret).ok_or_else(|| AppError::internal("a stored webhook secret is malformed"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(AppError::internal)?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

fn new_secret() -> AppResult<String> {
    let mut key = [0u8; 32];
    getrandom::fill(&mut key).map_err(AppError::internal)?;
    Ok(format!("whsec_{}", STANDARD.encode(key)))
}

// Targets.

/// Addresses a webhook may not reach unless the deployment allows private targets: loopback,
/// private, link-local, shared (CGNAT), unspecified, multicast, broadcast and reserved ranges,
/// and IPv6's unique-local, link-local and IPv4-mapped forms of those.
pub fn private_address(ip: IpAddr) -> bool {
    fn v4(ip: Ipv4Addr) -> bool {
        let [a, b, c, _] = ip.octets();
        ip.is_loopback()
            || ip.is_private()
            || ip.is_link_local()
            || ip.is_unspecified()
            || ip.is_multicast()
            || ip.is_broadcast()
            || a == 0
            || (a == 100 && (64..128).contains(&b))
            || (a == 192 && b == 0 && c == 0)
            || (a == 198 && (18..20).contains(&b))
            || a >= 240
    }
    fn v6(ip: Ipv6Addr) -> bool {
        let s = ip.segments();
        let embedded = |hi: u16, lo: u16| {
            let [a, b] = hi.to_be_bytes();
            let [c, d] = lo.to_be_bytes();
            Ipv4Addr::new(a, b, c, d)
        };
        // IPv4 carried inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d), the
        // translated form (::ffff:0:a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16):
        // each may lead to an IPv4 address inside.
        if s[..5] == [0; 5] && (s[5] == 0xffff || s[5] == 0) {
            return v4(embedded(s[6], s[7]));
        }
        if s[..4] == [0; 4] && s[4] == 0xffff && s[5] == 0 {
            return v4(embedded(s[6], s[7]));
        }
        if s[0] == 0x64 && s[1] == 0xff9b {
            return true;
        }
        if s[0] == 0x2002 {
            return v4(embedded(s[1], s[2]));
        }
        ip.is_loopback()
            || ip.is_unspecified()
            || ip.is_multicast()
            || (s[0] & 0xfe00) == 0xfc00
            || (s[0] & 0xffc0) == 0xfe80
    }
    match ip {
        IpAddr::V4(ip) => v4(ip),
        IpAddr::V6(ip) => v6(ip),
    }
}

/// Checks an endpoint URL: absolute http(s), no credentials, no fragment, and (unless
/// allowed) not a private address or a name that is always one.
fn check_url(value: &str, allow_private: bool) -> Result<String, FieldError> {
    let bad = |m: &str| FieldError::new("url", FieldCode::InvalidUrl, m);
    let value = value.trim();
    if value.len() > 2000 {
        return Err(bad("must be at most 2000 characters"));
    }
    let url = url::Url::parse(value).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad("must be an https:// or http:// URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    let refused = || {
        FieldError::new(
            "url",
            FieldCode::NotAllowed,
            "is a private, loopback or link-local address, which this deployment does not deliver to",
        )
    };
    match url.host() {
        None => return Err(bad("must name a host")),
        Some(url::Host::Ipv4(ip)) if !allow_private && private_address(ip.into()) => {
            return Err(refused());
        }
        Some(url::Host::Ipv6(ip)) if !allow_private && private_address(ip.into()) => {
            return Err(refused());
        }
        Some(url::Host::Domain(d)) if !allow_private => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if d == "localhost" || d.ends_with(".localhost") || d.ends_with(".local") {
                return Err(refused());
            }
        }
        _ => {}
    }
    Ok(url.to_string())
}

/// Resolves as the system does, then keeps only the addresses a webhook may reach; the
/// connection goes to those, so a name cannot resolve to one thing when checked and another
/// when used.
#[derive(Debug)]
struct GuardedResolver {
    inner: ureq::unversioned::resolver::DefaultResolver,
    allow_private: bool,
}

impl ureq::unversioned::resolver::Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        let found = self.inner.resolve(uri, config, timeout)?;
        if self.allow_private {
            return Ok(found);
        }
        let mut kept = self.inner.empty();
        for a in found.iter().filter(|a| !private_address(a.ip())) {
            kept.push(*a);
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the host resolves only to private, loopback or link-local addresses",
            )));
        }
        Ok(kept)
    }
}

fn agent(settings: &Settings) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(settings.webhook_timeout_secs)))
        .user_agent(concat!("Liaison-Webhooks/", env!("CARGO_PKG_VERSION")))
        .max_redirects(0)
        .proxy(None)
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        GuardedResolver {
            inner: Default::default(),
            allow_private: settings.webhook_allow_private_targets,
        },
    )
}

// The API.

fn types_of(row: &EndpointRow) -> Vec<EventType> {
    serde_json::from_str::<Vec<String>>(&row.event_types)
        .unwrap_or_default()
        .iter()
        .filter_map(|t| EventType::from_wire(t))
        .collect()
}

fn view(row: EndpointRow) -> Versioned<Endpoint> {
    Versioned {
        version: row.version,
        value: Endpoint {
            event_types: types_of(&row),
            id: row.id,
            organization_id: row.organization_id,
            url: row.url,
            description: row.description,
            secret: row.secret,
            enabled: row.enabled,
            disabled_reason: row.disabled_reason,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        },
    }
}

/// What the audit log keeps of an endpoint: everything but its secret.
fn audit_view(row: &EndpointRow) -> Value {
    json!({
        "id": row.id,
        "organization_id": row.organization_id,
        "url": row.url,
        "description": row.description,
        "event_types": types_of(row),
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
    })
}

fn audit(
    conn: &mut DbConn,
    actor: Option<&str>,
    action: AuditAction,
    before: Option<&EndpointRow>,
    after: Option<&EndpointRow>,
) -> AppResult<()> {
    let Some(current) = after.or(before) else {
        return Ok(());
    };
    crate::service::audit::record(
        conn,
        actor,
        action,
        AuditEntity::WebhookEndpoint,
        &current.id,
        &[current.organization_id.as_str()],
        before.map(audit_view).as_ref(),
        after.map(audit_view).as_ref(),
    )
}

fn check_types(types: &[EventType], errors: &mut Vec<FieldError>) -> String {
    if types.is_empty() {
        errors.push(FieldError::new(
            "event_types",
            FieldCode::Required,
            "must name at least one event type",
        ));
    }
    if types.contains(&EventType::AlertMatched) {
        errors.push(FieldError::new(
            "event_types",
            FieldCode::NotAllowed,
            "alert.matched is a person's own; it is not sent to webhooks",
        ));
    }
    let mut names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
}

fn endpoint_of(conn: &mut DbConn, caller: Option<&Caller>, id: &str) -> AppResult<EndpointRow> {
    let row = rows::find(conn, id)?.ok_or_else(|| AppError::not_found("Webhook endpoint"))?;
    // One that the caller may not manage does not exist for them.
    policy::authorize(
        caller,
        Action::ManageWebhooks {
            organization_id: &row.organization_id,
        },
    )
    .map_err(|e| {
        if caller.is_none() {
            e
        } else {
            AppError::not_found("Webhook endpoint")
        }
    })?;
    Ok(row)
}

/// `POST /organizations/{id}/webhooks`.
pub async fn create(
    db: &Db,
    settings: &Settings,
    caller: Option<&Caller>,
    organization_id: String,
    input: NewEndpoint,
) -> AppResult<Versioned<Endpoint>> {
    let mut errors = Vec::new();
    let url = check_url(&input.url, settings.webhook_allow_private_targets)
        .map_err(|e| errors.push(e))
        .ok();
    let types = check_types(&input.event_types, &mut errors);
    let description = Text::optional("description", input.description.as_deref(), 500)
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let secret = match input.secret {
        Some(s) if key_of(s.trim()).is_none() => {
            errors.push(FieldError::new(
                "secret",
                FieldCode::Invalid,
                "must be whsec_ followed by the base64 of 24 to 64 bytes",
            ));
            None
        }
        Some(s) => Some(s.trim().to_owned()),
        None => Some(new_secret()?),
    };
    let caller = caller.cloned();
    db.write(move |conn| {
        crate::db::organizations::find(conn, &organization_id)?
            .ok_or_else(|| AppError::not_found("Organization"))?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageWebhooks {
                organization_id: &organization_id,
            },
        )?;
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        if rows::count_of(conn, &organization_id)? >= MAX_ENDPOINTS {
            return Err(AppError::new(
                ErrorCode::QuotaExceeded,
                format!("An organization keeps at most {MAX_ENDPOINTS} webhook endpoints"),
            ));
        }
        let ts = now();
        let row = EndpointRow {
            id: PublicId::generate(),
            organization_id,
            url: url.unwrap_or_default(),
            description,
            event_types: types,
            secret: secret.unwrap_or_default(),
            enabled: true,
            disabled_reason: None,
            version: 1,
            created_at: ts,
            updated_at: ts,
            deleted_at: None,
        };
        rows::insert(conn, &row)?;
        audit(
            conn,
            caller.as_ref().map(|c| c.user_id.as_str()),
            AuditAction::Create,
            None,
            Some(&row),
        )?;
        Ok(view(row))
    })
    .await
}

/// `GET /organizations/{id}/webhooks`.
pub async fn list(
    db: &Db,
    caller: Option<&Caller>,
    organization_id: String,
    q: ListPage,
) -> AppResult<EndpointList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let caller = caller.cloned();
    db.run(move |conn| {
        crate::db::organizations::find(conn, &organization_id)?
            .ok_or_else(|| AppError::not_found("Organization"))?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageWebhooks {
                organization_id: &organization_id,
            },
        )?;
        let (found, next_cursor) =
            page.read(|s| rows::list(conn, &organization_id, s), |r| &r.id)?;
        Ok(EndpointList {
            items: found.into_iter().map(|r| view(r).value).collect(),
            next_cursor,
        })
    })
    .await
}

/// `GET /webhooks/{id}`.
pub async fn get(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<Versioned<Endpoint>> {
    let caller = caller.cloned();
    db.run(move |conn| Ok(view(endpoint_of(conn, caller.as_ref(), &id)?)))
        .await
}

/// `PATCH /webhooks/{id}` (`If-Match` required).
pub async fn update(
    db: &Db,
    settings: &Settings,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    patch: EndpointPatch,
) -> AppResult<Versioned<Endpoint>> {
    let allow_private = settings.webhook_allow_private_targets;
    let caller = caller.cloned();
    db.write(move |conn| {
        let current = endpoint_of(conn, caller.as_ref(), &id)?;
        precondition.check(current.version, true)?;
        let mut errors = Vec::new();
        let mut next = current.clone();
        if let Some(url) = &patch.url {
            match check_url(url, allow_private) {
                Ok(u) => next.url = u,
                Err(e) => errors.push(e),
            }
        }
        if let Some(types) = &patch.event_types {
            next.event_types = check_types(types, &mut errors);
        }
        if let Some(d) = &patch.description {
            match Text::optional("description", d.as_deref(), 500) {
                Ok(d) => next.description = d,
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::validation(errors));
        }
        if let Some(enabled) = patch.enabled {
            next.enabled = enabled;
            next.disabled_reason = (!enabled).then(|| "disabled by an admin".to_owned());
        }
        if next == current {
            return Ok(view(current));
        }
        next.version = current.version + 1;
        next.updated_at = now();
        if !rows::update(conn, &next, current.version)? {
            return Err(AppError::stale());
        }
        audit(
            conn,
            caller.as_ref().map(|c| c.user_id.as_str()),
            AuditAction::Update,
            Some(&current),
            Some(&next),
        )?;
        Ok(view(next))
    })
    .await
}

/// `DELETE /webhooks/{id}`: no more deliveries; the log stays with the endpoint's row.
pub async fn delete(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<()> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let current = endpoint_of(conn, caller.as_ref(), &id)?;
        let mut gone = current.clone();
        gone.deleted_at = Some(now());
        gone.enabled = false;
        gone.version += 1;
        gone.updated_at = now();
        if !rows::update(conn, &gone, current.version)? {
            return Err(AppError::stale());
        }
        audit(
            conn,
            caller.as_ref().map(|c| c.user_id.as_str()),
            AuditAction::Delete,
            Some(&current),
            None,
        )
    })
    .await
}

fn delivery_view(d: DeliveryRow, attempts: Vec<DeliveryAttempt>) -> AppResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        kind: EventType::from_wire(&d.event_type)
            .ok_or_else(|| AppError::internal(format!("unknown event type {}", d.event_type)))?,
        payload: serde_json::from_str(&d.payload).map_err(AppError::internal)?,
        id: d.id,
        endpoint_id: d.endpoint_id,
        event_id: d.event_id,
        state: d.state,
        attempts: d.attempts,
        next_attempt_at: d
            .next_attempt_at
            .filter(|_| d.state == DeliveryState::Pending)
            .map(|t| t.and_utc()),
        created_at: d.created_at.and_utc(),
        delivered_at: d.delivered_at.map(|t| t.and_utc()),
        attempt_log: attempts,
    })
}

fn with_attempts(conn: &mut DbConn, found: Vec<DeliveryRow>) -> AppResult<Vec<WebhookDelivery>> {
    let ids: Vec<String> = found.iter().map(|d| d.id.clone()).collect();
    let mut by_delivery: std::collections::HashMap<String, Vec<DeliveryAttempt>> =
        Default::default();
    for a in rows::attempts_of(conn, &ids)? {
        by_delivery
            .entry(a.delivery_id)
            .or_default()
            .push(DeliveryAttempt {
                attempt: a.attempt,
                at: a.at.and_utc(),
                status: a.status,
                latency_ms: a.latency_ms,
                error: a.error,
                response: a.response,
            });
    }
    found
        .into_iter()
        .map(|d| {
            let attempts = by_delivery.remove(&d.id).unwrap_or_default();
            delivery_view(d, attempts)
        })
        .collect()
}

/// `GET /webhooks/{id}/deliveries`: newest first, with their attempts.
pub async fn deliveries(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    q: ListDeliveries,
) -> AppResult<WebhookDeliveryList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let caller = caller.cloned();
    db.run(move |conn| {
        endpoint_of(conn, caller.as_ref(), &id)?;
        let found = rows::deliveries(conn, &id, q.state, page.after.as_deref(), page.limit + 1)?;
        let (found, next_cursor) = page.finish(found, |d| &d.id);
        Ok(WebhookDeliveryList {
            items: with_attempts(conn, found)?,
            next_cursor,
        })
    })
    .await
}

/// `POST /webhooks/{id}/deliveries/{delivery_id}/replay`: sends it again (same id), at once.
pub async fn replay(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    delivery_id: String,
) -> AppResult<WebhookDelivery> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let endpoint = endpoint_of(conn, caller.as_ref(), &id)?;
        let found = rows::find_delivery(conn, &delivery_id)?
            .filter(|d| d.endpoint_id == id)
            .ok_or_else(|| AppError::not_found("Delivery"))?;
        if found.state == DeliveryState::Pending {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "This delivery is still pending: it is sent when its next attempt is due",
            ));
        }
        if !endpoint.enabled {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "The endpoint is disabled: enable it (PATCH enabled: true) before replaying",
            ));
        }
        rows::requeue(conn, &delivery_id, now())?;
        let d = rows::find_delivery(conn, &delivery_id)?
            .ok_or_else(|| AppError::not_found("Delivery"))?;
        Ok(with_attempts(conn, vec![d])?.remove(0))
    })
    .await
}

// Queueing.

/// Queues the event's deliveries (in the notifier's transaction): to every enabled endpoint
/// subscribed to its type whose organization may read its record. A saved alert's hit is
/// its owner's alone and goes to no endpoint.
pub(super) fn enqueue(
    conn: &mut DbConn,
    e: &EventRow,
    t: EventType,
    may_read: &mut dyn FnMut(&mut DbConn, &Caller, &EventRow) -> AppResult<bool>,
) -> AppResult<usize> {
    if e.recipient_user_id.is_some() || t == EventType::AlertMatched {
        return Ok(0);
    }
    let endpoints = rows::subscribed(conn, t.as_str())?;
    if endpoints.is_empty() {
        return Ok(0);
    }
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    let mut made = 0;
    for (endpoint, kind) in endpoints {
        if !may_read(conn, &reader(&endpoint, kind), e)? {
            continue;
        }
        let mut body_data = json!({
            "event_id": e.id,
            "entity": e.entity,
            "entity_id": e.entity_id,
        });
        if let (Some(out), Some(extra)) = (body_data.as_object_mut(), data.as_object()) {
            for (k, v) in extra {
                out.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        let payload = json!({
            "type": t.as_str(),
            "timestamp": e.at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "data": body_data,
        });
        if rows::enqueue(
            conn,
            &PublicId::generate(),
            &endpoint.id,
            &e.id,
            t.as_str(),
            &payload.to_string(),
            now(),
        )? {
            made += 1;
        }
    }
    Ok(made)
}

/// An endpoint reads what its organization's admins read.
fn reader(endpoint: &EndpointRow, kind: OrganizationKind) -> Caller {
    Caller {
        user_id: format!("webhook:{}", endpoint.id),
        is_platform_operator: false,
        memberships: vec![CallerMembership {
            organization_id: endpoint.organization_id.clone(),
            organization_kind: kind,
            role: Role::Admin,
        }],
    }
}

/// Whether the endpoint's organization may still read the delivery's record: checked again
/// before every attempt and replay, since a need may have turned confidential meanwhile.
fn still_readable(conn: &mut DbConn, endpoint: &EndpointRow, d: &DeliveryRow) -> AppResult<bool> {
    let Some(org) = crate::db::organizations::find(conn, &endpoint.organization_id)? else {
        return Ok(false);
    };
    let Some(event) = crate::db::notifications::find_event(conn, &d.event_id)? else {
        return Ok(false);
    };
    super::worker::may_read(conn, &reader(endpoint, org.kind), &event)
}

// Sending.

/// The handle `AppState` holds; dropping it stops the sender.
pub struct Sender {
    _stop: std::sync::Mutex<mpsc::Sender<()>>,
}

impl Sender {
    pub fn start(db: Db, settings: &Settings, runner: String) -> anyhow::Result<Arc<Self>> {
        let (tx, rx) = mpsc::channel::<()>();
        let worker = SendWorker {
            db,
            agent: agent(settings),
            schedule: settings.webhook_retry_schedule_secs.clone(),
            lease: i64::try_from(settings.webhook_timeout_secs).unwrap_or(300) + LEASE_MARGIN_SECS,
            runner,
        };
        std::thread::Builder::new()
            .name("liaison-webhooks".into())
            .spawn(move || worker.run(&rx))?;
        Ok(Arc::new(Self {
            _stop: std::sync::Mutex::new(tx),
        }))
    }
}

struct SendWorker {
    db: Db,
    agent: ureq::Agent,
    schedule: Vec<u64>,
    /// Seconds a claim lasts: longer than any attempt.
    lease: i64,
    runner: String,
}

/// What an attempt came to.
struct Outcome {
    status: Option<u16>,
    latency_ms: i32,
    error: Option<String>,
    response: Option<String>,
}

impl SendWorker {
    fn run(&self, rx: &mpsc::Receiver<()>) {
        let changes = self.db.changes();
        loop {
            if matches!(rx.try_recv(), Err(TryRecvError::Disconnected)) {
                return;
            }
            let seen = changes.current();
            match self.step() {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e.log_message(), "sending webhooks failed"),
            }
            changes.wait(seen, POLL);
        }
    }

    /// Sends the due deliveries it can claim; true when it sent any.
    fn step(&self) -> AppResult<bool> {
        let ts = now();
        let due = self
            .db
            .run_blocking(|c| Ok(rows::due(c, ts, &self.runner, 20)?))?;
        let mut sent = false;
        for id in due {
            let ts = now();
            let until = ts + chrono::Duration::seconds(self.lease);
            let Some(d) = self
                .db
                .write_blocking(|c| Ok(rows::claim(c, &id, &self.runner, ts, until)?))?
            else {
                continue;
            };
            let Some(endpoint) = self
                .db
                .run_blocking(|c| Ok(rows::find(c, &d.endpoint_id)?))?
            else {
                continue;
            };
            let outcome = if self.db.run_blocking(|c| still_readable(c, &endpoint, &d))? {
                self.send(&endpoint, &d)
            } else {
                Outcome {
                    status: None,
                    latency_ms: 0,
                    error: Some(WITHDRAWN.to_owned()),
                    response: None,
                }
            };
            self.record(&endpoint, &d, outcome)?;
            sent = true;
        }
        Ok(sent)
    }

    fn send(&self, endpoint: &EndpointRow, d: &DeliveryRow) -> Outcome {
        let started = Instant::now();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = match sign(&endpoint.secret, &d.id, timestamp, &d.payload) {
            Ok(s) => s,
            Err(e) => {
                return Outcome {
                    status: None,
                    latency_ms: 0,
                    error: Some(e.detail),
                    response: None,
                };
            }
        };
        let result = self
            .agent
            .post(&endpoint.url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.id)
            .header("webhook-timestamp", &timestamp.to_string())
            .header("webhook-signature", &signature)
            .send(d.payload.as_bytes());
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        match result {
            Ok(mut res) => {
                let status = res.status().as_u16();
                let mut text = String::new();
                let body = res
                    .body_mut()
                    .with_config()
                    .limit(64 * 1024)
                    .read_to_string();
                if let Ok(b) = body {
                    text = b.chars().take(RESPONSE_EXCERPT).collect();
                }
                Outcome {
                    status: Some(status),
                    latency_ms,
                    error: None,
                    response: Some(text).filter(|t| !t.is_empty()),
                }
            }
            Err(e) => Outcome {
                status: None,
                latency_ms,
                error: Some(e.to_string()),
                response: None,
            },
        }
    }

    /// Records the attempt; schedules the next, or fails the delivery and disables the
    /// endpoint (telling its admins) when the schedule is used up or it answered 410 Gone.
    fn record(&self, endpoint: &EndpointRow, d: &DeliveryRow, o: Outcome) -> AppResult<()> {
        let ts = now();
        let delivered = o.status.is_some_and(|s| (200..300).contains(&s));
        let gone = o.status == Some(410);
        let wait = usize::try_from(d.attempts - d.retry_base)
            .ok()
            .and_then(|n| self.schedule.get(n))
            .copied();
        let withdrawn = o.error.as_deref() == Some(WITHDRAWN);
        let (state, next): (DeliveryState, Option<NaiveDateTime>) = if delivered {
            (DeliveryState::Delivered, None)
        } else if withdrawn {
            // Not sent, and not the endpoint's fault: it stays enabled.
            return self.db.write_blocking(|conn| {
                rows::record_attempt(
                    conn,
                    d,
                    &self.runner,
                    &Attempt {
                        at: ts,
                        status: None,
                        latency_ms: 0,
                        error: Some(WITHDRAWN),
                        response: None,
                    },
                    DeliveryState::Failed,
                    None,
                )?;
                Ok(())
            });
        } else if gone {
            (DeliveryState::Failed, None)
        } else {
            match wait {
                Some(w) => (
                    DeliveryState::Pending,
                    Some(ts + chrono::Duration::seconds(i64::try_from(w).unwrap_or(i64::MAX / 2))),
                ),
                None => (DeliveryState::Failed, None),
            }
        };
        let attempt = Attempt {
            at: ts,
            status: o.status.map(i32::from),
            latency_ms: o.latency_ms,
            error: o.error.as_deref(),
            response: o.response.as_deref(),
        };
        self.db.write_blocking(|conn| {
            if !rows::record_attempt(conn, d, &self.runner, &attempt, state, next)? {
                // Another sender took it over (this one was too slow): its attempt counts.
                return Ok(());
            }
            if state == DeliveryState::Failed {
                let reason = if gone {
                    "the endpoint answered 410 Gone".to_owned()
                } else {
                    format!(
                        "a delivery failed {} times over the whole retry schedule",
                        d.attempts + 1
                    )
                };
                disable(conn, &endpoint.id, &reason)?;
            }
            Ok(())
        })
    }
}

/// Disables an endpoint (not a person's doing: its admins hear of it as `webhook.disabled`).
fn disable(conn: &mut DbConn, id: &str, reason: &str) -> AppResult<()> {
    let Some(current) = rows::find(conn, id)? else {
        return Ok(());
    };
    if !current.enabled {
        return Ok(());
    }
    let mut next = current.clone();
    next.enabled = false;
    next.disabled_reason = Some(reason.to_owned());
    next.version += 1;
    next.updated_at = now();
    if rows::update(conn, &next, current.version)? {
        tracing::warn!(endpoint = %id, reason, "webhook endpoint disabled");
        audit(conn, None, AuditAction::Update, Some(&current), Some(&next))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks specification's own example.
    #[test]
    fn signs_the_specifications_example() -> AppResult<()> {
        let sig = sign(
            "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            1_649_367_553,
            r#"{"email":"test@example.com","username":"test_user"}"#,
        )?;
        assert_eq!(sig, "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw=");
        Ok(())
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "::ffff:0:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:a9fe:a9fe::1",
            "192.0.0.8",
            "198.18.0.1",
        ] {
            assert!(
                private_address(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))),
                "{ip}"
            );
        }
        for ip in ["8.8.8.8", "140.113.1.1", "2001:4860:4860::8888"] {
            assert!(
                !private_address(ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST))),
                "{ip}"
            );
        }
    }

    #[test]
    fn names_resolving_only_inside_are_refused_at_connection() {
        use ureq::unversioned::resolver::Resolver;
        let guarded = GuardedResolver {
            inner: Default::default(),
            allow_private: false,
        };
        let config = ureq::config::Config::default();
        let uri: ureq::http::Uri = "http://localhost:9/hook".parse().unwrap_or_default();
        let timeout = ureq::unversioned::transport::NextTimeout::default();
        assert!(guarded.resolve(&uri, &config, timeout).is_err());
        let open = GuardedResolver {
            inner: Default::default(),
            allow_private: true,
        };
        assert!(open.resolve(&uri, &config, timeout).is_ok());
    }
}
