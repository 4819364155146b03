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
    assert!(!body.contains("Secret GPU roadmap"), "{body}");
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
