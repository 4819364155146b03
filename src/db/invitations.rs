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

/// A page of an organization's invitations (optionally of one status).
pub fn of_organization(
    conn: &mut DbConn,
    organization_id: &str,
    status: Option<&str>,
    page: &Seek,
) -> QueryResult<Vec<InvitationRow>> {
    let mut q = member_invitations::table
        .filter(member_invitations::organization_id.eq(organization_id))
        .select(member_invitations::all_columns)
        .into_boxed();
    if let Some(status) = status {
        q = q.filter(member_invitations::status.eq(status.to_owned()));
    }
    seek!(q, member_invitations::id, page).load(conn)
}

/// The pending invitations of an address to live organizations, with each organization's
/// name and kind, oldest first.
pub fn pending_for(
    conn: &mut DbConn,
    email_key: &str,
) -> QueryResult<Vec<(InvitationRow, String, OrganizationKind)>> {
    member_invitations::table
        .inner_join(organizations::table)
        .filter(member_invitations::email_key.eq(email_key))
        .filter(member_invitations::status.eq(InvitationStatus::Pending))
        .filter(organizations::deleted_at.is_null())
        .order(member_invitations::id.asc())
        .select((
            member_invitations::all_columns,
            organizations::name,
            organizations::kind,
        ))
        .load(conn)
}

/// Moves a pending invitation to `status` (accepted, declined, revoked); `None` when it is no
/// longer pending, so that of two concurrent answers exactly one wins.
pub fn settle(
    conn: &mut DbConn,
    id: &str,
    status: InvitationStatus,
    now: NaiveDateTime,
) -> QueryResult<Option<InvitationRow>> {
    diesel::update(
        member_invitations::table
            .filter(member_invitations::id.eq(id))
            .filter(member_invitations::status.eq(InvitationStatus::Pending)),
    )
    .set((
        member_invitations::status.eq(status),
        member_invitations::updated_at.eq(now),
    ))
    .returning(member_invitations::all_columns)
    .get_result(conn)
    .optional()
}
