//! The audit log: `record` is the one way changes are written to it (inside the change's own
//! transaction, so an entry exists exactly when its change does); `list` reads it for the
//! admins and staff of the organizations concerned, and operators, showing an entry only to
//! those who could see its record in the state it recorded (see [`Visibility`]). There is no
//! way to edit or delete an entry.

use std::collections::HashMap;

use serde::Serialize;

use crate::db::audit::{self as rows, AuditFilter, Change, EntryRow};
use crate::db::centers::ParticipantScope;
use crate::db::engagements::EngagementScope;
use crate::db::needs::NeedScope;
use crate::db::{Db, DbConn, Seek};
use crate::domain::PublicId;
use crate::dto::audit::{AuditAction, AuditEntity, AuditEntry, AuditList, ListAudit};
use crate::dto::engagements::EngagementState;
use crate::dto::needs::{NeedStatus, NeedVisibility};
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
        action,
        entity,
        entity_id,
        organizations,
        before: json(before.map(serde_json::to_value))?,
        after: json(after.map(serde_json::to_value))?,
        at: now(),
    };
    let id = PublicId::generate();
    rows::record(conn, &id, &change)?;
    super::notifications::events::from_change(conn, &id, &change)
}

/// Whether `caller` may see this entry's record, as the audit log would show it to them
/// (the organization an entry concerns aside): who may hear of an event.
pub(crate) fn record_visible_to(
    conn: &mut DbConn,
    caller: &Caller,
    entry: EntryRow,
) -> AppResult<bool> {
    if caller.is_platform_operator {
        return Ok(true);
    }
    // An event about a need carries the need as it is after the change (and only its status
    // before): that state is the one the reader must have been able to read.
    let entry = if entry.entity == AuditEntity::Need && entry.after.is_some() {
        EntryRow {
            before: None,
            ..entry
        }
    } else {
        entry
    };
    Ok(!Visibility::of(Some(caller))?
        .keep(conn, vec![entry])?
        .is_empty())
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
        action: row.action,
        entity: row.entity,
        id: row.id,
        at: row.at.and_utc(),
        actor_user_id: row.actor_user_id,
        entity_id: row.entity_id,
        organization_ids,
        before,
        after,
    })
}

/// Which entries a reader may see beyond the organizations they concern: an entry is shown
/// only to someone who can see its record now, through the same scopes as the GET endpoints
/// (deleted records included: a record's trail outlives it, for those who saw it), and who
/// could see it in the state the entry recorded. For centres, funded projects and payments
/// that state is already in the entry's organizations (the participants before and after
/// the change); for an engagement it is its state: a company's shortlist that never reached
/// the professor stays the company's, even once it does. Organizations, memberships and the
/// owners of a university's profiles are their organization's own; invitations its admins'
/// (who alone may list them).
struct Visibility {
    engagements: EngagementScope,
    needs: NeedScope,
    /// Centres and funded projects.
    records: ParticipantScope,
    /// A payment: what takes part in its project (payments are never public).
    payments: ParticipantScope,
    /// Organizations whose invitations the reader may list (`None`: all, an operator).
    invitations: Option<Vec<String>>,
}

impl Visibility {
    fn of(caller: Option<&Caller>) -> AppResult<Self> {
        Ok(Self {
            engagements: policy::engagement_scope(caller)?,
            needs: NeedScope {
                include_deleted: true,
                ..policy::need_scope(caller, false)?
            },
            records: ParticipantScope {
                include_deleted: true,
                ..policy::participant_scope(caller, false)?
            },
            payments: ParticipantScope {
                include_deleted: true,
                ..policy::participation(caller)
            },
            invitations: match caller {
                Some(c) if c.is_platform_operator => None,
                Some(c) => Some(
                    c.memberships
                        .iter()
                        .filter(|m| m.role == crate::dto::accounts::Role::Admin)
                        .map(|m| m.organization_id.clone())
                        .collect(),
                ),
                None => Some(Vec::new()),
            },
        })
    }

