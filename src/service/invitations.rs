//! Use cases for invitations to join an organization.
//!
//! An organization's admin (or an operator) invites an email address in a role; the account
//! with that address joins only by accepting, and may decline. Inviting never looks at
//! whether an account exists for the address, so the answer is the same either way and tells
//! the admin nothing about other people's accounts. An invitation to an address without an
//! account simply waits: once an account with that address is created, it finds the
//! invitation at `GET /me/invitations`. Until it is answered the admin may revoke it. An
//! invitation not answered within its `Lifetime` (`invitation_lifetime_days`) expires: it can no longer be answered, and
//! inviting the address again renews it (the same invitation, sent anew).

use crate::db::accounts::{self as account_rows, NewMembership};
use crate::db::invitations::{self as rows, InvitationRow, NewInvitation};
use crate::db::organizations as org_rows;
use crate::db::{Db, DbConn};
use crate::domain::PublicId;
use crate::dto::accounts::Role;
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::invitations::{
    InvitationStatus, InviteMember, ListInvitations, MemberInvitation, MemberInvitationList,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};

use super::accounts::{audit_membership, email_key, member_view};
use super::audit::{self, Audited};
use super::policy::{self, Action, Caller};
use super::{PageRequest, now};

/// How long an invitation can be answered after it was sent (or last renewed): the
/// `invitation_lifetime_days` setting.
#[derive(Debug, Clone, Copy)]
pub struct Lifetime(chrono::TimeDelta);

impl Lifetime {
    pub fn days(days: u64) -> Self {
        Self(chrono::TimeDelta::days(days.min(i64::MAX as u64) as i64))
    }

    /// Pending invitations last sent before this have expired.
    fn expired_before(self, now: chrono::NaiveDateTime) -> chrono::NaiveDateTime {
        now - self.0
    }
}

impl Audited for MemberInvitation {
    const ENTITY: AuditEntity = AuditEntity::Invitation;
    fn audit_id(&self) -> &str {
        &self.id
    }
    fn concerns(&self) -> Vec<&str> {
        vec![&self.organization_id]
    }
}

/// Invites an address to an organization. 409 when it already belongs to a member or has a
/// pending invitation there (both of which the admin can already see).
pub async fn invite(
    db: &Db,
    caller: Option<&Caller>,
    lifetime: Lifetime,
    organization_id: String,
    input: InviteMember,
) -> AppResult<MemberInvitation> {
    let caller = caller.cloned();
    let key = email_key("email", &input.email).map_err(|e| AppError::validation(vec![e]))?;
    let email = input.email.trim().to_owned();
    db.write(move |conn| {
        let (name, kind) = organization(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageMembers {
                organization_id: &organization_id,
            },
        )?;
        if !policy::role_fits(kind, input.role) {
            return Err(role_not_allowed());
        }
        // Only a member of this very organization is refused, and the admin sees its members.
        if let Some(user) = account_rows::find_user_by_email(conn, &key)?
            && account_rows::find_membership(conn, &organization_id, &user.id)?.is_some()
        {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "This address already belongs to a member",
            ));
        }
        let ts = now();
        if let Some(pending) = rows::find_pending(conn, &organization_id, &key)? {
            if pending.updated_at >= lifetime.expired_before(ts) {
                return Err(AppError::new(
                    ErrorCode::Conflict,
                    "This address already has a pending invitation",
                ));
            }
            // An expired invitation is sent again, in the role asked for now.
            let before = view(pending.clone(), name.clone(), kind, lifetime)?;
            let renewed = view(
                rows::renew(conn, &pending.id, input.role, ts)?,
                name,
                kind,
                lifetime,
            )?;
            audit::change(
                conn,
                caller.as_ref(),
                AuditAction::Update,
                Some(&before),
                Some(&renewed),
            )?;
            return Ok(renewed);
        }
        let row = rows::insert(
            conn,
            &NewInvitation {
                id: &PublicId::generate(),
                organization_id: &organization_id,
                email: &email,
                email_key: &key,
                role: input.role,
                status: InvitationStatus::Pending,
                invited_by: caller.as_ref().map(|c| c.user_id.as_str()),
                created_at: ts,
                updated_at: ts,
            },
        )?;
        let created = view(row, name, kind, lifetime)?;
        audit::change(
            conn,
            caller.as_ref(),
            AuditAction::Create,
            None,
            Some(&created),
        )?;
        Ok(created)
    })
    .await
}

