//! The audit log: `record` is the one way changes are written to it (inside the change's own
//! transaction, so an entry exists exactly when its change does); `list` reads it for the
//! admins and staff of the organizations concerned, and operators. There is no way to edit or
//! delete an entry.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::api::audit::{AuditAction, AuditEntity, AuditEntry, AuditList, ListAudit};
use crate::db::audit::{self as rows, AuditFilter, Change, EntryRow};
use crate::db::{Db, DbConn};
use crate::domain::PublicId;
use crate::error::{AppError, AppResult};

use super::policy::{self, Caller};
use super::{PageRequest, now};

/// A record whose changes the audit log keeps: which entity it is, its id, and the
/// organizations a change of it concerns (their admins and staff may read the entry).
pub trait Audited: Serialize {
    const ENTITY: AuditEntity;
    fn audit_id(&self) -> &str;
    fn concerns(&self) -> Vec<&str>;
}

/// Records a change of a record by `caller`, with both snapshots. It concerns the
/// organizations of the record before and after (a change that moves it from one
/// organization to another concerns both). Nothing to record without either snapshot.
pub fn change<T: Audited>(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    action: AuditAction,
    before: Option<&T>,
    after: Option<&T>,
) -> AppResult<()> {
    let Some(current) = after.or(before) else {
        return Ok(());
    };
    let organizations: Vec<&str> = before
        .into_iter()
        .chain(after)
        .flat_map(Audited::concerns)
        .collect();
    record(
        conn,
        caller.map(|c| c.user_id.as_str()),
        action,
        T::ENTITY,
        current.audit_id(),
        &organizations,
        before,
        after,
    )
}

/// Records a change of `entity` made by `actor` (None: not a user, e.g. the command line).
/// For records that know the organizations they concern, [`change`] says it in one line;
/// this is for those that must look them up (engagements, memberships, payments).
#[allow(clippy::too_many_arguments)]
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConn,
    actor: Option<&str>,
    action: AuditAction,
    entity: AuditEntity,
    entity_id: &str,
    organizations: &[&str],
    before: Option<&B>,
    after: Option<&A>,
) -> AppResult<()> {
    let json = |v: Option<serde_json::Result<serde_json::Value>>| {
        v.transpose().map_err(AppError::internal)
    };
    let change = Change {
        actor_user_id: actor,
        action: action.as_str(),
        entity: entity.as_str(),
        entity_id,
        organizations,
        before: json(before.map(serde_json::to_value))?,
        after: json(after.map(serde_json::to_value))?,
        at: now(),
    };
    rows::record(conn, &PublicId::generate(), &change)?;
    Ok(())
}

fn utc(t: NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_naive_utc_and_offset(t, chrono::Utc)
}

fn changed(before: Option<&serde_json::Value>, after: Option<&serde_json::Value>) -> Vec<String> {
    let empty = serde_json::Map::new();
    let b = before.and_then(|v| v.as_object()).unwrap_or(&empty);
    let a = after.and_then(|v| v.as_object()).unwrap_or(&empty);
    let mut keys: Vec<String> = b
        .keys()
        .chain(a.keys())
        .filter(|k| b.get(*k) != a.get(*k))
        .cloned()
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

fn view(row: EntryRow, organization_ids: Vec<String>) -> AppResult<AuditEntry> {
    let parse = |s: Option<String>| {
        s.map(|s| serde_json::from_str::<serde_json::Value>(&s))
            .transpose()
            .map_err(AppError::internal)
    };
    let before = parse(row.before)?;
    let after = parse(row.after)?;
    Ok(AuditEntry {
        changed: changed(before.as_ref(), after.as_ref()),
        action: AuditAction::from_db(&row.action)
            .ok_or_else(|| AppError::internal(format!("audit action {}", row.action)))?,
        entity: AuditEntity::from_db(&row.entity)
            .ok_or_else(|| AppError::internal(format!("audit entity {}", row.entity)))?,
        id: row.id,
        at: utc(row.at),
        actor_user_id: row.actor_user_id,
        entity_id: row.entity_id,
        organization_ids,
        before,
        after,
    })
}

pub async fn list(db: &Db, caller: Option<&Caller>, q: ListAudit) -> AppResult<AuditList> {
    let scope = policy::audit_scope(caller, q.organization_id.as_deref())?;
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        entity: q.entity.map(|e| e.as_str().to_owned()),
        entity_id: PublicId::query_param("entity_id", q.entity_id.as_deref())?,
        actor_user_id: PublicId::query_param("actor_user_id", q.actor_user_id.as_deref())?,
        organization_id: PublicId::query_param("organization_id", q.organization_id.as_deref())?,
        action: q.action.map(|a| a.as_str().to_owned()),
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
        after: page.after.clone(),
        limit: page.limit + 1,
    };
    db.run(move |conn| {
        let found = rows::list(conn, &scope, &filter)?;
        let (found, next_cursor) = page.finish(found, |r| &r.id);
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let mut orgs = rows::organizations_of(conn, &ids)?;
        let items = found
            .into_iter()
            .map(|r| {
                let o = orgs.remove(&r.id).unwrap_or_default();
                view(r, o)
            })
            .collect::<AppResult<_>>()?;
        Ok(AuditList { items, next_cursor })
    })
    .await
}
