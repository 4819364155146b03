//! A professor's journey: their profile (keywords, interests, publications, availability)
//! and the form that edits it, the open needs that fit with their reasons, the invitations
//! to answer, and their engagements.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use maud::{Markup, html};

use super::engagements::{latest, move_forms, table};
use super::explain::{explanation, score};
use super::fields;
use super::signed::{Posted, Signed, all_of, problem_lines, see_other};
use super::{Messages, param, split_list};
use crate::domain::stored::{EngagementState, ProfileVisibility, Role};
use crate::dto::engagements::ListEngagements;
use crate::dto::faculty::{CollaborationType, FacultyProfile, Publication, UpdateFacultyProfile};
use crate::dto::matching::FacultyMatchParams;
use crate::error::AppError;
use crate::http::AppState;
use crate::service::policy::Caller;
use crate::service::{Precondition, faculty, matching};

/// How many needs a profile's page lists at a time.
const FITTING: usize = 10;
/// The last page of needs offered: the API pages up to offset 10,000.
const MAX_FITTING_PAGE: usize = 10_000 / FITTING;

/// The visitor's own profiles, with their names.
pub async fn own_profiles(state: &AppState, s: &Signed) -> Result<Vec<(String, String)>, AppError> {
    let mut own = Vec::new();
    for id in faculty::own_ids(&state.db, &s.session.caller).await? {
        let p = faculty::get(&state.db, s.caller(), id.clone(), false).await?;
        own.push((id, p.value.name));
    }
    Ok(own)
}

/// Whether the caller may edit the profile: its owner, its university's admins and staff,
/// operators (the service decides in the end; this only chooses what to offer).
fn edits(c: &Caller, p: &FacultyProfile) -> bool {
    c.is_platform_operator
        || p.owner_user_id.as_deref() == Some(c.user_id.as_str())
        || matches!(c.role_in(&p.university_id), Some(Role::Admin | Role::Staff))
}

/// `GET /profile`: the visitor's own profile (the first, when a professor keeps several).
pub async fn mine(s: Signed, state: web::Data<AppState>) -> HttpResponse {
    let m = s.lang.messages();
    match faculty::own_ids(&state.db, &s.session.caller).await {
        Ok(ids) if !ids.is_empty() => see_other(&s.link(&format!("/faculty/{}", ids[0]), &[])),
        Ok(_) => {
            let body = html! { h1 { (m.your_profile) } p { (m.no_own_profile) } };
            s.page(StatusCode::NOT_FOUND, m.your_profile, "/profile", body)
        }
        Err(e) => s.failed(&e),
    }
}

fn profile_facts(m: &Messages, p: &FacultyProfile) -> Markup {
    html! {
        p.meta {
            (p.title.as_deref().unwrap_or_default())
            @if let Some(d) = &p.department { " · " (d) }
        }
        dl.facts {
            @if !p.keywords.is_empty() { dt { (m.field_keywords) } dd { (p.keywords.join(", ")) } }
            @if let Some(i) = &p.research_interests { dt { (m.research_interests) } dd { (i) } }
            dt { (m.availability) }
            dd {
                @if p.availability.is_empty() { (m.not_available) }
                (p.availability.iter().map(|t| m.value(t.as_str())).collect::<Vec<_>>().join(", "))
            }
            dt { (m.visibility) } dd { (m.value(p.visibility.as_str())) }
        }
        @if let Some(b) = &p.bio { p { (b) } }
        @if let Some(pubs) = p.publications.as_ref().filter(|p| !p.is_empty()) {
            h2 { (m.field_publications) " (" (pubs.len()) ")" }
            ol.publications {
                @for x in pubs.iter().take(20) {
                    li {
                        cite { (x.title) }
                        @if let Some(y) = x.year { " (" (y) ")" }
                        @if let Some(v) = &x.venue { " · " (v) }
                    }
                }
            }
        }
    }
}

