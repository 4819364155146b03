//! A company's journey: its needs, posting one (with what visibility means on the form), the
//! professors that fit a need with the reasons drawn, why a chosen professor is not listed,
//! shortlisting and inviting, and the engagements that follow.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::explain::{explanation, score, why_not};
use super::fields;
use super::signed::{Posted, Signed, all_of, bad_field, local_path, see_other};
use super::{Messages, money, page_number, pager, param, parse_money, split_list};
use crate::domain::stored::{EngagementState, OrganizationKind, Role};
use crate::dto::engagements::{CreateEngagement, Engagement, ListEngagements};
use crate::dto::matching::{ExplainParams, NeedMatchParams};
use crate::dto::needs::{CreateNeed, ListNeeds, Need, NeedStatus, NeedVisibility, UpdateNeed};
use crate::dto::search::SearchParams;
use crate::http::AppState;
use crate::service::Precondition;
use crate::service::policy::Caller;
use crate::service::{engagements, matching, needs};

/// How many professors a need's page ranks at a time.
const RANKED: usize = 20;
/// The last page of professors offered: the API pages up to offset 10,000.
const MAX_RANKED_PAGE: usize = 10_000 / RANKED;

/// The companies the caller posts needs for (admin or staff).
fn companies(c: &Caller) -> Vec<&str> {
    c.memberships
        .iter()
        .filter(|m| {
            m.organization_kind == OrganizationKind::Company
                && matches!(m.role, Role::Admin | Role::Staff)
        })
        .map(|m| m.organization_id.as_str())
        .collect()
}

/// Whether the caller manages this need (its company's admins and staff, operators).
pub fn manages(c: &Caller, need: &Need) -> bool {
    c.is_platform_operator || companies(c).contains(&need.company_id.as_str())
}

/// `GET /needs`: the needs of the caller's companies, newest work first.
pub async fn list(s: Signed, state: web::Data<AppState>) -> HttpResponse {
    let m = s.lang.messages();
    let mut found: Vec<Need> = Vec::new();
    for company in companies(&s.session.caller) {
        let q = ListNeeds {
            company_id: Some(company.to_owned()),
            limit: Some(100),
            ..ListNeeds::default()
        };
        match needs::list(&state.db, s.caller(), q).await {
            Ok(l) => found.extend(l.items),
            Err(e) => return s.failed(&e),
        }
    }
    found.sort_by_key(|n| std::cmp::Reverse(n.updated_at));
    let body = html! {
        h1 { (m.your_needs) }
        @if companies(&s.session.caller).is_empty() {
            p { (m.not_company_member) }
        } @else {
            p { a.button href=(s.link("/needs/new", &[])) { (m.post_need) } }
            @if found.is_empty() {
                p { (m.no_needs_yet) }
            } @else {
                table.list {
                    (super::head(&[m.need_title, m.status, m.visibility, m.deadline]))
                    tbody {
                        @for n in &found {
                            tr {
                                td { a href=(s.link(&format!("/needs/{}", n.id), &[])) { (n.title) } }
                                td { (m.value(n.status.as_str())) }
                                td { (m.value(n.visibility.as_str())) }
                                td { (n.deadline.map(|d| d.to_string()).unwrap_or_default()) }
                            }
                        }
                    }
                }
            }
        }
    };
    s.page(StatusCode::OK, m.your_needs, "/needs", body)
}

/// What the need form holds, as typed (so a refused form comes back as it was sent).
#[derive(Default)]
struct NeedForm {
    company_id: String,
    title: String,
    summary: String,
    description: String,
    keywords: String,
    collaboration_types: Vec<String>,
    budget_min: String,
    budget_max: String,
    currency: String,
    duration_months: String,
    deadline: String,
    location: String,
    remote: bool,
    visibility: String,
    status: String,
}

impl NeedForm {
    fn read(f: &[(String, String)]) -> Self {
        let get = |k: &str| param(f, k).unwrap_or_default().trim().to_owned();
        NeedForm {
            company_id: get("company_id"),
            title: get("title"),
            summary: get("summary"),
            description: get("description"),
            keywords: get("keywords"),
            collaboration_types: all_of(f, "collaboration_types")
                .into_iter()
                .map(str::to_owned)
                .collect(),
            budget_min: get("budget_min"),
            budget_max: get("budget_max"),
            currency: get("currency").to_ascii_uppercase(),
            duration_months: get("duration_months"),
            deadline: get("deadline"),
            location: get("location"),
            remote: param(f, "remote").is_some(),
            visibility: get("visibility"),
            status: get("status"),
        }
    }

