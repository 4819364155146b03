//! The web app's pages as a browser gets them: the start page and search, in three
//! languages, escaped, with the page's own security policy and nothing but public records.

mod common;

use common::TestApp;
use serde_json::json;

/// The size every page stays under (issue 25: no page over 200 KB).
const MAX_PAGE: usize = 200 * 1024;

fn assert_page(res: &common::Response, status: u16) -> String {
    res.expect(status);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let csp = res.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("style-src 'self'"), "{csp}");
    assert!(!csp.contains("script-src"), "no script is allowed: {csp}");
    let body = res.text();
    assert!(body.starts_with("<!DOCTYPE html>"), "{body}");
    assert!(body.len() < MAX_PAGE, "{} bytes", body.len());
    body
}

/// The search page's address for these words.
fn search(q: &str) -> String {
    let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
    format!("/search?q={q}")
}

#[actix_web::test]
async fn the_start_page_speaks_the_visitors_language() {
    let app = TestApp::spawn().await;
    let body = assert_page(&app.anonymous().get("/").await, 200);
    assert!(body.contains(r#"<html lang="en">"#), "{body}");
    assert!(body.contains(r#"action="/search""#), "{body}");
    assert!(
        body.contains(r#"<label for="q">Search words</label>"#),
        "{body}"
    );

    let res = app
        .anonymous()
        .header("accept-language", "fr, ko;q=0.9, en;q=0.5")
        .get("/")
        .await;
    let body = assert_page(&res, 200);
    assert!(body.contains(r#"<html lang="ko">"#), "{body}");
    assert!(body.contains("검색어"), "{body}");

    // The switch wins over the browser, and keeps the page's other parameters.
    let res = app
        .anonymous()
        .header("accept-language", "ko")
        .get("/search?q=GPU&lang=zh-Hant")
        .await;
    let body = assert_page(&res, 200);
    assert!(body.contains(r#"<html lang="zh-Hant">"#), "{body}");
    assert!(body.contains("搜尋字詞"), "{body}");
    assert!(
        body.contains(r#"href="/search?q=GPU&amp;lang=ko""#),
        "{body}"
    );

    let css = app.anonymous().get("/static/liaison.css").await;
    css.expect(200);
    assert!(css.text().contains(":focus-visible"));
}

#[actix_web::test]
async fn search_finds_public_records_in_any_language_with_filters_and_pages() {
    let app = TestApp::spawn().await;
    let nycu = app
        .org_id(
            "university",
            "National Yang Ming Chiao Tung University",
            "TW",
        )
        .await;
    let kaist = app.org_id("university", "KAIST", "KR").await;
    let company = app.org_id("company", "SK hynix", "KR").await;
    for (uni, name, interests) in [
        (
            &nycu,
            "Chen Chien-Hung",
            "Training large language models on GPU clusters",
        ),
        (&nycu, "Lin Mei-Ling", "半導體製程 與 GPU 加速"),
        (
            &kaist,
            "Kim Min-jun",
            "GPU 클러스터에서 대규모 언어 모델 학습",
        ),
        (
            &kaist,
            "Park <script>alert(1)</script>",
            "GPU memory scheduling",
        ),
    ] {
        app.create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": name, "research_interests": interests,
                    "keywords": ["GPU"]}),
        )
        .await;
    }
    app.create_indexed(
        "/api/v1/needs",
        &json!({"company_id": company, "title": "Secret GPU roadmap", "status": "open",
                "visibility": "confidential", "keywords": ["GPU"]}),
    )
    .await;

    let body = assert_page(&app.anonymous().get("/search?q=GPU").await, 200);
    assert!(body.contains("4 results"), "{body}");
    assert!(body.contains("<b>GPU</b>"), "{body}");
    for name in ["Chen Chien-Hung", "Lin Mei-Ling", "Kim Min-jun"] {
        assert!(body.contains(name), "{name}: {body}");
    }
    // User text is escaped; only the highlights' <b> is markup.
    assert!(!body.contains("<script>"), "{body}");
    assert!(body.contains("&lt;script&gt;"), "{body}");
    // The university facet filters.
    let filter = format!("university_id={kaist}");
    assert!(body.contains(&filter), "{body}");
    let body = assert_page(
        &app.anonymous()
            .get(&format!("/search?q=GPU&{filter}"))
            .await,
        200,
    );
    assert!(body.contains("2 results"), "{body}");
    assert!(!body.contains("Chen Chien-Hung"), "{body}");
    assert!(body.contains(r#"aria-current="true""#), "{body}");

    // Korean and Chinese words find their texts.
    let body = assert_page(&app.anonymous().get(&search("클러스터")).await, 200);
    assert!(
        body.contains("Kim Min-jun") && body.contains("1 results"),
        "{body}"
    );
    let body = assert_page(&app.anonymous().get(&search("半導體製程")).await, 200);
    assert!(body.contains("Lin Mei-Ling"), "{body}");

    // A confidential need is not there for the public.
    let body = assert_page(&app.anonymous().get("/search?q=GPU&type=need").await, 200);
    assert!(!body.contains("roadmap"), "{body}");
    assert!(body.contains("0 results"), "{body}");
}

#[actix_web::test]
async fn a_search_that_cannot_run_is_a_400_page_saying_why() {
    let app = TestApp::spawn().await;
    for (query, why) in [
        ("type=people", "type"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("q=GPU&status=bogus&type=need", "status"),
        ("university_id=not-an-id", "university_id"),
        ("q=%22unclosed", ""),
    ] {
        let body = assert_page(&app.anonymous().get(&format!("/search?{query}")).await, 400);
        assert!(body.contains(r#"role="alert""#), "{query}: {body}");
        assert!(body.contains(why), "{query}: {body}");
    }
}

/// The cookies a response sets: (name, value, the whole header).
fn set_cookies(res: &common::Response) -> Vec<(String, String, String)> {
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

fn cookie_named(res: &common::Response, name: &str) -> Option<(String, String)> {
    set_cookies(res)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .map(|(_, v, whole)| (v, whole))
}

/// The value of the hidden `csrf` field of a page's first form that has one.
fn form_token(body: &str) -> String {
    let at = body.find(r#"name="csrf" value=""#).expect("a form token");
    let rest = &body[at + r#"name="csrf" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn post_form(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    body: &str,
) -> common::Response {
    let mut req = actix_web::test::TestRequest::post()
        .uri(path)
        .insert_header(("content-type", "application/x-www-form-urlencoded"))
        .set_payload(body.to_owned());
    if let Some(c) = cookie {
        req = req.insert_header(("cookie", c.to_owned()));
    }
    app.send(req).await
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A new staff account of `company`: its initial password.
async fn staff(app: &TestApp, company: &str, email: &str, name: &str) -> String {
    let res = app
        .operator()
        .post(
            &format!("/api/v1/organizations/{company}/members"),
            &json!({"email": email, "role": "staff", "display_name": name}),
        )
        .await;
    res.expect(201);
    res.json()["initial_password"].as_str().unwrap().to_owned()
}

/// Signs in through the form: the session cookie to send (`name=value`).
async fn sign_in(app: &TestApp, email: &str, password: &str) -> String {
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

#[actix_web::test]
async fn signing_in_shows_what_the_account_may_see_and_signing_out_ends_it() {
    let app = TestApp::spawn().await;
    let company = app.org_id("company", "SK hynix", "KR").await;
    let email = "kim@skhynix.example";
    let password = staff(&app, &company, email, "Kim Staff").await;
    app.create_indexed(
        "/api/v1/needs",
        &json!({"company_id": company, "title": "Secret GPU roadmap", "status": "open",
                "visibility": "confidential", "keywords": ["GPU"]}),
    )
    .await;

    // The form, with a form token in the page and in a strict, HttpOnly cookie.
    let res = app.anonymous().get("/login").await;
    let body = assert_page(&res, 200);
    let (form_cookie, whole) = cookie_named(&res, "liaison_form").expect("a form cookie");
    assert!(
        whole.contains("HttpOnly") && whole.contains("SameSite=Strict"),
        "{whole}"
    );
    assert_eq!(form_token(&body), form_cookie);
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let form = format!("liaison_form={form_cookie}");
    let creds = format!(
        "email={}&password={}&lang=en&csrf={form_cookie}",
        encode(email),
        encode(&password)
    );

    // Without the form's cookie (a page elsewhere posting here), nobody is signed in.
    let res = post_form(&app, "/login", None, &creds).await;
    let body = assert_page(&res, 403);
    assert!(body.contains("This form has expired"), "{body}");
    assert!(cookie_named(&res, "liaison_session").is_none());
    // A wrong password is the form again, saying so.
    let wrong = creds.replace(&encode(&password), "wrong-password-123");
    let res = post_form(&app, "/login", Some(&form), &wrong).await;
    let body = assert_page(&res, 401);
    assert!(body.contains("Wrong email or password"), "{body}");
    assert!(cookie_named(&res, "liaison_session").is_none());

    let res = post_form(&app, "/login", Some(&form), &creds).await;
    assert_eq!(res.status.as_u16(), 303);
    assert_eq!(res.header("location").as_deref(), Some("/?lang=en"));
    let (session, whole) = cookie_named(&res, "liaison_session").expect("a session");
    for part in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(whole.contains(part), "{whole}");
    }
    let signed_in = format!("liaison_session={session}");

    // Signed in, the search shows what the account may see, and nothing keeps the page.
    let res = app
        .anonymous()
        .header("cookie", &signed_in)
        .get("/search?q=GPU&type=need")
        .await;
    let body = assert_page(&res, 200);
    assert!(body.contains("Secret <b>GPU</b> roadmap"), "{body}");
    assert!(body.contains("Signed in as Kim Staff"), "{body}");
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    let token = form_token(&body);
    let body = assert_page(&app.anonymous().get("/search?q=GPU&type=need").await, 200);
    assert!(!body.contains("roadmap"), "{body}");

    // Signing out needs the session's form token.
    let res = post_form(&app, "/logout", Some(&signed_in), "csrf=forged&lang=en").await;
    assert_page(&res, 403);
    let res = post_form(
        &app,
        "/logout",
        Some(&signed_in),
        &format!("csrf={token}&lang=en"),
    )
    .await;
    assert_eq!(res.status.as_u16(), 303);
    let (cleared, whole) = cookie_named(&res, "liaison_session").expect("a cleared cookie");
    assert!(cleared.is_empty() && whole.contains("Max-Age=0"), "{whole}");
    let res = app
        .anonymous()
        .header("cookie", &signed_in)
        .get("/search?q=GPU&type=need")
        .await;
    let body = assert_page(&res, 200);
    assert!(!body.contains("roadmap"), "{body}");
    assert!(body.contains(r#"href="/login?lang=en""#), "{body}");
}

#[actix_web::test]
async fn a_password_change_ends_the_accounts_web_sessions() {
    let app = TestApp::spawn().await;
    let company = app.org_id("company", "TSMC", "TW").await;
    let email = "lin@tsmc.example";
    let password = staff(&app, &company, email, "Lin").await;
    let signed_in = sign_in(&app, email, &password).await;
    let body = assert_page(
        &app.anonymous().header("cookie", &signed_in).get("/").await,
        200,
    );
    assert!(body.contains("Signed in as Lin"), "{body}");

    let token = app.login(email, &password).await;
    app.as_(&token)
        .post(
            "/api/v1/me/password",
            &json!({"current_password": password, "new_password": "a brand new passphrase"}),
        )
        .await
        .expect(204);
    let body = assert_page(
        &app.anonymous().header("cookie", &signed_in).get("/").await,
        200,
    );
    assert!(!body.contains("Signed in as Lin"), "{body}");
}

/// Every link of a search page (filters, pages, languages) opens a page, not an error.
#[actix_web::test]
async fn every_link_of_a_results_page_opens() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let company = app.org_id("company", "MediaTek", "TW").await;
    for i in 0..25 {
        app.create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": format!("Researcher {i}"),
                    "department": if i % 2 == 0 { "EE" } else { "CS" },
                    "research_interests": "edge AI accelerators", "keywords": ["edge AI"],
                    "availability": ["sponsored_research"]}),
        )
        .await;
    }
    app.create_indexed(
        "/api/v1/needs",
        &json!({"company_id": company, "title": "Edge AI on phones", "status": "open",
                "visibility": "public", "keywords": ["edge AI"],
                "collaboration_types": ["sponsored_research"]}),
    )
    .await;
    for start in [
        "/search?q=edge",
        "/search?q=edge&type=need",
        "/search?type=center",
    ] {
        let body = assert_page(&app.anonymous().get(start).await, 200);
        let links: Vec<String> = body
            .split(r#"href=""#)
            .skip(1)
            .filter_map(|rest| rest.split('"').next())
            .filter(|l| l.starts_with("/search"))
            .map(|l| l.replace("&amp;", "&"))
            .collect();
        // Languages alone where nothing is found (no centre here).
        assert!(links.len() >= 3, "{start}: {links:?}");
        if !start.contains("center") {
            assert!(links.len() > 6, "{start}: {links:?}");
        }
        for l in links {
            assert_page(&app.anonymous().get(&l).await, 200);
        }
    }
}

/// Under its own name (not a loopback one) the cookies are `Secure` and `__Host-` named, and a
/// cookie sent twice counts as none.
#[actix_web::test]
async fn cookies_are_secure_under_a_real_name_and_never_taken_twice() {
    let app = TestApp::spawn().await;
    let res = app
        .anonymous()
        .header("host", "liaison.example.org")
        .get("/login")
        .await;
    let body = assert_page(&res, 200);
    let (token, whole) = cookie_named(&res, "__Host-liaison_form").expect("a __Host- cookie");
    assert!(
        whole.contains("; Secure") && whole.contains("Path=/"),
        "{whole}"
    );
    assert!(!whole.contains("Domain"), "{whole}");
    assert_eq!(form_token(&body), token);
    // On a loopback name (a development run over http) they are plain.
    let res = app.anonymous().get("/login").await;
    let (_, whole) = cookie_named(&res, "liaison_form").expect("a plain cookie");
    assert!(!whole.contains("Secure"), "{whole}");

    // A form cookie sent twice (one planted by another host) is no form cookie.
    let twice = format!("liaison_form={token}; liaison_form={token}");
    let res = post_form(
        &app,
        "/login",
        Some(&twice),
        &format!("email=a%40b.example&password=x&csrf={token}"),
    )
    .await;
    let body = assert_page(&res, 403);
    assert!(body.contains("This form has expired"), "{body}");
}
