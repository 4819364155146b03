//! Signing in and out of the web app. A session is a random token in an HttpOnly,
//! SameSite=Lax cookie, kept as a digest in the database by `service::accounts`. Every form
//! that changes something carries a form token: the session's own, or before sign-in a random
//! one also held in an HttpOnly, SameSite=Strict cookie (so a page elsewhere can sign nobody
//! in as someone else).
//!
//! Cookies are `Secure` and named `__Host-…` (which forbids a sibling host or another path
//! from planting one) unless the page was asked for at `localhost` or a loopback address,
//! where a development run is served over plain http. So a deployment reached under its own
//! name needs https for signing in. A cookie sent twice under one name counts as none.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::{Lang, language, link, page, param, query_pairs, respond};
use crate::error::{AppError, ErrorCode};
use crate::http::AppState;
use crate::service::accounts::{self, Session};
use crate::service::policy::Caller;

/// Cookie names: (over https, on a loopback development run).
const SESSION_COOKIE: (&str, &str) = ("__Host-liaison_session", "liaison_session");
const FORM_COOKIE: (&str, &str) = ("__Host-liaison_form", "liaison_form");
/// A week, as the session itself.
const SESSION_MAX_AGE: i64 = 7 * 24 * 3600;
const FORM_MAX_AGE: i64 = 3600;

/// Who is asking: a signed-in session, or nobody.
pub struct Visitor {
    pub session: Option<Session>,
}

impl Visitor {
    pub async fn of(req: &HttpRequest, state: &AppState) -> Visitor {
        let Some(token) = cookie(req, SESSION_COOKIE) else {
            return Visitor { session: None };
        };
        let session = match accounts::resume_session(&state.db, token).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e.log_message(), "resuming a web session failed");
                None
            }
        };
        Visitor { session }
    }

    pub fn caller(&self) -> Option<&Caller> {
        self.session.as_ref().map(|s| &s.caller)
    }
}

/// Whether the page was asked for under a name other than a loopback one (see above).
fn secure(req: &HttpRequest) -> bool {
    let info = req.connection_info();
    let host = info.host();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    !(name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()))
}

fn name_of(req: &HttpRequest, names: (&'static str, &'static str)) -> &'static str {
    if secure(req) { names.0 } else { names.1 }
}

