//! Use cases for accounts: login, token refresh and logout, the caller's own account,
//! password change, bootstrap users, and organization members.

use crate::dto::audit::{AuditAction, AuditEntity};
use chrono::Duration as ChronoDuration;

use crate::db::accounts::{
    self as rows, MembershipRow, NewMembership, NewRefreshToken, NewUser, UserRow,
};
use crate::db::organizations as org_rows;
use crate::db::{Db, DbConn};
use crate::domain::{PublicId, Text};
use crate::dto::accounts::{
    AddMember, AddedMember, Me, Member, MemberList, MembershipSummary, Role, TokenPair, User,
};
use crate::dto::organizations::OrganizationKind;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};

use super::auth::{Attempt, Auth, check_new_password, random_token, token_digest};
use super::policy::{self, Action, Caller, CallerMembership};
use super::{PageRequest, Precondition, Versioned, now};

/// The account key of an email: the address, trimmed and lower-cased.
pub fn email_key(field: &str, email: &str) -> Result<String, FieldError> {
    crate::domain::Email::parse(field, email).map(|e| e.to_lowercase())
}

fn invalid_credentials() -> AppError {
    AppError::new(ErrorCode::InvalidCredentials, "Wrong email or password")
}

/// Logs in: throttled per account and per client address; an unknown email costs the same
/// password check and gets the same answer as a wrong password.
pub async fn login(
    db: &Db,
    auth: std::sync::Arc<Auth>,
    email: String,
    password: String,
    client: String,
) -> AppResult<TokenPair> {
    let (user_id, _) = authenticate(db, auth.clone(), email, password, client).await?;
    let family = PublicId::generate();
    db.write(move |conn| issue_pair(conn, &auth, &user_id, &family))
        .await
}

/// The account these credentials are, under login's throttle; the user's id.
async fn authenticate(
    db: &Db,
    auth: std::sync::Arc<Auth>,
    email: String,
    password: String,
    client: String,
) -> AppResult<(String, String)> {
    let key = email.trim().to_lowercase();
    // No address is longer (RFC 5321); a longer one would only fatten the throttle's keys.
    if key.len() > 254 {
        return Err(invalid_credentials());
    }
    let attempt = Attempt::new(&format!("account:{key}"), &client);
    auth.throttle.check(&attempt)?;
    let auth2 = auth.clone();
    let user = db
        .run(move |conn| {
            let user = rows::find_user_by_email(conn, &key)?;
            let ok = auth2
                .passwords
                .verify(&password, user.as_ref().map(|u| u.password_hash.as_str()));
            Ok(user.filter(|u| ok && !u.disabled))
        })
        .await?;
    let Some(user) = user else {
        auth.throttle.record_failure(&attempt);
        return Err(invalid_credentials());
    };
    auth.throttle.succeeded(&attempt);
    Ok((user.id, user.password_hash))
}

/// How long a web session lasts after sign-in, and without use.
const SESSION_TTL: ChronoDuration = ChronoDuration::days(7);
const SESSION_IDLE: ChronoDuration = ChronoDuration::hours(12);
/// A session's last use is written at most this often (not at every page).
const SESSION_TOUCH: ChronoDuration = ChronoDuration::minutes(5);

/// A new web session: the token for the browser's cookie and the form token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// A web session as a page sees it.
pub struct Session {
    pub caller: Caller,
    pub display_name: String,
    pub csrf: String,
}

/// Signs in to the web app: the same credentials and throttle as `login`, a session instead
/// of tokens. The browser's previous session (`replacing`), if any, ends, and so does every
/// lapsed one.
pub async fn start_session(
    db: &Db,
    auth: std::sync::Arc<Auth>,
    email: String,
    password: String,
    client: String,
    replacing: Option<String>,
) -> AppResult<NewSession> {
    let (user_id, checked_hash) = authenticate(db, auth, email, password, client).await?;
    let token = random_token(32)?;
    let csrf = random_token(32)?;
    let ts = now();
    let row = rows::SessionRow {
        token_hash: token_digest(&token),
        user_id,
        csrf: csrf.clone(),
        created_at: ts,
        last_seen_at: ts,
        expires_at: ts + SESSION_TTL,
    };
    db.write(move |conn| {
        // A password changed (or an account disabled) since the check signs nobody in: its
        // change ended every session, this one must not begin after it.
        let still = rows::find_user(conn, &row.user_id)?
            .is_some_and(|u| !u.disabled && u.password_hash == checked_hash);
        if !still {
            return Err(invalid_credentials());
        }
        let old = replacing.as_deref().map(token_digest).unwrap_or_default();
        rows::end_session(conn, &old, ts, ts - SESSION_IDLE)?;
        Ok(rows::insert_session(conn, &row)?)
    })
    .await?;
    Ok(NewSession { token, csrf })
}