    /// The need as the API takes it; what cannot be read is named with the form's own words.
    fn to_create(&self, m: &Messages) -> Result<CreateNeed, Vec<String>> {
        let mut problems = Vec::new();
        let mut o = Map::new();
        o.insert("company_id".into(), self.company_id.clone().into());
        o.insert("title".into(), self.title.clone().into());
        for (k, v) in [
            ("summary", &self.summary),
            ("description", &self.description),
            ("location", &self.location),
        ] {
            if !v.is_empty() {
                o.insert(k.into(), v.clone().into());
            }
        }
        o.insert("keywords".into(), json!(split_list(&self.keywords)));
        o.insert(
            "collaboration_types".into(),
            json!(self.collaboration_types),
        );
        if !(self.budget_min.is_empty() && self.budget_max.is_empty()) {
            let min = parse_money(&self.budget_min, &self.currency);
            let max = parse_money(&self.budget_max, &self.currency);
            match (min, max) {
                (Ok(min), Ok(max)) => {
                    o.insert(
                        "budget".into(),
                        json!({"min": min, "max": max, "currency": self.currency}),
                    );
                }
                (min, max) => {
                    for (label, r) in [(m.budget_min, min), (m.budget_max, max)] {
                        if let Err(e) = r {
                            problems.push(format!("{label}: {e}"));
                        }
                    }
                }
            }
        }
        if !self.duration_months.is_empty() {
            match self.duration_months.parse::<i32>() {
                Ok(d) => {
                    o.insert("duration_months".into(), d.into());
                }
                Err(_) => problems.push(format!("{}: {}", m.duration_months, m.not_a_number)),
            }
        }
        if !self.deadline.is_empty() {
            o.insert("deadline".into(), self.deadline.clone().into());
        }
        o.insert("remote".into(), self.remote.into());
        o.insert("visibility".into(), self.visibility.clone().into());
        o.insert("status".into(), self.status.clone().into());
        if !problems.is_empty() {
            return Err(problems);
        }
        serde_json::from_value(Value::Object(o)).map_err(|e| vec![e.to_string()])
    }
}

/// The need form's fields by their names in the API, with their labels.
fn need_labels(m: &Messages) -> [(&'static str, &'static str); 13] {
    [
        ("company_id", m.facet_company),
        ("title", m.need_title),
        ("summary", m.summary),
        ("description", m.description),
        ("keywords", m.field_keywords),
        ("collaboration_types", m.collaboration_types),
        ("budget", m.budget),
        ("duration_months", m.duration_months),
        ("deadline", m.deadline),
        ("location", m.location),
        ("remote", m.remote),
        ("visibility", m.visibility),
        ("status", m.status),
    ]
}