/// A cookie's value, if sent once and looking like one of ours (a base64url token).
fn cookie(req: &HttpRequest, names: (&'static str, &'static str)) -> Option<String> {
    let name = name_of(req, names);
    let mut found = req
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned());
    let value = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(value).filter(|v| {
        (16..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

fn set_cookie(
    res: &mut HttpResponse,
    req: &HttpRequest,
    names: (&'static str, &'static str),
    value: &str,
    max_age: i64,
    same_site: &str,
) {
    let name = name_of(req, names);
    let secure = if secure(req) { "; Secure" } else { "" };
    let v = format!(
        "{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}"
    );
    if let Ok(v) = HeaderValue::from_str(&v) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// Two strings compared in time that does not depend on where they differ.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A page saying the service cannot answer now (the database or the index failed), with
/// the failure's own status.
pub(super) fn unavailable(lang: Lang, e: &AppError) -> HttpResponse {
    tracing::error!(error = %e.log_message(), "a web page failed");
    let status = StatusCode::from_u16(e.code.status())
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let m = lang.messages();
    let body = html! {
        p.problem role="alert" { (m.unavailable) }
        p { a href=(link("/", &[("lang", lang.tag())])) { (m.go_home) } }
    };
    respond(
        status,
        true,
        page(lang, None, m.unavailable, "/", &[], body),
    )
}

/// A form's fields (at most the size actix gives a body).
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub(super) fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

fn sign_in_page(
    lang: Lang,
    pairs: &[(String, String)],
    form_token: &str,
    email: &str,
    problem: Option<&str>,
) -> maud::Markup {
    let m = lang.messages();
    let body = html! {
        h1 { (m.sign_in) }
        p { (m.sign_in_intro) }
        @if let Some(p) = problem {
            p.problem role="alert" { (p) }
        }
        form.sign-in action="/login" method="post" {
            input type="hidden" name="csrf" value=(form_token);
            input type="hidden" name="lang" value=(lang.tag());
            p {
                label for="email" { (m.email) }
                input #email type="email" name="email" value=(email) autocomplete="username" required;
            }
            p {
                label for="password" { (m.password) }
                input #password type="password" name="password" autocomplete="current-password" required;
            }
            button type="submit" { (m.sign_in) }
        }
    };
    page(lang, None, m.sign_in, "/login", pairs, body)
}

/// `GET /login`: the form, with a form token (the browser's, when it has one).
pub async fn form(req: HttpRequest) -> HttpResponse {
    let pairs = query_pairs(&req);
    let lang = language(&req, &pairs);
    let token = match cookie(&req, FORM_COOKIE) {
        Some(t) => t,
        None => match crate::service::auth::random_token(32) {
            Ok(t) => t,
            Err(e) => return unavailable(lang, &e),
        },
    };
    let mut res = respond(
        StatusCode::OK,
        true,
        sign_in_page(lang, &pairs, &token, "", None),
    );
    set_cookie(&mut res, &req, FORM_COOKIE, &token, FORM_MAX_AGE, "Strict");
    res
}

/// `POST /login`: signs in (ending the browser's previous session) and goes to the start
/// page; a wrong password, a throttled account or an expired form is the form again, saying
/// so.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let f = fields(&body);
    let lang = language(&req, &f);
    let m = lang.messages();
    let pairs = vec![("lang".to_owned(), lang.tag().to_owned())];
    let email = param(&f, "email").unwrap_or_default().to_owned();
    let sent = param(&f, "csrf").unwrap_or_default();
    let Some(expected) = cookie(&req, FORM_COOKIE).filter(|e| same(e, sent)) else {
        // A new form, with a new token, to try again with.
        return match crate::service::auth::random_token(32) {
            Ok(t) => {
                let mut res = respond(
                    StatusCode::FORBIDDEN,
                    true,
                    sign_in_page(lang, &pairs, &t, &email, Some(m.form_expired)),
                );
                set_cookie(&mut res, &req, FORM_COOKIE, &t, FORM_MAX_AGE, "Strict");
                res
            }
            Err(e) => unavailable(lang, &e),
        };
    };
    let client = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let password = param(&f, "password").unwrap_or_default().to_owned();
    let replacing = cookie(&req, SESSION_COOKIE);
    let started = accounts::start_session(
        &state.db,
        state.auth.clone(),
        email.clone(),
        password,
        client,
        replacing,
    )
    .await;
    let e = match started {
        Ok(s) => {
            let mut res = see_other(&link("/", &[("lang", lang.tag())]));
            let max_age = SESSION_MAX_AGE;
            set_cookie(&mut res, &req, SESSION_COOKIE, &s.token, max_age, "Lax");
            set_cookie(&mut res, &req, FORM_COOKIE, "", 0, "Strict");
            return res;
        }
        Err(e) => e,
    };
    let (status, why) = match e.code {
        ErrorCode::InvalidCredentials => (StatusCode::UNAUTHORIZED, m.wrong_credentials),
        ErrorCode::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, m.too_many_attempts),
        _ => return unavailable(lang, &e),
    };
    let page = sign_in_page(lang, &pairs, &expected, &email, Some(why));
    let mut res = respond(status, true, page);
    for (name, value) in e.headers {
        if let (Ok(n), Ok(v)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            res.headers_mut().insert(n, v);
        }
    }
    res
}

/// `POST /logout`: ends the session (its form token required while it is alive) and goes to
/// the start page.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let f = fields(&body);
    let lang = language(&req, &f);
    let home = link("/", &[("lang", lang.tag())]);
    let Some(token) = cookie(&req, SESSION_COOKIE) else {
        // Nobody is signed in: nothing to end.
        return see_other(&home);
    };
    let visitor = Visitor::of(&req, &state).await;
    // A session that is no longer alive is ended without its form token: it can do nothing.
    if let Some(session) = &visitor.session
        && !same(&session.csrf, param(&f, "csrf").unwrap_or_default())
    {
        let m = lang.messages();
        let body = html! {
            p.problem role="alert" { (m.form_expired) }
            p { a href=(home) { (m.go_home) } }
        };
        return respond(
            StatusCode::FORBIDDEN,
            true,
            page(lang, Some(session), m.sign_out, "/", &[], body),
        );
    }
    if let Err(e) = accounts::end_session(&state.db, token).await {
        return unavailable(lang, &e);
    }
    let mut res = see_other(&home);
    set_cookie(&mut res, &req, SESSION_COOKIE, "", 0, "Lax");
    res
}
