//! The liaison office's dashboard and its CSV files as a signed-in browser gets them: who may
//! see them, and that their figures are the API's reports for the same account.

mod common;

use common::TestApp;
use common::web::{member, sign_in};

/// A page of the office: for the signed-in visitor alone, so never stored.
fn assert_page(res: &common::Response, status: u16) -> String {
    assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    common::web::assert_page(res, status)
}
use serde_json::{Value, json};

/// A new account of `org` in `role`: its email and initial password.
async fn account(app: &TestApp, org: &str, role: &str, name: &str) -> (String, String) {
    let email = format!("{role}-{}@example.org", uuid::Uuid::new_v4().simple());
    let password = member(app, org, role, &email, name).await;
    (email, password)
}

/// A university with an office, a company with staff, a professor and activity of every
/// kind: an engagement that went to an agreement, a centre with a partner, resources and
/// commitments, a compute cluster in it, funded projects in three currencies with payments.
struct World {
    uni: String,
    /// The office's session cookie and bearer token (the same account).
    office: String,
    office_token: String,
    /// A company's staff: session cookie.
    company: String,
    sponsored: String,
}

async fn world(app: &TestApp) -> World {
    let uni = app.org_id("university", "國立臺灣大學", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let (email, password) = account(app, &uni, "staff", "NTU ILO").await;
    let office = sign_in(app, &email, &password).await;
    let office_token = app.login(&email, &password).await;
    let (email, password) = account(app, &co, "staff", "MediaTek staff").await;
    let company = sign_in(app, &email, &password).await;
    let company_token = app.login(&email, &password).await;
    let (prof, p1) = app
        .professor(&uni, json!({"name": "Chen", "local_name": "陳"}))
        .await;
    let p2 = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Lin"}),
        )
        .await;
    let need = app.create("/api/v1/needs", &json!({"company_id": co, "title": "Edge inference", "status": "open", "visibility": "public"})).await;
    // Invited, interested, agreed.
    let res = app
        .as_(&company_token)
        .post(
            "/api/v1/engagements",
            &json!({"need_id": need, "faculty_id": p1, "state": "invited"}),
        )
        .await;
    res.expect(201);
    let engagement = res.id();
    let moves = format!("/api/v1/engagements/{engagement}/transitions");
    let etag = res.header("etag").unwrap();
    let res = app
        .as_(&prof)
        .if_match(&etag)
        .post(&moves, &json!({"to": "interested"}))
        .await;
    res.expect(200);
    let etag = res.header("etag").unwrap();
    app.as_(&company_token)
        .if_match(&etag)
        .post(&moves, &json!({"to": "agreed"}))
        .await
        .expect(200);

    let center = app
        .as_(&office_token)
        .post(
            "/api/v1/centers",
            &common::sponsored_center(&uni, &co, &p1, &p2),
        )
        .await
        .created_id();
    app.create("/api/v1/compute/resources", &json!({"owner_id": uni, "center_id": center, "name": "Center GPU cluster",
                    "kind": "gpu_cluster", "unit": "gpu_hours", "gpu_model": "H100", "gpu_count": 64,
                    "period": "quarter", "capacity": 100000, "academia_percent": 80, "industry_percent": 20})).await;
    let project = |body: Value| {
        let (app, office) = (app, office_token.clone());
        async move {
            app.as_(&office)
                .post("/api/v1/funded-projects", &body)
                .await
                .created_id()
        }
    };
    let sponsored = project(json!({"title": "Edge inference accelerators", "type": "sponsored_research",
        "sponsor_id": co, "university_id": uni, "principal_investigator_id": p1, "co_investigator_ids": [p2],
        "need_id": need, "engagement_id": engagement,
        "amount_minor": 100_000_000i64, "currency": "TWD", "start_date": "2026-01-01", "end_date": "2027-12-31",
        "status": "active", "visibility": "participants"})).await;
    project(json!({"title": "AI building gift", "type": "donation", "sponsor_id": co,
        "university_id": uni, "principal_investigator_id": p1, "amount_minor": 50_000_000i64, "currency": "USD",
        "start_date": "2025-03-01", "end_date": "2025-12-31", "status": "active", "visibility": "public"})).await;
    project(json!({"title": "Modem consulting", "type": "consulting", "sponsor_id": co,
        "university_id": uni, "principal_investigator_id": p2, "amount_minor": 5_000_000i64, "currency": "KRW",
        "start_date": "2026-02-01", "end_date": "2026-08-01", "status": "negotiating", "visibility": "public"})).await;
    let payments = format!("/api/v1/funded-projects/{sponsored}/payments");
    for body in [
        json!({"received_date": "2026-02-15", "amount_minor": 30_000_000i64, "currency": "TWD", "status": "received"}),
        json!({"due_date": "2027-01-31", "amount_minor": 70_000_000i64, "currency": "TWD", "status": "scheduled"}),
    ] {
        app.as_(&office_token)
            .post(&payments, &body)
            .await
            .created_id();
    }
    World {
        uni,
        office,
        office_token,
        company,
        sponsored,
    }
}

