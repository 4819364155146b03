//! What the pages of a signed-in visitor share: requiring a session (or sending the visitor
//! to sign in, and back), checking the form token of every form that changes something, and
//! turning the service's errors into pages in the visitor's language.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::InternalError;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use maud::{Markup, html};

use super::i18n::field_code_gist;
use super::session::Visitor;
use super::{Lang, language, link, page, param, query_pairs, respond};
use crate::error::{AppError, FieldCode, FieldError};
use crate::http::AppState;
use crate::service::accounts::Session;
use crate::service::policy::Caller;

/// A signed-in visitor on one page.
pub struct Signed {
    pub lang: Lang,
    /// The page's query parameters (the language switch keeps them).
    pub pairs: Vec<(String, String)>,
    pub session: Session,
}

impl Signed {
    /// For a page: the signed-in visitor, or a redirect to sign in that comes back here.
    pub async fn get(req: &HttpRequest, state: &AppState) -> Result<Signed, HttpResponse> {
        let pairs = query_pairs(req);
        let lang = language(req, &pairs);
        match Visitor::of(req, state).await.session {
            Some(session) => Ok(Signed {
                lang,
                pairs,
                session,
            }),
            None => Err(to_sign_in(req, lang)),
        }
    }

    /// For a form: its fields, from a signed-in visitor whose form token is the session's.
    /// Without a session the visitor is sent to sign in; a wrong token is a 403 page.
    pub async fn post(
        req: &HttpRequest,
        state: &AppState,
        body: &[u8],
    ) -> Result<(Signed, Vec<(String, String)>), HttpResponse> {
        let f = fields(body);
        let lang = language(req, &f);
        let Some(session) = Visitor::of(req, state).await.session else {
            return Err(to_sign_in(req, lang));
        };
        let signed = Signed {
            lang,
            pairs: vec![("lang".to_owned(), lang.tag().to_owned())],
            session,
        };
        if !same(&signed.session.csrf, param(&f, "csrf").unwrap_or_default()) {
            let m = lang.messages();
            let body = html! {
                p.problem role="alert" { (m.form_expired) }
                p { a href=(signed.link("/", &[])) { (m.go_home) } }
            };
            return Err(signed.page(StatusCode::FORBIDDEN, m.form_expired, "/", body));
        }
        Ok((signed, f))
    }

    pub fn caller(&self) -> Option<&Caller> {
        Some(&self.session.caller)
    }

    /// `path` with these parameters and the page's language.
    pub fn link(&self, path: &str, pairs: &[(&str, &str)]) -> String {
        let mut with = pairs.to_vec();
        with.push(("lang", self.lang.tag()));
        link(path, &with)
    }

    /// A page for this visitor alone (never stored).
    pub fn page(&self, status: StatusCode, title: &str, path: &str, body: Markup) -> HttpResponse {
        respond(
            status,
            true,
            page(
                self.lang,
                Some(&self.session),
                title,
                path,
                &self.pairs,
                body,
            ),
        )
    }

    /// The hidden fields every form of these pages carries: its token and the language.
    pub fn form_fields(&self) -> Markup {
        html! {
            input type="hidden" name="csrf" value=(self.session.csrf);
            input type="hidden" name="lang" value=(self.lang.tag());
        }
    }

    /// What the service refused, as a page with the error's status and message; a failure
    /// of the service itself is the page saying it cannot answer now.
    pub fn failed(&self, e: &AppError) -> HttpResponse {
        let status = StatusCode::from_u16(e.code.status()).unwrap_or(StatusCode::BAD_REQUEST);
        if status.is_server_error() {
            return unavailable(self.lang, e);
        }
        let m = self.lang.messages();
        let title = match status {
            StatusCode::NOT_FOUND => m.not_found,
            StatusCode::FORBIDDEN => m.not_allowed,
            _ => m.refused,
        };
        let body = html! {
            h1 { (title) }
            p.problem role="alert" { (problem_text(self.lang, e, &[])) }
            p { a href=(self.link("/", &[])) { (m.go_home) } }
        };
        self.page(status, title, "/", body)
    }
}

/// A form field the service was never asked about because the page could not read it.
pub fn bad_field(field: &str, message: impl Into<String>) -> AppError {
    AppError::validation(vec![FieldError::new(
        field,
        FieldCode::InvalidValue,
        message,
    )])
}

/// The answer a page gives instead of running (to sign in, a refused form token), as the
/// error of an extractor: actix sends it as it is.
fn answered(res: HttpResponse) -> actix_web::Error {
    InternalError::from_response("answered before the page", res).into()
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, actix_web::Error> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("application state missing"))
}

/// A page's handler takes `Signed`: it runs only for a signed-in visitor.
impl FromRequest for Signed {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            Signed::get(&req, &state).await.map_err(answered)
        })
    }
}

/// A form's handler takes `Posted`: the signed-in visitor and the form's fields, its form
/// token checked (the body no larger than the route's `PayloadConfig`).
pub struct Posted {
    pub s: Signed,
    pub f: Vec<(String, String)>,
}

impl FromRequest for Posted {
    type Error = actix_web::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            let body = body.await?;
            let (s, f) = Signed::post(&req, &state, &body).await.map_err(answered)?;
            Ok(Posted { s, f })
        })
    }
}

/// An error's refused fields, one line each, in the visitor's language: the field by its
/// label (when `labels` names it: the form's field names and their labels), what its code
/// means, and the service's own message, which is English and carries the specifics. Without
/// refused fields, its detail.
pub fn problem_lines(lang: Lang, e: &AppError, labels: &[(&str, &str)]) -> Vec<String> {
    if e.errors.is_empty() {
        return vec![e.detail.clone()];
    }
    e.errors
        .iter()
        .map(|f| {
            let name = f.field.split(['.', '[']).next().unwrap_or_default();
            let label = labels
                .iter()
                .find(|(n, _)| *n == name)
                .map_or(f.field.as_str(), |(_, l)| *l);
            match lang {
                Lang::En => format!("{label}: {}", f.message),
                _ => format!("{label}: {} ({})", field_code_gist(lang, f.code), f.message),
            }
        })
        .collect()
}

/// `problem_lines` as one paragraph.
pub fn problem_text(lang: Lang, e: &AppError, labels: &[(&str, &str)]) -> String {
    problem_lines(lang, e, labels).join("; ")
}

/// To the sign-in form, which comes back to this page (a GET's own address; after a form,
/// the start page).
fn to_sign_in(req: &HttpRequest, lang: Lang) -> HttpResponse {
    let back = if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_owned()
    } else {
        "/".to_owned()
    };
    see_other(&link("/login", &[("next", &back), ("lang", lang.tag())]))
}

/// Whether `next` is a path of this site to go back to after signing in: a local absolute
/// path, never `//host` or `/\host`, which browsers read as another site.
pub fn local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control)
}

/// Two strings compared in time that does not depend on where they differ.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A page saying the service cannot answer now (the database or the index failed), with
/// the failure's own status.
pub fn unavailable(lang: Lang, e: &AppError) -> HttpResponse {
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
pub fn fields(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Every value of a repeated field (checkboxes).
pub fn all_of<'a>(pairs: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

pub fn see_other(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, to.to_owned()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .finish()
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_local_paths_are_gone_back_to() {
        assert!(local_path("/needs/abc?lang=ko"));
        assert!(local_path("/"));
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example",
            "",
            "x/y",
            "/a\r\nb",
        ] {
            assert!(!local_path(bad), "{bad:?}");
        }
    }
}
