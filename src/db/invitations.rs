//! Invitations to join an organization (`member_invitations`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{member_invitations, organizations};
use super::{DbConn, Seek};
use crate::domain::stored::{InvitationStatus, OrganizationKind, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = member_invitations)]
pub struct InvitationRow {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub email_key: String,
    pub role: Role,
    pub status: InvitationStatus,
    pub invited_by: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = member_invitations)]
pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub organization_id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub role: Role,
    pub status: InvitationStatus,
    pub invited_by: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewInvitation<'_>) -> QueryResult<InvitationRow> {
    diesel::insert_into(member_invitations::table)
        .values(new)
        .returning(member_invitations::all_columns)
        .get_result(conn)
}

/// An invitation with its organization's name and kind (the organization must be live).
pub fn find(
    conn: &mut DbConn,
    id: &str,
) -> QueryResult<Option<(InvitationRow, String, OrganizationKind)>> {
    member_invitations::table
        .inner_join(organizations::table)
        .filter(member_invitations::id.eq(id))
        .filter(organizations::deleted_at.is_null())
        .select((
            member_invitations::all_columns,
            organizations::name,
            organizations::kind,
        ))
        .first(conn)
        .optional()
}

/// The pending invitation of an address to an organization, if any.
pub fn find_pending(
    conn: &mut DbConn,
    organization_id: &str,
    email_key: &str,
) -> QueryResult<Option<InvitationRow>> {
    member_invitations::table
        .filter(member_invitations::organization_id.eq(organization_id))
        .filter(member_invitations::email_key.eq(email_key))
        .filter(member_invitations::status.eq(InvitationStatus::Pending))
        .select(member_invitations::all_columns)
        .first(conn)
        .optional()
}

/// A page of an organization's invitations (optionally of one status). A pending invitation
/// last sent before `expired_before` reads as expired: `pending` leaves it out and `expired`
/// asks for it alone.
pub fn of_organization(
    conn: &mut DbConn,
    organization_id: &str,
    status: Option<InvitationStatus>,
    expired_before: NaiveDateTime,
    page: &Seek,
) -> QueryResult<Vec<InvitationRow>> {
    let mut q = member_invitations::table
        .filter(member_invitations::organization_id.eq(organization_id))
        .select(member_invitations::all_columns)
        .into_boxed();
    match status {
        Some(InvitationStatus::Pending) => {
            q = q
                .filter(member_invitations::status.eq(InvitationStatus::Pending))
                .filter(member_invitations::updated_at.ge(expired_before));
        }
        Some(InvitationStatus::Expired) => {
            q = q
                .filter(member_invitations::status.eq(InvitationStatus::Pending))
                .filter(member_invitations::updated_at.lt(expired_before));
        }
        Some(status) => q = q.filter(member_invitations::status.eq(status)),
        None => {}
    }
    seek!(q, member_invitations::id, page).load(conn)
}

/// The pending invitations of an address to live organizations, with each organization's
/// name and kind, oldest first.
pub fn pending_for(
    conn: &mut DbConn,
    email_key: &str,
    expired_before: NaiveDateTime,
) -> QueryResult<Vec<(InvitationRow, String, OrganizationKind)>> {
    member_invitations::table
        .inner_join(organizations::table)
        .filter(member_invitations::email_key.eq(email_key))
        .filter(member_invitations::status.eq(InvitationStatus::Pending))
        .filter(member_invitations::updated_at.ge(expired_before))
        .filter(organizations::deleted_at.is_null())
        .order(member_invitations::id.asc())
        .select((
            member_invitations::all_columns,
            organizations::name,
            organizations::kind,
        ))
        .load(conn)
}

/// Moves a pending invitation (last sent from `sent_since` on, if given) to `status`
/// (accepted, declined, revoked); `None` when it is no longer pending (or was sent before),
/// so that of two concurrent answers exactly one wins.
pub fn settle(
    conn: &mut DbConn,
    id: &str,
    status: InvitationStatus,
    now: NaiveDateTime,
    sent_since: Option<NaiveDateTime>,
) -> QueryResult<Option<InvitationRow>> {
    // Every row was sent after 1970: with no bound, the filter keeps them all.
    let since = sent_since.unwrap_or(chrono::DateTime::UNIX_EPOCH.naive_utc());
    diesel::update(
        member_invitations::table
            .filter(member_invitations::id.eq(id))
            .filter(member_invitations::status.eq(InvitationStatus::Pending))
            .filter(member_invitations::updated_at.ge(since)),
    )
    .set((
        member_invitations::status.eq(status),
        member_invitations::updated_at.eq(now),
    ))
    .returning(member_invitations::all_columns)
    .get_result(conn)
    .optional()
}

/// Sends a pending invitation again: a fresh lifetime from `now`, in `role`.
pub fn renew(
    conn: &mut DbConn,
    id: &str,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<InvitationRow> {
    diesel::update(member_invitations::table.filter(member_invitations::id.eq(id)))
        .set((
            member_invitations::role.eq(role),
            member_invitations::updated_at.eq(now),
        ))
        .returning(member_invitations::all_columns)
        .get_result(conn)
}
