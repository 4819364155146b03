//! Bulk import of faculty profiles, through the API and the CLI: CSV (BOM, quoted commas and
//! newlines, Korean and Chinese) and NDJSON, upserts by a stable key, a per-row report,
//! partial success, and idempotence.

mod common;

use actix_web::test::TestRequest;
use common::{Response, TestApp};
use serde_json::{Value, json};

const SAMPLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/faculty-sample.csv"
);

async fn import(
    app: &TestApp,
    token: Option<&str>,
    university_id: &str,
    content_type: &str,
    body: impl Into<Vec<u8>>,
) -> Response {
    let mut req = TestRequest::post()
        .uri(&format!(
            "/api/v1/faculty/import?university_id={university_id}"
        ))
        .insert_header(("content-type", content_type))
        .set_payload(body.into());
    if let Some(t) = token {
        req = req.insert_header(("authorization", format!("Bearer {t}")));
    }
    app.send(req).await
}

/// NDJSON lines imported by the operator: the report (the import must answer 200).
async fn import_ndjson(app: &TestApp, university_id: &str, lines: &[String]) -> Value {
    let token = Some(app.operator_token.as_str());
    let res = import(
        app,
        token,
        university_id,
        "application/x-ndjson",
        lines.join("\n"),
    )
    .await;
    res.expect(200);
    res.json()
}

/// The file row each reported row is about, in report order.
fn row_numbers(report: &Value) -> Vec<u64> {
    common::each(report, "rows", |r| r["row"].as_u64().unwrap())
}

fn statuses(report: &Value) -> Vec<String> {
    common::each(report, "rows", |r| r["status"].as_str().unwrap().to_owned())
}

/// The university's profiles as the operator lists them.
async fn listed(app: &TestApp, university_id: &str) -> Vec<Value> {
    let list = app
        .operator()
        .get(&format!("/api/v1/faculty?university_id={university_id}"))
        .await
        .json();
    list["items"].as_array().unwrap().clone()
}

async fn profile(app: &TestApp, id: &Value) -> Response {
    app.operator()
        .get(&format!("/api/v1/faculty/{}", id.as_str().unwrap()))
        .await
}

#[actix_web::test]
async fn the_sample_csv_imports_and_a_second_import_changes_nothing() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NYCU", "TW").await;
    let staff = app.member_token(&uni, "staff").await;
    let file = std::fs::read(SAMPLE).unwrap();
    assert!(
        file.starts_with(b"\xEF\xBB\xBF"),
        "the sample carries a BOM"
    );

    let res = import(
        &app,
        Some(&staff),
        &uni,
        "text/csv; charset=utf-8",
        file.clone(),
    )
    .await;
    res.expect(200);
    let report = res.json();
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(3), Some(0)),
        "{report}"
    );
    assert_eq!(statuses(&report), ["created", "created", "created"]);
    assert_eq!(report["rows"][0]["key"], "NYCU-CS-001");
    assert_eq!(report["rows"][2]["row"], 3);

    let chen = profile(&app, &report["rows"][0]["id"]).await.json();
    assert_eq!(chen["local_name"], "陳建宏");
    assert_eq!(chen["orcid"], "0000-0002-1825-0097");
    assert_eq!(
        chen["research_interests"],
        "Large language model training on GPU clusters, distributed systems"
    );
    assert_eq!(
        chen["bio"],
        "Leads the AI systems lab.\nPreviously at an industry research centre in Hsinchu."
    );
    assert_eq!(
        chen["keywords"],
        json!(["LLM", "GPU clusters", "distributed training"])
    );
    assert_eq!(
        chen["availability"],
        json!(["sponsored_research", "joint_lab"])
    );
    let lin = profile(&app, &report["rows"][1]["id"]).await.json();
    assert_eq!(
        lin["research_interests"],
        "先進製程良率分析, 半導體缺陷檢測"
    );
    assert_eq!(lin["visibility"], "members");
    assert!(lin["bio"].is_null());
    let kim = profile(&app, &report["rows"][2]["id"]).await.json();
    assert_eq!(kim["local_name"], "김민준");
    assert_eq!(kim["bio"], "Works on \"explainable\" diagnosis models.");
    assert_eq!(kim["keywords"], json!(["medical imaging", "딥러닝"]));

    // The members-only row stays hidden from anonymous callers.
    let anon = app
        .anonymous()
        .get(&format!("/api/v1/faculty?university_id={uni}"))
        .await
        .json();
    assert_eq!(anon["items"].as_array().unwrap().len(), 2);

    // Same file again: every row unchanged, no version moves.
    let again = import(&app, Some(&staff), &uni, "text/csv", file)
        .await
        .json();
    assert_eq!(statuses(&again), ["unchanged", "unchanged", "unchanged"]);
    assert_eq!(again["rows"][0]["id"], report["rows"][0]["id"]);
    assert_eq!(
        profile(&app, &report["rows"][0]["id"])
            .await
            .header("etag")
            .as_deref(),
        Some("\"1\"")
    );
    // The same file without its BOM is the same data.
    let text = std::fs::read_to_string(SAMPLE).unwrap();
    let again = import(
        &app,
        Some(&staff),
        &uni,
        "text/csv",
        text.trim_start_matches('\u{feff}').to_owned(),
    )
    .await
    .json();
    assert_eq!(again["unchanged"], 3);
}

