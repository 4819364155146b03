//! The audit log: entries written in the same transaction as the change they record, and
//! read back filtered by what the caller may see. Nothing here updates or deletes an entry
//! (and the database refuses it: see the migration's triggers).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{audit_log, audit_log_organizations};
use super::{DbConn, Seek};
use crate::domain::stored::{AuditAction, AuditEntity};

/// A change to record.
pub struct Change<'a> {
    /// The user who made it (`None` for the command line and other non-user actors).
    pub actor_user_id: Option<&'a str>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: &'a str,
    /// The organizations it concerns: their admins and staff may read the entry.
    pub organizations: &'a [&'a str],
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log)]
pub struct EntryRow {
    pub id: String,
    pub at: NaiveDateTime,
    pub actor_user_id: Option<String>,
    pub action: AuditAction,
    pub entity: AuditEntity,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub fn record(conn: &mut DbConn, id: &str, c: &Change<'_>) -> QueryResult<()> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::id.eq(id),
            audit_log::at.eq(c.at),
            audit_log::actor_user_id.eq(c.actor_user_id),
            audit_log::action.eq(c.action),
            audit_log::entity.eq(c.entity),
            audit_log::entity_id.eq(c.entity_id),
            audit_log::before.eq(c.before.as_ref().map(|v| v.to_string())),
            audit_log::after.eq(c.after.as_ref().map(|v| v.to_string())),
        ))
        .execute(conn)?;
    let mut orgs: Vec<&str> = c.organizations.to_vec();
    orgs.sort_unstable();
    orgs.dedup();
    // One row per organization (an entry concerns one or two): diesel's multi-backend
    // connection has no batch insert.
    for o in orgs.into_iter().filter(|o| !o.is_empty()) {
        diesel::insert_into(audit_log_organizations::table)
            .values((
                audit_log_organizations::entry_id.eq(id),
                audit_log_organizations::organization_id.eq(o),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Who may read which entries: operators all; others those of the organizations they are an
/// admin or staff member of.
#[derive(Debug, Clone, Default)]
pub struct AuditScope {
    pub all: bool,
    pub organizations: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<AuditEntity>,
    pub entity_id: Option<String>,
    pub actor_user_id: Option<String>,
    pub organization_id: Option<String>,
    pub action: Option<AuditAction>,
    pub since: Option<NaiveDateTime>,
    pub until: Option<NaiveDateTime>,
}

/// Entries in the scope matching the filter, oldest first (ids are time-ordered).
pub fn list(
    conn: &mut DbConn,
    scope: &AuditScope,
    f: &AuditFilter,
    page: &Seek,
) -> QueryResult<Vec<EntryRow>> {
    let mut q = audit_log::table.select(EntryRow::as_select()).into_boxed();
    if !scope.all {
        q = q.filter(
            audit_log::id.eq_any(
                audit_log_organizations::table
                    .filter(
                        audit_log_organizations::organization_id
                            .eq_any(scope.organizations.clone()),
                    )
                    .select(audit_log_organizations::entry_id),
            ),
        );
    }
    if let Some(o) = &f.organization_id {
        q = q.filter(
            audit_log::id.eq_any(
                audit_log_organizations::table
                    .filter(audit_log_organizations::organization_id.eq(o.clone()))
                    .select(audit_log_organizations::entry_id),
            ),
        );
    }
    if let Some(v) = &f.entity {
        q = q.filter(audit_log::entity.eq(*v));
    }
    if let Some(v) = &f.entity_id {
        q = q.filter(audit_log::entity_id.eq(v.clone()));
    }
    if let Some(v) = &f.actor_user_id {
        q = q.filter(audit_log::actor_user_id.eq(v.clone()));
    }
    if let Some(v) = &f.action {
        q = q.filter(audit_log::action.eq(*v));
    }
    if let Some(v) = f.since {
        q = q.filter(audit_log::at.ge(v));
    }
    if let Some(v) = f.until {
        q = q.filter(audit_log::at.lt(v));
    }
    seek!(q, audit_log::id, page).load(conn)
}

/// The organizations of entries (for the views).
pub fn organizations_of(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, Vec<String>>> {
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (entry, org) in audit_log_organizations::table
        .filter(audit_log_organizations::entry_id.eq_any(ids))
        .order((
            audit_log_organizations::entry_id,
            audit_log_organizations::organization_id,
        ))
        .select((
            audit_log_organizations::entry_id,
            audit_log_organizations::organization_id,
        ))
        .load::<(String, String)>(conn)?
    {
        out.entry(entry).or_default().push(org);
    }
    Ok(out)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<EntryRow>> {
    audit_log::table
        .filter(audit_log::id.eq(id))
        .select(EntryRow::as_select())
        .first(conn)
        .optional()
}

/// The newest entry of a record (ids are time-ordered).
pub fn latest_for(
    conn: &mut DbConn,
    entity: AuditEntity,
    entity_id: &str,
) -> QueryResult<Option<EntryRow>> {
    audit_log::table
        .filter(audit_log::entity.eq(entity))
        .filter(audit_log::entity_id.eq(entity_id))
        .order(audit_log::id.desc())
        .select(EntryRow::as_select())
        .first(conn)
        .optional()
}
