//! The web app's pages as a browser gets them: the start page and search, in three
//! languages, escaped, with the page's own security policy and nothing but public records.

mod common;

use common::TestApp;
use common::web::*;
use serde_json::json;

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
        body.contains("Kim Min-jun") && body.contains("1 result<"),
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

/// A professor of `university` with an account (`email`) who owns a new profile made from
/// `profile`: the account's password and the profile's id.
async fn own_profile(
    app: &TestApp,
    university: &str,
    email: &str,
    mut profile: serde_json::Value,
) -> (String, String) {
    let password = member(app, university, "faculty", email, "Professor").await;
    let token = app.login(email, &password).await;
    profile["university_id"] = university.into();
    profile["owner_user_id"] = app.user_id(&token).await.into();
    let res = app
        .operator()
        .post("/api/v1/faculty?refresh=wait_for", &profile)
        .await;
    res.expect(201);
    (password, res.id())
}

/// A profile as the API reads it to the operator.
async fn profile_json(app: &TestApp, id: &str) -> serde_json::Value {
    let res = app.operator().get(&format!("/api/v1/faculty/{id}")).await;
    res.expect(200);
    res.json()
}

/// The one engagement of a need, through the API.
async fn engagement_of(app: &TestApp, need: &str) -> serde_json::Value {
    let res = app
        .operator()
        .get(&format!("/api/v1/engagements?need_id={need}"))
        .await;
    res.expect(200);
    let items = res.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1, "{items:?}");
    items[0].clone()
}