/// The session a cookie's token names, if it is alive and its account may still sign in.
pub async fn resume_session(db: &Db, token: String) -> AppResult<Option<Session>> {
    let digest = token_digest(&token);
    let ts = now();
    let found = db
        .run({
            let digest = digest.clone();
            move |conn| {
                let Some(s) = rows::find_session(conn, &digest, ts, ts - SESSION_IDLE)? else {
                    return Ok(None);
                };
                let Some(caller) = caller_in(conn, &s.user_id)? else {
                    return Ok(None);
                };
                let name = rows::find_user(conn, &s.user_id)?
                    .map(|u| u.display_name)
                    .unwrap_or_default();
                Ok(Some((s, caller, name)))
            }
        })
        .await?;
    let Some((s, caller, display_name)) = found else {
        return Ok(None);
    };
    if ts - s.last_seen_at > SESSION_TOUCH {
        // A failed touch costs the session a little idle time, not the page.
        if let Err(e) = db
            .write(move |conn| Ok(rows::touch_session(conn, &digest, ts)?))
            .await
        {
            tracing::warn!(error = %e.log_message(), "touching a web session failed");
        }
    }
    Ok(Some(Session {
        caller,
        display_name,
        csrf: s.csrf,
    }))
}

/// Signs out of the web app (and forgets lapsed sessions on the way).
pub async fn end_session(db: &Db, token: String) -> AppResult<()> {
    let ts = now();
    db.write(move |conn| {
        Ok(rows::end_session(
            conn,
            &token_digest(&token),
            ts,
            ts - SESSION_IDLE,
        )?)
    })
    .await
}

fn issue_pair(conn: &mut DbConn, auth: &Auth, user_id: &str, family: &str) -> AppResult<TokenPair> {
    let refresh = random_token(32)?;
    let ts = now();
    let ttl = i64::try_from(auth.refresh_ttl).unwrap_or(i64::MAX / 2);
    rows::insert_refresh_token(
        conn,
        &NewRefreshToken {
            id: &PublicId::generate(),
            family_id: family,
            user_id,
            token_hash: &token_digest(&refresh),
            expires_at: ts + ChronoDuration::seconds(ttl.min(10 * 365 * 24 * 3600)),
            created_at: ts,
        },
    )?;
    Ok(TokenPair {
        access_token: auth.keys.issue(user_id)?,
        token_type: "Bearer".into(),
        expires_in: auth.keys.access_ttl(),
        refresh_token: refresh,
    })
}

