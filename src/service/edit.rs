//! Updating a record by merge patch, written once for the records whose update is only that:
//! centres, needs and funded projects. (A profile's update also hands it to another owner,
//! which is authorised before anything is validated; organizations have no parts.)
//!
//! The steps, in one transaction: load the record as the caller may edit it (404, 403), check
//! `If-Match` (required: 428, 412), merge the patch into the record's create shape, validate
//! it (422), answer the record unchanged if nothing changed (no new version, no audit entry),
//! check what the record's kind asks of a change (its status move, its references, …), write
//! the new version by compare-and-swap (412 when it changed meanwhile) with its parts, do what
//! follows from the change, and keep both versions in the audit log. What differs between
//! kinds is chosen in each kind's [`Edit`] table, beside its `update`.

use chrono::NaiveDateTime;

use crate::db::{Db, DbConn, VersionedRow};
use crate::dto::audit::AuditAction;
use crate::error::AppResult;

use super::audit::{self, Audited};
use super::policy::Caller;
use super::{Precondition, Versioned, now};

/// A change about to be written: the record as stored, its create shape before and after the
/// patch, and the validated result.
pub struct Change<'a, Row, Input, Valid> {
    pub current: &'a Row,
    pub before: &'a Input,
    pub after: &'a Input,
    pub valid: &'a Valid,
}

type Check<Row, Input, Valid> =
    fn(&mut DbConn, Option<&Caller>, &Change<Row, Input, Valid>) -> AppResult<()>;
type Then<Row, Input, Valid> =
    fn(&mut DbConn, Option<&Caller>, &Change<Row, Input, Valid>, NaiveDateTime) -> AppResult<()>;

/// How one kind of record is updated.
pub struct Edit<Row, Input, Valid, View> {
    /// Loads the record: visible to the caller (404 otherwise) and theirs to edit (403).
    pub managed: fn(&mut DbConn, Option<&Caller>, &str) -> AppResult<Row>,
    /// The stored record in its create shape, parts included.
    pub input: fn(&mut DbConn, &Row) -> AppResult<Input>,
    /// Whether the status may move from before to after (409 otherwise), asked before the
    /// rest is validated.
    pub transition: fn(&Input, &Input) -> AppResult<()>,
    pub parse: fn(&Input) -> AppResult<Valid>,
    /// What a change must satisfy besides being valid on its own.
    pub check: Check<Row, Input, Valid>,
    /// Writes the new version if the stored one is still `current`'s (412 otherwise), and its
    /// parts.
    pub write: fn(&mut DbConn, &Row, &Valid, NaiveDateTime) -> AppResult<Row>,
    /// What follows from a written change, in the same transaction.
    pub then: Then<Row, Input, Valid>,
    /// The record as the API answers with it (and as the audit log keeps it).
    pub view: fn(&mut DbConn, Row) -> AppResult<Versioned<View>>,
}

/// For `Edit::then` where nothing follows.
pub fn nothing_follows<Row, Input, Valid>(
    _: &mut DbConn,
    _: Option<&Caller>,
    _: &Change<Row, Input, Valid>,
    _: NaiveDateTime,
) -> AppResult<()> {
    Ok(())
}

impl<Row, Input, Valid, View> Edit<Row, Input, Valid, View>
where
    Row: VersionedRow + Clone + Send + 'static,
    Input: Clone + Send + 'static,
    Valid: PartialEq,
    View: Audited + Send + 'static,
{
    /// Updates record `id` with `patch`, which merges a patch into the record's create shape.
    pub async fn apply(
        &'static self,
        db: &Db,
        caller: Option<&Caller>,
        id: String,
        precondition: Precondition,
        patch: impl FnOnce(Input) -> Input + Send + 'static,
    ) -> AppResult<Versioned<View>> {
        let caller = caller.cloned();
        db.write(move |conn| {
            let caller = caller.as_ref();
            let current = (self.managed)(conn, caller, &id)?;
            precondition.check(current.version(), true)?;
            let before = (self.input)(conn, &current)?;
            let after = patch(before.clone());
            (self.transition)(&before, &after)?;
            let valid = (self.parse)(&after)?;
            if (self.parse)(&before).is_ok_and(|b| b == valid) {
                return (self.view)(conn, current);
            }
            let change = Change {
                current: &current,
                before: &before,
                after: &after,
                valid: &valid,
            };
            (self.check)(conn, caller, &change)?;
            let at = now();
            let before_view = (self.view)(conn, current.clone())?;
            let row = (self.write)(conn, &current, &valid, at)?;
            (self.then)(conn, caller, &change, at)?;
            let after_view = (self.view)(conn, row)?;
            audit::change(
                conn,
                caller,
                AuditAction::Update,
                Some(&before_view.value),
                Some(&after_view.value),
            )?;
            Ok(after_view)
        })
        .await
    }
}
