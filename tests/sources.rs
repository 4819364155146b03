//! Profiles synced from ORCID and OpenAlex, through the API, against the local fake of both
//! sources (`liaison::demo::fake_sources`, serving their published formats): what a sync
//! fills in, the provenance and merge rules, each failure mode, and bulk jobs.

mod common;

use std::time::Duration;

use common::{TestApp, each};
use liaison::demo::fake_sources::{FakeSources, Fault};
use serde_json::{Value, json};

const LIN: &str = "0000-0001-5109-3700";
const CARBERRY: &str = "0000-0002-1825-0097";
const PRIVATE: &str = "0000-0002-9079-593X";
/// A checksum-valid iD that neither fake source knows.
const UNKNOWN: &str = "0000-0002-1694-233X";
const CONTACT: &str = "liaison-ops@nycu.example";

struct World {
    app: TestApp,
    fake: FakeSources,
    university: String,
    /// A member of the university's liaison office.
    staff: String,
}

async fn world() -> World {
    world_with(|_| {}).await
}

async fn world_with(tweak: impl FnOnce(&mut liaison::config::Settings) + 'static) -> World {
    let fake = FakeSources::start().expect("start the fake sources");
    let (orcid, openalex) = (fake.orcid_base_url(), fake.openalex_base_url());
    let app = TestApp::spawn_with(move |s| {
        s.orcid_base_url = orcid;
        s.openalex_base_url = openalex;
        s.sources_contact_email = Some(CONTACT.to_owned());
        s.sources_timeout_secs = 1;
        s.sources_max_retries = 2;
        s.sources_retry_base_ms = 10;
        s.sources_max_retry_wait_secs = 3;
        s.orcid_requests_per_second = 100;
        s.openalex_requests_per_second = 100;
        tweak(s);
    })
    .await;
    let university = app
        .org_id(
            "university",
            "National Yang Ming Chiao Tung University",
            "TW",
        )
        .await;
    let staff = app.member_token(&university, "staff").await;
    World {
        app,
        fake,
        university,
        staff,
    }
}

impl World {
    /// A profile of Lin Mei-Ling, whom both fake sources know, typed as name and iD only.
    async fn lin(&self) -> String {
        self.profile(json!({"name": "Lin Mei-Ling", "orcid": LIN}))
            .await
    }

    /// The office asks for a bulk sync of its university, from both sources.
    async fn start_bulk(&self) -> common::Response {
        self.app
            .as_(&self.staff)
            .post(
                "/api/v1/faculty/sync",
                &json!({"university_id": self.university}),
            )
            .await
    }

    async fn profile(&self, body: Value) -> String {
        let mut body = body;
        body["university_id"] = self.university.clone().into();
        let res = self
            .app
            .as_(&self.staff)
            .post("/api/v1/faculty", &body)
            .await;
        res.expect(201);
        res.id()
    }

    async fn sync(&self, id: &str, query: &str) -> Value {
        let res = self
            .app
            .as_(&self.staff)
            .post(&format!("/api/v1/faculty/{id}/sync?{query}"), &Value::Null)
            .await;
        res.expect(200);
        res.json()
    }

    async fn read(&self, id: &str) -> (Value, String) {
        let res = self
            .app
            .as_(&self.staff)
            .get(&format!("/api/v1/faculty/{id}"))
            .await;
        res.expect(200);
        (res.json(), res.header("etag").unwrap_or_default())
    }
}

/// An ORCID fixture, to serve changed through the fake.
fn orcid_fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn titles(profile: &Value) -> Vec<String> {
    each(profile, "publications", |p| {
        p["title"].as_str().unwrap_or_default().to_owned()
    })
}

fn source_of<'a>(profile: &'a Value, title_start: &str) -> &'a Value {
    profile["publications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["title"].as_str().unwrap().starts_with(title_start))
        .unwrap_or_else(|| panic!("no publication {title_start}: {profile}"))
}