/// The office's page (or file) at `path`, as its browser gets it.
async fn browse(app: &TestApp, cookie: &str, path: &str) -> common::Response {
    app.anonymous().header("cookie", cookie).get(path).await
}

/// `minor` units written in the major unit with `exp` decimals and thousands grouped, as an
/// accountant would read it (independently of the page's own formatting).
fn major(minor: i64, exp: u32) -> String {
    let unit = 10i64.pow(exp);
    let whole = (minor / unit).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if exp == 0 {
        grouped
    } else {
        format!("{grouped}.{:0w$}", minor % unit, w = exp as usize)
    }
}

fn exponent(currency: &str) -> u32 {
    if currency == "KRW" { 0 } else { 2 }
}

#[actix_web::test]
async fn only_a_signed_in_office_sees_the_dashboard() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;

    // Nobody signed in: to the sign-in page, in the visitor's language, and back after.
    for (path, to) in [
        ("/office", "/login?next=%2Foffice&lang=en"),
        (
            "/office?lang=ko",
            "/login?next=%2Foffice%3Flang%3Dko&lang=ko",
        ),
        (
            "/office/exports/funding.csv?lang=zh-Hant",
            "/login?next=%2Foffice%2Fexports%2Ffunding.csv%3Flang%3Dzh-Hant&lang=zh-Hant",
        ),
    ] {
        let res = app.anonymous().get(path).await;
        assert_eq!(res.status.as_u16(), 303, "{path}");
        assert_eq!(res.header("location").as_deref(), Some(to), "{path}");
        assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
    }

    // A company's staff: a 403 page in their language, and no link to it.
    let body = assert_page(&browse(&app, &w.company, "/office").await, 403);
    assert!(body.contains("Your account belongs to none"), "{body}");
    let home = assert_page(&browse(&app, &w.company, "/").await, 200);
    assert!(!home.contains(r#"href="/office"#), "{home}");
    let body = assert_page(&browse(&app, &w.company, "/office?lang=ko").await, 403);
    assert!(body.contains("산학협력단에도 속하지 않습니다"), "{body}");
    // Naming the university does not help: the service's refusal, as a page.
    let path = format!("/office?university_id={}", w.uni);
    let body = assert_page(&browse(&app, &w.company, &path).await, 403);
    assert!(
        body.contains("Only the university's admins and staff"),
        "{body}"
    );
    let path = format!("/office/exports/centers.csv?university_id={}", w.uni);
    assert_page(&browse(&app, &w.company, &path).await, 403);

    // The office has a link to it in the header.
    let body = assert_page(&browse(&app, &w.office, "/").await, 200);
    assert!(body.contains(r#"href="/office?lang=en""#), "{body}");

    // Another university's dashboard is not theirs; a bad date and an unknown file are
    // pages saying so.
    let other = app.org_id("university", "NTHU", "TW").await;
    let body = assert_page(
        &browse(&app, &w.office, &format!("/office?university_id={other}")).await,
        403,
    );
    assert!(body.contains(r#"role="alert""#), "{body}");
    let body = assert_page(
        &browse(&app, &w.office, "/office?from=yesterday").await,
        400,
    );
    assert!(body.contains("from: must be a date"), "{body}");
    let body = assert_page(
        &browse(&app, &w.office, "/office?from=2026-02-01&to=2026-01-01").await,
        400,
    );
    assert!(body.contains("to: must be after"), "{body}");
    let body = assert_page(
        &browse(&app, &w.office, "/office?university_id=nope").await,
        400,
    );
    assert!(body.contains("university_id"), "{body}");
    let company = app.org_id("company", "TSMC", "TW").await;
    assert_page(
        &browse(&app, &w.office, &format!("/office?university_id={company}")).await,
        403,
    );
    assert_page(
        &browse(&app, &w.office, "/office/exports/secrets.csv").await,
        404,
    );
}

#[actix_web::test]
async fn the_dashboard_shows_the_apis_figures() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let res = browse(&app, &w.office, "/office").await;
    let body = assert_page(&res, 200);
    assert!(body.contains("國立臺灣大學"), "{body}");
    assert!(
        body.contains(r#"aria-current="page">Liaison office</a>"#),
        "{body}"
    );

    // The funnel: the API's figures for the same account, in the chart and its table.
    let api = |path: String| {
        let (app, token) = (&app, w.office_token.clone());
        async move {
            let res = app.as_(&token).get(&path).await;
            res.expect(200);
            res.json()
        }
    };
    let funnel = api(format!("/api/v1/reports/funnel?university_id={}", w.uni)).await;
    let stages = [
        ("needs", "Needs with an engagement"),
        ("engagements", "Engagements"),
        ("invited", "Invited"),
        ("responded", "Answered by the professor"),
        ("agreed", "Agreed"),
        ("funded_projects_from_needs", "Funded projects from a need"),
        (
            "funded_projects_from_engagements",
            "Funded projects from an engagement",
        ),
    ];
    for (key, label) in stages {
        let n = funnel[key].as_u64().unwrap();
        assert_eq!(n, 1, "{key}: {funnel}");
        let row = format!(r#"<th scope="row">{label}</th><td class="num">{n}</td>"#);
        assert!(body.contains(&row), "{row}: {body}");
        assert!(body.contains(&format!(">{label}</text>")), "{label}");
    }
    assert!(
        body.contains(r#"role="img" aria-labelledby="funnel-chart""#),
        "{body}"
    );
    assert!(body.contains(r#"<title id="funnel-chart">"#), "{body}");
    assert!(body.contains("<svg"), "{body}");

    // Funding: per currency and year, never added across currencies.
    let funding = api(format!("/api/v1/reports/funding?university_id={}", w.uni)).await;
    let mut years: std::collections::BTreeMap<(String, i64), [i64; 3]> = Default::default();
    for r in funding["rows"].as_array().unwrap() {
        let e = years
            .entry((
                r["currency"].as_str().unwrap().to_owned(),
                r["year"].as_i64().unwrap(),
            ))
            .or_default();
        for (i, k) in ["committed_minor", "pipeline_minor", "received_minor"]
            .iter()
            .enumerate()
        {
            e[i] += r[k].as_i64().unwrap();
        }
    }
    assert_eq!(years.len(), 4, "{funding}");
    for ((currency, year), [c, p, r]) in &years {
        let exp = exponent(currency);
        let row = format!(
            r#"<tr><th scope="row">{year}</th><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td></tr>"#,
            major(*c, exp),
            major(*p, exp),
            major(*r, exp)
        );
        assert!(body.contains(&row), "{row}: {body}");
        assert!(body.contains(&format!(">Committed {}</text>", major(*c, exp))));
        assert!(body.contains(&format!(">Received {}</text>", major(*r, exp))));
    }
    for t in funding["totals"].as_array().unwrap() {
        let currency = t["currency"].as_str().unwrap();
        let exp = exponent(currency);
        let cells: Vec<String> = ["committed_minor", "pipeline_minor", "received_minor"]
            .iter()
            .map(|k| {
                format!(
                    r#"<td class="num">{}</td>"#,
                    major(t[k].as_i64().unwrap(), exp)
                )
            })
            .collect();
        let row = format!(r#"<th scope="row">Total</th>{}"#, cells.concat());
        assert!(body.contains(&row), "{row}: {body}");
        assert!(body.contains(&format!(r#"aria-labelledby="funding-{currency}""#)));
    }
    // The figures themselves: centre commitments and the active project in TWD, the gift
    // in USD, the negotiation in KRW (no minor unit).
    for figure in [
        "<td class=\"num\">106,000,000.00</td><td class=\"num\">0.00</td><td class=\"num\">300,000.00</td>",
        ">Committed 56,000,000.00</text>",
        "<td class=\"num\">500,000.00</td>",
        ">Pipeline 5,000,000</text>",
        "fill=\"url(#hatch-TWD)\"",
    ] {
        assert!(body.contains(figure), "{figure}: {body}");
    }

    // Centres with their partners and resources, recorded and on the compute platform.
    for text in [
        "NTU–MediaTek AI Center",
        "臺大聯發科人工智慧中心",
        "Chen (陳)",
        "MediaTek (founding sponsor)",
        "H100: 64 GPUs",
        "500,000 GPU-hours",
        "Center GPU cluster · H100: 64 GPUs · 100,000 GPU-hours each quarter",
        "TWD 105,000,000.00",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }

    // Funded projects with their payments, as the API totals them.
    let pay = api(format!("/api/v1/funded-projects/{}/payments", w.sponsored)).await;
    assert_eq!(
        (
            pay["scheduled_minor"].as_i64(),
            pay["received_minor"].as_i64()
        ),
        (Some(70_000_000), Some(30_000_000))
    );
    let row = format!(
        r#"<td class="num">TWD 1,000,000.00</td><td class="num">TWD {}</td><td class="num">TWD {}</td>"#,
        major(70_000_000, 2),
        major(30_000_000, 2)
    );
    assert!(body.contains(&row), "{row}: {body}");
    for text in [
        "Edge inference accelerators",
        "sponsored research",
        "negotiating",
        "KRW 5,000,000",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }

    // A period leaves out what is outside it.
    let res = browse(&app, &w.office, "/office?from=2000-01-01&to=2000-02-01").await;
    let body = assert_page(&res, 200);
    assert!(
        body.contains("No funding is recorded for this period."),
        "{body}"
    );
    assert!(body.contains(r#"value="2000-01-01""#), "{body}");
}

#[actix_web::test]
async fn the_csv_files_are_the_apis_byte_for_byte() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let body = assert_page(&browse(&app, &w.office, "/office").await, 200);
    for report in ["funnel", "funding", "centers", "faculty-funding"] {
        // The link is on the page, and opens the file.
        let href = format!(
            "/office/exports/{report}.csv?university_id={}&amp;lang=en",
            w.uni
        );
        assert!(body.contains(&href), "{href}: {body}");
        let res = browse(&app, &w.office, &href.replace("&amp;", "&")).await;
        res.expect(200);
        assert_eq!(
            res.header("content-type").as_deref(),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(
            res.header("content-disposition").as_deref(),
            Some(format!("attachment; filename=\"{report}.csv\"").as_str())
        );
        assert_eq!(res.header("cache-control").as_deref(), Some("no-store"));
        let api = app
            .as_(&w.office_token)
            .get(&format!(
                "/api/v1/reports/{report}?university_id={}&format=csv",
                w.uni
            ))
            .await;
        api.expect(200);
        assert_eq!(res.body, api.body, "{report}: {}", res.text());
        assert!(res.text().starts_with('\u{feff}'));
        assert!(res.body.len() > 40, "{report}: {}", res.text());
    }
    // A period, the same as the API's.
    let q = format!("university_id={}&from=2026-01-01&to=2027-01-01", w.uni);
    let web = browse(&app, &w.office, &format!("/office/exports/funding.csv?{q}")).await;
    let api = app
        .as_(&w.office_token)
        .get(&format!("/api/v1/reports/funding?{q}&format=csv"))
        .await;
    assert_eq!(web.body, api.body, "{}", web.text());
    assert!(!web.text().contains("2025,"), "{}", web.text());
}

#[actix_web::test]
async fn the_dashboard_speaks_korean_and_chinese() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let body = assert_page(&browse(&app, &w.office, "/office?lang=ko").await, 200);
    assert!(body.contains(r#"<html lang="ko">"#), "{body}");
    for text in [
        "산학협력단 현황",
        "수요에서 협약 과제까지",
        "연도별 연구비",
        "TWD 연구비",
        ">확정 56,000,000.00</text>",
        "연구센터",
        "협약 과제",
        "보고서 내려받기",
        "위탁 연구",
        "MediaTek (창립 후원사)",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }
    let res = app
        .anonymous()
        .header("cookie", &w.office)
        .header("accept-language", "zh-TW")
        .get("/office")
        .await;
    let body = assert_page(&res, 200);
    for text in [
        "產學合作處總覽",
        "年度經費",
        "已入帳 300,000.00",
        "MediaTek (創始贊助企業)",
    ] {
        assert!(body.contains(text), "{text}: {body}");
    }
}

#[actix_web::test]
async fn an_account_in_several_offices_chooses_the_university() {
    let app = TestApp::spawn().await;
    let ntu = app.org_id("university", "NTU", "TW").await;
    let nthu = app.org_id("university", "NTHU", "TW").await;
    let (email, password) = account(&app, &ntu, "staff", "ILO").await;
    app.operator()
        .post(
            &format!("/api/v1/organizations/{nthu}/members"),
            &json!({"email": email, "role": "admin"}),
        )
        .await
        .expect(201);
    let office = sign_in(&app, &email, &password).await;
    // The first office by default, the other one on asking.
    let body = assert_page(&browse(&app, &office, "/office").await, 200);
    assert!(body.contains("Liaison office · NTU</h1>"), "{body}");
    assert!(
        body.contains(r#"<select id="university_id" name="university_id">"#),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"<option value="{ntu}" selected>NTU</option>"#)),
        "{body}"
    );
    assert!(
        body.contains(&format!(r#"<option value="{nthu}">NTHU</option>"#)),
        "{body}"
    );
    let body = assert_page(
        &browse(&app, &office, &format!("/office?university_id={nthu}")).await,
        200,
    );
    assert!(body.contains("Liaison office · NTHU</h1>"), "{body}");
    assert!(
        body.contains(&format!(r#"<option value="{nthu}" selected>NTHU</option>"#)),
        "{body}"
    );
    assert!(
        body.contains(&format!("/office/exports/funding.csv?university_id={nthu}")),
        "{body}"
    );
}

/// Many projects: pages of 50, each page well under 200 KB, the next one a link away.
#[actix_web::test]
async fn a_large_office_pages_its_projects_and_stays_small() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let (email, password) = account(&app, &uni, "staff", "ILO").await;
    let office = sign_in(&app, &email, &password).await;
    let token = app.login(&email, &password).await;
    for i in 0..55 {
        let title = format!("Project {i:02} {}", "半導體製程與先進封裝 ".repeat(15));
        app
            .as_(&token)
            .post(
                "/api/v1/funded-projects",
                &json!({"title": title, "type": "sponsored_research", "sponsor_id": co,
                        "university_id": uni, "amount_minor": 1_000_000i64 * (i + 1), "currency": "TWD",
                        "start_date": format!("{}-01-01", 2000 + i), "status": "active",
                        "visibility": "participants"}),
            )
            .await.created_id();
    }
    let body = assert_page(&browse(&app, &office, "/office").await, 200);
    assert_eq!(body.matches("<th scope=\"row\">Project ").count(), 50);
    let at = body.find(r#"<a rel="next" href=""#).expect("a next page");
    let rest = &body[at + r#"<a rel="next" href=""#.len()..];
    let next = rest[..rest.find('"').unwrap()].replace("&amp;", "&");
    let body = assert_page(&browse(&app, &office, &next).await, 200);
    assert_eq!(body.matches("<th scope=\"row\">Project ").count(), 5);
    assert!(!body.contains(r#"rel="next""#), "{body}");
    let body = assert_page(&browse(&app, &office, "/office?cursor=garbage").await, 400);
    assert!(body.contains("cursor"), "{body}");
}