/// `GET /faculty/{id}`: the profile; for its owner the invitations to answer; the open
/// needs that fit, with their reasons; the engagements.
pub async fn show(s: Signed, state: web::Data<AppState>, path: web::Path<String>) -> HttpResponse {
    let m = s.lang.messages();
    let id = path.into_inner();
    let p = match faculty::get(&state.db, s.caller(), id.clone(), false).await {
        Ok(p) => p.value,
        Err(e) => return s.failed(&e),
    };
    let here = format!("/faculty/{id}");
    let owner = p.owner_user_id.as_deref() == Some(s.session.caller.user_id.as_str());
    let page_no = super::page_number(&s.pairs, MAX_FITTING_PAGE);
    let params = FacultyMatchParams {
        limit: Some(FITTING as i64),
        offset: Some(((page_no - 1) * FITTING) as i64),
        ..FacultyMatchParams::default()
    };
    let fitting =
        match matching::faculty_matches(&state.db, &state.search, s.caller(), id.clone(), params)
            .await
        {
            Ok(r) => r,
            Err(e) => return s.failed(&e),
        };
    let q = ListEngagements {
        faculty_id: Some(id.clone()),
        ..ListEngagements::default()
    };
    let under_way = match latest(&s, &state, q).await {
        Ok(items) => items,
        Err(e) => return s.failed(&e),
    };
    let invitations: Vec<_> = under_way
        .iter()
        .filter(|e| e.state == EngagementState::Invited)
        .collect();
    let engaged = table(&s, &state, &under_way).await;
    let mut invited_to = Vec::new();
    for e in &invitations {
        match crate::service::needs::get(&state.db, s.caller(), e.need_id.clone(), false).await {
            Ok(n) => invited_to.push(n.value),
            Err(e) => return s.failed(&e),
        }
    }
    let body = html! {
        h1 { (p.name) @if let Some(l) = &p.local_name { " " span lang="und" { (l) } } }
        @if edits(&s.session.caller, &p) {
            p { a.button href=(s.link(&format!("{here}/edit"), &[])) { (m.edit_profile) } }
        }
        @if owner && !invitations.is_empty() {
            section.invitations aria-labelledby="invitations" {
                h2 #invitations { (m.invitations_to_answer) }
                ul {
                    @for (e, n) in invitations.iter().zip(&invited_to) {
                        li {
                            h3 { a href=(s.link(&format!("/needs/{}", e.need_id), &[])) { (n.title) } }
                            p.meta {
                                (m.value(n.visibility.as_str()))
                                @if let Some(d) = n.deadline { " · " (m.deadline) " " (d) }
                                @if let Some(b) = &n.budget { " · " (super::money(b.min.into(), &b.currency)) " – " (super::money(b.max.into(), &b.currency)) }
                            }
                            @if let Some(t) = &n.summary { p { (t) } }
                            div.actions { (move_forms(&s, e, false, true, &here)) }
                        }
                    }
                }
            }
        }
        (profile_facts(m, &p))
        section aria-labelledby="fitting" {
            h2 #fitting { (m.needs_that_fit) }
            @if fitting.items.is_empty() { p { (m.no_matches) } }
            ol.matches start=(fitting.offset + 1) {
                @for nm in &fitting.items {
                    li {
                        article {
                            h3 { a href=(s.link(&format!("/needs/{}", nm.need.id), &[])) { (nm.need.title) } }
                            p.meta {
                                (nm.need.company_name.as_deref().unwrap_or_default())
                                @if let Some(d) = nm.need.deadline { " · " (m.deadline) " " (d) }
                            }
                            p { (score(m, nm.score)) }
                            (explanation(m, &nm.explanation))
                        }
                    }
                }
            }
            (super::pager(m, page_no, fitting.candidates.div_ceil(FITTING).clamp(1, MAX_FITTING_PAGE),
                |p| format!("{}#fitting", s.link(&here, &[("page", &p.to_string())]))))
        }
        @if !under_way.is_empty() {
            section aria-labelledby="engagements" {
                h2 #engagements { (m.engagements) }
                (engaged)
            }
        }
    };
    s.page(StatusCode::OK, &p.name, &here, body)
}