#[actix_web::test]
async fn a_sync_fills_the_profile_from_both_sources_with_provenance() {
    let w = world().await;
    let id = w.lin().await;
    let report = w.sync(&id, "refresh=wait_for").await;

    assert_eq!(report["changed"], true, "{report}");
    assert_eq!(
        each(&report, "sources", |s| s["status"].clone()),
        vec![json!("succeeded"), json!("succeeded")]
    );
    assert_eq!(
        each(&report, "sources", |s| s["works"].clone()),
        vec![json!(3), json!(5)],
        "ORCID lists 3 works, OpenAlex 5"
    );
    // Two OpenAlex works are ORCID's: one by DOI (its title differs in case and
    // punctuation), one by title and year (neither has a DOI).
    assert_eq!(report["publications"]["added"], 6, "{report}");

    let (profile, _) = w.read(&id).await;
    assert_eq!(profile["name"], "Lin Mei-Ling", "typed by hand: kept");
    assert_eq!(profile["local_name"], "林美玲");
    assert_eq!(
        profile["department"],
        "Institute of Computer Science and Engineering"
    );
    assert_eq!(profile["title"], "Associate Professor");
    assert_eq!(profile["openalex_id"], "A5000000001");
    assert!(
        profile["bio"]
            .as_str()
            .unwrap()
            .contains("large language models")
    );
    // ORCID's keywords, then OpenAlex's topics.
    let keywords = each(&profile, "keywords", |k| k.clone());
    assert_eq!(
        keywords[..3],
        [
            json!("large language models"),
            json!("GPU clusters"),
            json!("distributed training")
        ]
    );
    assert!(keywords.contains(&json!("Parallel Computing and Optimization Techniques")));

    assert_eq!(profile["provenance"]["name"]["source"], "manual");
    assert_eq!(profile["provenance"]["department"]["source"], "orcid");
    assert_eq!(profile["provenance"]["keywords"]["source"], "orcid");
    assert_eq!(profile["provenance"]["openalex_id"]["source"], "openalex");
    assert_eq!(profile["provenance"]["orcid"]["source"], "manual");

    assert_eq!(profile["publications"].as_array().unwrap().len(), 6);
    let zero = source_of(&profile, "ZeRO-Chain");
    assert_eq!(zero["doi"], "10.1145/3620665.3640366");
    assert_eq!(zero["provenance"]["source"], "orcid");
    assert_eq!(zero["provenance"]["source_id"], "158234571");
    // ORCID has no short description for this one; OpenAlex's abstract fills it.
    let energy = source_of(&profile, "Energy-Aware Checkpointing");
    assert_eq!(energy["provenance"]["source"], "orcid");
    let only_openalex = source_of(&profile, "Curriculum Data Mixing");
    assert_eq!(only_openalex["provenance"]["source"], "openalex");
    assert_eq!(only_openalex["provenance"]["source_id"], "W4412000104");
    assert!(
        only_openalex["abstract"]
            .as_str()
            .unwrap()
            .split(' ')
            .count()
            > 20,
        "the abstract is rebuilt from its inverted index: {only_openalex}"
    );
    let sync = each(&profile, "sync", |s| s["source"].clone());
    assert_eq!(sync, vec![json!("orcid"), json!("openalex")]);
    assert!(profile["sync"][0]["succeeded_at"].is_string());

    // What the sources gave is searchable (an OpenAlex abstract's words).
    let found = w
        .app
        .anonymous()
        .get("/api/v1/search?type=faculty&q=continual%20pretraining%20curriculum")
        .await;
    found.expect(200);
    assert_eq!(
        found.json()["items"][0]["id"],
        id.as_str(),
        "{}",
        found.text()
    );

    // ... and takes part in matching: a need about that work finds the profile, through
    // its synced publications.
    let company = w.app.org_id("company", "MediaTek", "TW").await;
    let need = w
        .app
        .create_indexed(
            "/api/v1/needs",
            &json!({"company_id": company, "title": "Optimizer-state sharding for LLM training",
                "description": "Pipelined optimizer-state sharding and straggler-aware gradient synchronization across heterogeneous GPU clusters.",
                "status": "open", "visibility": "public"}),
        )
        .await;
    let matches = w
        .app
        .anonymous()
        .get(&format!("/api/v1/needs/{need}/matches"))
        .await;
    matches.expect(200);
    let top = &matches.json()["items"][0];
    assert_eq!(top["faculty"]["id"], id.as_str(), "{}", matches.text());
    assert!(
        top.to_string().contains("Straggler-Aware"),
        "explained by the publication: {top}"
    );
    assert_eq!(
        report["sources"][0]["affiliation"],
        "National Yang Ming Chiao Tung University"
    );

    // Fair use: the contact travels in the User-Agent, and as OpenAlex's `mailto`.
    let received = w.fake.faults.received();
    assert!(received.iter().all(|r| r.user_agent.contains(CONTACT)));
    assert!(
        received
            .iter()
            .filter(|r| r.path.starts_with("/openalex"))
            .all(|r| r.query.contains("mailto=liaison-ops%40nycu.example"))
    );
}

#[actix_web::test]
async fn a_second_sync_of_unchanged_sources_changes_nothing() {
    let w = world().await;
    let id = w.lin().await;
    w.sync(&id, "").await;
    let (before, etag) = w.read(&id).await;
    let again = w.sync(&id, "").await;
    assert_eq!(again["changed"], false, "{again}");
    assert_eq!(again["fields"], json!([]));
    assert_eq!(
        again["publications"],
        json!({"added": 0, "updated": 0, "removed": 0, "kept": 0, "skipped_deleted": 0, "skipped_invalid": 0})
    );
    let (after, etag_after) = w.read(&id).await;
    assert_eq!(etag, etag_after, "no new version");
    assert_eq!(before["publications"], after["publications"]);
}

