//! Signing in and out of the web app. A session is a random token in an HttpOnly,
//! SameSite=Lax cookie (Secure when the deployment is reached over https), kept as a digest
//! in the database by `service::accounts`. Every form that changes something carries a form
//! token: the session's own, or before sign-in a random one also held in an HttpOnly,
//! SameSite=Strict cookie (so a page elsewhere can sign nobody in as someone else).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use maud::html;

use super::{Lang, language, link, page, param, query_pairs, respond};
use crate::error::ErrorCode;
use crate::http::AppState;
use crate::service::accounts::{self, Session};
use crate::service::policy::Caller;

const SESSION_COOKIE: &str = "liaison_session";
const FORM_COOKIE: &str = "liaison_form";
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

/// A cookie's value, if it looks like one of ours (a base64url token).
fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.headers()
        .get_all(header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            (16..=128).contains(&v.len())
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn set_cookie(
    res: &mut HttpResponse,
    state: &AppState,
    name: &str,
    value: &str,
    max_age: i64,
    same_site: &str,
) {
    let secure = if state.settings.public_base_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
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

/// A form's fields (at most the size actix gives a body).
fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn see_other(to: &str) -> HttpResponse {
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

/// `GET /login`: the form, with a fresh form token (kept when the browser has one).
pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let pairs = query_pairs(&req);
    let lang = language(&req, &pairs);
    let token = match cookie(&req, FORM_COOKIE) {
        Some(t) => t,
        None => match crate::service::auth::random_token(32) {
            Ok(t) => t,
            Err(e) => {
                tracing::error!(error = %e.log_message(), "no randomness for a form token");
                return HttpResponse::InternalServerError().finish();
            }
        },
    };
    let mut res = respond(
        StatusCode::OK,
        true,
        sign_in_page(lang, &pairs, &token, "", None),
    );
    set_cookie(
        &mut res,
        &state,
        FORM_COOKIE,
        &token,
        FORM_MAX_AGE,
        "Strict",
    );
    res
}

/// `POST /login`: signs in and goes to the start page; a wrong password, a throttled
/// account or an expired form is the form again, saying so.
pub async fn sign_in(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let f = fields(&body);
    let lang = Lang::choose(
        param(&f, "lang"),
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let m = lang.messages();
    let pairs = vec![("lang".to_owned(), lang.tag().to_owned())];
    let email = param(&f, "email").unwrap_or_default().to_owned();
    let expected = cookie(&req, FORM_COOKIE);
    let sent = param(&f, "csrf").unwrap_or_default();
    let Some(expected) = expected.filter(|e| same(e, sent)) else {
        // A new form, with a new token, to try again with.
        return match crate::service::auth::random_token(32) {
            Ok(t) => {
                let mut res = respond(
                    StatusCode::FORBIDDEN,
                    true,
                    sign_in_page(lang, &pairs, &t, &email, Some(m.form_expired)),
                );
                set_cookie(&mut res, &state, FORM_COOKIE, &t, FORM_MAX_AGE, "Strict");
                res
            }
            Err(_) => HttpResponse::InternalServerError().finish(),
        };
    };
    let client = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string());
    let password = param(&f, "password").unwrap_or_default().to_owned();
    match accounts::start_session(
        &state.db,
        state.auth.clone(),
        email.clone(),
        password,
        client,
    )
    .await
    {
        Ok(s) => {
            let mut res = see_other(&link("/", &[("lang", lang.tag())]));
            set_cookie(
                &mut res,
                &state,
                SESSION_COOKIE,
                &s.token,
                SESSION_MAX_AGE,
                "Lax",
            );
            set_cookie(&mut res, &state, FORM_COOKIE, "", 0, "Strict");
            res
        }
        Err(e) => {
            let (status, why) = match e.code {
                ErrorCode::InvalidCredentials => (StatusCode::UNAUTHORIZED, m.wrong_credentials),
                ErrorCode::TooManyRequests => (StatusCode::TOO_MANY_REQUESTS, m.too_many_attempts),
                _ => {
                    tracing::error!(error = %e.log_message(), "web sign-in failed");
                    return HttpResponse::InternalServerError().finish();
                }
            };
            let mut res = respond(
                status,
                true,
                sign_in_page(lang, &pairs, &expected, &email, Some(why)),
            );
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
    }
}

/// `POST /logout`: ends the session (its form token required) and goes to the start page.
pub async fn sign_out(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> HttpResponse {
    let f = fields(&body);
    let lang = Lang::choose(param(&f, "lang"), None);
    let visitor = Visitor::of(&req, &state).await;
    let home = link("/", &[("lang", lang.tag())]);
    let (Some(session), Some(token)) = (&visitor.session, cookie(&req, SESSION_COOKIE)) else {
        // Nobody is signed in: nothing to end.
        return see_other(&home);
    };
    if !same(&session.csrf, param(&f, "csrf").unwrap_or_default()) {
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
        tracing::error!(error = %e.log_message(), "web sign-out failed");
        return HttpResponse::InternalServerError().finish();
    }
    let mut res = see_other(&home);
    set_cookie(&mut res, &state, SESSION_COOKIE, "", 0, "Lax");
    res
}
