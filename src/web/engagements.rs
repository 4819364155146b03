//! The engagements a visitor follows: where each stands, its history, and the moves that
//! are the visitor's to make (a company invites, closes and records agreements; a professor
//! says they are interested or declines with a reason).

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::needs::{back_to, manages};
use super::signed::{Posted, Signed, bad_field, see_other};
use super::{Messages, param};
use crate::domain::stored::{DeclineReason, EngagementState};
use crate::dto::engagements::{Engagement, ListEngagements, Transition};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::http::AppState;
use crate::service::Precondition;
use crate::service::{engagements, faculty, needs};

/// The titles of the needs and the names of the professors of these engagements (those the
/// visitor may read; the others by their id).
async fn names(
    s: &Signed,
    state: &AppState,
    list: &[Engagement],
) -> (HashMap<String, String>, HashMap<String, String>) {
    let mut need_titles = HashMap::new();
    let mut faculty_names = HashMap::new();
    for e in list {
        if !need_titles.contains_key(&e.need_id)
            && let Ok(n) = needs::get(&state.db, s.caller(), e.need_id.clone(), false).await
        {
            need_titles.insert(e.need_id.clone(), n.value.title);
        }
        if !faculty_names.contains_key(&e.faculty_id)
            && let Ok(f) = faculty::get(&state.db, s.caller(), e.faculty_id.clone(), false).await
        {
            faculty_names.insert(e.faculty_id.clone(), f.value.name);
        }
    }
    (need_titles, faculty_names)
}

/// Engagements as a table: need, professor, state, last change.
pub async fn table(s: &Signed, state: &AppState, list: &[Engagement]) -> Markup {
    let m = s.lang.messages();
    let (need_titles, faculty_names) = names(s, state, list).await;
    html! {
        table.list {
            (super::head(&[m.need, m.professor, m.status, m.last_change]))
            tbody {
                @for e in list {
                    tr {
                        td { a href=(s.link(&format!("/engagements/{}", e.id), &[])) {
                            (need_titles.get(&e.need_id).map_or(m.need_hidden, String::as_str))
                        } }
                        td { (faculty_names.get(&e.faculty_id).map_or(m.profile_hidden, String::as_str)) }
                        td { (m.value(e.state.as_str())) }
                        td { (e.updated_at.format("%Y-%m-%d")) }
                    }
                }
            }
        }
    }
}

/// The first 100 engagements of `q` the visitor may see, latest change first.
pub async fn latest(
    s: &Signed,
    state: &AppState,
    q: ListEngagements,
) -> AppResult<Vec<Engagement>> {
    let q = ListEngagements {
        limit: Some(100),
        ..q
    };
    let mut items = engagements::list(&state.db, s.caller(), q).await?.items;
    items.sort_by_key(|e| std::cmp::Reverse(e.updated_at));
    Ok(items)
}

/// `GET /engagements`: every engagement the visitor may see, latest change first.
pub async fn list(s: Signed, state: web::Data<AppState>) -> HttpResponse {
    let m = s.lang.messages();
    let items = match latest(&s, &state, ListEngagements::default()).await {
        Ok(items) => items,
        Err(e) => return s.failed(&e),
    };
    let table = table(&s, &state, &items).await;
    let body = html! {
        h1 { (m.engagements) }
        @if items.is_empty() { p { (m.no_engagements) } } @else { (table) }
    };
    s.page(StatusCode::OK, m.engagements, "/engagements", body)
}

/// Which of an engagement's next states this visitor may move it to, with the button's name.
fn moves(
    m: &Messages,
    e: &Engagement,
    company: bool,
    owner: bool,
) -> Vec<(EngagementState, &'static str)> {
    use EngagementState as S;
    e.next_states
        .iter()
        .filter_map(|&to| {
            let (mine, label) = match (e.state, to) {
                (_, S::Invited) => (company, m.invite),
                (S::Invited, S::Interested) => (owner, m.answer_interested),
                (S::Invited, S::Declined) => (owner, m.answer_decline),
                (S::Interested, S::Agreed) => (company, m.record_agreement),
                (S::Interested, S::Closed) => (company || owner, m.end_engagement),
                (_, S::Closed) => (company, m.end_engagement),
                _ => (false, ""),
            };
            mine.then_some((to, label))
        })
        .collect()
}

/// The forms of an engagement's moves for this visitor. Declining asks why.
pub fn move_forms(s: &Signed, e: &Engagement, company: bool, owner: bool, back: &str) -> Markup {
    let m = s.lang.messages();
    let action = format!("/engagements/{}", e.id);
    html! {
        @for (to, label) in moves(m, e, company, owner) {
            @if to == EngagementState::Declined {
                form.decline action=(action) method="post" {
                    (s.form_fields())
                    input type="hidden" name="to" value=(to.as_str());
                    input type="hidden" name="from" value=(e.state.as_str());
                    input type="hidden" name="back" value=(back);
                    @let reason_id = format!("reason-{}", e.id);
                    @let text_id = format!("text-{}", e.id);
                    label for=(reason_id) { (m.decline_reason) }
                    select id=(reason_id) name="reason_code" {
                        @for r in DeclineReason::ALL { option value=(r.as_str()) { (m.value(r.as_str())) } }
                    }
                    label for=(text_id) { (m.decline_text) }
                    input id=(text_id) name="reason_text" maxlength="2000";
                    button.secondary type="submit" { (label) }
                }
            } @else {
                (super::needs::button_form(s, &action,
                    &[("to", to.as_str()), ("from", e.state.as_str()), ("back", back)], label, "primary"))
            }
        }
    }
}

