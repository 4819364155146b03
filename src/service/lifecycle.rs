//! Soft delete and restore, written once for every kind of record that has them.
//!
//! A delete marks the record deleted (it disappears for everyone but operators, who can still
//! read it with `include_deleted=true`); a restore, by an operator, clears the mark. Both are
//! compare-and-swap writes of the record's version (412 when it changed meanwhile), in one
//! transaction with whatever they record. What differs between kinds of record is chosen in
//! the [`SoftDelete`] tables at the end of this file: who may delete, how a restore finds the
//! record, and whether the audit log keeps the change. Whether the search index follows is
//! the table's own (`versioned_writes!` in `db`: centres, needs and profiles write an outbox
//! row, funded projects are not indexed).

use chrono::NaiveDateTime;

use crate::db::{
    Db, DbConn, VersionedRow, centers as center_rows, faculty as faculty_rows, needs as need_rows,
    projects as project_rows,
};
use crate::dto::audit::AuditAction;
use crate::dto::centers::Center;
use crate::dto::faculty::FacultyProfile;
use crate::dto::needs::Need;
use crate::dto::projects::FundedProject;
use crate::error::{AppError, AppResult};

use super::policy::{self, Action, Caller};
use super::{Precondition, Versioned, audit, centers, faculty, needs, now, projects};

/// Writes a change to the audit log: `before` on delete, `after` on restore.
type Audit<View> =
    fn(&mut DbConn, Option<&Caller>, AuditAction, Option<&View>, Option<&View>) -> AppResult<()>;

/// How one kind of record is soft-deleted and restored.
pub struct SoftDelete<Row, View> {
    /// The record's name in a 404 ("Need").
    noun: &'static str,
    /// Loads the record for a delete: visible to the caller (404 otherwise) and theirs to
    /// delete (403 otherwise).
    deletable: fn(&mut DbConn, Option<&Caller>, &str) -> AppResult<Row>,
    /// Loads the record for a restore, deleted or not (the caller is an operator); `None`
    /// when there is no such record.
    restorable: fn(&mut DbConn, Option<&Caller>, &str) -> AppResult<Option<Row>>,
    /// The table's compare-and-swap of `deleted_at` (see `versioned_writes!`).
    set_deleted: fn(
        &mut DbConn,
        &str,
        i64,
        Option<NaiveDateTime>,
        NaiveDateTime,
    ) -> diesel::QueryResult<bool>,
    /// The record as the API answers with it (and as the audit log keeps it).
    view: fn(&mut DbConn, Row) -> AppResult<Versioned<View>>,
    /// Whether, and how, the audit log keeps deletes and restores.
    audit: Option<Audit<View>>,
}

impl<Row, View> SoftDelete<Row, View>
where
    Row: VersionedRow + Clone + Send + 'static,
    View: Send + 'static,
{
    /// Soft-deletes a record: 401 without credentials, before anything is looked up; with
    /// `If-Match`, only the version it names (412 otherwise).
    pub async fn delete(
        &'static self,
        db: &Db,
        caller: Option<&Caller>,
        id: String,
        precondition: Precondition,
    ) -> AppResult<()> {
        policy::require_signed_in(caller)?;
        let caller = caller.cloned();
        db.write(move |conn| {
            let caller = caller.as_ref();
            let current = (self.deletable)(conn, caller, &id)?;
            precondition.check(current.version(), false)?;
            let before = match self.audit {
                Some(_) => Some((self.view)(conn, current.clone())?),
                None => None,
            };
            if !(self.set_deleted)(conn, &id, current.version(), Some(now()), now())? {
                return Err(AppError::stale());
            }
            match (self.audit, before) {
                (Some(audit), Some(before)) => {
                    audit(conn, caller, AuditAction::Delete, Some(&before.value), None)
                }
                _ => Ok(()),
            }
        })
        .await
    }

    /// Restores a record (platform operators). Restoring a record that is not deleted changes
    /// nothing and answers it as it is.
    pub async fn restore(
        &'static self,
        db: &Db,
        caller: Option<&Caller>,
        id: String,
    ) -> AppResult<Versioned<View>> {
        policy::authorize(caller, Action::Restore)?;
        let caller = caller.cloned();
        db.write(move |conn| {
            let caller = caller.as_ref();
            let not_found = || AppError::not_found(self.noun);
            let current = (self.restorable)(conn, caller, &id)?.ok_or_else(not_found)?;
            let was_deleted = current.deleted_at().is_some();
            if was_deleted && !(self.set_deleted)(conn, &id, current.version(), None, now())? {
                return Err(AppError::stale());
            }
            let row = (self.restorable)(conn, caller, &id)?.ok_or_else(not_found)?;
            let after = (self.view)(conn, row)?;
            if let (true, Some(audit)) = (was_deleted, self.audit) {
                audit(conn, caller, AuditAction::Restore, None, Some(&after.value))?;
            }
            Ok(after)
        })
        .await
    }
}

/// Joint lab centres: the host university's admins and staff delete them (as they update
/// them); audited.
pub static CENTERS: SoftDelete<center_rows::CenterRow, Center> = SoftDelete {
    noun: "Centre",
    deletable: centers::managed,
    restorable: |conn, caller, id| {
        let scope = policy::participant_scope(caller, true)?;
        Ok(center_rows::find_visible(conn, &scope, id)?)
    },
    set_deleted: center_rows::set_deleted,
    view: centers::full_view,
    audit: Some(audit::change::<Center>),
};

/// Needs: the company's admins and staff delete them (as they update them); audited.
pub static NEEDS: SoftDelete<need_rows::NeedRow, Need> = SoftDelete {
    noun: "Need",
    deletable: needs::managed,
    restorable: |conn, caller, id| {
        let scope = policy::need_scope(caller, true)?;
        Ok(need_rows::find_visible(conn, &scope, id)?)
    },
    set_deleted: need_rows::set_deleted,
    view: needs::full_view,
    audit: Some(audit::change::<Need>),
};

/// Funded projects: the performing university's admins and staff delete them (as they update
/// them); audited.
pub static PROJECTS: SoftDelete<project_rows::ProjectRow, FundedProject> = SoftDelete {
    noun: "Funded project",
    deletable: projects::managed,
    restorable: |conn, caller, id| {
        let scope = policy::participant_scope(caller, true)?;
        Ok(project_rows::find_visible(conn, &scope, id)?)
    },
    set_deleted: project_rows::set_deleted,
    view: projects::full_view,
    audit: Some(audit::change::<FundedProject>),
};

/// Faculty profiles: the university's admins and staff delete them, not their owner (who may
/// edit one: [`Action::DeleteFacultyProfile`]). Not audited: the audit log keeps who a profile
/// belongs to (its link to an account), not its content, and a delete leaves the link as it is.
pub static FACULTY: SoftDelete<faculty_rows::FacultyRow, FacultyProfile> = SoftDelete {
    noun: "Faculty profile",
    deletable: |conn, caller, id| {
        let scope = policy::faculty_scope(caller, false)?;
        let row = faculty_rows::find_visible(conn, &scope, id)?
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        policy::authorize(
            caller,
            Action::DeleteFacultyProfile {
                university_id: &row.university_id,
            },
        )?;
        Ok(row)
    },
    restorable: |conn, _, id| Ok(faculty_rows::find_any(conn, id)?),
    set_deleted: faculty_rows::set_deleted,
    view: faculty::full_view,
    audit: None,
};