enum RefreshOutcome {
    Issued(TokenPair),
    Rejected(&'static str),
}

/// Rotates a refresh token. A token that was already used revokes its whole family (someone
/// holds a copy); the revocation is committed even though the request is refused.
pub async fn refresh(db: &Db, auth: std::sync::Arc<Auth>, token: String) -> AppResult<TokenPair> {
    let outcome = db
        .write(move |conn| {
            let ts = now();
            let Some(row) = rows::find_refresh_token(conn, &token_digest(&token))? else {
                return Ok(RefreshOutcome::Rejected("unknown refresh token"));
            };
            if row.used_at.is_some() || row.revoked_at.is_some() {
                rows::revoke_family(conn, &row.family_id, ts)?;
                return Ok(RefreshOutcome::Rejected(
                    "refresh token reused: family revoked",
                ));
            }
            if row.expires_at <= ts {
                return Ok(RefreshOutcome::Rejected("refresh token expired"));
            }
            let active = rows::find_user(conn, &row.user_id)?.is_some_and(|u| !u.disabled);
            if !active {
                rows::revoke_family(conn, &row.family_id, ts)?;
                return Ok(RefreshOutcome::Rejected("user disabled or deleted"));
            }
            if !rows::spend_refresh_token(conn, &row.id, ts)? {
                rows::revoke_family(conn, &row.family_id, ts)?;
                return Ok(RefreshOutcome::Rejected(
                    "refresh token raced: family revoked",
                ));
            }
            issue_pair(conn, &auth, &row.user_id, &row.family_id).map(RefreshOutcome::Issued)
        })
        .await?;
    match outcome {
        RefreshOutcome::Issued(pair) => Ok(pair),
        RefreshOutcome::Rejected(why) => Err(AppError::unauthenticated(why)),
    }
}

/// Ends a session: the refresh token's family is revoked. Idempotent; unknown tokens are
/// ignored so that logout never tells an attacker anything.
pub async fn logout(db: &Db, token: String) -> AppResult<()> {
    db.write(move |conn| {
        if let Some(row) = rows::find_refresh_token(conn, &token_digest(&token))? {
            rows::revoke_family(conn, &row.family_id, now())?;
        }
        Ok(())
    })
    .await
}

/// Loads the caller named by a verified token; a deleted or disabled user is unauthenticated.
pub async fn load_caller(db: &Db, user_id: String) -> AppResult<Caller> {
    db.run(move |conn| {
        caller_in(conn, &user_id)?
            .ok_or_else(|| AppError::unauthenticated("user disabled or deleted"))
    })
    .await
}

/// The account as a caller, with its memberships as they are now (`None`: disabled or
/// deleted): who a notification or an alert acts for.
pub(crate) fn caller_in(conn: &mut DbConn, user_id: &str) -> AppResult<Option<Caller>> {
    let Some(user) = rows::find_user(conn, user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    let memberships = rows::memberships_of(conn, &user.id)?
        .into_iter()
        .map(|(m, kind, _)| CallerMembership {
            organization_id: m.organization_id,
            organization_kind: kind,
            role: m.role,
        })
        .collect();
    Ok(Some(Caller {
        user_id: user.id,
        is_platform_operator: user.is_platform_operator,
        memberships,
    }))
}

pub async fn me(db: &Db, caller: &Caller) -> AppResult<Me> {
    let id = caller.user_id.clone();
    db.run(move |conn| {
        let user = rows::find_user(conn, &id)?.ok_or_else(|| AppError::not_found("User"))?;
        let memberships = rows::memberships_of(conn, &id)?
            .into_iter()
            .map(|(m, kind, name)| MembershipSummary {
                organization_id: m.organization_id,
                organization_name: name,
                organization_kind: kind,
                role: m.role,
            })
            .collect();
        Ok(Me {
            user: user_view(&user),
            memberships,
        })
    })
    .await
}

/// Changes the caller's password after checking the current one; every refresh token of the
/// user is revoked, so other sessions end when their access token expires.
pub async fn change_password(
    db: &Db,
    auth: std::sync::Arc<Auth>,
    caller: &Caller,
    current: String,
    new: String,
    client: String,
) -> AppResult<()> {
    check_new_password("new_password", &new).map_err(|e| AppError::validation(vec![e]))?;
    // Throttled like a login: a stolen access token must not buy unlimited guesses.
    let attempt = Attempt::new(&format!("user:{}", caller.user_id), &client);
    auth.throttle.check(&attempt)?;
    let id = caller.user_id.clone();
    let auth2 = auth.clone();
    let new_hash = db
        .run(move |conn| {
            let user = rows::find_user(conn, &id)?.ok_or_else(|| AppError::not_found("User"))?;
            if !auth2.passwords.verify(&current, Some(&user.password_hash)) {
                return Ok(None);
            }
            auth2.passwords.hash(&new).map(Some)
        })
        .await?;
    let Some(new_hash) = new_hash else {
        auth.throttle.record_failure(&attempt);
        return Err(AppError::validation(vec![FieldError::new(
            "current_password",
            FieldCode::Incorrect,
            "is not your current password",
        )]));
    };
    auth.throttle.succeeded(&attempt);
    let id = caller.user_id.clone();
    db.write(move |conn| {
        let ts = now();
        rows::set_password(conn, &id, &new_hash, ts)?;
        rows::revoke_all_of_user(conn, &id, ts)?;
        Ok(())
    })
    .await
}

/// Creates a user (bootstrap from the CLI, or when an admin adds a new member). Returns the
/// user and, when none was given, the generated password (shown once by the caller).
pub fn create_user_blocking(
    db: &Db,
    auth: &Auth,
    email: &str,
    display_name: &str,
    password: Option<&str>,
    is_platform_operator: bool,
) -> AppResult<(User, Option<String>)> {
    let (_key, name) = crate::all_valid!(
        key = email_key("email", email),
        name = Text::required("display_name", display_name, 200),
    )?;
    let generated = match password {
        None => Some(random_token(18)?),
        Some(_) => None,
    };
    let password = password.or(generated.as_deref()).unwrap_or_default();
    check_new_password("password", password).map_err(|e| AppError::validation(vec![e]))?;
    let hash = auth.passwords.hash(password)?;
    let user = create_user_with_hash_blocking(db, email, &name, &hash, is_platform_operator)?;
    Ok((user, generated))
}

/// Creates a user whose password hash is already computed (the demo's accounts share one
/// password, hashed once).
pub fn create_user_with_hash_blocking(
    db: &Db,
    email: &str,
    display_name: &str,
    password_hash: &str,
    is_platform_operator: bool,
) -> AppResult<User> {
    let (key, name) = crate::all_valid!(
        key = email_key("email", email),
        name = Text::required("display_name", display_name, 200),
    )?;
    let email = email.trim().to_owned();
    let user = db.write_blocking(|conn| {
        insert_user(
            conn,
            &email,
            &key,
            &name,
            password_hash,
            is_platform_operator,
        )
    })?;
    Ok(user_view(&user))
}

fn insert_user(
    conn: &mut DbConn,
    email: &str,
    key: &str,
    name: &str,
    hash: &str,
    operator: bool,
) -> AppResult<UserRow> {
    if rows::find_user_by_email(conn, key)?.is_some() {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "An account with this email already exists",
        ));
    }
    let ts = now();
    Ok(rows::insert_user(
        conn,
        &NewUser {
            id: &PublicId::generate(),
            email,
            email_key: key,
            display_name: name,
            password_hash: hash,
            is_platform_operator: operator,
            disabled: false,
            version: 1,
            created_at: ts,
            updated_at: ts,
        },
    )?)
}

