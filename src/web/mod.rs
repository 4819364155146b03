//! The web app for people: server-rendered HTML on the same service layer as the API (it
//! never reads the database or the index itself), in English, Korean and Traditional
//! Chinese. Pages are written with `maud`, whose templates are Rust checked at compile time
//! and escape every value they insert. No script, nothing fetched from elsewhere.
//!
//! What exists: the start page, search (over what the visitor may see), signing in and out,
//! a company's needs with their ranked professors (`needs`), a professor's profile with the
//! needs that fit and the invitations to answer (`faculty`), and the engagements both follow
//! (`engagements`).

mod engagements;
mod explain;
mod faculty;
mod fields;
mod i18n;
mod needs;
mod office;
mod search;
mod session;
mod signed;

use actix_web::http::Method;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::{DOCTYPE, Markup, html};

pub use i18n::{Lang, Messages};

use crate::service::accounts::Session;

/// The stylesheet, served from the binary.
const STYLESHEET: &str = include_str!("liaison.css");
const STYLESHEET_PATH: &str = "/static/liaison.css";
/// The most a form of these pages posts (an email and a password, with room to spare).
const FORM_LIMIT: usize = 16 * 1024;
/// The most a form that edits a record posts (a profile's publications are the largest).
const EDIT_LIMIT: usize = 512 * 1024;

/// Whether a path is one of the web app's (its pages get their own content security policy).
pub fn is_web_path(path: &str) -> bool {
    matches!(path, "/" | "/search" | "/login" | "/logout" | "/profile")
        || ["/static", "/needs", "/engagements", "/faculty", "/office"]
            .iter()
            .any(|p| {
                path.strip_prefix(p)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
            })
}

/// Whether a request is answered with the web app's pages, its errors included: one of its
/// paths, or any other path outside the API and its docs asked for by a browser (one that
/// accepts HTML), so that a mistyped address is a page, not JSON.
pub fn answers_with_page(path: &str, accept: Option<&str>) -> bool {
    is_web_path(path)
        || (!path.starts_with("/api/")
            && !path.starts_with("/docs")
            && accept.is_some_and(|a| a.contains("text/html")))
}

/// The page for an address that has none (404), in the visitor's language.
pub async fn not_found(req: &HttpRequest, state: &crate::http::AppState) -> HttpResponse {
    error_page(req, state, actix_web::http::StatusCode::NOT_FOUND, |m| {
        m.not_found
    })
    .await
}

/// The page for an address asked for with a method it does not take (405), with `Allow`.
pub async fn wrong_method(
    req: &HttpRequest,
    state: &crate::http::AppState,
    allowed: &[String],
) -> HttpResponse {
    let status = actix_web::http::StatusCode::METHOD_NOT_ALLOWED;
    let mut res = error_page(req, state, status, |m| m.wrong_method).await;
    if let Ok(v) = header::HeaderValue::from_str(&allowed.join(", ")) {
        res.headers_mut().insert(header::ALLOW, v);
    }
    res
}

/// A page that says only what went wrong, with the way home, in the visitor's language.
async fn error_page(
    req: &HttpRequest,
    state: &crate::http::AppState,
    status: actix_web::http::StatusCode,
    what: impl Fn(&Messages) -> &'static str,
) -> HttpResponse {
    let pairs = query_pairs(req);
    let lang = language(req, &pairs);
    let m = lang.messages();
    let visitor = session::Visitor::of(req, state).await;
    let who = visitor.session.as_ref();
    let body = html! {
        h1 { (what(m)) }
        p { a href=(link("/", &[("lang", lang.tag())])) { (m.go_home) } }
    };
    respond(
        status,
        who.is_some(),
        page(lang, who, what(m), "/", &[], body),
    )
}

/// A handler for one method of an address.
type Handler = (Method, actix_web::Route);

/// `handler` for `method` requests.
fn on<F, Args>(method: Method, handler: F) -> Handler
where
    F: actix_web::Handler<Args>,
    Args: actix_web::FromRequest + 'static,
    F::Output: actix_web::Responder + 'static,
{
    (method.clone(), web::route().method(method).to(handler))
}