    /// The entries of `found` the reader may see, in order.
    fn keep(&self, conn: &mut DbConn, found: Vec<EntryRow>) -> AppResult<Vec<EntryRow>> {
        let ids = |entity: AuditEntity| -> Vec<String> {
            found
                .iter()
                .filter(|r| r.entity == entity)
                .map(|r| r.entity_id.clone())
                .collect()
        };
        let engagements = crate::db::engagements::visible_among(
            conn,
            &self.engagements,
            &ids(AuditEntity::Engagement),
        )?;
        let needs = crate::db::needs::visible_among(conn, &self.needs, &ids(AuditEntity::Need))?;
        let invited = match &self.needs.invited_user {
            Some(user) if !self.needs.all => {
                crate::db::needs::invited_among(conn, user, &ids(AuditEntity::Need))?
            }
            _ => Default::default(),
        };
        let centers =
            crate::db::centers::visible_among(conn, &self.records, &ids(AuditEntity::Center))?;
        let projects = crate::db::projects::visible_among(
            conn,
            &self.records,
            &ids(AuditEntity::FundedProject),
        )?;
        let paid_projects: Vec<String> = found
            .iter()
            .filter(|r| r.entity == AuditEntity::Payment)
            .filter_map(|r| snapshot_field(r, "project_id"))
            .collect();
        let paid = crate::db::projects::visible_among(conn, &self.payments, &paid_projects)?;
        let allocations = crate::db::compute::visible_allocations_among(
            conn,
            &self.payments,
            &ids(AuditEntity::ComputeAllocation),
        )?;
        Ok(found
            .into_iter()
            .filter(|r| match r.entity {
                AuditEntity::Engagement => self.engagement_entry_visible(&engagements, r),
                AuditEntity::Need => {
                    needs.contains(&r.entity_id)
                        && self.need_snapshots_readable(r, invited.contains(&r.entity_id))
                }
                AuditEntity::Center => centers.contains(&r.entity_id),
                AuditEntity::FundedProject => projects.contains(&r.entity_id),
                AuditEntity::Payment => {
                    snapshot_field(r, "project_id").is_some_and(|p| paid.contains(&p))
                }
                AuditEntity::ComputeAllocation => allocations.contains(&r.entity_id),
                // The university's office keeps all its profiles, whoever owns them; compute
                // resources are public.
                AuditEntity::ComputeResource
                | AuditEntity::Organization
                | AuditEntity::Membership
                | AuditEntity::FacultyProfile => true,
                // Invited addresses are for who may list the invitations, and webhook
                // endpoints for who may manage them: the admins.
                AuditEntity::Invitation | AuditEntity::WebhookEndpoint => {
                    snapshot_field(r, "organization_id").is_some_and(|o| {
                        self.invitations
                            .as_ref()
                            .is_none_or(|admin| admin.contains(&o))
                    })
                }
            })
            .collect())
    }

    /// Whether the reader could read the need in every state the entry recorded: an entry
    /// (and an event made from it) carries the need as it was, so the title it had while a
    /// draft or confidential is not shown to someone who may read it only now that it is
    /// public. `invited`: a profile of the reader is invited to it now.
    fn need_snapshots_readable(&self, r: &EntryRow, invited: bool) -> bool {
        let scope = &self.needs;
        if scope.all {
            return true;
        }
        [&r.before, &r.after]
            .into_iter()
            .filter_map(|s| s.as_deref())
            .filter_map(|s| serde_json::from_str::<serde_json::Value>(s).ok())
            .all(|snapshot| {
                let text = |k: &str| snapshot.get(k).and_then(|v| v.as_str()).unwrap_or_default();
                if scope.member_of.iter().any(|c| c == text("company_id")) {
                    return true;
                }
                if text("status") == NeedStatus::Draft.as_str() {
                    return false;
                }
                let visibility = text("visibility");
                scope.visibilities.iter().any(|v| v.as_str() == visibility)
                    || (visibility == NeedVisibility::Confidential.as_str() && invited)
            })
    }

    /// Visible now, and in the state before or after the change (a change shows both: closing
    /// an engagement the professor was interested in is theirs to see too).
    fn engagement_entry_visible(&self, visible: &HashMap<String, String>, r: &EntryRow) -> bool {
        let Some(company) = visible.get(&r.entity_id) else {
            return false;
        };
        [&r.before, &r.after]
            .into_iter()
            .filter_map(|s| state_of(s.as_deref()))
            .any(|state| policy::engagement_state_visible(&self.engagements, company, state))
    }
}

/// A top-level text field of an entry's snapshot (the one after the change, else before).
fn snapshot_field(r: &EntryRow, key: &str) -> Option<String> {
    let snapshot = r.after.as_deref().or(r.before.as_deref())?;
    let v: serde_json::Value = serde_json::from_str(snapshot).ok()?;
    v.get(key)?.as_str().map(str::to_owned)
}

fn state_of(snapshot: Option<&str>) -> Option<EngagementState> {
    let v: serde_json::Value = serde_json::from_str(snapshot?).ok()?;
    EngagementState::from_wire(v.get("state")?.as_str()?)
}

pub async fn list(db: &Db, caller: Option<&Caller>, q: ListAudit) -> AppResult<AuditList> {
    let scope = policy::audit_scope(caller, q.organization_id.as_deref())?;
    // Operators see every entry; everyone else through the records' own scopes.
    let visibility = if scope.all {
        None
    } else {
        Some(Visibility::of(caller)?)
    };
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        entity: q.entity,
        entity_id: PublicId::query_param("entity_id", q.entity_id.as_deref())?,
        actor_user_id: PublicId::query_param("actor_user_id", q.actor_user_id.as_deref())?,
        organization_id: PublicId::query_param("organization_id", q.organization_id.as_deref())?,
        action: q.action,
        since: q.since.map(|t| t.naive_utc()),
        until: q.until.map(|t| t.naive_utc()),
    };
    db.run(move |conn| {
        // Entries the reader may not see are skipped in SQL by organization and here by
        // record: read on in batches until the page (and one more, for the cursor) is full.
        let wanted = page.seek();
        let batch = wanted.limit.max(200);
        let mut found = Vec::new();
        let mut after = wanted.after.clone();
        loop {
            let read = rows::list(
                conn,
                &scope,
                &filter,
                &Seek {
                    after: after.clone(),
                    limit: batch,
                },
            )?;
            let more = read.len() as i64 == batch;
            after = read.last().map(|r| r.id.clone()).or(after);
            match &visibility {
                Some(v) => found.extend(v.keep(conn, read)?),
                None => found.extend(read),
            }
            if found.len() as i64 >= wanted.limit || !more {
                break;
            }
        }
        found.truncate(usize::try_from(wanted.limit).unwrap_or(usize::MAX));
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
