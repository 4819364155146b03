//! Use cases for engagements: a company shortlists or invites a professor for one of its
//! needs, a professor says they are interested, and each moves it along the workflow of
//! [`policy::ENGAGEMENT_MOVES`] until it is agreed, declined or closed. Every move appends an
//! event; moves that invite or end an engagement also grant or withdraw the professor's view
//! of the need (the invitation), in the same transaction, so search follows too.

use chrono::NaiveDateTime;
use serde_json::json;

use crate::all_valid;
use crate::db::engagements::{self as rows, EngagementFilter, EngagementRow, EventRow, NewEvent};
use crate::db::needs::{self as need_rows, NeedRow, NeedScope};
use crate::db::{Db, DbConn, faculty as faculty_rows};
use crate::domain::{PublicId, Text};
use crate::dto::audit::{AuditAction, AuditEntity};
use crate::dto::engagements::{
    CreateEngagement, DeclineReason, Engagement, EngagementEvent, EngagementList, EngagementState,
    ListEngagements, Transition,
};
use crate::dto::needs::NeedStatus;
use crate::error::{AppError, AppResult, ErrorCode, FieldCode, FieldError};

use super::policy::{self, Action, Caller};
use super::{PageRequest, Precondition, Versioned, now};

const REASON_TEXT_MAX: usize = 2000;

/// Why a move was made: a decline reason and/or free text.
#[derive(Debug, Clone, Default)]
struct Reason {
    code: Option<DeclineReason>,
    text: Option<String>,
}

impl Reason {
    /// `reason_code` only with `declined`; `other` needs `reason_text`.
    fn parse(
        to: EngagementState,
        code: Option<DeclineReason>,
        text: Option<&str>,
    ) -> AppResult<Self> {
        let code = match code {
            Some(_) if to != EngagementState::Declined => Err(FieldError::new(
                "reason_code",
                FieldCode::NotAllowed,
                "only a move to `declined` takes a reason code",
            )),
            c => Ok(c),
        };
        let (code, text) = all_valid!(
            code = code,
            text = Text::multiline("reason_text", text, REASON_TEXT_MAX),
        )?;
        if code == Some(DeclineReason::Other) && text.is_none() {
            return Err(AppError::validation(vec![FieldError::new(
                "reason_text",
                FieldCode::Required,
                "must say why when `reason_code` is `other`",
            )]));
        }
        Ok(Self { code, text })
    }
}

fn parse_id(field: &str, value: &str) -> Result<String, FieldError> {
    PublicId::parse(value)
        .ok_or_else(|| FieldError::new(field, FieldCode::InvalidId, "must be an id"))
}

/// 409 for a move the workflow does not have, naming where the engagement is and where it
/// may go.
fn illegal(from: EngagementState, to: EngagementState) -> AppError {
    let next = policy::engagement_next_states(from);
    let allowed = if next.is_empty() {
        format!("{} is final", from.as_str())
    } else {
        format!(
            "from {} it may move to {}",
            from.as_str(),
            next.iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    AppError::new(
        ErrorCode::Conflict,
        format!(
            "An engagement that is {} cannot move to {}; {allowed}",
            from.as_str(),
            to.as_str()
        ),
    )
    .with_extension("current_state", json!(from))
    .with_extension("allowed_next_states", json!(next))
}

/// Inviting, and a professor's interest, need an open need; a shortlist may also be drawn up
/// for a draft.
fn check_need_accepts(need: &NeedRow, to: EngagementState) -> AppResult<()> {
    let ok = need.deleted_at.is_none()
        && match to {
            EngagementState::Shortlisted => {
                matches!(need.status, NeedStatus::Draft | NeedStatus::Open)
            }
            EngagementState::Invited | EngagementState::Interested => {
                need.status == NeedStatus::Open
            }
            _ => true,
        };
    if ok {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::Conflict,
            format!(
                "The need is {}: only an open need takes invitations and interest (a draft may be shortlisted for)",
                if need.deleted_at.is_some() {
                    "deleted"
                } else {
                    need.status.as_str()
                }
            ),
        ))
    }
}

/// Any need by id, deleted or not (the caller's right to see it is checked separately).
fn need_row(conn: &mut DbConn, id: &str) -> AppResult<NeedRow> {
    let all = NeedScope {
        all: true,
        include_deleted: true,
        ..Default::default()
    };
    need_rows::find_visible(conn, &all, id)?.ok_or_else(|| AppError::internal("need vanished"))
}