/// Disables (or re-enables) a user, or deletes one; used by the CLI.
pub fn set_user_state_blocking(
    db: &Db,
    email: &str,
    disabled: bool,
    deleted: bool,
) -> AppResult<()> {
    let key = email_key("email", email).map_err(|e| AppError::validation(vec![e]))?;
    db.write_blocking(|conn| {
        let user =
            rows::find_user_by_email(conn, &key)?.ok_or_else(|| AppError::not_found("User"))?;
        let ts = now();
        rows::set_user_flags(conn, &user.id, disabled, deleted.then_some(ts), ts)?;
        rows::revoke_all_of_user(conn, &user.id, ts)?;
        Ok(())
    })
}

fn org_kind(conn: &mut DbConn, organization_id: &str) -> AppResult<OrganizationKind> {
    let org = org_rows::find(conn, organization_id)?
        .ok_or_else(|| AppError::not_found("Organization"))?;
    Ok(org.kind)
}

pub async fn list_members(
    db: &Db,
    caller: Option<&Caller>,
    organization_id: String,
    limit: Option<i64>,
    cursor: Option<String>,
) -> AppResult<MemberList> {
    let page = PageRequest::parse(limit, cursor.as_deref())?;
    let caller = caller.cloned();
    db.run(move |conn| {
        org_kind(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ViewMembers {
                organization_id: &organization_id,
            },
        )?;
        let (found, next_cursor) = page.read(
            |seek| rows::members_of(conn, &organization_id, seek),
            |(m, _)| &m.id,
        )?;
        let items = found
            .iter()
            .map(|(m, u)| member_view(m, u))
            .collect::<AppResult<_>>()?;
        Ok(MemberList { items, next_cursor })
    })
    .await
}