/// An organization's invitations, for those who manage its members.
pub async fn list(
    db: &Db,
    caller: Option<&Caller>,
    lifetime: Lifetime,
    organization_id: String,
    q: ListInvitations,
) -> AppResult<MemberInvitationList> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let caller = caller.cloned();
    db.run(move |conn| {
        let (name, kind) = organization(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageMembers {
                organization_id: &organization_id,
            },
        )?;
        let cutoff = lifetime.expired_before(now());
        let (found, next_cursor) = page.read(
            |seek| rows::of_organization(conn, &organization_id, q.status, cutoff, seek),
            |r| &r.id,
        )?;
        let items = found
            .into_iter()
            .map(|r| view(r, name.clone(), kind, lifetime))
            .collect::<AppResult<_>>()?;
        Ok(MemberInvitationList { items, next_cursor })
    })
    .await
}

/// Withdraws a pending invitation (409 once it was answered).
pub async fn revoke(
    db: &Db,
    caller: Option<&Caller>,
    lifetime: Lifetime,
    organization_id: String,
    invitation_id: String,
) -> AppResult<()> {
    let caller = caller.cloned();
    db.write(move |conn| {
        organization(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageMembers {
                organization_id: &organization_id,
            },
        )?;
        let (row, name, kind) = rows::find(conn, &invitation_id)?
            .filter(|(r, _, _)| r.organization_id == organization_id)
            .ok_or_else(|| AppError::not_found("Invitation"))?;
        settle(
            conn,
            caller.as_ref(),
            row,
            name,
            kind,
            InvitationStatus::Revoked,
            lifetime,
        )?;
        Ok(())
    })
    .await
}

/// The caller's pending invitations: those to the caller's email address.
pub async fn mine(db: &Db, caller: &Caller, lifetime: Lifetime) -> AppResult<MemberInvitationList> {
    let user_id = caller.user_id.clone();
    db.run(move |conn| {
        let key = caller_email_key(conn, &user_id)?;
        let items = rows::pending_for(conn, &key, lifetime.expired_before(now()))?
            .into_iter()
            .map(|(r, name, kind)| view(r, name, kind, lifetime))
            .collect::<AppResult<_>>()?;
        Ok(MemberInvitationList {
            items,
            next_cursor: None,
        })
    })
    .await
}

/// Accepts one of the caller's invitations: only now does the caller become a member.
pub async fn accept(
    db: &Db,
    caller: &Caller,
    lifetime: Lifetime,
    invitation_id: String,
) -> AppResult<MemberInvitation> {
    answer(
        db,
        caller,
        lifetime,
        invitation_id,
        InvitationStatus::Accepted,
    )
    .await
}

/// Declines one of the caller's invitations; nothing else changes.
pub async fn decline(
    db: &Db,
    caller: &Caller,
    lifetime: Lifetime,
    invitation_id: String,
) -> AppResult<MemberInvitation> {
    answer(
        db,
        caller,
        lifetime,
        invitation_id,
        InvitationStatus::Declined,
    )
    .await
}

async fn answer(
    db: &Db,
    caller: &Caller,
    lifetime: Lifetime,
    invitation_id: String,
    to: InvitationStatus,
) -> AppResult<MemberInvitation> {
    let caller = caller.clone();
    db.write(move |conn| {
        let key = caller_email_key(conn, &caller.user_id)?;
        // Someone else's invitation is as unknown as one that does not exist.
        let (row, name, kind) = rows::find(conn, &invitation_id)?
            .filter(|(r, _, _)| r.email_key == key)
            .ok_or_else(|| AppError::not_found("Invitation"))?;
        let role = row.role;
        let organization_id = row.organization_id.clone();
        let settled = settle(conn, Some(&caller), row, name, kind, to, lifetime)?;
        if to == InvitationStatus::Accepted {
            join(conn, &caller, &organization_id, kind, role)?;
        }
        Ok(settled)
    })
    .await
}