#[actix_web::test]
async fn hand_typed_fields_and_publications_win_and_deleted_ones_stay_deleted() {
    let w = world().await;
    let id = w
        .profile(json!({
            "name": "Lin Mei-Ling", "orcid": LIN, "department": "Computer Science",
            "publications": [{"title": "ZeRO-Chain (our own write-up)", "doi": "10.1145/3620665.3640366", "year": 2024}]
        }))
        .await;
    let report = w.sync(&id, "").await;
    assert_eq!(report["publications"]["kept"], 1, "{report}");
    assert_eq!(report["publications"]["added"], 5, "{report}");
    assert!(
        !report["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("department"))
    );
    let (profile, etag) = w.read(&id).await;
    assert_eq!(profile["department"], "Computer Science");
    assert_eq!(profile["provenance"]["department"]["source"], "manual");
    let own = source_of(&profile, "ZeRO-Chain (our own");
    assert_eq!(own["provenance"]["source"], "manual");
    assert_eq!(
        titles(&profile)
            .iter()
            .filter(|t| t.starts_with("ZeRO") || t.starts_with("Zero"))
            .count(),
        1
    );

    // The owner's office deletes a synced publication: no later sync brings it back.
    let kept: Vec<Value> = profile["publications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            !p["title"]
                .as_str()
                .unwrap()
                .starts_with("Curriculum Data Mixing")
        })
        .cloned()
        .collect();
    w.app
        .as_(&w.staff)
        .if_match(&etag)
        .patch(
            &format!("/api/v1/faculty/{id}"),
            &json!({"publications": kept}),
        )
        .await
        .expect(200);
    let again = w.sync(&id, "").await;
    assert_eq!(again["publications"]["skipped_deleted"], 1, "{again}");
    assert_eq!(again["changed"], false, "{again}");
    let (profile, _) = w.read(&id).await;
    assert!(!titles(&profile).iter().any(|t| t.starts_with("Curriculum")));
    assert_eq!(own["provenance"]["source"], "manual");

    // A field the office cleared by hand stays cleared.
    let (_, etag) = w.read(&id).await;
    w.app
        .as_(&w.staff)
        .if_match(&etag)
        .patch(&format!("/api/v1/faculty/{id}"), &json!({"bio": null}))
        .await
        .expect(200);
    w.sync(&id, "").await;
    let (profile, _) = w.read(&id).await;
    assert_eq!(profile["bio"], Value::Null);
    assert_eq!(profile["provenance"]["bio"]["source"], "manual");
}

#[actix_web::test]
async fn synced_publications_follow_their_source() {
    let w = world().await;
    let id = w.lin().await;
    w.sync(&id, "sources=orcid").await;
    let (profile, _) = w.read(&id).await;
    assert_eq!(profile["publications"].as_array().unwrap().len(), 3);
    let first = source_of(&profile, "Straggler-Aware")["provenance"]["recorded_at"].clone();

    // ORCID now describes one work differently and no longer lists another.
    let works: Value = orcid_fixture(include_str!(
        "../src/demo/sources/orcid/0000-0001-5109-3700.works.json"
    ));
    let mut changed = works.clone();
    let bulk = changed["bulk"].as_array_mut().unwrap();
    bulk.retain(|item| item["work"]["put-code"] != json!(171005318));
    for item in bulk.iter_mut() {
        if item["work"]["put-code"] == json!(149870236) {
            item["work"]["short-description"] = json!("A revised abstract about stragglers.");
        }
    }
    let mut record: Value = orcid_fixture(include_str!(
        "../src/demo/sources/orcid/0000-0001-5109-3700.record.json"
    ));
    record["activities-summary"]["works"]["group"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["work-summary"][0]["put-code"] != json!(171005318));
    w.fake
        .faults
        .replace(&format!("/{LIN}/works/"), changed.to_string());
    w.fake
        .faults
        .replace(&format!("/{LIN}/record"), record.to_string());

    let report = w.sync(&id, "sources=orcid").await;
    assert_eq!(report["publications"]["updated"], 1, "{report}");
    assert_eq!(report["publications"]["removed"], 1, "{report}");
    let (profile, _) = w.read(&id).await;
    let straggler = source_of(&profile, "Straggler-Aware");
    assert_eq!(
        straggler["abstract"],
        "A revised abstract about stragglers."
    );
    assert_ne!(straggler["provenance"]["recorded_at"], first);
    assert!(
        !titles(&profile)
            .iter()
            .any(|t| t.starts_with("Energy-Aware"))
    );
}