/// One member with its version (the ETag that changing or removing it checks); visible to
/// whoever may see the member list.
pub async fn get_member(
    db: &Db,
    caller: Option<&Caller>,
    organization_id: String,
    user_id: String,
) -> AppResult<Versioned<Member>> {
    let caller = caller.cloned();
    db.run(move |conn| {
        org_kind(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ViewMembers {
                organization_id: &organization_id,
            },
        )?;
        let (m, user) = find_member(conn, &organization_id, &user_id)?;
        Ok(Versioned {
            version: m.version,
            value: member_view(&m, &user)?,
        })
    })
    .await
}

/// Adds an account to an organization directly, creating it when the address has none: the
/// platform operator's bootstrap path. Everyone else invites (`service::invitations`).
pub async fn add_member(
    db: &Db,
    auth: std::sync::Arc<Auth>,
    caller: Option<&Caller>,
    organization_id: String,
    input: AddMember,
) -> AppResult<Versioned<AddedMember>> {
    // Before anything looks at the address: how long a refusal takes must not depend on
    // whether an account exists (a new one's password is hashed below).
    policy::authorize(caller, Action::AddMemberDirectly)?;
    let caller = caller.cloned();
    let key = email_key("email", &input.email).map_err(|e| AppError::validation(vec![e]))?;
    let name = Text::optional("display_name", input.display_name.as_deref(), 200)
        .map_err(|e| AppError::validation(vec![e]))?;
    // A new account gets a one-time password, hashed up front (outside the transaction: it is
    // slow), and only when the account does not exist yet.
    let initial = random_token(18)?;
    let lookup = key.clone();
    let exists = db
        .run(move |conn| Ok(rows::find_user_by_email(conn, &lookup)?.is_some()))
        .await?;
    let hash = if exists {
        None
    } else {
        let auth2 = auth.clone();
        let initial_for_hash = initial.clone();
        Some(
            actix_web::rt::task::spawn_blocking(move || auth2.passwords.hash(&initial_for_hash))
                .await
                .map_err(AppError::internal)??,
        )
    };
    let email = input.email.trim().to_owned();
    db.write(move |conn| {
        let kind = org_kind(conn, &organization_id)?;
        policy::authorize(caller.as_ref(), Action::AddMemberDirectly)?;
        if !policy::role_fits(kind, input.role) {
            return Err(AppError::validation(vec![FieldError::new(
                "role",
                FieldCode::RoleNotAllowed,
                "faculty members belong to universities",
            )]));
        }
        let (user, created) = match rows::find_user_by_email(conn, &key)? {
            Some(u) => (u, false),
            None => {
                let Some(name) = name.as_deref() else {
                    return Err(AppError::validation(vec![FieldError::new(
                        "display_name",
                        FieldCode::Required,
                        "is required when no account exists for this email",
                    )]));
                };
                // Created between the look-up and now: rare, and answered like any conflict.
                let Some(hash) = hash.as_deref() else {
                    return Err(AppError::new(
                        ErrorCode::Conflict,
                        "The account changed while it was being added; try again",
                    ));
                };
                (insert_user(conn, &email, &key, name, hash, false)?, true)
            }
        };
        if rows::find_membership(conn, &organization_id, &user.id)?.is_some() {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "This user is already a member",
            ));
        }
        let ts = now();
        let m = rows::insert_membership(
            conn,
            &NewMembership {
                id: &PublicId::generate(),
                user_id: &user.id,
                organization_id: &organization_id,
                role: input.role,
                version: 1,
                created_at: ts,
                updated_at: ts,
            },
        )?;
        let member = member_view(&m, &user)?;
        audit_membership(
            conn,
            caller.as_ref(),
            &organization_id,
            &m.id,
            AuditAction::Create,
            None,
            Some(&member),
        )?;
        Ok(Versioned {
            version: m.version,
            value: AddedMember {
                member,
                initial_password: created.then(|| initial.clone()),
            },
        })
    })
    .await
}

