//! What the web app's tests share: a page's checks, cookies, forms, and a signed-in browser.

use serde_json::json;

use super::{Response, TestApp};

/// The size every page stays under (issue 25: no page over 200 KB).
pub const MAX_PAGE: usize = 200 * 1024;

pub fn assert_page(res: &Response, status: u16) -> String {
    res.expect(status);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csp = res.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
    assert_eq!(
        res.header("referrer-policy").as_deref(),
        Some("same-origin")
    );
    let body = res.text();
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.len() < MAX_PAGE, "{} bytes", body.len());
    assert!(!body.contains("<script"), "{body}");
    assert!(
        !body.contains("style=\""),
        "inline styles are blocked: {body}"
    );
    body
}

/// The cookies a response sets: (name, value, the whole header).
pub fn set_cookies(res: &Response) -> Vec<(String, String, String)> {
    res.headers
        .get_all("set-cookie")
        .filter_map(|v| v.to_str().ok())
        .map(|v| {
            let pair = v.split(';').next().unwrap_or_default();
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (name.to_owned(), value.to_owned(), v.to_owned())
        })
        .collect()
}

pub fn cookie_named(res: &Response, name: &str) -> Option<(String, String)> {
    set_cookies(res)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, v, whole)| (v, whole))
}

/// The value of the hidden `csrf` field of a page's first form that has one.
pub fn form_token(body: &str) -> String {
    hidden_field(body, "csrf")
}

/// The value of the first hidden field named `name` on a page.
pub fn hidden_field(page: &str, name: &str) -> String {
    let start = format!(r#"name="{name}" value=""#);
    let at = page
        .find(&start)
        .unwrap_or_else(|| panic!("no field {name}"))
        + start.len();
    page[at..at + page[at..].find('"').unwrap()].to_owned()
}

pub async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, body: &str) -> Response {
    let mut req = actix_web::test::TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned());
    if let Some(c) = cookie {
        req = req.insert_header(("cookie", c.to_owned()));
    }
    app.send(req).await
}

pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A new staff account of `company`: its initial password.
pub async fn staff(app: &TestApp, company: &str, email: &str, name: &str) -> String {
    member(app, company, "staff", email, name).await
}

/// A new account of `org` in `role`: its initial password.
pub async fn member(app: &TestApp, org: &str, role: &str, email: &str, name: &str) -> String {
    let res = app
        .operator()
        .post(
            &format!("/api/v1/organizations/{org}/members"),
            &json!({"email": email, "role": role, "display_name": name}),
        )
        .await;
    res.expect(201);
    res.json()["initial_password"].as_str().unwrap().to_owned()
}

/// Signs in through the form: the session cookie to send (`name=value`).
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
    let res = app.anonymous().get("/login").await;
    let (form_cookie, _) = cookie_named(&res, "liaison_form").unwrap();
    let res = post_form(
        app,
        "/login",
        Some(&format!("liaison_form={form_cookie}")),
        &format!(
            "email={}&password={}&csrf={form_cookie}",
            encode(email),
            encode(password)
        ),
    )
    .await;
    let (session, _) = cookie_named(&res, "liaison_session").expect("a session");
    format!("liaison_session={session}")
}

/// A signed-in browser: its cookie, and the pages and forms it sends.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
}

impl<'a> Browser<'a> {
    pub async fn sign_in(app: &'a TestApp, email: &str, password: &str) -> Self {
        Browser {
            app,
            cookie: sign_in(app, email, password).await,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.app
            .anonymous()
            .header("cookie", &self.cookie)
            .get(path)
            .await
    }

    /// A page that must answer `status`: its HTML.
    pub async fn page(&self, path: &str, status: u16) -> String {
        assert_page(&self.get(path).await, status)
    }

    /// Posts a form of `page` (its form token added): the answer.
    pub async fn post(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Response {
        // As a browser sends a form: its hidden token and language with it.
        let lang = page
            .split(r#"<html lang=""#)
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap_or("en");
        let mut body = format!("csrf={}&lang={lang}", form_token(page));
        for (k, v) in fields {
            body.push_str(&format!("&{k}={}", encode(v)));
        }
        post_form(self.app, path, Some(&self.cookie), &body).await
    }

    /// Posts a form that must be followed by a redirect: where it goes.
    pub async fn post_then_go(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> String {
        let res = self.post(page, path, fields).await;
        assert_eq!(res.status.as_u16(), 303, "{path}: {}", res.text());
        res.header("location").expect("a location")
    }
}