fn owner_of(conn: &mut DbConn, faculty_id: &str) -> AppResult<Option<String>> {
    Ok(faculty_rows::find_any(conn, faculty_id)?.and_then(|f| f.owner_user_id))
}

/// Makes a move the caller was authorized for: the state (compare-and-swap on the version),
/// the event, and the invitation that follows it: entering `invited` grants the professor
/// the need's view; entering `declined` or `closed` withdraws it.
fn apply(
    conn: &mut DbConn,
    current: Option<&EngagementRow>,
    pair: (&str, &str),
    to: EngagementState,
    actor: &str,
    reason: &Reason,
    ts: NaiveDateTime,
) -> AppResult<EngagementRow> {
    apply_in_place_of(conn, current, None, pair, to, actor, reason, ts)
}

/// [`apply`], creating the engagement (`current` is `None`) in place of `hidden`, an engagement
/// of the same pair the caller may not see: the new one gets its own id, version and first
/// event, as if there had been none, and carries `hidden`'s history over (which only the
/// company and operators see: [`policy::sees_whole_engagement`]).
#[expect(
    clippy::too_many_arguments,
    reason = "apply's arguments and the engagement it replaces"
)]
fn apply_in_place_of(
    conn: &mut DbConn,
    current: Option<&EngagementRow>,
    hidden: Option<&EngagementRow>,
    (need_id, faculty_id): (&str, &str),
    to: EngagementState,
    actor: &str,
    reason: &Reason,
    ts: NaiveDateTime,
) -> AppResult<EngagementRow> {
    let before = current.map(audit_view);
    let (row, from) = match (current, hidden) {
        (None, Some(old)) => {
            let row = rows::replace(conn, old, &PublicId::generate(), to, actor, ts)?.ok_or_else(
                || {
                    AppError::new(
                        ErrorCode::Conflict,
                        "The engagement for this need and profile changed meanwhile; try again",
                    )
                },
            )?;
            // The old id leaves the log as deleted; like the shortlist it was, the entry is
            // the company's alone.
            let company = need_row(conn, need_id)?.company_id;
            super::audit::record(
                conn,
                Some(actor),
                AuditAction::Delete,
                AuditEntity::Engagement,
                &old.id,
                &[company.as_str()],
                Some(&audit_view(old)),
                None::<&serde_json::Value>,
            )?;
            (row, None)
        }
        (None, None) => (
            rows::insert(
                conn,
                &PublicId::generate(),
                need_id,
                faculty_id,
                to,
                actor,
                ts,
            )?,
            None,
        ),
        (Some(c), _) => (
            rows::set_state(conn, &c.id, c.version, to, ts)?.ok_or_else(AppError::stale)?,
            Some(c.state),
        ),
    };
    rows::add_event(
        conn,
        &NewEvent {
            engagement_id: &row.id,
            from_state: from,
            to_state: to,
            actor_user_id: actor,
            reason_code: reason.code,
            reason_text: reason.text.as_deref(),
            at: ts,
        },
    )?;
    match to {
        EngagementState::Invited => {
            need_rows::invite(conn, need_id, faculty_id, actor, ts)?;
        }
        EngagementState::Declined | EngagementState::Closed => {
            need_rows::uninvite(conn, need_id, faculty_id, ts)?;
        }
        _ => {}
    }
    // Both sides' organizations see the entry: the company and the profile's university.
    let company = need_row(conn, need_id)?.company_id;
    let university = faculty_rows::find_any(conn, faculty_id)?
        .map(|f| f.university_id)
        .unwrap_or_default();
    let mut after = audit_view(&row);
    if let Some(obj) = after.as_object_mut() {
        obj.insert(
            "reason_code".into(),
            json!(reason.code.map(DeclineReason::as_str)),
        );
        obj.insert("reason_text".into(), json!(reason.text));
    }
    super::audit::record(
        conn,
        Some(actor),
        if current.is_none() {
            AuditAction::Create
        } else {
            AuditAction::Update
        },
        AuditEntity::Engagement,
        &row.id,
        &[company.as_str(), university.as_str()],
        before.as_ref(),
        Some(&after),
    )?;
    Ok(row)
}