pub async fn update_member(
    db: &Db,
    caller: Option<&Caller>,
    organization_id: String,
    user_id: String,
    precondition: Precondition,
    role: Role,
) -> AppResult<Versioned<Member>> {
    let caller = caller.cloned();
    db.write(move |conn| {
        let kind = org_kind(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageMembers {
                organization_id: &organization_id,
            },
        )?;
        let (m, user) = find_member(conn, &organization_id, &user_id)?;
        precondition.check(m.version, true)?;
        if !policy::role_fits(kind, role) {
            return Err(AppError::validation(vec![FieldError::new(
                "role",
                FieldCode::RoleNotAllowed,
                "faculty members belong to universities",
            )]));
        }
        if m.role == Role::Admin && role != Role::Admin {
            keep_an_admin(conn, &organization_id)?;
        }
        let before = member_view(&m, &user)?;
        let updated = rows::update_membership_role(conn, &m.id, m.version, role, now())?
            .ok_or_else(AppError::stale)?;
        let after = member_view(&updated, &user)?;
        audit_membership(
            conn,
            caller.as_ref(),
            &organization_id,
            &m.id,
            AuditAction::Update,
            Some(&before),
            Some(&after),
        )?;
        Ok(Versioned {
            version: updated.version,
            value: after,
        })
    })
    .await
}

pub async fn remove_member(
    db: &Db,
    caller: Option<&Caller>,
    organization_id: String,
    user_id: String,
    precondition: Precondition,
) -> AppResult<()> {
    let caller = caller.cloned();
    db.write(move |conn| {
        org_kind(conn, &organization_id)?;
        policy::authorize(
            caller.as_ref(),
            Action::ManageMembers {
                organization_id: &organization_id,
            },
        )?;
        let (m, user) = find_member(conn, &organization_id, &user_id)?;
        precondition.check(m.version, false)?;
        if m.role == Role::Admin {
            keep_an_admin(conn, &organization_id)?;
        }
        if !rows::delete_membership(conn, &m.id, m.version)? {
            return Err(AppError::stale());
        }
        let before = member_view(&m, &user)?;
        audit_membership(
            conn,
            caller.as_ref(),
            &organization_id,
            &m.id,
            AuditAction::Delete,
            Some(&before),
            None,
        )
    })
    .await
}

pub(super) fn audit_membership(
    conn: &mut DbConn,
    caller: Option<&Caller>,
    organization_id: &str,
    membership_id: &str,
    action: AuditAction,
    before: Option<&Member>,
    after: Option<&Member>,
) -> AppResult<()> {
    super::audit::record(
        conn,
        caller.map(|c| c.user_id.as_str()),
        action,
        AuditEntity::Membership,
        membership_id,
        &[organization_id],
        before,
        after,
    )
}

/// An organization must keep at least one admin, or nobody but an operator could manage it.
fn keep_an_admin(conn: &mut DbConn, organization_id: &str) -> AppResult<()> {
    if rows::count_admins(conn, organization_id)? <= 1 {
        return Err(AppError::new(
            ErrorCode::Conflict,
            "An organization must keep at least one admin; appoint another admin first",
        ));
    }
    Ok(())
}

fn find_member(
    conn: &mut DbConn,
    organization_id: &str,
    user_id: &str,
) -> AppResult<(MembershipRow, UserRow)> {
    let m = rows::find_membership(conn, organization_id, user_id)?
        .ok_or_else(|| AppError::not_found("Member"))?;
    let user = rows::find_user(conn, user_id)?.ok_or_else(|| AppError::not_found("Member"))?;
    Ok((m, user))
}

fn user_view(u: &UserRow) -> User {
    User {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        is_platform_operator: u.is_platform_operator,
        created_at: u.created_at.and_utc(),
    }
}

pub(super) fn member_view(m: &MembershipRow, u: &UserRow) -> AppResult<Member> {
    Ok(Member {
        user_id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        role: m.role,
        created_at: m.created_at.and_utc(),
        updated_at: m.updated_at.and_utc(),
    })
}