/// A publication as one line of the form: `year | title | venue | DOI`.
fn publication_line(p: &Publication) -> String {
    let mut parts = vec![
        p.year.map(|y| y.to_string()).unwrap_or_default(),
        p.title.clone(),
        p.venue.clone().unwrap_or_default(),
        p.doi.clone().unwrap_or_default(),
    ];
    while parts.last().is_some_and(String::is_empty) && parts.len() > 2 {
        parts.pop();
    }
    parts.join(" | ")
}

fn publication_lines(pubs: &[Publication]) -> String {
    pubs.iter()
        .map(publication_line)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The form's publications, keeping what the form does not show (abstracts) of those whose
/// title is unchanged.
fn read_publications(text: &str, current: &[Publication]) -> Vec<Publication> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut parts: Vec<&str> = line.split('|').map(str::trim).collect();
            let year = match parts.first() {
                Some(y) if parts.len() > 1 && (y.is_empty() || y.parse::<i32>().is_ok()) => {
                    let y = y.parse::<i32>().ok();
                    parts.remove(0);
                    y
                }
                _ => None,
            };
            let title = parts.first().copied().unwrap_or_default().to_owned();
            let opt = |i: usize| {
                parts
                    .get(i)
                    .filter(|v| !v.is_empty())
                    .map(|v| (*v).to_owned())
            };
            let same = current
                .iter()
                .find(|c| c.title.trim().eq_ignore_ascii_case(&title));
            Publication {
                abstract_: same.and_then(|c| c.abstract_.clone()),
                title,
                year,
                venue: opt(1),
                doi: opt(2),
                provenance: None,
            }
        })
        .collect()
}