#[actix_web::test]
async fn valid_rows_are_saved_while_bad_rows_are_reported() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let staff = app.member_token(&uni, "staff").await;
    let csv = "external_id,orcid,name,email,availability,keywords\n\
               A-1,,Good One,good@example.edu,consulting,optics;photonics\n\
               A-2,0000-0002-1825-0098,Bad Orcid,,,\n\
               A-3,,Bad Email,not-an-email,,\n\
               ,,No Key,,,\n\
               A-5,,Bad Availability,,golf,\n\
               A-6,,,,,\n\
               A-7,,\"Quoted, Name\",,Joint Lab,\n\
               A-8,too,many,cells,here,x,y\n";
    let res = import(&app, Some(&staff), &uni, "text/csv", csv).await;
    res.expect(200);
    let report = res.json();
    assert_eq!(
        statuses(&report),
        [
            "created", "rejected", "rejected", "rejected", "rejected", "rejected", "created",
            "rejected"
        ],
        "{report}"
    );
    let reason = |i: usize| {
        report["rows"][i]["errors"][0]["field"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(reason(1), "orcid");
    assert_eq!(reason(2), "email");
    assert_eq!(reason(3), "external_id");
    assert_eq!(reason(4), "availability");
    assert_eq!(reason(5), "name");
    assert_eq!(reason(7), "row");
    assert_eq!(report["rows"][2]["key"], "A-3");
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(6))
    );
    let names: Vec<String> = app
        .anonymous()
        .get(&format!("/api/v1/faculty?university_id={uni}"))
        .await
        .json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Good One", "Quoted, Name"]);

    // Fixing a row updates it in place; the untouched row stays unchanged.
    let csv = "external_id,name,email,availability,keywords\n\
               A-1,Good One,good@example.edu,consulting;licensing,optics;photonics\n\
               A-7,\"Quoted, Name\",,joint_lab,\n";
    let report = import(&app, Some(&staff), &uni, "text/csv", csv)
        .await
        .json();
    assert_eq!(statuses(&report), ["updated", "unchanged"], "{report}");
    let good = profile(&app, &report["rows"][0]["id"]).await;
    assert_eq!(good.header("etag").as_deref(), Some("\"2\""));
    assert_eq!(
        good.json()["availability"],
        json!(["consulting", "licensing"])
    );
}