/// Closes the engagements of a need that were still under way (shortlisted, invited,
/// interested), in the caller's transaction, when the need itself is closed or awarded: each
/// gets a `closed` event by `actor` saying why, so nobody is left waiting on a need that no
/// longer takes answers. Returns how many were closed.
pub(crate) fn close_pending_of_need(
    conn: &mut DbConn,
    need_id: &str,
    actor: &str,
    why: &str,
    ts: NaiveDateTime,
) -> AppResult<usize> {
    let pending: Vec<EngagementState> = EngagementState::ALL
        .into_iter()
        .filter(|s| policy::engagement_move(Some(*s), EngagementState::Closed).is_some())
        .collect();
    let rows = rows::of_need_in(conn, need_id, &pending)?;
    let reason = Reason {
        code: None,
        text: Some(why.to_owned()),
    };
    for row in &rows {
        apply(
            conn,
            Some(row),
            (need_id, &row.faculty_id),
            EngagementState::Closed,
            actor,
            &reason,
            ts,
        )?;
    }
    Ok(rows.len())
}

/// What the audit log keeps of an engagement.
fn audit_view(r: &EngagementRow) -> serde_json::Value {
    json!({
        "need_id": r.need_id,
        "faculty_id": r.faculty_id,
        "state": r.state,
        "version": r.version,
    })
}

pub async fn create(
    db: &Db,
    caller: Option<&Caller>,
    input: CreateEngagement,
) -> AppResult<(bool, Versioned<Engagement>)> {
    let caller = policy::require_signed_in(caller)?.clone();
    let to = input.state;
    let starts = match to {
        EngagementState::Shortlisted | EngagementState::Invited | EngagementState::Interested => {
            Ok(to)
        }
        _ => Err(FieldError::new(
            "state",
            FieldCode::InvalidValue,
            "a new engagement is shortlisted, invited or interested",
        )),
    };
    let (need_id, faculty_id, _, reason) = all_valid!(
        need_id = parse_id("need_id", &input.need_id),
        faculty_id = parse_id("faculty_id", &input.faculty_id),
        state = starts,
        reason = Reason::parse(to, None, input.reason_text.as_deref()),
    )?;
    let need_scope = policy::need_scope(Some(&caller), false)?;
    let faculty_scope = policy::faculty_scope(Some(&caller), false)?;
    db.write(move |conn| {
        let need = need_rows::find_visible(conn, &need_scope, &need_id)?
            .ok_or_else(|| AppError::not_found("Need"))?;
        let profile = faculty_rows::find_visible(conn, &faculty_scope, &faculty_id)?
            .ok_or_else(|| AppError::not_found("Faculty profile"))?;
        let mut action = Action::MoveEngagement {
            company_id: &need.company_id,
            owner_user_id: profile.owner_user_id.as_deref(),
            from: None,
            to,
        };
        policy::authorize(Some(&caller), action)?;
        check_need_accepts(&need, to)?;
        let mut current = rows::find_pair(conn, &need_id, &faculty_id)?;
        let mut hidden = None;
        if let Some(existing) = &current {
            let from = existing.state;
            let scope = policy::engagement_scope(Some(&caller))?;
            let visible = rows::find_visible(conn, &scope, &existing.id)?.is_some();
            if !visible && to == EngagementState::Interested {
                // A professor's interest in a need whose company shortlisted them (and perhaps
                // closed the shortlist again) without telling them: answered exactly as if
                // there were no engagement (201, a new id, version 1, their event first), so
                // that nothing tells them of the shortlist; the company keeps its history.
                hidden = current.take();
            } else if !(visible
                && from == EngagementState::Shortlisted
                && to == EngagementState::Interested)
            {
                let mut e = AppError::new(
                    ErrorCode::Conflict,
                    "There already is an engagement for this need and profile (one per pair); move it with its transitions",
                );
                if visible {
                    e = e
                        .with_extension("engagement_id", json!(existing.id))
                        .with_extension("current_state", json!(from));
                }
                return Err(e);
            } else {
                // Someone who sees the shortlist (the company's own member who also owns the
                // profile; an operator): the shortlist moves on to interest.
                if let Action::MoveEngagement { from, .. } = &mut action {
                    *from = Some(EngagementState::Shortlisted);
                }
                policy::authorize(Some(&caller), action)?;
            }
        }
        let row = apply_in_place_of(
            conn,
            current.as_ref(),
            hidden.as_ref(),
            (&need_id, &faculty_id),
            to,
            &caller.user_id,
            &reason,
            now(),
        )?;
        Ok((current.is_none(), full_view(conn, &caller, row)?))
    })
    .await
}