fn edit_page(
    s: &Signed,
    p: &FacultyProfile,
    version: i64,
    values: &[(String, String)],
    problems: &[String],
) -> Markup {
    let m = s.lang.messages();
    // What the form shows: what was sent, else the profile's own.
    let sent = |k: &str| values.iter().find(|(f, _)| f == k).map(|(_, v)| v.clone());
    let text =
        |k: &str, own: Option<&String>| sent(k).unwrap_or_else(|| own.cloned().unwrap_or_default());
    let keywords = sent("keywords").unwrap_or_else(|| p.keywords.join(", "));
    let publications = sent("publications")
        .unwrap_or_else(|| publication_lines(p.publications.as_deref().unwrap_or_default()));
    let availability: Vec<String> = if values.is_empty() {
        p.availability
            .iter()
            .map(|a| a.as_str().to_owned())
            .collect()
    } else {
        all_of(values, "availability")
            .into_iter()
            .map(str::to_owned)
            .collect()
    };
    let visibility = sent("visibility").unwrap_or_else(|| p.visibility.as_str().to_owned());
    let action = format!("/faculty/{}/edit", p.id);
    html! {
        h1 { (m.edit_profile) ": " (p.name) }
        @if !problems.is_empty() {
            div.problem role="alert" {
                p { (m.form_problems) }
                ul { @for x in problems { li { (x) } } }
            }
        }
        form.edit action=(action) method="post" {
            (s.form_fields())
            input type="hidden" name="version" value=(version);
            p.row3 {
                span { label for="title" { (m.academic_title) } input #title name="title" value=(text("title", p.title.as_ref())); }
                span { label for="department" { (m.facet_department) } input #department name="department" value=(text("department", p.department.as_ref())); }
            }
            (fields::keywords(m, &keywords))
            p {
                label for="research_interests" { (m.research_interests) }
                textarea #research_interests name="research_interests" rows="4" { (text("research_interests", p.research_interests.as_ref())) }
            }
            p {
                label for="bio" { (m.bio) }
                textarea #bio name="bio" rows="4" { (text("bio", p.bio.as_ref())) }
            }
            p {
                label for="publications" { (m.field_publications) }
                textarea #publications name="publications" rows="10" aria-describedby="publications-hint" { (publications) }
                span.hint #publications-hint { (m.publications_hint) }
            }
            (fields::ways_of_working(m, "availability", m.availability, &availability))
            (fields::explained_choice(m, "visibility", m.visibility, &[
                (ProfileVisibility::Public.as_str(), m.profile_public_hint),
                (ProfileVisibility::Members.as_str(), m.profile_members_hint),
            ], &visibility))
            button type="submit" { (m.save) }
        }
    }
}

/// `GET /faculty/{id}/edit`: the form, filled with the profile as it is.
pub async fn edit_form(
    s: Signed,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let m = s.lang.messages();
    let id = path.into_inner();
    let p = match faculty::get(&state.db, s.caller(), id.clone(), false).await {
        Ok(p) => p,
        Err(e) => return s.failed(&e),
    };
    let path = format!("/faculty/{id}/edit");
    s.page(
        StatusCode::OK,
        m.edit_profile,
        &path,
        edit_page(&s, &p.value, p.version, &[], &[]),
    )
}

/// `POST /faculty/{id}/edit`: saves the profile (if nobody changed it since the form was
/// shown) and shows it; a refused form comes back as sent, with the reasons.
pub async fn update(
    Posted { s, f }: Posted,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> HttpResponse {
    let m = s.lang.messages();
    let id = path.into_inner();
    let current = match faculty::get(&state.db, s.caller(), id.clone(), false).await {
        Ok(p) => p,
        Err(e) => return s.failed(&e),
    };
    let version = param(&f, "version").and_then(|v| v.parse::<i64>().ok());
    let text = |k: &str| {
        Some(
            param(&f, k)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        )
    };
    let pubs_now = current.value.publications.as_deref().unwrap_or_default();
    let sent_pubs = param(&f, "publications").unwrap_or_default();
    // Publications are sent only when changed: the form cannot show what a sync brought
    // beyond their lines, so an edit of other fields leaves them exactly as they are.
    let unchanged = sent_pubs.replace("\r\n", "\n").trim() == publication_lines(pubs_now).trim();
    let mut problems = Vec::new();
    let availability: Vec<CollaborationType> = all_of(&f, "availability")
        .into_iter()
        .filter_map(|a| {
            let t = CollaborationType::from_wire(a);
            if t.is_none() {
                problems.push(format!("{}: {a:?}", m.availability));
            }
            t
        })
        .collect();
    let visibility = match param(&f, "visibility").map(ProfileVisibility::from_wire) {
        None => None,
        Some(Some(v)) => Some(v),
        Some(None) => {
            problems.push(m.visibility.to_owned());
            None
        }
    };
    let patch = UpdateFacultyProfile {
        title: text("title"),
        department: text("department"),
        research_interests: text("research_interests"),
        bio: text("bio"),
        keywords: Some(split_list(param(&f, "keywords").unwrap_or_default())),
        availability: Some(availability),
        visibility,
        publications: (!unchanged).then(|| read_publications(sent_pubs, pubs_now)),
        ..UpdateFacultyProfile::default()
    };
    let path = format!("/faculty/{id}/edit");
    let refused = |problems: Vec<String>, version: i64| {
        let form = edit_page(&s, &current.value, version, &f, &problems);
        s.page(StatusCode::BAD_REQUEST, m.edit_profile, &path, form)
    };
    if !problems.is_empty() {
        return refused(problems, version.unwrap_or(current.version));
    }
    let Some(version) = version else {
        return refused(vec![m.form_expired.to_owned()], current.version);
    };
    let pre = Precondition::Versions(vec![version]);
    match faculty::update(&state.db, s.caller(), id.clone(), pre, patch).await {
        Ok(_) => see_other(&s.link(&format!("/faculty/{id}"), &[])),
        Err(e) if matches!(e.code.status(), 400 | 422) => {
            let labels = [
                ("title", m.academic_title),
                ("department", m.facet_department),
                ("keywords", m.field_keywords),
                ("research_interests", m.research_interests),
                ("bio", m.bio),
                ("publications", m.field_publications),
                ("availability", m.availability),
                ("visibility", m.visibility),
            ];
            refused(problem_lines(s.lang, &e, &labels), version)
        }
        // Shown again with what was sent and the version read just now: saving once more
        // replaces the other change, knowingly.
        Err(e) if e.code.status() == 412 => {
            refused(vec![m.changed_meanwhile.to_owned()], current.version)
        }
        Err(e) => s.failed(&e),
    }
}