#[actix_web::test]
async fn ndjson_carries_publications_and_csv_updates_do_not_wipe_them() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "SNU", "TW").await;
    let ndjson = [
        json!({"orcid": "https://orcid.org/0000-0002-1825-0097", "name": "Park Ji-hoon", "local_name": "박지훈",
               "keywords": ["반도체", "HBM"], "visibility": "members",
               "publications": [{"title": "HBM 열 관리", "year": 2024, "doi": "10.1000/xyz"},
                                {"title": "3D stacking", "abstract": "Thermal...", "year": 2022}]})
        .to_string(),
        String::new(),
        json!({"external_id": "SNU-9", "university_id": uni, "name": "Lee Seo-yeon", "availability": ["licensing"]}).to_string(),
        "{not json".to_owned(),
        json!({"external_id": "SNU-10", "name": "X", "favourite_colour": "blue"}).to_string(),
        json!({"external_id": "SNU-11", "name": "Y", "owner_user_id": "0190c2a4-0000-7000-8000-000000000000"}).to_string(),
        json!(["not", "an", "object"]).to_string(),
    ]
    .join("\n");
    let res = import(
        &app,
        Some(&app.operator_token),
        &uni,
        "application/x-ndjson",
        ndjson.clone(),
    )
    .await;
    res.expect(200);
    let report = res.json();
    assert_eq!(
        statuses(&report),
        [
            "created", "created", "rejected", "rejected", "rejected", "rejected"
        ],
        "{report}"
    );
    let lines = row_numbers(&report);
    assert_eq!(
        lines,
        [1, 3, 4, 5, 6, 7],
        "rows are numbered by line, blank lines skipped"
    );
    assert_eq!(report["rows"][0]["key"], "0000-0002-1825-0097");
    let park_id = report["rows"][0]["id"].clone();
    let park = profile(&app, &park_id).await.json();
    assert_eq!(park["publication_count"], 2);
    assert_eq!(park["publications"][0]["title"], "HBM 열 관리");

    let again = import(
        &app,
        Some(&app.operator_token),
        &uni,
        "application/x-ndjson",
        ndjson,
    )
    .await
    .json();
    assert_eq!(statuses(&again)[..2], ["unchanged", "unchanged"]);

    // A CSV row keyed by the same ORCID updates the columns it has and keeps the rest.
    let csv = "orcid,title\n0000-0002-1825-0097,Professor\n";
    let report = import(&app, Some(&app.operator_token), &uni, "text/csv", csv)
        .await
        .json();
    assert_eq!(statuses(&report), ["updated"]);
    let park = profile(&app, &park_id).await.json();
    assert_eq!(park["title"], "Professor");
    assert_eq!(park["publication_count"], 2);
    assert_eq!(park["local_name"], "박지훈");
    assert_eq!(park["visibility"], "members");
}

#[actix_web::test]
async fn only_the_universitys_office_may_import_and_bad_files_change_nothing() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "TW").await;
    let other = app.org_id("university", "POSTECH", "TW").await;
    let company = app.org_id("company", "Samsung Electronics", "KR").await;
    let csv = "external_id,name\nK-1,Kim\n";
    import(&app, None, &uni, "text/csv", csv).await.expect(401);
    for (org, role) in [
        (&other, "staff"),
        (&other, "admin"),
        (&uni, "faculty"),
        (&company, "staff"),
    ] {
        let token = app.member_token(org, role).await;
        import(&app, Some(&token), &uni, "text/csv", csv)
            .await
            .expect(403);
    }
    let admin = app.member_token(&uni, "admin").await;
    let staff = app.member_token(&uni, "staff").await;
    import(&app, Some(&staff), &uni, "application/json", csv)
        .await
        .expect(415);
    import(
        &app,
        Some(&staff),
        &uni,
        "text/csv",
        b"external_id,name\nK-1,\xff\xfe\n".to_vec(),
    )
    .await
    .expect(422);
    let res = import(
        &app,
        Some(&staff),
        &uni,
        "text/csv",
        "external_id,name,shoe_size\nK-1,Kim,42\n",
    )
    .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["field"], "shoe_size");
    import(
        &app,
        Some(&staff),
        &uni,
        "text/csv",
        "name,title\nKim,Prof\n",
    )
    .await
    .expect(422);
    import(&app, Some(&staff), &company, "text/csv", csv)
        .await
        .expect(403);
    import(&app, Some(&app.operator_token), &company, "text/csv", csv)
        .await
        .expect(400);
    import(&app, Some(&staff), "not-an-id", "text/csv", csv)
        .await
        .expect(400);
    let res = app
        .send(
            TestRequest::post()
                .uri("/api/v1/faculty/import")
                .insert_header(("content-type", "text/csv"))
                .insert_header(("authorization", format!("Bearer {staff}")))
                .set_payload(csv),
        )
        .await;
    res.expect(400);
    assert!(
        app.anonymous().get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing was saved"
    );
    // The office's admin may import too.
    assert_eq!(
        import(&app, Some(&admin), &uni, "text/csv", csv)
            .await
            .json()["created"],
        1
    );
}