#[actix_web::test]
async fn each_failure_is_reported_for_its_source_and_changes_nothing() {
    let w = world().await;
    let cases = [
        (UNKNOWN, None, "unknown_id"),
        (PRIVATE, None, "private_record"),
        (
            liaison::demo::fake_sources::DEACTIVATED_ORCID,
            None,
            "deactivated",
        ),
        (LIN, Some(Fault::Status(503, None)), "source_unavailable"),
        (
            LIN,
            Some(Fault::Delay(Duration::from_millis(2500))),
            "timeout",
        ),
        (LIN, Some(Fault::Malformed), "malformed_response"),
        (LIN, Some(Fault::Status(429, Some(60))), "rate_limited"),
    ];
    let mut profiles = std::collections::HashMap::new();
    for (orcid, fault, code) in cases {
        if !profiles.contains_key(orcid) {
            let id = w.profile(json!({"name": "Someone", "orcid": orcid})).await;
            profiles.insert(orcid, id);
        }
        let id = profiles[orcid].clone();
        let (_, etag) = w.read(&id).await;
        w.fake.faults.clear();
        if let Some(fault) = fault {
            w.fake
                .faults
                .inject(&format!("/orcid/v3.0/{orcid}/record"), 3, fault);
        }
        let report = w.sync(&id, "sources=orcid").await;
        assert_eq!(report["changed"], false, "{code}: {report}");
        assert_eq!(report["sources"][0]["status"], "failed", "{code}: {report}");
        assert_eq!(report["sources"][0]["error"]["code"], code, "{report}");
        let (profile, etag_after) = w.read(&id).await;
        assert_eq!(etag, etag_after, "{code}: nothing changed");
        assert_eq!(profile["sync"][0]["error"]["code"], code);
        if orcid != LIN {
            assert!(profile["sync"][0].get("succeeded_at").is_none());
        }
    }
    w.fake.faults.clear();
}

#[actix_web::test]
async fn retries_wait_out_429_and_5xx_then_succeed() {
    let w = world().await;
    let id = w
        .profile(json!({"name": "Josiah Carberry", "orcid": CARBERRY}))
        .await;
    let record = format!("/orcid/v3.0/{CARBERRY}/record");
    w.fake
        .faults
        .inject(&record, 1, Fault::Status(429, Some(1)));
    w.fake.faults.inject(&record, 1, Fault::Status(502, None));
    let report = w.sync(&id, "sources=orcid").await;
    assert_eq!(report["sources"][0]["status"], "succeeded", "{report}");
    let asked: Vec<_> = w
        .fake
        .faults
        .received()
        .into_iter()
        .filter(|r| r.path == record)
        .collect();
    assert_eq!(asked.len(), 3, "429, 502, then the record");
    assert!(
        asked[1].at.duration_since(asked[0].at) >= Duration::from_millis(950),
        "the client waited for Retry-After"
    );
    let (profile, _) = w.read(&id).await;
    // The current employment at Brown, not the past one.
    assert_eq!(profile["department"], "Psychoceramics");
    assert_eq!(
        profile["publications"].as_array().unwrap().len(),
        4,
        "one publication per ORCID work group: {profile}"
    );
    let silly = source_of(&profile, "Toward a Unified Theory");
    assert_eq!(silly["doi"], "10.5555/12345678");
    assert_eq!(silly["year"], 2008);
}

#[actix_web::test]
async fn who_may_sync_and_bad_requests() {
    let w = world().await;
    let id = w.lin().await;
    let bare = w.profile(json!({"name": "No Identifiers"})).await;
    let path = format!("/api/v1/faculty/{id}/sync");

    w.app
        .anonymous()
        .post(&path, &Value::Null)
        .await
        .expect(401);
    let other = w
        .app
        .org_id("university", "Seoul National University", "KR")
        .await;
    let outsider = w.app.member_token(&other, "staff").await;
    w.app
        .as_(&outsider)
        .post(&path, &Value::Null)
        .await
        .expect(403);
    let res = w
        .app
        .as_(&w.staff)
        .post(&format!("{path}?sources=orcid,scopus"), &Value::Null)
        .await;
    res.expect(400);
    assert_eq!(res.json()["errors"][0]["field"], "sources");
    let res = w
        .app
        .as_(&w.staff)
        .post(&format!("/api/v1/faculty/{bare}/sync"), &Value::Null)
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "required");
    // Nothing was asked of the sources.
    assert!(w.fake.faults.received().is_empty());

    // The profile's owner may sync it.
    let (token, owned) = w
        .app
        .professor(
            &w.university,
            json!({"name": "Josiah Carberry", "orcid": CARBERRY}),
        )
        .await;
    w.app
        .as_(&token)
        .post(&format!("/api/v1/faculty/{owned}/sync"), &Value::Null)
        .await
        .expect(200);
}