fn need_form(s: &Signed, form: &NeedForm, problems: &[String]) -> Markup {
    let m = s.lang.messages();
    let companies = companies(&s.session.caller);
    html! {
        h1 { (m.post_need) }
        @if !problems.is_empty() {
            div.problem role="alert" {
                p { (m.form_problems) }
                ul { @for p in problems { li { (p) } } }
            }
        }
        form.edit action="/needs" method="post" {
            (s.form_fields())
            @if companies.len() > 1 {
                p {
                    label for="company_id" { (m.facet_company) }
                    select #company_id name="company_id" {
                        @for c in &companies {
                            option value=(c) selected[*c == form.company_id] { (c) }
                        }
                    }
                }
            } @else {
                input type="hidden" name="company_id" value=(companies.first().copied().unwrap_or_default());
            }
            p {
                label for="title" { (m.need_title) }
                input #title name="title" value=(form.title) required maxlength="300";
            }
            p {
                label for="summary" { (m.summary) }
                input #summary name="summary" value=(form.summary);
            }
            p {
                label for="description" { (m.description) }
                textarea #description name="description" rows="6" { (form.description) }
            }
            (fields::keywords(m, &form.keywords))
            (fields::ways_of_working(m, "collaboration_types", m.collaboration_types, &form.collaboration_types))
            fieldset {
                legend { (m.budget) }
                p.row3 {
                    span { label for="budget_min" { (m.budget_min) } input #budget_min name="budget_min" inputmode="decimal" value=(form.budget_min); }
                    span { label for="budget_max" { (m.budget_max) } input #budget_max name="budget_max" inputmode="decimal" value=(form.budget_max); }
                    span { label for="currency" { (m.currency) } input #currency name="currency" maxlength="3" value=(form.currency) placeholder="USD"; }
                }
            }
            p.row3 {
                span { label for="duration_months" { (m.duration_months) } input #duration_months name="duration_months" inputmode="numeric" value=(form.duration_months); }
                span { label for="deadline" { (m.deadline) } input #deadline type="date" name="deadline" value=(form.deadline); }
                span { label for="location" { (m.location) } input #location name="location" value=(form.location); }
            }
            p {
                label.choice { input type="checkbox" name="remote" value="true" checked[form.remote]; " " (m.remote) }
            }
            (fields::explained_choice(m, "visibility", m.visibility, &[
                (NeedVisibility::Public.as_str(), m.visibility_public_hint),
                (NeedVisibility::Members.as_str(), m.visibility_members_hint),
                (NeedVisibility::Confidential.as_str(), m.visibility_confidential_hint),
            ], &form.visibility))
            // Anything but "open" posts a draft.
            (fields::explained_choice(m, "status", m.status, &[
                (NeedStatus::Draft.as_str(), m.draft_hint),
                (NeedStatus::Open.as_str(), m.open_hint),
            ], if form.status == "open" { "open" } else { "draft" }))
            button type="submit" { (m.post_need) }
        }
    }
}

/// `GET /needs/new`: the form.
pub async fn new_form(s: Signed) -> HttpResponse {
    let m = s.lang.messages();
    if companies(&s.session.caller).is_empty() {
        let body = html! { h1 { (m.post_need) } p.problem role="alert" { (m.not_company_member) } };
        return s.page(StatusCode::FORBIDDEN, m.post_need, "/needs/new", body);
    }
    let form = NeedForm {
        visibility: NeedVisibility::Members.as_str().to_owned(),
        status: "draft".to_owned(),
        ..NeedForm::default()
    };
    s.page(
        StatusCode::OK,
        m.post_need,
        "/needs/new",
        need_form(&s, &form, &[]),
    )
}

/// `POST /needs`: posts the need and shows it; a refused form comes back with the reasons.
pub async fn create(Posted { s, f }: Posted, state: web::Data<AppState>) -> HttpResponse {
    let m = s.lang.messages();
    let form = NeedForm::read(&f);
    let refused = |problems: Vec<String>| {
        s.page(
            StatusCode::BAD_REQUEST,
            m.post_need,
            "/needs/new",
            need_form(&s, &form, &problems),
        )
    };
    let input = match form.to_create(m) {
        Ok(i) => i,
        Err(p) => return refused(p),
    };
    match needs::create(&state.db, s.caller(), input).await {
        Ok(n) => see_other(&s.link(&format!("/needs/{}", n.value.id), &[])),
        Err(e) if e.code.status() == 400 || e.code.status() == 422 => {
            refused(super::signed::problem_lines(s.lang, &e, &need_labels(m)))
        }
        Err(e) => s.failed(&e),
    }
}

/// The need's facts, as anyone who may see it reads them.
fn facts(m: &Messages, n: &Need) -> Markup {
    html! {
        dl.facts {
            dt { (m.status) } dd { (m.value(n.status.as_str())) }
            dt { (m.visibility) } dd { (m.value(n.visibility.as_str())) }
            @if let Some(b) = &n.budget {
                dt { (m.budget) } dd { (money(b.min.into(), &b.currency)) " – " (money(b.max.into(), &b.currency)) }
            }
            @if let Some(d) = n.duration_months { dt { (m.duration_months) } dd { (d) } }
            @if let Some(d) = n.deadline { dt { (m.deadline) } dd { (d) } }
            @if let Some(l) = &n.location { dt { (m.location) } dd { (l) @if n.remote { " · " (m.remote) } } }
            @if !n.keywords.is_empty() { dt { (m.field_keywords) } dd { (n.keywords.join(", ")) } }
            @if !n.collaboration_types.is_empty() {
                dt { (m.collaboration_types) }
                dd { (n.collaboration_types.iter().map(|t| m.value(t.as_str())).collect::<Vec<_>>().join(", ")) }
            }
        }
        @if let Some(t) = &n.summary { p.intro { (t) } }
        @if let Some(t) = &n.description { p { (t) } }
    }
}

/// A button that posts one change, with its hidden fields.
pub fn button_form(
    s: &Signed,
    action: &str,
    hidden: &[(&str, &str)],
    label: &str,
    class: &str,
) -> Markup {
    html! {
        form.inline action=(action) method="post" {
            (s.form_fields())
            @for (k, v) in hidden { input type="hidden" name=(k) value=(v); }
            button.(class) type="submit" { (label) }
        }
    }
}

/// `GET /needs/{id}`: the need; for its company, the ranked professors with their reasons
/// and what to do with each, the engagements, and the way to ask why someone is missing;
/// for a professor, the way to say they are interested.
pub async fn show(s: Signed, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let m = s.lang.messages();
    let id = path.into_inner();
    let need = match needs::get(&state.db, s.caller(), id.clone(), false).await {
        Ok(n) => n,
        Err(e) => return s.failed(&e),
    };
    let here = format!("/needs/{id}");
    let n = &need.value;
    let managing = manages(&s.session.caller, n);
    let list = ListEngagements {
        need_id: Some(id.clone()),
        limit: Some(100),
        ..ListEngagements::default()
    };
    let under_way: Vec<Engagement> = match engagements::list(&state.db, s.caller(), list).await {
        Ok(l) => l.items,
        Err(e) => return s.failed(&e),
    };
    let by_faculty: HashMap<&str, &Engagement> = under_way
        .iter()
        .map(|e| (e.faculty_id.as_str(), e))
        .collect();
    // The professors a page ranks, 20 at a time: every page is cut from one order, so paging
    // neither repeats nor skips anyone.
    let page_no = page_number(&s.pairs, MAX_RANKED_PAGE);
    // Where a move made from this page comes back to.
    let this_page = if page_no > 1 {
        format!("{here}?page={page_no}")
    } else {
        here.clone()
    };
    let ranked = if managing {
        let p = NeedMatchParams {
            limit: Some(RANKED as i64),
            offset: Some(((page_no - 1) * RANKED) as i64),
            ..NeedMatchParams::default()
        };
        match matching::need_matches(&state.db, &state.search, s.caller(), id.clone(), p).await {
            Ok(r) => Some(r),
            Err(e) => return s.failed(&e),
        }
    } else {
        None
    };
    let own = match super::faculty::own_profiles(&state, &s).await {
        Ok(p) => p,
        Err(e) => return s.failed(&e),
    };
    let rows: HashMap<&str, String> = by_faculty
        .keys()
        .map(|f| (*f, format!("{this_page}#f-{f}")))
        .collect();
    let table = super::engagements::table(&s, &state, &under_way).await;
    let body = html! {
        h1 { (n.title) }
        (facts(m, n))
        @if managing {
            @let moves: &[NeedStatus] = match n.status {
                NeedStatus::Draft => &[NeedStatus::Open],
                NeedStatus::Open => &[NeedStatus::Awarded, NeedStatus::Closed],
                _ => &[],
            };
            @if !moves.is_empty() {
                div.actions {
                    @for to in moves {
                        @let version = need.version.to_string();
                        (button_form(&s, &format!("{here}/status"), &[("to", to.as_str()), ("version", &version)],
                            &Messages::count(m.move_need_to, m.value(to.as_str())), "secondary"))
                    }
                }
            }
        }
        @if !own.is_empty() && !managing && n.status == NeedStatus::Open {
            @for (fid, name) in &own {
                @if let Some(e) = by_faculty.get(fid.as_str()) {
                    p { (name) ": " a href=(s.link(&format!("/engagements/{}", e.id), &[])) { (m.value(e.state.as_str())) } }
                } @else {
                    (button_form(&s, &format!("{here}/engagements"), &[("faculty_id", fid), ("state", "interested")],
                        &Messages::count(m.interested_as, name), "primary"))
                }
            }
        }
        @if let Some(r) = &ranked {
            section aria-labelledby="ranked" {
                h2 #ranked { (m.ranked_professors) }
                p.note { (Messages::count(m.candidates, r.candidates)) }
                @if r.items.is_empty() {
                    p { (m.no_matches) }
                }
                ol.matches start=(r.offset + 1) {
                    @for fm in &r.items {
                        @let f = &fm.faculty;
                        li id=(format!("f-{}", f.id)) {
                            article {
                                h3 { a href=(s.link(&format!("/faculty/{}", f.id), &[])) { (f.name) } @if let Some(l) = &f.local_name { " " span lang="und" { (l) } } }
                                p.meta {
                                    (f.title.as_deref().unwrap_or_default())
                                    @if let Some(d) = &f.department { " · " (d) }
                                    @if let Some(u) = &f.university_name { " · " (u) }
                                }
                                p { (score(m, fm.score)) }
                                (explanation(m, &fm.explanation))
                                div.actions {
                                    @match by_faculty.get(f.id.as_str()) {
                                        None => {
                                            @let back = format!("{this_page}#f-{}", f.id);
                                            (button_form(&s, &format!("{here}/engagements"), &[("faculty_id", &f.id), ("state", "shortlisted"), ("back", &back)], m.shortlist, "secondary"))
                                            @if n.status == NeedStatus::Open {
                                                (button_form(&s, &format!("{here}/engagements"), &[("faculty_id", &f.id), ("state", "invited"), ("back", &back)], m.invite, "primary"))
                                            }
                                        }
                                        Some(e) => {
                                            span.state { (m.value(e.state.as_str())) }
                                            @if e.state == EngagementState::Shortlisted && n.status == NeedStatus::Open {
                                                (transition_button(&s, e, EngagementState::Invited, m.invite, &[("back", rows[f.id.as_str()].as_str())]))
                                            }
                                            " " a href=(s.link(&format!("/engagements/{}", e.id), &[])) { (m.follow_engagement) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                (pager(m, page_no, r.candidates.div_ceil(RANKED).clamp(1, MAX_RANKED_PAGE),
                    |p| format!("{}#ranked", s.link(&here, &[("page", &p.to_string())]))))
            }
            section aria-labelledby="why" {
                h2 #why { (m.why_not_heading) }
                form.search action=(format!("{here}/why")) method="get" {
                    input type="hidden" name="lang" value=(s.lang.tag());
                    label for="name" { (m.why_not_label) }
                    div.row {
                        input #name type="search" name="name" required;
                        button type="submit" { (m.why_not_button) }
                    }
                }
            }
        }
        @if !under_way.is_empty() {
            section aria-labelledby="engagements" {
                h2 #engagements { (m.engagements) }
                (table)
            }
        }
    };
    s.page(StatusCode::OK, &n.title, &here, body)
}

/// A button moving an engagement from the state shown, coming back to `back`.
pub fn transition_button(
    s: &Signed,
    e: &Engagement,
    to: EngagementState,
    label: &str,
    back: &[(&str, &str)],
) -> Markup {
    let mut hidden: Vec<(&str, &str)> = vec![("to", to.as_str()), ("from", e.state.as_str())];
    hidden.extend_from_slice(back);
    button_form(
        s,
        &format!("/engagements/{}", e.id),
        &hidden,
        label,
        "primary",
    )
}

/// `POST /needs/{id}/engagements`: shortlists or invites a professor (the company), or says
/// a professor is interested (the profile's owner), and comes back.
pub async fn engage(
    Posted { s, f }: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let need_id = path.into_inner();
    let faculty_id = param(&f, "faculty_id").unwrap_or_default().to_owned();
    let state_value = param(&f, "state").unwrap_or_default();
    let Some(to) = EngagementState::from_wire(state_value) else {
        return s.failed(&bad_field(
            "state",
            format!("{state_value:?} is not shortlisted, invited or interested"),
        ));
    };
    let input = CreateEngagement {
        need_id: need_id.clone(),
        faculty_id: faculty_id.clone(),
        state: to,
        reason_text: None,
    };
    match engagements::create(&state.db, s.caller(), input).await {
        Ok(_) => {
            let here = format!("/needs/{need_id}#f-{faculty_id}");
            see_other(&back_to(&s, &f, &here))
        }
        Err(e) => s.failed(&e),
    }
}

/// `POST /needs/{id}/status`: opens, closes or awards the need (the version shown must
/// still be current).
pub async fn change_status(
    Posted { s, f }: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let id = path.into_inner();
    let to = param(&f, "to").and_then(NeedStatus::from_wire);
    let version = param(&f, "version").and_then(|v| v.parse::<i64>().ok());
    let (Some(to), Some(version)) = (to, version) else {
        return s.failed(&bad_field(
            "to",
            "a need status and the version shown are required",
        ));
    };
    let patch = UpdateNeed {
        status: Some(to),
        ..UpdateNeed::default()
    };
    let pre = Precondition::Versions(vec![version]);
    match needs::update(&state.db, s.caller(), id.clone(), pre, patch).await {
        Ok(_) => see_other(&s.link(&format!("/needs/{id}"), &[])),
        Err(e) => s.failed(&e),
    }
}

/// `GET /needs/{id}/why?name=…` finds professors by name to choose from;
/// `…?faculty_id=…` explains that pair: its score, its reasons, and why it is not listed.
pub async fn why(s: Signed, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let m = s.lang.messages();
    let need_id = path.into_inner();
    let here = format!("/needs/{need_id}/why");
    let back = s.link(&format!("/needs/{need_id}"), &[]);
    if let Some(faculty_id) = param(&s.pairs, "faculty_id") {
        let p = ExplainParams {
            need_id: need_id.clone(),
            faculty_id: faculty_id.to_owned(),
            ..ExplainParams::default()
        };
        let pair = match matching::explain(&state.db, &state.search, s.caller(), p).await {
            Ok(p) => p,
            Err(e) => return s.failed(&e),
        };
        let title = format!("{} · {}", pair.faculty.name, pair.need.title);
        let body = html! {
            h1 { (pair.faculty.name) " · " (pair.need.title) }
            p { (score(m, pair.score)) }
            p {
                (if pair.in_need_matches { m.listed_for_need } else { m.not_listed_for_need })
            }
            p {
                (if pair.in_faculty_matches { m.need_listed_for_faculty } else { m.need_not_listed_for_faculty })
            }
            @if !pair.reasons.is_empty() { (why_not(m, &pair.reasons)) }
            (explanation(m, &pair.explanation))
            p { a href=(back) { (m.back_to_need) } }
        };
        return s.page(StatusCode::OK, &title, &here, body);
    }
    let name = param(&s.pairs, "name")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let found = if name.is_empty() {
        Vec::new()
    } else {
        let q: Result<SearchParams, _> = serde_json::from_value(json!({
            "type": "faculty", "q": name, "operator": "and", "limit": 10
        }));
        let q = match q {
            Ok(q) => q,
            Err(e) => return s.failed(&bad_field("name", e.to_string())),
        };
        match crate::service::search::search(&state.db, &state.search, s.caller(), q).await {
            Ok(r) => r.items,
            Err(e) => return s.failed(&e),
        }
    };
    let body = html! {
        h1 { (m.why_not_heading) }
        form.search action=(here) method="get" {
            input type="hidden" name="lang" value=(s.lang.tag());
            label for="name" { (m.why_not_label) }
            div.row {
                input #name type="search" name="name" value=(name) required;
                button type="submit" { (m.why_not_button) }
            }
        }
        @if found.is_empty() {
            p { (m.no_results) }
        } @else {
            ul {
                @for h in &found {
                    li { a href=(s.link(&here, &[("faculty_id", &h.id)])) { (h.title) } }
                }
            }
        }
        p { a href=(back) { (m.back_to_need) } }
    };
    s.page(StatusCode::OK, m.why_not_heading, &here, body)
}

/// Where to go back to after a form: its `back` field when it is a path of this site (in
/// the page's language, at the fragment it names), else `or`.
pub fn back_to(s: &Signed, f: &[(String, String)], or: &str) -> String {
    let back = param(f, "back").filter(|b| local_path(b)).unwrap_or(or);
    match back.split_once('#') {
        Some((path, fragment)) => format!("{}#{fragment}", s.link(path, &[])),
        None => s.link(back, &[]),
    }
}