#[actix_web::test]
async fn imports_over_the_configured_size_are_413() {
    let app = TestApp::spawn_with(|s| s.max_import_bytes = 1024).await;
    let uni = app.org_id("university", "NCKU", "TW").await;
    let mut csv = String::from("external_id,name\n");
    for i in 0..100 {
        csv.push_str(&format!("N-{i},Professor {i}\n"));
    }
    import(&app, Some(&app.operator_token), &uni, "text/csv", csv)
        .await
        .expect(413);
    assert!(
        app.anonymous().get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[actix_web::test]
async fn the_cli_imports_the_same_file_with_the_same_report() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTU", "TW").await;
    let run = |file: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
            .current_dir(app.dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("LIAISON_DATABASE_URL", &app.db.url)
            .args(["import", "faculty", file, "--university-id", &uni])
            .output()
            .unwrap()
    };
    let out = run(SAMPLE);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["created"], 3);
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("created 3, updated 0, unchanged 0, rejected 0")
    );
    // The API sees what the CLI wrote, and the CLI's second run changes nothing.
    assert_eq!(
        app.operator().get("/api/v1/faculty").await.json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let again: Value = serde_json::from_slice(&run(SAMPLE).stdout).unwrap();
    assert_eq!(statuses(&again), ["unchanged", "unchanged", "unchanged"]);

    // Rejected rows: the good ones are saved and the exit status is 2.
    let bad = app.dir.path().join("bad.csv");
    std::fs::write(&bad, "external_id,name,email\nX-1,Fine,\nX-2,Broken,nope\n").unwrap();
    let out = run(bad.to_str().unwrap());
    assert_eq!(out.status.code(), Some(2));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(statuses(&report), ["created", "rejected"]);
    // Unknown formats are refused before anything is read.
    let out = run("faculty.xlsx");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains(".csv"));
}

/// On PostgreSQL an import leaves the planner's statistics current: right after a bulk load
/// the planner must not take the tables for empty (it then scanned every publication to load
/// a few profiles').
#[actix_web::test]
async fn a_bulk_import_leaves_the_planner_statistics_current() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "TW").await;
    let ndjson: Vec<String> = (0..300)
        .map(|i| {
            json!({"external_id": format!("K-{i}"), "name": format!("Researcher {i}"),
                   "keywords": ["batteries", "solid electrolytes"],
                   "publications": [{"title": format!("Solid electrolyte interfaces {i}"), "year": 2024},
                                    {"title": "Lithium metal anodes", "abstract": "Dendrites...", "year": 2023},
                                    {"title": "Thermal runaway", "year": 2022}]})
            .to_string()
        })
        .collect();
    assert_eq!(import_ndjson(&app, &uni, &ndjson).await["created"], 300);
    if app.db.is_postgres() {
        let at_least = |table: &str, rows: u32| {
            app.db.try_execute(&format!(
                "DO $$ BEGIN IF (SELECT reltuples FROM pg_class WHERE relname = '{table}' \
                 AND relnamespace = current_schema()::regnamespace) < {rows} \
                 THEN RAISE EXCEPTION '{table}: statistics out of date'; END IF; END $$"
            ))
        };
        assert_eq!(at_least("faculty_profiles", 300), Ok(0));
        assert_eq!(at_least("publications", 900), Ok(0));
        assert_eq!(at_least("faculty_keywords", 600), Ok(0));
        assert!(at_least("publications", 901).is_err());
    }
}

/// A file larger than one transaction takes (1,000 rows, or what 250 ms allows) is imported in
/// several, with every row reported once, in file order, bad rows included.
#[actix_web::test]
async fn a_large_file_is_imported_in_several_transactions_in_order() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "NTHU", "TW").await;
    let rows = 1_500;
    let ndjson: Vec<String> = (0..rows)
        .map(|i| {
            if i % 500 == 7 {
                // No key: rejected, the rest of its transaction saved.
                json!({"name": format!("Nobody {i}")}).to_string()
            } else {
                json!({"external_id": format!("T-{i}"), "name": format!("Researcher {i}"),
                       "publications": [{"title": format!("Wafer defects {i}"), "year": 2024}]})
                .to_string()
            }
        })
        .collect();
    let report = import_ndjson(&app, &uni, &ndjson).await;
    assert_eq!(report["created"], rows - 3);
    assert_eq!(report["rejected"], 3);
    assert_eq!(row_numbers(&report), (1..=rows as u64).collect::<Vec<_>>());
    let statuses = statuses(&report);
    for (i, status) in statuses.iter().enumerate() {
        let expected = if i % 500 == 7 { "rejected" } else { "created" };
        assert_eq!(status, expected, "row {}", i + 1);
    }
    // Saved, not just reported: the last row's profile is there.
    let last = report["rows"][rows - 1]["id"].clone();
    profile(&app, &last).await.expect(200);
}