async fn wait_for_job(app: &TestApp, token: &str, location: &str) -> Value {
    for _ in 0..300 {
        let res = app.as_(token).get(location).await;
        res.expect(200);
        let job = res.json();
        if job["state"] == "succeeded" || job["state"] == "failed" {
            return job;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the job did not finish: {location}");
}

#[actix_web::test]
async fn a_bulk_sync_runs_in_the_background_and_reports_each_failure() {
    let w = world().await;
    let lin = w.lin().await;
    let unknown = w
        .profile(json!({"name": "Nobody Known", "orcid": UNKNOWN}))
        .await;
    let kim = w
        .profile(json!({"name": "Kim Ji-hoon", "openalex_id": "A5000000002"}))
        .await;
    w.profile(json!({"name": "No Identifiers"})).await;

    let res = w.start_bulk().await;
    res.expect(202);
    let location = res.header("location").unwrap();
    assert_eq!(res.json()["state"], "queued");
    // Asked again while it is under way: the same job.
    let again = w.start_bulk().await;
    again.expect(202);
    if again.header("location").unwrap() != location {
        let first = w.app.as_(&w.staff).get(&location).await;
        assert_eq!(
            first.json()["state"],
            "succeeded",
            "a second job only once the first ended"
        );
    }
    let job = wait_for_job(&w.app, &w.staff, &location).await;
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["total"], 3, "{job}");
    assert_eq!(job["processed"], 3);
    assert_eq!(job["updated"], 2);
    assert_eq!(job["failed"], 1);
    let errors = job["errors"].as_array().unwrap();
    assert_eq!(
        errors.len(),
        2,
        "ORCID and OpenAlex both failed for one profile: {job}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e["faculty_id"] == unknown.as_str() && e["code"] == "unknown_id")
    );

    let (profile, _) = w.read(&kim).await;
    assert_eq!(profile["local_name"], "김지훈");
    assert_eq!(profile["publications"].as_array().unwrap().len(), 2);
    let (profile, _) = w.read(&lin).await;
    assert_eq!(profile["publications"].as_array().unwrap().len(), 6);

    // Another university's office does not see the job; bad input is refused.
    let other = w.app.org_id("university", "KAIST", "KR").await;
    let outsider = w.app.member_token(&other, "staff").await;
    w.app.as_(&outsider).get(&location).await.expect(404);
    w.app
        .as_(&outsider)
        .post(
            "/api/v1/faculty/sync",
            &json!({"university_id": w.university}),
        )
        .await
        .expect(403);
    let res = w
        .app
        .as_(&w.staff)
        .post(
            "/api/v1/faculty/sync",
            &json!({"university_id": w.university, "sources": []}),
        )
        .await;
    res.expect(422);
    let company = w.app.org_id("company", "TSMC", "TW").await;
    let res = w
        .app
        .operator()
        .post("/api/v1/faculty/sync", &json!({"university_id": company}))
        .await;
    res.expect(422);
    assert_eq!(res.json()["errors"][0]["code"], "not_a_university");
}

#[actix_web::test]
async fn an_interrupted_job_resumes_after_its_last_profile() {
    let w = world().await;
    let first = w.lin().await;
    let second = w
        .profile(json!({"name": "Josiah Carberry", "orcid": CARBERRY}))
        .await;
    let (first, second) = if first < second {
        (first, second)
    } else {
        (second, first)
    };
    // A job a runner took and then died in, after the first profile: its lease has run out.
    let job = "01900000-0000-7000-8000-000000000001";
    w.app.db.execute(&format!(
        "INSERT INTO sync_jobs (id, university_id, kind, sources, state, total, processed, \
         updated, cursor, errors, lease_until, created_at, started_at, updated_at) VALUES \
         ('{job}', '{}', 'request', '[\"orcid\"]', 'running', 2, 1, 1, '{first}', '[]', \
         '2020-01-01 00:00:00', '2020-01-01 00:00:00', '2020-01-01 00:00:00', \
         '2020-01-01 00:00:00')",
        w.university
    ));
    // Queuing another job wakes the runner; it takes the oldest first.
    let res = w
        .app
        .as_(&w.staff)
        .post(
            "/api/v1/faculty/sync",
            &json!({"university_id": w.university, "sources": ["openalex"]}),
        )
        .await;
    res.expect(202);
    let resumed = wait_for_job(&w.app, &w.staff, &format!("/api/v1/sync-jobs/{job}")).await;
    assert_eq!(resumed["state"], "succeeded", "{resumed}");
    assert_eq!(resumed["processed"], 2);
    let orcid_records: Vec<String> = w
        .fake
        .faults
        .received()
        .into_iter()
        .filter(|r| r.path.ends_with("/record"))
        .map(|r| r.path)
        .collect();
    let (one, _) = w.read(&first).await;
    let (two, _) = w.read(&second).await;
    let orcid_of = |p: &Value| p["orcid"].as_str().unwrap().to_owned();
    assert!(
        !orcid_records.iter().any(|p| p.contains(&orcid_of(&one))),
        "the profile done before the interruption is not fetched again: {orcid_records:?}"
    );
    assert!(orcid_records.iter().any(|p| p.contains(&orcid_of(&two))));
}

/// Runs the `liaison` binary on the test's database, pointed at the fake sources.
fn cli(w: &World, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_liaison"))
        .current_dir(w.app.dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", &w.app.db.url)
        .env("LIAISON_ORCID_BASE_URL", w.fake.orcid_base_url())
        .env("LIAISON_OPENALEX_BASE_URL", w.fake.openalex_base_url())
        .env("LIAISON_SOURCES_RETRY_BASE_MS", "10")
        .args(args)
        .output()
        .unwrap()
}

#[actix_web::test]
async fn the_cli_syncs_a_profile_and_a_university() {
    let w = world().await;
    let lin = w.lin().await;
    let unknown = w
        .profile(json!({"name": "Nobody Known", "orcid": UNKNOWN}))
        .await;

    let out = cli(&w, &["sync", "profile", &lin, "--sources", "orcid"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["publications"]["added"], 3, "{report}");

    let out = cli(&w, &["sync", "university", &w.university]);
    // One profile failed: the exit status says so; the job is readable through the API.
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (job["state"].as_str(), job["processed"].as_i64()),
        (Some("succeeded"), Some(2))
    );
    assert_eq!(job["errors"][0]["faculty_id"], unknown.as_str());
    assert!(String::from_utf8_lossy(&out.stderr).contains("2/2 profiles"));
    let res = w
        .app
        .as_(&w.staff)
        .get(&format!(
            "/api/v1/sync-jobs/{}",
            job["id"].as_str().unwrap()
        ))
        .await;
    res.expect(200);
    assert_eq!(res.json()["failed"], 1);
    let (profile, _) = w.read(&lin).await;
    assert_eq!(profile["publications"].as_array().unwrap().len(), 6);
}

/// The fixture snapshot laid out as OpenAlex publishes it: gzip JSON Lines per entity.
fn snapshot_dir(root: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let base = root.join("openalex-snapshot/data/jsonl");
    for entity in ["authors", "works"] {
        let dir = base.join(entity).join("updated_date=2026-11-01");
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read(format!(
            "{}/tests/fixtures/openalex-snapshot/{entity}.jsonl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        let file = std::fs::File::create(dir.join("part_0000.gz")).unwrap();
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        gz.write_all(&text).unwrap();
        gz.finish().unwrap();
    }
    root.join("openalex-snapshot")
}

#[actix_web::test]
async fn a_snapshot_import_creates_an_institutions_profiles_and_is_idempotent() {
    let w = world().await;
    // Lin already has a profile (typed by hand, by ORCID iD): it is updated, not duplicated.
    let lin = w
        .profile(json!({"name": "Lin Mei-Ling", "orcid": LIN, "department": "CS"}))
        .await;
    let dir = snapshot_dir(w.app.dir.path());
    let dir = dir.to_str().unwrap();
    let args = [
        "import",
        "openalex",
        dir,
        "--university-id",
        w.university.as_str(),
        "--institution",
        "https://ror.org/00se2k293",
    ];
    let out = cli(&w, &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["authors_read"], 4, "{report}");
    assert_eq!(report["authors_taken"], 3, "only NYCU's: {report}");
    assert_eq!(
        (report["created"].as_u64(), report["updated"].as_u64()),
        (Some(2), Some(1))
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("profiles: 2 created, 1 updated"));

    let (profile, _) = w.read(&lin).await;
    assert_eq!(profile["openalex_id"], "A5000000001");
    assert_eq!(profile["department"], "CS");
    assert_eq!(
        profile["publications"].as_array().unwrap().len(),
        5,
        "{profile}"
    );
    let listed = w
        .app
        .as_(&w.staff)
        .get(&format!("/api/v1/faculty?university_id={}", w.university))
        .await;
    listed.expect(200);
    let names = each(&listed.json(), "items", |p| {
        p["name"].as_str().unwrap().to_owned()
    });
    assert!(names.contains(&"Chih-Wei Huang".to_owned()), "{names:?}");
    assert!(!names.contains(&"Kim Ji-hoon".to_owned()));
    let huang = listed.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Chih-Wei Huang")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (huang, _) = w.read(&huang).await;
    assert_eq!(huang["local_name"], "黃志偉");
    assert_eq!(huang["provenance"]["name"]["source"], "openalex");
    assert!(huang["publication_count"].as_u64().unwrap() >= 2);

    let again = cli(&w, &args);
    assert!(again.status.success());
    let report: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        (report["created"].as_u64(), report["unchanged"].as_u64()),
        (Some(0), Some(3)),
        "{report}"
    );
}

/// Every job the operator sees, once none is queued or running.
async fn settled_jobs(app: &TestApp) -> Vec<Value> {
    for _ in 0..300 {
        let res = app.operator().get("/api/v1/sync-jobs?limit=100").await;
        res.expect(200);
        let jobs = res.json()["items"].as_array().unwrap().clone();
        if jobs
            .iter()
            .all(|j| j["state"] == "succeeded" || j["state"] == "failed")
        {
            return jobs;
        }
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("sync jobs did not settle");
}

#[actix_web::test]
async fn the_periodic_refresh_syncs_the_profiles_not_synced_within_the_interval() {
    let w = world_with(|s| s.sync_refresh_interval_hours = 24).await;
    let recent = w.lin().await;
    let stale = w
        .profile(json!({"name": "Josiah Carberry", "orcid": CARBERRY}))
        .await;
    // The refresh made at start has run (over whatever profiles existed then).
    let mut jobs = settled_jobs(&w.app).await;
    while jobs.is_empty() {
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        jobs = settled_jobs(&w.app).await;
    }
    assert!(
        jobs.iter()
            .any(|j| j["kind"] == "refresh" && j["university_id"].is_null())
    );
    // One profile was synced just now; the other a long time ago; the last refresh was made
    // beyond the interval.
    w.sync(&recent, "sources=orcid").await;
    w.sync(&stale, "sources=orcid").await;
    w.app.db.execute(&format!(
        "UPDATE faculty_sync_state SET attempted_at = '2020-01-01 00:00:00' WHERE faculty_id = '{stale}'"
    ));
    w.app
        .db
        .execute("UPDATE sync_jobs SET created_at = '2020-01-01 00:00:00' WHERE kind = 'refresh'");
    let (before, _) = w.read(&recent).await;
    let asked_before = w.fake.faults.received().len();
    // Anything queued wakes the runner, which first makes the refresh that is due.
    let other = w.app.org_id("university", "KAIST", "KR").await;
    w.app
        .operator()
        .post("/api/v1/faculty/sync", &json!({"university_id": other}))
        .await
        .expect(202);
    let jobs = settled_jobs(&w.app).await;
    let refresh = jobs.iter().rfind(|j| j["kind"] == "refresh").unwrap();
    assert_eq!(
        (refresh["total"].as_i64(), refresh["processed"].as_i64()),
        (Some(1), Some(1)),
        "{refresh}"
    );
    let (after, _) = w.read(&recent).await;
    assert_eq!(
        before["sync"], after["sync"],
        "the recent profile was left alone"
    );
    let (stale_now, _) = w.read(&stale).await;
    assert_ne!(stale_now["sync"][0]["attempted_at"], "2020-01-01T00:00:00Z");
    assert!(
        w.fake.faults.received()[asked_before..]
            .iter()
            .all(|r| !r.path.contains(LIN))
    );

    // Only operators follow the refresh; an office sees its own university's jobs.
    let path = format!("/api/v1/sync-jobs/{}", refresh["id"].as_str().unwrap());
    w.app.as_(&w.staff).get(&path).await.expect(404);
    let mine = w.app.as_(&w.staff).get("/api/v1/sync-jobs").await;
    mine.expect(200);
    assert!(
        mine.json()["items"].as_array().unwrap().is_empty(),
        "{}",
        mine.text()
    );
}

#[actix_web::test]
async fn requests_to_a_source_keep_to_its_rate_limit() {
    let w = world_with(|s| {
        s.orcid_requests_per_second = 4;
    })
    .await;
    let id = w
        .profile(json!({"name": "Josiah Carberry", "orcid": CARBERRY}))
        .await;
    w.sync(&id, "sources=orcid").await;
    w.sync(&id, "sources=orcid").await;
    let asked = w.fake.faults.received();
    assert_eq!(asked.len(), 4, "a record and its works, twice");
    // The limiter spaces the starts 250 ms apart; the fake sees arrivals, which a loaded
    // machine delays unevenly: the whole run, not each gap, shows the rate.
    let total = asked[3].at.duration_since(asked[0].at);
    assert!(
        total >= Duration::from_millis(600),
        "{total:?} for four requests at 4 per second"
    );
    for pair in asked.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(
            gap >= Duration::from_millis(120),
            "{gap:?} between requests at 4 per second"
        );
    }
}

#[actix_web::test]
async fn an_id_another_profile_holds_is_not_copied_from_openalex() {
    let w = world().await;
    let holder = w.lin().await;
    // A second profile of the same person, known by her OpenAlex id only.
    let twin = w
        .profile(json!({"name": "M.-L. Lin", "openalex_id": "A5000000001"}))
        .await;
    let report = w.sync(&twin, "").await;
    assert_eq!(report["sources"][0]["status"], "succeeded", "{report}");
    assert!(
        !report["fields"]
            .as_array()
            .unwrap()
            .contains(&json!("orcid"))
    );
    let (profile, _) = w.read(&twin).await;
    assert_eq!(profile["orcid"], Value::Null);
    assert_eq!(profile["publications"].as_array().unwrap().len(), 5);
    let (holder, _) = w.read(&holder).await;
    assert_eq!(holder["orcid"], LIN);
}

#[actix_web::test]
async fn a_sync_in_which_one_source_is_missing_keeps_what_that_source_gave() {
    let w = world().await;
    let id = w.lin().await;
    w.sync(&id, "").await;
    let (before, etag) = w.read(&id).await;
    // Only OpenAlex asked; then ORCID down while both are asked (in either order).
    let only_openalex = w.sync(&id, "sources=openalex").await;
    assert_eq!(only_openalex["changed"], false, "{only_openalex}");
    w.fake.faults.inject(
        &format!("/orcid/v3.0/{LIN}/record"),
        3,
        Fault::Status(503, None),
    );
    let orcid_down = w.sync(&id, "sources=openalex,orcid").await;
    assert_eq!(
        orcid_down["sources"][0]["source"], "orcid",
        "answers in order of precedence"
    );
    assert_eq!(orcid_down["sources"][0]["status"], "failed");
    assert_eq!(orcid_down["changed"], false, "{orcid_down}");
    let (after, etag_after) = w.read(&id).await;
    assert_eq!(etag, etag_after);
    assert_eq!(before["keywords"], after["keywords"]);
    assert_eq!(before["publications"], after["publications"]);
}

#[actix_web::test]
async fn a_publication_sent_back_in_another_form_keeps_its_provenance() {
    let w = world().await;
    let id = w.lin().await;
    w.sync(&id, "sources=orcid").await;
    let (profile, etag) = w.read(&id).await;
    let mut publications = profile["publications"].as_array().unwrap().clone();
    for p in &mut publications {
        if let Some(doi) = p["doi"].as_str() {
            p["doi"] = format!("https://doi.org/{doi}").into();
        }
        p["title"] = format!("{} ", p["title"].as_str().unwrap()).into();
    }
    let res = w
        .app
        .as_(&w.staff)
        .if_match(&etag)
        .patch(
            &format!("/api/v1/faculty/{id}"),
            &json!({"publications": publications}),
        )
        .await;
    res.expect(200);
    assert_eq!(res.header("etag").unwrap(), etag, "nothing changed");
    let (after, _) = w.read(&id).await;
    assert!(
        each(&after, "publications", |p| p["provenance"]["source"]
            .clone())
        .iter()
        .all(|s| s == "orcid")
    );
}

#[actix_web::test]
async fn two_versions_of_a_hand_typed_publication_add_nothing() {
    let w = world().await;
    let title = "Toward a Unified Theory of High-Energy Metaphysics: Silly String Theory";
    let id = w
        .profile(json!({"name": "Josiah Carberry", "orcid": CARBERRY,
            "publications": [{"title": title, "year": 2008}]}))
        .await;
    // ORCID lists the work twice, as a preprint and as the article, with two DOIs.
    let mut record: Value = orcid_fixture(include_str!(
        "../src/demo/sources/orcid/0000-0002-1825-0097.record.json"
    ));
    let groups = record["activities-summary"]["works"]["group"]
        .as_array_mut()
        .unwrap();
    let mut preprint = groups
        .iter()
        .find(|g| g["work-summary"][0]["put-code"] == json!(4562456))
        .unwrap()
        .clone();
    preprint["work-summary"][0]["put-code"] = json!(999);
    preprint["work-summary"][0]["external-ids"]["external-id"][0]["external-id-value"] =
        json!("10.5555/87654321");
    preprint["work-summary"][0]["external-ids"]["external-id"][0]["external-id-normalized"]["value"] =
        json!("10.5555/87654321");
    groups.push(preprint.clone());
    let mut works: Value = orcid_fixture(include_str!(
        "../src/demo/sources/orcid/0000-0002-1825-0097.works.json"
    ));
    works["bulk"]
        .as_array_mut()
        .unwrap()
        .push(json!({"work": preprint["work-summary"][0]}));
    w.fake
        .faults
        .replace(&format!("/{CARBERRY}/record"), record.to_string());
    w.fake
        .faults
        .replace(&format!("/{CARBERRY}/works/"), works.to_string());

    let report = w.sync(&id, "sources=orcid").await;
    assert_eq!(report["sources"][0]["works"], 5, "{report}");
    assert_eq!(report["publications"]["kept"], 1, "{report}");
    assert_eq!(report["publications"]["added"], 3, "{report}");
    let (profile, _) = w.read(&id).await;
    assert_eq!(titles(&profile).iter().filter(|t| *t == title).count(), 1);
}
