//! Users, memberships and refresh tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{memberships, organizations, refresh_tokens, users, web_sessions};
use super::{DbConn, Seek};
use crate::domain::stored::{OrganizationKind, Role};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub email_key: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_platform_operator: bool,
    pub disabled: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub deleted_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub email_key: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_platform_operator: bool,
    pub disabled: bool,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = memberships)]
pub struct MembershipRow {
    pub id: String,
    pub user_id: String,
    pub organization_id: String,
    pub role: Role,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = memberships)]
pub struct NewMembership<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub organization_id: &'a str,
    pub role: Role,
    pub version: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub id: String,
    pub family_id: String,
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct NewRefreshToken<'a> {
    pub id: &'a str,
    pub family_id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
}

pub fn insert_user(conn: &mut DbConn, new: &NewUser<'_>) -> QueryResult<UserRow> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
}

/// A user that has not been deleted (disabled users are returned; callers decide).
pub fn find_user(conn: &mut DbConn, id: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::id.eq(id))
        .filter(users::deleted_at.is_null())
        .select(users::all_columns)
        .first(conn)
        .optional()
}

pub fn find_user_by_email(conn: &mut DbConn, email_key: &str) -> QueryResult<Option<UserRow>> {
    users::table
        .filter(users::email_key.eq(email_key))
        .filter(users::deleted_at.is_null())
        .select(users::all_columns)
        .first(conn)
        .optional()
}

pub fn set_password(
    conn: &mut DbConn,
    id: &str,
    hash: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(now),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
}

pub fn set_user_flags(
    conn: &mut DbConn,
    id: &str,
    disabled: bool,
    deleted_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::disabled.eq(disabled),
            users::deleted_at.eq(deleted_at),
            users::updated_at.eq(now),
            users::version.eq(users::version + 1),
        ))
        .execute(conn)
}

/// A user's memberships in live organizations, with each organization's kind and name.
pub fn memberships_of(
    conn: &mut DbConn,
    user_id: &str,
) -> QueryResult<Vec<(MembershipRow, OrganizationKind, String)>> {
    memberships::table
        .inner_join(organizations::table)
        .filter(memberships::user_id.eq(user_id))
        .filter(organizations::deleted_at.is_null())
        .order(memberships::id.asc())
        .select((
            memberships::all_columns,
            organizations::kind,
            organizations::name,
        ))
        .load(conn)
}

/// A page of an organization's members with their user rows.
pub fn members_of(
    conn: &mut DbConn,
    organization_id: &str,
    page: &Seek,
) -> QueryResult<Vec<(MembershipRow, UserRow)>> {
    let q = memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .filter(users::deleted_at.is_null())
        .select((memberships::all_columns, users::all_columns))
        .into_boxed();
    seek!(q, memberships::id, page).load(conn)
}

pub fn find_membership(
    conn: &mut DbConn,
    organization_id: &str,
    user_id: &str,
) -> QueryResult<Option<MembershipRow>> {
    memberships::table
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::user_id.eq(user_id))
        .select(memberships::all_columns)
        .first(conn)
        .optional()
}

pub fn insert_membership(conn: &mut DbConn, new: &NewMembership<'_>) -> QueryResult<MembershipRow> {
    diesel::insert_into(memberships::table)
        .values(new)
        .returning(memberships::all_columns)
        .get_result(conn)
}

pub fn update_membership_role(
    conn: &mut DbConn,
    id: &str,
    expected_version: i64,
    role: Role,
    now: NaiveDateTime,
) -> QueryResult<Option<MembershipRow>> {
    diesel::update(
        memberships::table
            .filter(memberships::id.eq(id))
            .filter(memberships::version.eq(expected_version)),
    )
    .set((
        memberships::role.eq(role),
        memberships::updated_at.eq(now),
        memberships::version.eq(expected_version + 1),
    ))
    .returning(memberships::all_columns)
    .get_result(conn)
    .optional()
}

pub fn delete_membership(conn: &mut DbConn, id: &str, expected_version: i64) -> QueryResult<bool> {
    diesel::delete(
        memberships::table
            .filter(memberships::id.eq(id))
            .filter(memberships::version.eq(expected_version)),
    )
    .execute(conn)
    .map(|n| n == 1)
}

pub fn count_admins(conn: &mut DbConn, organization_id: &str) -> QueryResult<i64> {
    memberships::table
        .inner_join(users::table)
        .filter(memberships::organization_id.eq(organization_id))
        .filter(memberships::role.eq(Role::Admin))
        .filter(users::deleted_at.is_null())
        .filter(users::disabled.eq(false))
        .count()
        .get_result(conn)
}

pub fn insert_refresh_token(conn: &mut DbConn, new: &NewRefreshToken<'_>) -> QueryResult<usize> {
    diesel::insert_into(refresh_tokens::table)
        .values(new)
        .execute(conn)
}

pub fn find_refresh_token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<RefreshTokenRow>> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(hash))
        .select(refresh_tokens::all_columns)
        .first(conn)
        .optional()
}

/// Marks a token spent, only if it still is unspent; returns whether this call spent it (so
/// two concurrent refreshes with the same token cannot both succeed).
pub fn spend_refresh_token(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::id.eq(id))
            .filter(refresh_tokens::used_at.is_null())
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn revoke_family(conn: &mut DbConn, family_id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// Signs the user out everywhere: revokes every refresh token and ends every web session.
/// Returns how many refresh tokens were revoked.
pub fn revoke_all_of_user(
    conn: &mut DbConn,
    user_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::delete(web_sessions::table.filter(web_sessions::user_id.eq(user_id))).execute(conn)?;
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(Some(now)))
    .execute(conn)
}

/// A web app session (see the `web_sessions` migration).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = web_sessions)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub fn insert_session(conn: &mut DbConn, row: &SessionRow) -> QueryResult<()> {
    diesel::insert_into(web_sessions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The session with this token digest, if it has not lapsed at `now` (`idle_since`: the
/// oldest last use still alive).
pub fn find_session(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<Option<SessionRow>> {
    web_sessions::table
        .filter(web_sessions::token_hash.eq(token_hash))
        .filter(web_sessions::expires_at.gt(now))
        .filter(web_sessions::last_seen_at.gt(idle_since))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn touch_session(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(web_sessions::table.filter(web_sessions::token_hash.eq(token_hash)))
        .set(web_sessions::last_seen_at.eq(now))
        .execute(conn)?;
    Ok(())
}

/// Ends one session, and forgets every lapsed one (`lapsed`: expired before, or idle since).
pub fn end_session(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
    idle_since: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(
        web_sessions::table.filter(
            web_sessions::token_hash
                .eq(token_hash)
                .or(web_sessions::expires_at.le(now))
                .or(web_sessions::last_seen_at.le(idle_since)),
        ),
    )
    .execute(conn)?;
    Ok(())
}
