//! E-mail: each user's mail preferences, the outbox of mails (claimed by a sender under a
//! lease), and which notifications were mailed.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{mail_outbox, mail_preferences, notification_settings, notifications, users};
use crate::domain::stored::{Delivery, Language};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_preferences)]
pub struct PreferencesRow {
    pub user_id: String,
    pub language: Language,
    pub unsubscribe_token: String,
    pub daily_sent_at: Option<NaiveDateTime>,
    pub weekly_sent_at: Option<NaiveDateTime>,
}

pub fn preferences(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<PreferencesRow>> {
    mail_preferences::table
        .filter(mail_preferences::user_id.eq(user_id))
        .select(PreferencesRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_preferences(conn: &mut DbConn, p: &PreferencesRow) -> QueryResult<()> {
    diesel::insert_into(mail_preferences::table)
        .values((
            mail_preferences::user_id.eq(&p.user_id),
            mail_preferences::language.eq(p.language),
            mail_preferences::unsubscribe_token.eq(&p.unsubscribe_token),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn set_language(conn: &mut DbConn, user_id: &str, language: Language) -> QueryResult<()> {
    diesel::update(mail_preferences::table.filter(mail_preferences::user_id.eq(user_id)))
        .set(mail_preferences::language.eq(language))
        .execute(conn)?;
    Ok(())
}

pub fn by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<PreferencesRow>> {
    mail_preferences::table
        .filter(mail_preferences::unsubscribe_token.eq(token))
        .select(PreferencesRow::as_select())
        .first(conn)
        .optional()
}

/// Records that a digest of the period went out now.
pub fn digest_sent(
    conn: &mut DbConn,
    user_id: &str,
    weekly: bool,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let target = mail_preferences::table.filter(mail_preferences::user_id.eq(user_id));
    if weekly {
        diesel::update(target)
            .set(mail_preferences::weekly_sent_at.eq(at))
            .execute(conn)?;
    } else {
        diesel::update(target)
            .set(mail_preferences::daily_sent_at.eq(at))
            .execute(conn)?;
    }
    Ok(())
}

/// Every delivery that sends mail becomes in-app (unsubscribing); returns how many changed.
pub fn stop_mail(conn: &mut DbConn, user_id: &str) -> QueryResult<usize> {
    diesel::update(
        notification_settings::table
            .filter(notification_settings::user_id.eq(user_id))
            .filter(notification_settings::delivery.eq_any([
                Delivery::Immediate.as_str(),
                Delivery::Daily.as_str(),
                Delivery::Weekly.as_str(),
            ])),
    )
    .set(notification_settings::delivery.eq(Delivery::InApp.as_str()))
    .execute(conn)
}

/// The users who chose a digest delivery for some type, with those types.
pub fn digest_subscribers(
    conn: &mut DbConn,
    delivery: Delivery,
) -> QueryResult<Vec<(String, String)>> {
    notification_settings::table
        .filter(notification_settings::delivery.eq(delivery.as_str()))
        .select((
            notification_settings::user_id,
            notification_settings::event_type,
        ))
        .load(conn)
}

/// A user's notifications of these types not yet mailed, oldest first.
pub fn unmailed(
    conn: &mut DbConn,
    user_id: &str,
    types: &[String],
    limit: i64,
) -> QueryResult<Vec<super::notifications::NotificationRow>> {
    notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::event_type.eq_any(types))
        .filter(notifications::mailed_at.is_null())
        .order(notifications::id.asc())
        .limit(limit)
        .select(super::notifications::NotificationRow::as_select())
        .load(conn)
}

pub fn mark_mailed(conn: &mut DbConn, ids: &[String], at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        notifications::table
            .filter(notifications::id.eq_any(ids))
            .filter(notifications::mailed_at.is_null()),
    )
    .set(notifications::mailed_at.eq(at))
    .execute(conn)?;
    Ok(())
}

/// The account's address and name.
pub fn address_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<(String, String)>> {
    users::table
        .filter(users::id.eq(user_id))
        .filter(users::deleted_at.is_null())
        .filter(users::disabled.eq(false))
        .select((users::email, users::display_name))
        .first(conn)
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = mail_outbox)]
pub struct MailRow {
    pub id: String,
    pub user_id: String,
    pub kind: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub runner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}

/// A mail to queue.
pub struct NewMail<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub kind: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

pub fn queue(conn: &mut DbConn, m: &NewMail<'_>, now: NaiveDateTime) -> QueryResult<()> {
    diesel::insert_into(mail_outbox::table)
        .values((
            mail_outbox::id.eq(m.id),
            mail_outbox::user_id.eq(m.user_id),
            mail_outbox::kind.eq(m.kind),
            mail_outbox::subject.eq(m.subject),
            mail_outbox::text_body.eq(m.text),
            mail_outbox::html_body.eq(m.html),
            mail_outbox::state.eq("pending"),
            mail_outbox::attempts.eq(0),
            mail_outbox::next_attempt_at.eq(now),
            mail_outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// Due pending mails nobody holds.
/// (Those `runner` held before it restarted included.)
pub fn due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    runner: &str,
    limit: i64,
) -> QueryResult<Vec<String>> {
    mail_outbox::table
        .filter(mail_outbox::state.eq("pending"))
        .filter(mail_outbox::next_attempt_at.le(now))
        .filter(
            mail_outbox::lease_until
                .is_null()
                .or(mail_outbox::lease_until.lt(now))
                .or(mail_outbox::runner.eq(runner)),
        )
        .order((mail_outbox::next_attempt_at.asc(), mail_outbox::id.asc()))
        .limit(limit)
        .select(mail_outbox::id)
        .load(conn)
}

pub fn claim(
    conn: &mut DbConn,
    id: &str,
    runner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Option<MailRow>> {
    let n = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(id))
            .filter(mail_outbox::state.eq("pending"))
            .filter(
                mail_outbox::lease_until
                    .is_null()
                    .or(mail_outbox::lease_until.lt(now))
                    .or(mail_outbox::runner.eq(runner)),
            ),
    )
    .set((
        mail_outbox::runner.eq(runner),
        mail_outbox::lease_until.eq(until),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    mail_outbox::table
        .filter(mail_outbox::id.eq(id))
        .select(MailRow::as_select())
        .first(conn)
        .optional()
}

/// Records an attempt by `runner`: sent, retried at `next`, or failed for good.
pub fn record(
    conn: &mut DbConn,
    m: &MailRow,
    runner: &str,
    state: &str,
    next: Option<NaiveDateTime>,
    error: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let n = diesel::update(
        mail_outbox::table
            .filter(mail_outbox::id.eq(&m.id))
            .filter(mail_outbox::runner.eq(runner)),
    )
    .set((
        mail_outbox::state.eq(state),
        mail_outbox::attempts.eq(m.attempts + 1),
        mail_outbox::next_attempt_at.eq(next),
        mail_outbox::last_error.eq(error),
        mail_outbox::runner.eq(None::<String>),
        mail_outbox::lease_until.eq(None::<NaiveDateTime>),
        mail_outbox::sent_at.eq((state == "sent").then_some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}