pub async fn get(db: &Db, caller: Option<&Caller>, id: String) -> AppResult<Versioned<Engagement>> {
    let scope = policy::engagement_scope(caller)?;
    let caller = policy::require_signed_in(caller)?.clone();
    db.run(move |conn| {
        let row = rows::find_visible(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Engagement"))?;
        full_view(conn, &caller, row)
    })
    .await
}

pub async fn list(
    db: &Db,
    caller: Option<&Caller>,
    q: ListEngagements,
) -> AppResult<EngagementList> {
    let scope = policy::engagement_scope(caller)?;
    let caller = policy::require_signed_in(caller)?.clone();
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    let filter = EngagementFilter {
        need_id: PublicId::query_param("need_id", q.need_id.as_deref())?,
        faculty_id: PublicId::query_param("faculty_id", q.faculty_id.as_deref())?,
        state: q.state,
    };
    db.run(move |conn| {
        let (found, next_cursor) =
            page.read(|seek| rows::list(conn, &scope, &filter, seek), |r| &r.id)?;
        let ids: Vec<String> = found.iter().map(|r| r.id.clone()).collect();
        let mut events = rows::events(conn, &ids)?;
        let need_ids: Vec<String> = found.iter().map(|r| r.need_id.clone()).collect();
        let companies = rows::companies_of(conn, &need_ids)?;
        let items = found
            .into_iter()
            .map(|r| {
                let ev = events.remove(&r.id).unwrap_or_default();
                let whole = companies
                    .get(&r.need_id)
                    .is_some_and(|c| policy::sees_whole_engagement(&caller, c));
                view(r, ev, whole).map(|v| v.value)
            })
            .collect::<AppResult<_>>()?;
        Ok(EngagementList { items, next_cursor })
    })
    .await
}

/// Moves an engagement: 404 when the caller may not see it, 428/412 without a current
/// `If-Match`, 409 for a move the workflow does not have, 403 for a move that is the other
/// side's to make.
pub async fn transition(
    db: &Db,
    caller: Option<&Caller>,
    id: String,
    precondition: Precondition,
    input: Transition,
) -> AppResult<Versioned<Engagement>> {
    let scope = policy::engagement_scope(caller)?;
    let caller = policy::require_signed_in(caller)?.clone();
    let to = input.to;
    let reason = Reason::parse(to, input.reason_code, input.reason_text.as_deref())?;
    db.write(move |conn| {
        let current = rows::find_visible(conn, &scope, &id)?
            .ok_or_else(|| AppError::not_found("Engagement"))?;
        precondition.check(current.version, true)?;
        let from = current.state;
        if policy::engagement_move(Some(from), to).is_none() {
            return Err(illegal(from, to));
        }
        let need = need_row(conn, &current.need_id)?;
        let owner = owner_of(conn, &current.faculty_id)?;
        policy::authorize(
            Some(&caller),
            Action::MoveEngagement {
                company_id: &need.company_id,
                owner_user_id: owner.as_deref(),
                from: Some(from),
                to,
            },
        )?;
        check_need_accepts(&need, to)?;
        let row = apply(
            conn,
            Some(&current),
            (&current.need_id, &current.faculty_id),
            to,
            &caller.user_id,
            &reason,
            now(),
        )?;
        full_view(conn, &caller, row)
    })
    .await
}

/// `POST /needs/{id}/invitations`, on the workflow: no engagement yet → one in `invited`;
/// a shortlist → `invited`; an engagement under way keeps its state and gains the invitation
/// if it lacked it (a professor who came on their own). A declined or closed one cannot be
/// reopened (409). The caller has been checked to manage the need. Returns whether an
/// invitation was created.
pub(crate) fn invite(
    conn: &mut DbConn,
    caller: &Caller,
    need: &NeedRow,
    faculty_id: &str,
) -> AppResult<bool> {
    let current = rows::find_pair(conn, &need.id, faculty_id)?;
    let ts = now();
    let from = current.as_ref().map(|c| c.state);
    match from {
        None | Some(EngagementState::Shortlisted) => {
            let owner = owner_of(conn, faculty_id)?;
            policy::authorize(
                Some(caller),
                Action::MoveEngagement {
                    company_id: &need.company_id,
                    owner_user_id: owner.as_deref(),
                    from,
                    to: EngagementState::Invited,
                },
            )?;
            check_need_accepts(need, EngagementState::Invited)?;
            apply(
                conn,
                current.as_ref(),
                (&need.id, faculty_id),
                EngagementState::Invited,
                &caller.user_id,
                &Reason::default(),
                ts,
            )?;
            Ok(true)
        }
        Some(EngagementState::Invited | EngagementState::Interested | EngagementState::Agreed) => {
            Ok(need_rows::invite(
                conn,
                &need.id,
                faculty_id,
                &caller.user_id,
                ts,
            )?)
        }
        Some(from) => Err(illegal(from, EngagementState::Invited)),
    }
}

/// `DELETE /needs/{id}/invitations/{faculty_id}`, on the workflow: an engagement under way
/// (`invited` or `interested`) is closed, with an event, which withdraws the invitation; an
/// agreed one keeps it (409). Returns whether there was an invitation.
pub(crate) fn withdraw_invitation(
    conn: &mut DbConn,
    caller: &Caller,
    need: &NeedRow,
    faculty_id: &str,
) -> AppResult<bool> {
    let invited = need_rows::invitations(conn, &need.id)?
        .iter()
        .any(|i| i.1 == faculty_id);
    if !invited {
        return Ok(false);
    }
    let current = rows::find_pair(conn, &need.id, faculty_id)?;
    let ts = now();
    match current.as_ref().map(|c| c.state) {
        Some(from @ (EngagementState::Invited | EngagementState::Interested)) => {
            let owner = owner_of(conn, faculty_id)?;
            policy::authorize(
                Some(caller),
                Action::MoveEngagement {
                    company_id: &need.company_id,
                    owner_user_id: owner.as_deref(),
                    from: Some(from),
                    to: EngagementState::Closed,
                },
            )?;
            apply(
                conn,
                current.as_ref(),
                (&need.id, faculty_id),
                EngagementState::Closed,
                &caller.user_id,
                &Reason {
                    code: None,
                    text: Some("invitation withdrawn".to_owned()),
                },
                ts,
            )?;
        }
        Some(EngagementState::Agreed) => {
            return Err(AppError::new(
                ErrorCode::Conflict,
                "The engagement is agreed: the professor keeps seeing the need",
            ));
        }
        // An invitation without an engagement under way (not made through the workflow).
        _ => {
            need_rows::uninvite(conn, &need.id, faculty_id, ts)?;
        }
    }
    Ok(true)
}

/// An engagement as `caller` sees it (see [`view`]).
fn full_view(
    conn: &mut DbConn,
    caller: &Caller,
    row: EngagementRow,
) -> AppResult<Versioned<Engagement>> {
    let events = rows::events(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    let whole = policy::sees_whole_engagement(caller, &need_row(conn, &row.need_id)?.company_id);
    view(row, events, whole)
}

/// An engagement with its history: the `whole` history for the company and operators;
/// otherwise from its first event that reached the professor on
/// ([`policy::DISCLOSED_BY`]), and created by whom and when that event says.
fn view(
    row: EngagementRow,
    mut events: Vec<EventRow>,
    whole: bool,
) -> AppResult<Versioned<Engagement>> {
    let state = row.state;
    let (mut created_by, mut created_at) = (row.created_by, row.created_at);
    if !whole {
        let first = events
            .iter()
            .position(|e| policy::DISCLOSED_BY.contains(&e.to_state))
            .unwrap_or(events.len());
        events.drain(..first);
        if let Some(e) = events.first() {
            created_by.clone_from(&e.actor_user_id);
            created_at = e.at;
        }
    }
    let events = events
        .into_iter()
        .map(|e| EngagementEvent {
            from: e.from_state,
            to: e.to_state,
            actor_user_id: e.actor_user_id,
            reason_code: e.reason_code,
            reason_text: e.reason_text,
            at: e.at.and_utc(),
        })
        .collect();
    Ok(Versioned {
        version: row.version,
        value: Engagement {
            id: row.id,
            need_id: row.need_id,
            faculty_id: row.faculty_id,
            state,
            next_states: policy::engagement_next_states(state),
            created_by,
            created_at: created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            events,
        },
    })
}