#[actix_web::test]
async fn a_key_repeated_in_one_file_updates_the_profile_its_first_row_created() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "KAIST", "TW").await;
    let orcid = "0000-0002-1825-0097";
    let ndjson: Vec<String> = [
        json!({"external_id": "K-1", "orcid": orcid, "name": "Kim Min-jun",
               "keywords": ["LLM"]}),
        json!({"external_id": "K-2", "name": "Lee Ji-woo"}),
        // The same office id again: the profile the first row made, updated.
        json!({"external_id": "K-1", "name": "Kim Min-jun", "keywords": ["LLM", "GPU"]}),
        // Only the ORCID iD of the first row: the same profile again.
        json!({"orcid": format!("https://orcid.org/{orcid}"), "title": "Professor"}),
        // A row that repeats itself changes nothing.
        json!({"external_id": "K-2", "name": "Lee Ji-woo"}),
        json!({"external_id": "K-3", "name": "Park Seo-yeon"}),
    ]
    .iter()
    .map(Value::to_string)
    .collect();
    let report = import_ndjson(&app, &uni, &ndjson).await;
    assert_eq!(
        statuses(&report),
        [
            "created",
            "created",
            "updated",
            "updated",
            "unchanged",
            "created"
        ],
        "{report}"
    );
    assert_eq!(row_numbers(&report), [1, 2, 3, 4, 5, 6]);
    let id = |i: usize| report["rows"][i]["id"].clone();
    assert_eq!(id(2), id(0));
    assert_eq!(id(3), id(0));
    assert_eq!(id(4), id(1));
    let kim = profile(&app, &id(0)).await;
    assert_eq!(kim.header("etag").as_deref(), Some("\"3\""));
    let kim = kim.json();
    assert_eq!(kim["keywords"], json!(["LLM", "GPU"]));
    assert_eq!(kim["title"], "Professor");
    assert_eq!(kim["orcid"], orcid);
    assert_eq!(listed(&app, &uni).await.len(), 3);
}

#[actix_web::test]
async fn a_row_the_database_refuses_is_rejected_alone() {
    let app = TestApp::spawn().await;
    let uni = app.org_id("university", "POSTECH", "TW").await;
    // A rule the database enforces that validation does not know (as a constraint added by
    // an administrator would be): new profiles are written together, and when that fails,
    // each alone, so only the refused row is reported.
    let refused = "Refused by the database";
    if app.db.is_postgres() {
        app.db.execute(&format!(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN \
             IF NEW.title = '{refused}' THEN RAISE EXCEPTION 'refused'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql"
        ));
        app.db.execute(
            "CREATE TRIGGER refuse BEFORE INSERT ON publications \
             FOR EACH ROW EXECUTE FUNCTION refuse()",
        );
    } else {
        app.db.execute(&format!(
            "CREATE TRIGGER refuse BEFORE INSERT ON publications \
             WHEN NEW.title = '{refused}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
        ));
    }
    let ndjson: Vec<String> = (0..5)
        .map(|i| {
            let title = if i == 2 {
                refused.to_owned()
            } else {
                format!("Paper {i}")
            };
            json!({"external_id": format!("P-{i}"), "name": format!("Researcher {i}"),
                   "publications": [{"title": title}]})
            .to_string()
        })
        .collect();
    let report = import_ndjson(&app, &uni, &ndjson).await;
    assert_eq!(
        statuses(&report),
        ["created", "created", "rejected", "created", "created"],
        "{report}"
    );
    assert_eq!(report["rows"][2]["key"], "P-2");
    assert!(report["rows"][2]["id"].is_null(), "{report}");
    for i in [0, 1, 3, 4] {
        let p = profile(&app, &report["rows"][i]["id"]).await;
        p.expect(200);
        assert_eq!(p.json()["publications"][0]["title"], format!("Paper {i}"));
    }
    assert_eq!(listed(&app, &uni).await.len(), 4);
}