/// The web app's addresses, in the order the router tries them (`/needs/new` before
/// `/needs/{id}`), each with the most a form may post there and its handlers: the one list
/// the router registers and `page_methods` reads.
fn pages() -> Vec<(&'static str, Option<usize>, Vec<Handler>)> {
    let (sign_in, edit) = (Some(FORM_LIMIT), Some(EDIT_LIMIT));
    vec![
        ("/", None, vec![on(Method::GET, search::home)]),
        ("/search", None, vec![on(Method::GET, search::results)]),
        (
            "/login",
            sign_in,
            vec![
                on(Method::GET, session::form),
                on(Method::POST, session::sign_in),
            ],
        ),
        (
            "/logout",
            sign_in,
            vec![on(Method::POST, session::sign_out)],
        ),
        (STYLESHEET_PATH, None, vec![on(Method::GET, stylesheet)]),
        (
            "/needs",
            edit,
            vec![
                on(Method::GET, needs::list),
                on(Method::POST, needs::create),
            ],
        ),
        ("/needs/new", None, vec![on(Method::GET, needs::new_form)]),
        ("/needs/{id}", None, vec![on(Method::GET, needs::show)]),
        (
            "/needs/{id}/engagements",
            edit,
            vec![on(Method::POST, needs::engage)],
        ),
        (
            "/needs/{id}/status",
            edit,
            vec![on(Method::POST, needs::change_status)],
        ),
        ("/needs/{id}/why", None, vec![on(Method::GET, needs::why)]),
        (
            "/engagements",
            None,
            vec![on(Method::GET, engagements::list)],
        ),
        (
            "/engagements/{id}",
            edit,
            vec![
                on(Method::GET, engagements::show),
                on(Method::POST, engagements::transition),
            ],
        ),
        ("/profile", None, vec![on(Method::GET, faculty::mine)]),
        ("/faculty/{id}", None, vec![on(Method::GET, faculty::show)]),
        (
            "/faculty/{id}/edit",
            edit,
            vec![
                on(Method::GET, faculty::edit_form),
                on(Method::POST, faculty::update),
            ],
        ),
        ("/office", None, vec![on(Method::GET, office::dashboard)]),
        (
            "/office/exports/{file}",
            None,
            vec![on(Method::GET, office::export)],
        ),
    ]
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, limit, handlers) in pages() {
        // A method the address does not take goes to the app's fallback, which answers 405
        // with `Allow` (as a page here), not actix's bare 405.
        let mut resource =
            web::resource(path).default_service(web::to(crate::http::problem::fallback));
        if let Some(limit) = limit {
            resource = resource.app_data(web::PayloadConfig::new(limit));
        }
        for (_, route) in handlers {
            resource = resource.route(route);
        }
        cfg.service(resource);
    }
}

/// Each web address (as a route template) with the methods it takes, so that a wrong
/// method is a 405 naming them rather than a 404.
pub fn page_methods() -> Vec<(&'static str, Vec<String>)> {
    pages()
        .into_iter()
        .map(|(path, _, handlers)| {
            let methods = handlers.iter().map(|(m, _)| m.to_string()).collect();
            (path, methods)
        })
        .collect()
}

/// The page number a list is on (`page`, from 1; anything else is the first), at most
/// `last`.
fn page_number(pairs: &[(String, String)], last: usize) -> usize {
    param(pairs, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .clamp(1, last.max(1))
}

/// The way through a list's pages: previous, "page n / pages", next (nothing for one page).
/// `href` gives a page's address.
fn pager(m: &Messages, page: usize, pages: usize, href: impl Fn(usize) -> String) -> Markup {
    html! {
        @if pages > 1 {
            nav.pages aria-label=(m.pages) {
                @if page > 1 {
                    a rel="prev" href=(href(page - 1)) { (m.previous) }
                }
                span aria-current="page" { (Messages::count(m.page, page)) " / " (pages) }
                @if page < pages {
                    a rel="next" href=(href(page + 1)) { (m.next) }
                }
            }
        }
    }
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(STYLESHEET)
}

/// A request's query parameters, in order (repeated and unknown ones kept; nothing here is
/// refused for being unexpected).
fn query_pairs(req: &HttpRequest) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// The request's language: `lang`, else `Accept-Language`, else English.
fn language(req: &HttpRequest, pairs: &[(String, String)]) -> Lang {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::choose(param(pairs, "lang"), accept)
}

/// `path` with these parameters (empty values left out).
fn link(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        if !v.is_empty() {
            s.append_pair(k, v);
        }
    }
    let q = s.finish();
    match (q.is_empty(), path.contains('?')) {
        (true, _) => path.to_owned(),
        (false, false) => format!("{path}?{q}"),
        (false, true) => format!("{path}&{q}"),
    }
}

