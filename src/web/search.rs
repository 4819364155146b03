//! The start page and search: one box for professors, company needs and research centres,
//! with the API's facets as filters, its highlights, and pages of 20. It finds what the
//! visitor may see, as `GET /api/v1/search` does for them: what is public, or more once
//! signed in.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{Markup, PreEscaped, html};
use serde_json::{Map, Value};

use super::session::Visitor;
use super::signed::problem_text;
use super::{Lang, Messages, language, link, page, pager, param, query_pairs, respond};
use crate::dto::search::{Operator, SearchHit, SearchParams, SearchResults};
use crate::http::AppState;

const PER_PAGE: usize = 20;
/// The last page offered: the API pages up to offset 10,000.
const MAX_PAGE: usize = 10_000 / PER_PAGE;

/// The search types, their parameter value and their name.
fn types(m: &Messages) -> [(&'static str, &'static str); 3] {
    [
        ("faculty", m.type_faculty),
        ("need", m.type_need),
        ("center", m.type_center),
    ]
}

/// Facets in the order shown, with the parameter that filters by each.
const FACETS: [(&str, &str); 6] = [
    ("university", "university_id"),
    ("company", "company_id"),
    ("department", "department"),
    ("keyword", "keyword"),
    ("collaboration_type", "collaboration_type"),
    ("status", "status"),
];

/// The filters the page passes on to the search, by parameter.
const FILTERS: [&str; 6] = [
    "university_id",
    "company_id",
    "department",
    "keyword",
    "collaboration_type",
    "status",
];

fn facet_name(m: &Messages, facet: &str) -> &'static str {
    match facet {
        "university" => m.facet_university,
        "company" => m.facet_company,
        "department" => m.facet_department,
        "keyword" => m.facet_keyword,
        "collaboration_type" => m.facet_collaboration_type,
        _ => m.facet_status,
    }
}

/// What the page was asked: words, type, filters, page.
struct Asked {
    q: String,
    kind: &'static str,
    filters: Vec<(&'static str, String)>,
    page: usize,
}

impl Asked {
    fn read(pairs: &[(String, String)]) -> Result<Self, String> {
        let kind = match param(pairs, "type").unwrap_or("faculty") {
            "faculty" => "faculty",
            "need" => "need",
            "center" => "center",
            other => return Err(format!("type: {other:?} is not faculty, need or center")),
        };
        let page = match param(pairs, "page") {
            None => 1,
            Some(p) => p
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=MAX_PAGE).contains(p))
                .ok_or_else(|| format!("page: must be a number from 1 to {MAX_PAGE}"))?,
        };
        Ok(Self {
            q: param(pairs, "q").unwrap_or_default().trim().to_owned(),
            kind,
            filters: FILTERS
                .iter()
                .filter_map(|f| param(pairs, f).map(|v| (*f, v.to_owned())))
                .collect(),
            page,
        })
    }

    /// The search as the API takes it.
    fn params(&self) -> Result<SearchParams, String> {
        let mut o = Map::new();
        o.insert("type".into(), self.kind.into());
        if !self.q.is_empty() {
            o.insert("q".into(), self.q.clone().into());
        }
        for (f, v) in &self.filters {
            o.insert((*f).into(), v.clone().into());
        }
        o.insert("limit".into(), (PER_PAGE as i64).into());
        o.insert(
            "offset".into(),
            (((self.page - 1) * PER_PAGE) as i64).into(),
        );
        serde_json::from_value(Value::Object(o)).map_err(|e| e.to_string())
    }

    /// This search's link with `change` applied (a parameter set, or removed when empty).
    fn with(&self, lang: Lang, change: &[(&str, &str)]) -> String {
        let page = self.page.to_string();
        let mut pairs: Vec<(&str, &str)> = vec![("q", &self.q), ("type", self.kind)];
        pairs.extend(self.filters.iter().map(|(f, v)| (*f, v.as_str())));
        pairs.push(("page", &page));
        pairs.push(("lang", lang.tag()));
        for (k, v) in change {
            pairs.retain(|(p, _)| p != k);
            pairs.push((k, v));
        }
        // A new filter or type starts again from the first page.
        if !change.iter().any(|(k, _)| *k == "page") {
            pairs.retain(|(p, _)| *p != "page");
        }
        link("/search", &pairs)
    }
}

/// `GET /`: what Liaison is, and the search box.
pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let pairs = query_pairs(&req);
    let lang = language(&req, &pairs);
    let visitor = Visitor::of(&req, &state).await;
    let m = lang.messages();
    let body = html! {
        h1 { "Liaison" }
        p.intro { (m.intro) }
        (form(lang, "", "faculty"))
    };
    let who = visitor.session.as_ref();
    respond(
        StatusCode::OK,
        who.is_some(),
        page(lang, who, m.tagline, "/", &pairs, body),
    )
}

