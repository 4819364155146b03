//! The web app for people: server-rendered HTML on the same service layer as the API (it
//! never reads the database or the index itself), in English, Korean and Traditional
//! Chinese. Pages are written with `maud`, whose templates are Rust checked at compile time
//! and escape every value they insert. No script, nothing fetched from elsewhere.
//!
//! What exists: the start page, search (over what the visitor may see), and signing in and
//! out. The journeys of companies, professors and liaison offices are to come (issue 25).

mod i18n;
mod office;
mod search;
mod session;

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

/// Whether a path is one of the web app's (its pages get their own content security policy).
pub fn is_web_path(path: &str) -> bool {
    matches!(path, "/" | "/search" | "/login" | "/logout")
        || path.starts_with("/static/")
        || path == "/office"
        || path.starts_with("/office/")
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(search::home))
        .route("/search", web::get().to(search::results))
        .service(
            web::resource("/login")
                .app_data(web::PayloadConfig::new(FORM_LIMIT))
                .route(web::get().to(session::form))
                .route(web::post().to(session::sign_in)),
        )
        .service(
            web::resource("/logout")
                .app_data(web::PayloadConfig::new(FORM_LIMIT))
                .route(web::post().to(session::sign_out)),
        )
        .route("/office", web::get().to(office::dashboard))
        .route("/office/exports/{file}", web::get().to(office::export))
        .route(STYLESHEET_PATH, web::get().to(stylesheet));
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
    if q.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{q}")
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
                            li { a href="/docs/" { (m.api_docs) } }
                            @if let Some(s) = who {
                                @if !office::offices(&s.caller).is_empty() {
                                    @let href = link("/office", &[("lang", lang.tag())]);
                                    li { a href=(href) aria-current=[(path == "/office").then_some("true")] { (m.office_nav) } }
                                }
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