/// A company posts a confidential need through the form, sees the professors who fit with
/// their reasons, asks why another is missing, shortlists and invites one; the professor
/// finds the invitation on their profile and declines it with a reason; on a second need
/// the professor says they are interested and the company records the agreement. Every
/// step is checked against the API.
#[actix_web::test]
async fn a_company_and_a_professor_go_from_a_need_to_an_agreement() {
    let app = TestApp::spawn().await;
    let university = app
        .org_id("university", "National Tsing Hua University", "TW")
        .await;
    let company = app.org_id("company", "MediaTek", "TW").await;
    let password = staff(&app, &company, "lin@mediatek.example", "Lin Staff").await;
    let (prof_password, wang) = own_profile(
        &app,
        &university,
        "wang@nthu.example",
        json!({"name": "Wang Li-Hua", "local_name": "王麗華",
                    "research_interests": "Scheduling large language model training on GPU clusters",
                    "keywords": ["GPU clusters", "LLM training", "scheduling"],
                    "publications": [{"title": "Elastic scheduling of LLM training jobs on GPU clusters", "year": 2025}]}),
    )
    .await;
    let other = app
        .create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": university, "name": "Ho Chia-Wei",
                    "research_interests": "Coastal sediment transport", "keywords": ["oceanography"]}),
        )
        .await;

    // Signed out, the company's pages send the visitor to sign in, and back.
    let res = app.anonymous().get("/needs").await;
    assert_eq!(res.status.as_u16(), 303);
    assert_eq!(
        res.header("location").as_deref(),
        Some("/login?next=%2Fneeds&lang=en")
    );

    let lin = Browser::sign_in(&app, "lin@mediatek.example", &password).await;
    let list = lin.page("/needs", 200).await;
    assert!(list.contains("Post a need"), "{list}");
    let form = lin.page("/needs/new", 200).await;
    for explained in [
        "only your company and the professors you invite see it",
        "any signed-in user",
    ] {
        assert!(form.contains(explained), "{form}");
    }
    let fields = [
        ("company_id", company.as_str()),
        ("title", "LLM training on GPU clusters"),
        ("keywords", "GPU clusters, LLM training，scheduling"),
        ("collaboration_types", "sponsored_research"),
        ("collaboration_types", "joint_lab"),
        ("budget_min", "1,500,000"),
        ("budget_max", "3000000"),
        ("currency", "twd"),
        ("visibility", "confidential"),
        ("status", "open"),
        ("deadline", "2099-06-30"),
    ];
    // A budget that is not an amount is the form again, saying so, and posts nothing.
    let mut bad = fields.to_vec();
    bad.retain(|(k, _)| *k != "budget_min");
    bad.push(("budget_min", "a lot"));
    let res = lin.post(&form, "/needs", &bad).await;
    let again = assert_page(&res, 400);
    assert!(
        again.contains(r#"role="alert""#) && again.contains("From: not an amount"),
        "{again}"
    );
    assert!(
        again.contains(r#"value="LLM training on GPU clusters""#),
        "{again}"
    );
    let none = app
        .operator()
        .get(&format!("/api/v1/needs?company_id={company}"))
        .await;
    assert_eq!(none.json()["items"].as_array().unwrap().len(), 0);
    // What the service refuses and the form does not check is named by the field's label,
    // with what its code means in the visitor's language before the service's own words.
    let mut past = fields.to_vec();
    past.retain(|(k, _)| *k != "deadline");
    past.push(("deadline", "2001-01-01"));
    for (lang, said) in [
        (
            "en",
            "Deadline: must not be in the past when the need is open",
        ),
        (
            "ko",
            "마감일: 지난 날짜입니다 (must not be in the past when the need is open)",
        ),
        (
            "zh-Hant",
            "截止日期: 日期已過 (must not be in the past when the need is open)",
        ),
    ] {
        let form = lin.page(&format!("/needs/new?lang={lang}"), 200).await;
        let res = lin.post(&form, "/needs", &past).await;
        let again = assert_page(&res, 400);
        assert!(again.contains(said), "{lang}: {again}");
    }
    // Without the form token nothing is posted either.
    let res = post_form(
        &app,
        "/needs",
        Some(&lin.cookie),
        "title=x&visibility=public",
    )
    .await;
    assert_page(&res, 403);

    let at = lin.post_then_go(&form, "/needs", &fields).await;
    let need = at
        .strip_prefix("/needs/")
        .and_then(|r| r.split('?').next())
        .unwrap()
        .to_owned();
    let api = app.operator().get(&format!("/api/v1/needs/{need}")).await;
    api.expect(200);
    let n = api.json();
    assert_eq!(n["visibility"], "confidential");
    assert_eq!(
        n["budget"],
        json!({"min": 150_000_000_i64, "max": 300_000_000_i64, "currency": "TWD"})
    );
    assert_eq!(
        n["keywords"],
        json!(["GPU clusters", "LLM training", "scheduling"])
    );
    assert_eq!(
        n["collaboration_types"],
        json!(["sponsored_research", "joint_lab"])
    );

    // The ranking, with the same score as the API's and the reasons drawn.
    let page = lin.page(&at, 200).await;
    let matches = app
        .operator()
        .get(&format!("/api/v1/needs/{need}/matches"))
        .await;
    let top = &matches.json()["items"][0];
    assert_eq!(top["faculty"]["id"], wang.as_str());
    let shown = format!("<strong>{:.2}</strong>", top["score"].as_f64().unwrap());
    assert!(page.contains(&shown), "{shown}: {page}");
    assert!(
        page.contains("Wang Li-Hua") && !page.contains("Ho Chia-Wei"),
        "{page}"
    );
    assert!(page.contains("The words that made the score"), "{page}");
    assert!(page.contains("<meter"), "{page}");
    assert!(
        page.contains("Elastic scheduling of LLM training jobs"),
        "{page}"
    );
    assert!(
        page.contains("TWD 1,500,000.00 – TWD 3,000,000.00"),
        "{page}"
    );

    // Why is the oceanographer missing?
    let why = lin.page(&format!("/needs/{need}/why?name=Ho"), 200).await;
    assert!(why.contains(&format!("faculty_id={other}")), "{why}");
    let why = lin
        .page(&format!("/needs/{need}/why?faculty_id={other}"), 200)
        .await;
    assert!(
        why.contains("does not qualify for the need's list"),
        "{why}"
    );
    assert!(why.contains("No shared words."), "{why}");

    // Shortlist, then invite from the shortlist.
    let back = lin
        .post_then_go(
            &page,
            &format!("/needs/{need}/engagements"),
            &[("faculty_id", &wang), ("state", "shortlisted")],
        )
        .await;
    assert_eq!(back, format!("/needs/{need}?lang=en#f-{wang}"));
    let e = engagement_of(&app, &need).await;
    assert_eq!(e["state"], "shortlisted");
    let engagement = e["id"].as_str().unwrap().to_owned();
    let page = lin.page(&format!("/needs/{need}"), 200).await;
    assert!(page.contains(">shortlisted<"), "{page}");
    let invite = [
        ("to", "invited"),
        ("from", "shortlisted"),
        ("back", &format!("/needs/{need}")),
    ];
    let back = lin
        .post_then_go(&page, &format!("/engagements/{engagement}"), &invite)
        .await;
    assert_eq!(back, format!("/needs/{need}?lang=en"));
    assert_eq!(engagement_of(&app, &need).await["state"], "invited");
    // The same button again, from a page that no longer shows the truth: refused, unchanged.
    let res = lin
        .post(&page, &format!("/engagements/{engagement}"), &invite)
        .await;
    let body = assert_page(&res, 409);
    assert!(body.contains("It has moved to “invited”"), "{body}");

    // The professor finds the invitation on their profile and declines it with a reason.
    let wang_browser = Browser::sign_in(&app, "wang@nthu.example", &prof_password).await;
    let res = wang_browser.get("/profile").await;
    assert_eq!(
        res.header("location"),
        Some(format!("/faculty/{wang}?lang=en"))
    );
    let profile = wang_browser.page(&format!("/faculty/{wang}"), 200).await;
    assert!(profile.contains("Invitations to answer"), "{profile}");
    assert!(
        profile.contains("LLM training on GPU clusters"),
        "{profile}"
    );
    assert!(
        profile.contains(r#"<option value="timeline">the timeline does not fit</option>"#),
        "{profile}"
    );
    let decline = [
        ("to", "declined"),
        ("from", "invited"),
        ("reason_code", "timeline"),
        ("reason_text", "Busy until 2027"),
        ("back", &format!("/faculty/{wang}")),
    ];
    wang_browser
        .post_then_go(&profile, &format!("/engagements/{engagement}"), &decline)
        .await;
    let e = engagement_of(&app, &need).await;
    assert_eq!(e["state"], "declined");
    let last = e["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["reason_code"], "timeline");
    assert_eq!(last["reason_text"], "Busy until 2027");
    let history = lin.page(&format!("/engagements/{engagement}"), 200).await;
    assert!(
        history.contains("the timeline does not fit") && history.contains("Busy until 2027"),
        "{history}"
    );

    // A public need: the professor says they are interested; the company records the agreement.
    let second = app
        .create_indexed(
            "/api/v1/needs",
            &json!({"company_id": company, "title": "Scheduling GPU clusters for inference",
                    "keywords": ["GPU clusters", "scheduling"], "status": "open", "visibility": "public"}),
        )
        .await;
    let page = wang_browser.page(&format!("/needs/{second}"), 200).await;
    assert!(page.contains("I am interested (Wang Li-Hua)"), "{page}");
    wang_browser
        .post_then_go(
            &page,
            &format!("/needs/{second}/engagements"),
            &[("faculty_id", &wang), ("state", "interested")],
        )
        .await;
    let e = engagement_of(&app, &second).await;
    assert_eq!(e["state"], "interested");
    let id = e["id"].as_str().unwrap();
    let page = lin.page(&format!("/engagements/{id}"), 200).await;
    assert!(page.contains("Record the agreement"), "{page}");
    lin.post_then_go(
        &page,
        &format!("/engagements/{id}"),
        &[("to", "agreed"), ("from", "interested")],
    )
    .await;
    assert_eq!(engagement_of(&app, &second).await["state"], "agreed");
    let all = lin.page("/engagements", 200).await;
    assert!(
        all.contains(">agreed<") && all.contains(">declined<"),
        "{all}"
    );

    // The same pages in Korean.
    let page = lin.page(&format!("/needs/{need}?lang=ko"), 200).await;
    assert!(
        page.contains("적합한 교수") && page.contains("점수를 만든 단어"),
        "{page}"
    );
}

/// A professor edits their profile through the form: what they change is saved, what the
/// form cannot show (a publication's abstract) is kept, and a form shown before someone
/// else's change is not saved over it unseen.
#[actix_web::test]
async fn a_professor_edits_their_profile_and_keeps_what_the_form_does_not_show() {
    let app = TestApp::spawn().await;
    let university = app.org_id("university", "KAIST", "KR").await;
    let (password, id) = own_profile(
        &app,
        &university,
        "kim@kaist.example",
        json!({"name": "Kim Min-jun",
                    "keywords": ["GPU"], "availability": ["consulting"],
                    "publications": [{"title": "HBM thermal models", "year": 2024, "venue": "DAC",
                                      "abstract": "We model heat in stacked DRAM."}]}),
    )
    .await;
    let kim = Browser::sign_in(&app, "kim@kaist.example", &password).await;
    let profile = kim.page(&format!("/faculty/{id}"), 200).await;
    assert!(profile.contains("Edit the profile"), "{profile}");
    let form = kim.page(&format!("/faculty/{id}/edit?lang=ko"), 200).await;
    assert!(form.contains("2024 | HBM thermal models | DAC"), "{form}");
    assert!(form.contains("프로필 수정"), "{form}");
    let edit = format!("/faculty/{id}/edit");
    let version = hidden_field(&form, "version");
    let fields = |keywords: &'static str, publications: &'static str| {
        vec![
            ("version", version.as_str()),
            ("keywords", keywords),
            ("research_interests", "반도체 열 관리"),
            ("availability", "sponsored_research"),
            ("availability", "joint_lab"),
            ("visibility", "public"),
            ("publications", publications),
        ]
    };
    let sent = fields("HBM, 반도체, thermal", "2024 | HBM thermal models | DAC");
    let to = kim.post_then_go(&form, &edit, &sent).await;
    assert_eq!(to, format!("/faculty/{id}?lang=ko"));
    let p = profile_json(&app, &id).await;
    assert_eq!(p["keywords"], json!(["HBM", "반도체", "thermal"]));
    assert_eq!(
        p["availability"],
        json!(["sponsored_research", "joint_lab"])
    );
    assert_eq!(p["research_interests"], "반도체 열 관리");
    assert_eq!(
        p["publications"][0]["abstract"],
        "We model heat in stacked DRAM."
    );

    // The same form, sent again after that change: refused with the changes kept on it.
    let stale = fields(
        "HBM",
        "2024 | HBM thermal models | DAC\n2025 | Chiplet warpage | ECTC",
    );
    let res = kim.post(&form, &edit, &stale).await;
    let again = assert_page(&res, 400);
    assert!(again.contains("다른 사람이 프로필을 바꿨습니다"), "{again}");
    assert!(again.contains("Chiplet warpage"), "{again}");
    let p = profile_json(&app, &id).await;
    assert_eq!(p["keywords"], json!(["HBM", "반도체", "thermal"]));
    // Sent from the page that said so, it is saved: the new publication added, the abstract
    // of the one whose title stayed kept.
    let now = hidden_field(&again, "version");
    let mut resent = stale.clone();
    resent.retain(|(k, _)| *k != "version");
    resent.push(("version", &now));
    kim.post_then_go(&again, &edit, &resent).await;
    let p = profile_json(&app, &id).await;
    assert_eq!(p["keywords"], json!(["HBM"]));
    let pubs = p["publications"].as_array().unwrap();
    assert_eq!(pubs.len(), 2, "{pubs:?}");
    let old = pubs
        .iter()
        .find(|x| x["title"] == "HBM thermal models")
        .unwrap();
    assert_eq!(old["abstract"], "We model heat in stacked DRAM.");
    assert!(
        pubs.iter()
            .any(|x| x["title"] == "Chiplet warpage" && x["year"] == 2025 && x["venue"] == "ECTC")
    );

    // Someone else's profile: no edit offered, and the form's post is refused.
    let other = app
        .create_indexed(
            "/api/v1/faculty",
            &json!({"university_id": university, "name": "Lee Ji-woo", "keywords": ["robots"]}),
        )
        .await;
    let page = kim.page(&format!("/faculty/{other}"), 200).await;
    assert!(!page.contains("Edit the profile"), "{page}");
    let res = kim
        .post(
            &page,
            &format!("/faculty/{other}/edit"),
            &[("version", "1"), ("keywords", "mine")],
        )
        .await;
    assert_page(&res, 403);
}

/// A mistyped address is a page for a browser, in its language, and still problem+json for
/// an API client and under /api/ whoever asks.
#[actix_web::test]
async fn an_address_with_no_page_is_a_404_page_for_a_browser() {
    let app = TestApp::spawn().await;
    let res = app
        .anonymous()
        .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8")
        .header("accept-language", "ko")
        .get("/no-such-page")
        .await;
    let body = assert_page(&res, 404);
    assert!(body.contains("해당 페이지가 없습니다."), "{body}");
    assert!(body.contains(r#"href="/?lang=ko""#), "{body}");

    let res = app.anonymous().get("/no-such-page").await;
    res.expect(404);
    assert_eq!(res.code(), "not_found");
    let res = app
        .anonymous()
        .header("accept", "text/html")
        .get("/api/v1/no-such-thing")
        .await;
    res.expect(404);
    assert_eq!(res.code(), "not_found");
}

/// A page's address asked for with a method it does not take is a 405 page naming the ones it
/// does, in the visitor's language; the API's stay problem+json.
#[actix_web::test]
async fn a_page_asked_for_with_the_wrong_method_is_a_405_naming_the_right_ones() {
    use actix_web::http::Method;
    let app = TestApp::spawn().await;
    for (method, path, allow) in [
        (Method::DELETE, "/login", "GET, HEAD, POST"),
        (Method::POST, "/search", "GET, HEAD"),
        (Method::POST, "/needs/new", "GET, HEAD"),
        (
            Method::PUT,
            "/needs/0190d6a0-0000-7000-8000-000000000000",
            "GET, HEAD",
        ),
        (Method::GET, "/logout", "POST"),
    ] {
        let res = app
            .anonymous()
            .header("accept-language", "zh-TW")
            .request(method.clone(), path, None)
            .await;
        let body = assert_page(&res, 405);
        assert_eq!(
            res.header("allow").as_deref(),
            Some(allow),
            "{method} {path}"
        );
        assert!(body.contains("無法以這種方式開啟此頁面。"), "{body}");
    }
    let res = app
        .anonymous()
        .request(Method::DELETE, "/api/v1/search", None)
        .await;
    res.expect(405);
    assert_eq!(res.code(), "method_not_allowed");
}

/// The `f-…` ids of a need page's ranked professors, in order.
fn ranked_ids(page: &str) -> Vec<String> {
    page.split(r#"<li id="f-"#)
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().to_owned())
        .collect()
}

/// A company pages through the professors ranked for its need, 20 at a time, and sees each
/// once, in the API's order; a move made on a later page comes back to that page.
#[actix_web::test]
async fn a_need_page_pages_through_its_ranked_professors() {
    let app = TestApp::spawn().await;
    let university = app.org_id("university", "NCKU", "TW").await;
    let company = app.org_id("company", "Delta", "TW").await;
    let password = staff(&app, &company, "chen@delta.example", "Chen Staff").await;
    let mut csv = String::from("external_id,name,research_interests\n");
    for i in 0..45 {
        let extra = ["inverter", "motor drive", "battery charger"][i % 3];
        csv += &format!("P-{i},Professor {i},Power electronics for {extra} design number {i}\n");
    }
    app.import_indexed(&university, "text/csv", csv).await;
    let need = app
        .create_indexed(
            "/api/v1/needs",
            &json!({"company_id": company, "title": "Power electronics for inverters",
                    "description": "Inverter and motor drive design.",
                    "status": "open", "visibility": "public"}),
        )
        .await;
    let api = app
        .operator()
        .get(&format!("/api/v1/needs/{need}/matches?limit=100"))
        .await;
    api.expect(200);
    let all: Vec<String> = common::each(&api.json(), "items", |i| {
        i["faculty"]["id"].as_str().unwrap().to_owned()
    });
    assert_eq!(all.len(), 45);

    let chen = Browser::sign_in(&app, "chen@delta.example", &password).await;
    let here = format!("/needs/{need}");
    let first = chen.page(&here, 200).await;
    let second = chen.page(&format!("{here}?page=2"), 200).await;
    let third = chen.page(&format!("{here}?page=3"), 200).await;
    let shown: Vec<String> = [&first, &second, &third]
        .iter()
        .flat_map(|p| ranked_ids(p))
        .collect();
    assert_eq!(shown, all);
    assert!(
        second.contains(r#"<ol class="matches" start="21">"#),
        "{second}"
    );
    assert!(
        first.contains(&format!(
            r#"rel="next" href="{here}?page=2&amp;lang=en#ranked""#
        )) && !first.contains(r#"rel="prev""#),
        "{first}"
    );
    assert!(
        third.contains(&format!(
            r#"rel="prev" href="{here}?page=2&amp;lang=en#ranked""#
        )) && !third.contains(r#"rel="next""#),
        "{third}"
    );
    // A page past the end, or not a number, is a page, not an error.
    assert!(ranked_ids(&chen.page(&format!("{here}?page=9"), 200).await).is_empty());
    assert_eq!(
        ranked_ids(&chen.page(&format!("{here}?page=x"), 200).await),
        all[..20]
    );

    // Shortlisting someone on the second page comes back to them there.
    let pick = &all[25];
    let back = format!("{here}?page=2#f-{pick}");
    let to = chen
        .post_then_go(
            &second,
            &format!("{here}/engagements"),
            &[
                ("faculty_id", pick),
                ("state", "shortlisted"),
                ("back", &back),
            ],
        )
        .await;
    assert_eq!(to, format!("{here}?page=2&lang=en#f-{pick}"));
    let again = chen.page(&format!("{here}?page=2"), 200).await;
    assert_eq!(ranked_ids(&again), all[20..40]);

    // A professor's page lists the needs that fit ten at a time, in the API's order.
    for i in 0..14 {
        let topic = ["inverter", "motor drive"][i % 2];
        app.operator()
            .post(
                "/api/v1/needs",
                &json!({"company_id": company, "title": format!("Power electronics: {topic} {i}"),
                        "status": "open", "visibility": "public"}),
            )
            .await
            .expect(201);
    }
    app.create_indexed(
        "/api/v1/needs",
        &json!({"company_id": company, "title": "Power electronics: battery charger",
                "status": "open", "visibility": "public"}),
    )
    .await;
    let api = app
        .operator()
        .get(&format!("/api/v1/faculty/{pick}/matches?limit=100"))
        .await;
    let fitting: Vec<String> = common::each(&api.json(), "items", |i| {
        i["need"]["id"].as_str().unwrap().to_owned()
    });
    assert_eq!(fitting.len(), 16, "{}", api.text());
    let needs_on = |page: &str| -> Vec<String> {
        let list = page.split(r#"<ol class="matches""#).nth(1).unwrap();
        let list = list.split("</ol>").next().unwrap();
        list.split(r#"<h3><a href="/needs/"#)
            .skip(1)
            .map(|rest| rest.split('?').next().unwrap().to_owned())
            .collect()
    };
    let profile = format!("/faculty/{pick}");
    let one = chen.page(&profile, 200).await;
    let two = chen.page(&format!("{profile}?page=2"), 200).await;
    assert_eq!([needs_on(&one), needs_on(&two)].concat(), fitting);
    assert!(two.contains(r#"<ol class="matches" start="11">"#), "{two}");
    assert!(
        one.contains(&format!(
            r#"rel="next" href="{profile}?page=2&amp;lang=en#fitting""#
        )),
        "{one}"
    );
}