/// The page around `body`: language, skip link, header with who is signed in (or the way to
/// sign in) and the language switch (which keeps the page's other parameters), main.
fn page(
    lang: Lang,
    who: Option<&Session>,
    title: &str,
    path: &str,
    pairs: &[(String, String)],
    body: Markup,
) -> Markup {
    let m = lang.messages();
    let switch: Vec<(Lang, String)> = Lang::ALL
        .into_iter()
        .map(|l| {
            let mut with: Vec<(&str, &str)> = pairs
                .iter()
                .filter(|(k, _)| k != "lang")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            with.push(("lang", l.tag()));
            (l, link(path, &with))
        })
        .collect();
    html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Liaison" }
                link rel="stylesheet" href=(STYLESHEET_PATH);
            }
            body {
                a.skip href="#main" { (m.skip_to_content) }
                header {
                    a.brand href=(link("/", &[("lang", lang.tag())])) { "Liaison" }
                    span.tagline { (m.tagline) }
                    nav aria-label=(m.main_navigation) {
                        ul {
                            @if let Some(s) = who {
                                @for (href, name) in nav(m, &s.caller) {
                                    li { a href=(link(href, &[("lang", lang.tag())])) aria-current=[(href == path).then_some("page")] { (name) } }
                                }
                            }
                            li { a href="/docs/" { (m.api_docs) } }
                            @if let Some(s) = who {
                                li.who { (Messages::count(m.signed_in_as, &s.display_name)) }
                                li {
                                    form.sign-out action="/logout" method="post" {
                                        input type="hidden" name="csrf" value=(s.csrf);
                                        input type="hidden" name="lang" value=(lang.tag());
                                        button type="submit" { (m.sign_out) }
                                    }
                                }
                            } @else {
                                li { a href=(link("/login", &[("lang", lang.tag())])) { (m.sign_in) } }
                            }
                        }
                        ul.languages aria-label=(m.language) {
                            @for (l, href) in &switch {
                                li {
                                    @if *l == lang {
                                        a href=(href) lang=(l.tag()) hreflang=(l.tag()) aria-current="true" { (l.name()) }
                                    } @else {
                                        a href=(href) lang=(l.tag()) hreflang=(l.tag()) { (l.name()) }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}

/// The signed-in visitor's pages, by what their memberships let them do.
fn nav(m: &Messages, c: &crate::service::policy::Caller) -> Vec<(&'static str, &'static str)> {
    use crate::domain::stored::{OrganizationKind, Role};
    let has = |kind: OrganizationKind, roles: &[Role]| {
        c.memberships
            .iter()
            .any(|x| x.organization_kind == kind && roles.contains(&x.role))
    };
    let mut items = Vec::new();
    if has(OrganizationKind::Company, &[Role::Admin, Role::Staff]) {
        items.push(("/needs", m.your_needs));
    }
    if has(OrganizationKind::University, &[Role::Faculty]) {
        items.push(("/profile", m.your_profile));
    }
    if !office::offices(c).is_empty() {
        items.push(("/office", m.office_nav));
    }
    items.push(("/engagements", m.engagements));
    items
}

/// Digits grouped by thousands: `1234567` → `1,234,567`.
fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// An amount of minor units written in the currency's major unit: `123456` USD →
/// `1,234.56`, `123456` KRW → `123,456`.
fn amount(minor: i128, currency: &str) -> String {
    let exp = crate::service::reports::minor_exponent(currency);
    let unit = 10u128.pow(exp);
    let abs = minor.unsigned_abs();
    let sign = if minor < 0 { "-" } else { "" };
    let whole = grouped(abs / unit);
    if exp == 0 {
        format!("{sign}{whole}")
    } else {
        let frac = abs % unit;
        format!("{sign}{whole}.{frac:0width$}", width = exp as usize)
    }
}

/// An amount with its currency's code: `USD 1,234.56`.
fn money(minor: i128, currency: &str) -> String {
    format!("{currency} {}", amount(minor, currency))
}

/// An amount typed in major units (`1,200,000` or `1200.50`) in minor units of `currency`.
fn parse_money(text: &str, currency: &str) -> Result<i64, &'static str> {
    let exp = crate::service::reports::minor_exponent(currency);
    let t: String = text
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '_'))
        .collect();
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    if whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || frac.len() > exp as usize
    {
        return Err("not an amount in this currency");
    }
    let frac = format!("{frac:0<width$}", width = exp as usize);
    format!("{whole}{frac}")
        .parse::<i64>()
        .map_err(|_| "too large")
}

/// A table's head: one column header per label.
fn head(labels: &[&str]) -> Markup {
    html! {
        thead { tr { @for l in labels { th scope="col" { (l) } } } }
    }
}

/// A list typed in one box, split at commas (ASCII, full-width and ideographic) and
/// semicolons, blanks dropped.
fn split_list(text: &str) -> Vec<String> {
    text.split([',', '，', '、', ';', '；'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A page. `private`: it is for this visitor alone (signed in, or holding a form token),
/// so nothing may keep it.
fn respond(status: actix_web::http::StatusCode, private: bool, markup: Markup) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    res.insert_header(ContentType::html())
        .insert_header((header::VARY, "Accept-Language, Cookie"));
    if private {
        res.insert_header((header::CACHE_CONTROL, "no-store"));
    }
    res.body(markup.into_string())
}