/// Makes the caller a member, as the invitation said.
fn join(
    conn: &mut DbConn,
    caller: &Caller,
    organization_id: &str,
    kind: OrganizationKind,
    role: Role,
) -> AppResult<()> {
    if !policy::role_fits(kind, role) {
        return Err(role_not_allowed());
    }
    if account_rows::find_membership(conn, organization_id, &caller.user_id)?.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "You already are a member of this organization",
        ));
    }
    let user = account_rows::find_user(conn, &caller.user_id)?
        .ok_or_else(|| AppError::unauthenticated("user deleted"))?;
    let ts = now();
    let m = account_rows::insert_membership(
        conn,
        &NewMembership {
            id: &PublicId::generate(),
            user_id: &user.id,
            organization_id,
            role,
            version: 1,
            created_at: ts,
            updated_at: ts,
        },
    )?;
    let member = member_view(&m, &user)?;
    audit_membership(
        conn,
        Some(caller),
        organization_id,
        &m.id,
        AuditAction::Create,
        None,
        Some(&member),
    )
}

/// Moves a pending invitation to its answer and audits it; 409 when it was already answered
/// (or revoked), including by a concurrent request.
fn settle(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    row: InvitationRow,
    name: String,
    kind: OrganizationKind,
    to: InvitationStatus,
    lifetime: Lifetime,
) -> AppResult<MemberInvitation> {
    let before = view(row.clone(), name.clone(), kind, lifetime)?;
    let ts = now();
    // An admin may still withdraw an expired invitation; its invitee can no longer answer it.
    let sent_since = (to != InvitationStatus::Revoked).then(|| lifetime.expired_before(ts));
    let Some(updated) = rows::settle(conn, &row.id, to, ts, sent_since)? else {
        let detail = if before.status == InvitationStatus::Expired {
            "This invitation has expired; the organization can invite the address again".into()
        } else {
            format!("This invitation is already {}", before.status.as_str())
        };
        return Err(AppError::new(ErrorCode::Conflict, detail));
    };
    let after = view(updated, name, kind, lifetime)?;
    audit::change(
        conn,
        caller,
        AuditAction::Update,
        Some(&before),
        Some(&after),
    )?;
    Ok(after)
}

fn organization(conn: &mut DbConn, id: &str) -> AppResult<(String, OrganizationKind)> {
    let org = org_rows::find(conn, id)?.ok_or_else(|| AppError::not_found("Organization"))?;
    Ok((org.name, org.kind))
}

fn caller_email_key(conn: &mut DbConn, user_id: &str) -> AppResult<String> {
    Ok(account_rows::find_user(conn, user_id)?
        .ok_or_else(|| AppError::unauthenticated("user deleted"))?
        .email_key)
}

fn role_not_allowed() -> AppError {
    AppError::validation(vec![FieldError::new(
        "role",
        FieldCode::RoleNotAllowed,
        "faculty members belong to universities",
    )])
}

fn view(
    row: InvitationRow,
    name: String,
    kind: OrganizationKind,
    lifetime: Lifetime,
) -> AppResult<MemberInvitation> {
    let pending = row.status == InvitationStatus::Pending;
    let expires_at = pending.then(|| (row.updated_at + lifetime.0).and_utc());
    let status = if pending && row.updated_at < lifetime.expired_before(now()) {
        InvitationStatus::Expired
    } else {
        row.status
    };
    Ok(MemberInvitation {
        role: row.role,
        status,
        expires_at,
        id: row.id,
        organization_id: row.organization_id,
        organization_name: name,
        organization_kind: kind,
        email: row.email,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}