/// `GET /engagements/{id}`: where it stands, its history, and the visitor's moves.
pub async fn show(s: Signed, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let m = s.lang.messages();
    let id = path.into_inner();
    let e = match engagements::get(&state.db, s.caller(), id.clone()).await {
        Ok(e) => e.value,
        Err(e) => return s.failed(&e),
    };
    let need = needs::get(&state.db, s.caller(), e.need_id.clone(), false).await;
    let profile = faculty::get(&state.db, s.caller(), e.faculty_id.clone(), false).await;
    let company = need
        .as_ref()
        .is_ok_and(|n| manages(&s.session.caller, &n.value));
    let owner = profile.as_ref().is_ok_and(|p| {
        s.session.caller.is_platform_operator
            || p.value.owner_user_id.as_deref() == Some(s.session.caller.user_id.as_str())
    });
    let here = format!("/engagements/{id}");
    let need_title = need
        .as_ref()
        .map_or(m.need_hidden.to_owned(), |n| n.value.title.clone());
    let faculty_name = profile
        .as_ref()
        .map_or(m.profile_hidden.to_owned(), |p| p.value.name.clone());
    let title = format!("{need_title} · {faculty_name}");
    let body = html! {
        h1 { (need_title) " · " (faculty_name) }
        dl.facts {
            dt { (m.need) }
            dd {
                @if need.is_ok() { a href=(s.link(&format!("/needs/{}", e.need_id), &[])) { (need_title) } }
                @else { (need_title) }
            }
            dt { (m.professor) }
            dd {
                @if profile.is_ok() { a href=(s.link(&format!("/faculty/{}", e.faculty_id), &[])) { (faculty_name) } }
                @else { (faculty_name) }
            }
            dt { (m.status) } dd { strong.state { (m.value(e.state.as_str())) } }
        }
        div.actions { (move_forms(&s, &e, company, owner, &here)) }
        h2 { (m.history) }
        ol.history {
            @for ev in &e.events {
                li {
                    time datetime=(ev.at.to_rfc3339()) { (ev.at.format("%Y-%m-%d %H:%M UTC")) }
                    " · "
                    // A shortlist is the company's own note: others see the invitation alone.
                    @if let Some(from) = ev.from.filter(|f| company || *f != EngagementState::Shortlisted) {
                        (m.value(from.as_str())) " → "
                    }
                    strong { (m.value(ev.to.as_str())) }
                    @if let Some(r) = ev.reason_code { " · " (m.value(r.as_str())) }
                    @if let Some(t) = &ev.reason_text { " · " q { (t) } }
                }
            }
        }
    };
    s.page(StatusCode::OK, &title, &here, body)
}

/// `POST /engagements/{id}`: one move, from the state the page showed (if it has moved
/// since, the visitor is told and nothing changes), then back to the page it came from.
pub async fn transition(
    Posted { s, f }: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    let to = param(&f, "to").and_then(EngagementState::from_wire);
    let from = param(&f, "from").and_then(EngagementState::from_wire);
    let (Some(to), Some(from)) = (to, from) else {
        return s.failed(&bad_field(
            "to",
            "the state to move to and the state shown are required",
        ));
    };
    let reason_code = match param(&f, "reason_code") {
        None => None,
        Some(r) => match DeclineReason::from_wire(r) {
            Some(r) => Some(r),
            None => return s.failed(&bad_field("reason_code", format!("{r:?} is not a reason"))),
        },
    };
    let current = match engagements::get(&state.db, s.caller(), id.clone()).await {
        Ok(c) => c,
        Err(e) => return s.failed(&e),
    };
    if current.value.state != from {
        let m = s.lang.messages();
        return s.failed(&AppError::new(
            ErrorCode::Conflict,
            Messages::count(m.moved_meanwhile, m.value(current.value.state.as_str())),
        ));
    }
    let input = Transition {
        to,
        reason_code: reason_code.filter(|_| to == EngagementState::Declined),
        reason_text: param(&f, "reason_text").map(str::to_owned),
    };
    let pre = Precondition::Versions(vec![current.version]);
    let here = format!("/engagements/{id}");
    match engagements::transition(&state.db, s.caller(), id, pre, input).await {
        Ok(_) => see_other(&back_to(&s, &f, &here)),
        Err(e) => s.failed(&e),
    }
}