/// `GET /search`: the search box, then the results with their filters and pages. A search
/// that cannot run is a 400 page saying why.
pub async fn results(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let pairs = query_pairs(&req);
    let lang = language(&req, &pairs);
    let m = lang.messages();
    let visitor = Visitor::of(&req, &state).await;
    let asked = Asked::read(&pairs);
    // What went wrong, with its status: the request's fault (400), or the service's.
    let outcome = match asked
        .as_ref()
        .map_err(String::clone)
        .and_then(Asked::params)
    {
        Ok(params) => {
            crate::service::search::search(&state.db, &state.search, visitor.caller(), params)
                .await
                .map_err(|e| {
                    let status = StatusCode::from_u16(e.code.status())
                        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                    if status.is_server_error() {
                        tracing::error!(error = %e.log_message(), "web search failed");
                    }
                    (status, problem_text(lang, &e, &[("q", m.search_label)]))
                })
        }
        Err(e) => Err((StatusCode::BAD_REQUEST, e)),
    };
    let (q, kind) = asked
        .as_ref()
        .map_or(("", "faculty"), |a| (a.q.as_str(), a.kind));
    let title = if q.is_empty() {
        m.search_heading.to_owned()
    } else {
        format!("{q} · {}", m.search_heading)
    };
    let (status, found) = match (&asked, outcome) {
        (Ok(asked), Ok(results)) => (
            StatusCode::OK,
            found(lang, asked, &results, visitor.session.is_none()),
        ),
        (_, Err((status, why))) => (
            status,
            html! { p.problem role="alert" { (m.bad_search) " " (why) } },
        ),
        (Err(why), Ok(_)) => (
            StatusCode::BAD_REQUEST,
            html! { p.problem role="alert" { (m.bad_search) " " (why) } },
        ),
    };
    let body = html! {
        h1.visually-hidden { (m.search_heading) }
        (form(lang, q, kind))
        (found)
    };
    let who = visitor.session.as_ref();
    respond(
        status,
        who.is_some(),
        page(lang, who, &title, "/search", &pairs, body),
    )
}

fn form(lang: Lang, q: &str, kind: &str) -> Markup {
    let m = lang.messages();
    html! {
        form.search role="search" action="/search" method="get" {
            input type="hidden" name="lang" value=(lang.tag());
            label for="q" { (m.search_label) }
            div.row {
                input #q type="search" name="q" value=(q) placeholder=(m.search_placeholder);
                button type="submit" { (m.search_button) }
            }
            fieldset.types {
                legend { (m.search_what) }
                @for (value, name) in types(m) {
                    label {
                        input type="radio" name="type" value=(value) checked[value == kind];
                        " " (name)
                    }
                }
            }
        }
    }
}

/// The results: how many, the hits, the filters, the pages.
fn found(lang: Lang, asked: &Asked, r: &SearchResults, anonymous: bool) -> Markup {
    let m = lang.messages();
    // Organization names come with the facets (their labels).
    let mut names: HashMap<&str, &str> = HashMap::new();
    for values in r.facets.values() {
        for v in values {
            if let Some(l) = &v.label {
                names.insert(&v.value, l);
            }
        }
    }
    let pages = r.total.div_ceil(PER_PAGE).clamp(1, MAX_PAGE);
    html! {
        div.results {
            section.hits aria-labelledby="count" {
                h2 #count { (Messages::count(if r.total == 1 { m.one_result } else { m.results }, r.total)) }
                @if anonymous {
                    p.note { (m.public_only) }
                }
                @if r.operator == Operator::Or && !asked.q.is_empty() {
                    p.note { (m.results_any_word) }
                }
                @if r.items.is_empty() {
                    p { (m.no_results) }
                } @else {
                    ol.hits start=(r.offset + 1) {
                        @for hit in &r.items {
                            li { (hit_view(m, hit, &names)) }
                        }
                    }
                }
                (pager(m, asked.page, pages, |p| asked.with(lang, &[("page", &p.to_string())])))
            }
            @if !r.facets.is_empty() || !asked.filters.is_empty() {
                aside.filters aria-labelledby="filters" {
                    h2 #filters { (m.filters) }
                    @if !asked.filters.is_empty() {
                        @let cleared: Vec<(&str, &str)> = asked.filters.iter().map(|(f, _)| (*f, "")).collect();
                        p { a href=(asked.with(lang, &cleared)) { (m.clear_filters) } }
                    }
                    @for (facet, param) in FACETS {
                        // The API filters centres by no status: that facet is counts only.
                        @let linked = !(asked.kind == "center" && facet == "status");
                        @if let Some(values) = r.facets.get(facet).filter(|v| !v.is_empty()) {
                            h3 { (facet_name(m, facet)) }
                            ul {
                                @for v in values {
                                    @let on = asked.filters.iter().any(|(f, x)| *f == param && *x == v.value);
                                    li {
                                        @if !linked {
                                            (v.label.as_deref().unwrap_or(m.value(&v.value)))
                                        } @else if on {
                                            a href=(asked.with(lang, &[(param, "")])) aria-current="true" {
                                                (v.label.as_deref().unwrap_or(m.value(&v.value)))
                                            }
                                        } @else {
                                            a href=(asked.with(lang, &[(param, &v.value)])) {
                                                (v.label.as_deref().unwrap_or(m.value(&v.value)))
                                            }
                                        }
                                        " " span.count { "(" (v.count) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn hit_view(m: &Messages, hit: &SearchHit, names: &HashMap<&str, &str>) -> Markup {
    let status = hit
        .status
        .as_ref()
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_owned));
    html! {
        article {
            h3 {
                @match hit.highlights.get("title") {
                    // Highlights are escaped text with the matching words in <b>.
                    Some(t) => (PreEscaped(t)),
                    None => (hit.title),
                }
            }
            p.meta {
                @if let Some(org) = names.get(hit.organization_id.as_str()) {
                    (org)
                }
                @if let Some(s) = &status {
                    " · " (m.value(s.as_str()))
                }
            }
            @for (field, name) in [("keywords", m.field_keywords), ("body", m.field_body)] {
                @if let Some(text) = hit.highlights.get(field) {
                    p.fragment {
                        span.field { (name) ": " }
                        // Keywords are kept one a line; a page shows them as a list.
                        (PreEscaped(text.trim().replace('\n', ", ")))
                    }
                }
            }
        }
    }
}
