//! `liaison demo` as a newcomer meets it: the real binary on a fresh database, its banner, the
//! world it loads, and the README's tour replayed block by block with bash and curl (so the
//! README cannot rot).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::TestDb;
use liaison::dto::engagements::EngagementState;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_liaison");
const SECRET: &str = "demo-test-secret-0123456789abcdefghijklmnopq";
const PASSWORD: &str = "liaison-demo-2026";

/// The binary with only what the test sets. On PostgreSQL the demo loads into the test's own
/// (empty) database; on SQLite it uses its default: a database of its own in `--dir`.
fn demo_command(db: &TestDb, dir: &std::path::Path) -> Command {
    demo_on(
        db.is_postgres().then_some(db.url.as_str()),
        dir,
        "127.0.0.1:0",
    )
}

fn demo_on(database_url: Option<&str>, dir: &std::path::Path, bind: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir.parent().unwrap())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(["demo", "--bind", bind, "--workers", "2", "--dir"])
        .arg(dir);
    if let Some(url) = database_url {
        c.args(["--database-url", url]);
        // A generated signing key is for the embedded database only.
        if url.starts_with("postgres") {
            c.env("LIAISON_JWT_SECRET", SECRET);
        }
    }
    c
}

struct Demo {
    child: Child,
    base: String,
    banner: String,
}

impl Demo {
    fn start(db: &TestDb, dir: &std::path::Path) -> Self {
        Self::start_with(db, dir, &[])
    }

    fn start_with(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Self {
        let mut child = demo_command(db, dir)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start liaison demo");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = String::new();
            let mut base = None;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split(" at http://").nth(1) {
                    base = Some(format!("http://{}", rest.trim()));
                }
                banner.push_str(&line);
                banner.push('\n');
                if line.contains("Ctrl-C stops it") {
                    let _ = tx.send((base.take(), banner.clone()));
                }
            }
        });
        let (base, banner) = rx
            .recv_timeout(Duration::from_secs(180))
            .expect("the demo printed its banner");
        Self {
            child,
            base: base.expect("the banner names the URL"),
            banner,
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "60"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl {args:?}: {:?}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

fn login(base: &str, email: &str) -> String {
    let body = format!(r#"{{"email":"{email}","password":"{PASSWORD}"}}"#);
    let v: Value = serde_json::from_str(&curl(&[
        "-X",
        "POST",
        &format!("{base}/api/v1/auth/login"),
        "-H",
        "content-type: application/json",
        "-d",
        &body,
    ]))
    .unwrap();
    v["access_token"].as_str().expect("logged in").to_owned()
}

/// Every item of a paginated list, following `next_cursor`.
fn all_items(base: &str, token: &str, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut url = format!("{base}{path}{sep}limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: Value = serde_json::from_str(&curl(&[
            &url,
            "-H",
            &format!("authorization: Bearer {token}"),
        ]))
        .unwrap();
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

/// The README's tour: the `sh` blocks between the tour markers.
fn tour_blocks() -> Vec<String> {
    let readme = include_str!("../README.md");
    let start = readme
        .find("<!-- tour:start -->")
        .expect("tour start marker");
    let end = readme.find("<!-- tour:end -->").expect("tour end marker");
    let mut blocks = Vec::new();
    let mut rest = &readme[start..end];
    while let Some(open) = rest.find("```sh\n") {
        let body = &rest[open + 6..];
        let close = body.find("```").expect("closed block");
        blocks.push(body[..close].to_owned());
        rest = &body[close + 3..];
    }
    blocks
}

/// Runs the blocks in one bash, as someone pasting them would, but stopping at the first
/// failing command; returns each block's output.
fn run_tour(base: &str, blocks: &[String]) -> Vec<String> {
    let mut script = String::from("set -eu -o pipefail\n");
    for (i, b) in blocks.iter().enumerate() {
        script.push_str(&format!("echo; echo '::block {i}'\n"));
        script.push_str(&b.replace("http://127.0.0.1:8080", base));
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "the README tour failed ({:?}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut outputs = Vec::new();
    for (i, part) in stdout.split("\n::block ").skip(1).enumerate() {
        let (n, text) = part.split_once('\n').unwrap_or((part, ""));
        assert_eq!(n.trim(), i.to_string());
        outputs.push(text.to_owned());
    }
    assert_eq!(outputs.len(), blocks.len());
    outputs
}

/// The JSON documents printed one after another, and what follows them.
fn json_docs(text: &str) -> (Vec<Value>, String) {
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Value>();
    let mut offset = 0;
    while let Some(Ok(v)) = stream.next() {
        docs.push(v);
        offset = stream.byte_offset();
    }
    (docs, text[offset..].trim_start_matches('\n').to_owned())
}

#[test]
fn the_demo_loads_a_multilingual_world_and_the_readme_tour_works_against_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new(tmp.path());
    let dir = tmp.path().join("demo");
    let demo = Demo::start(&db, &dir);
    let base = demo.base.clone();

    // The banner: one login per role, the password, the docs page.
    for email in [
        "operator@liaison.example",
        "admin@nvidia.example",
        "alex.wu@nvidia.example",
        "admin@ntu.example",
        "ilo@ntu.example",
        "chen.yuting@ntu.example",
        "desk@nchc.example",
    ] {
        assert!(demo.banner.contains(email), "{email} in\n{}", demo.banner);
    }
    assert!(demo.banner.contains(PASSWORD));
    assert!(demo.banner.contains(&format!("{base}/docs/")));
    let docs = curl(&[
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{base}/docs/"),
    ]);
    assert_eq!(docs, "200");
    // Every printed login works.
    for line in demo.banner.lines() {
        if let Some(email) = line.split_whitespace().last().filter(|w| w.contains('@')) {
            login(&base, email);
        }
    }

    // The world, as the operator sees it.
    let op = login(&base, "operator@liaison.example");
    let orgs = all_items(&base, &op, "/api/v1/organizations");
    let named = |name: &str| orgs.iter().any(|o| o["name"].as_str() == Some(name));
    for name in [
        "National Taiwan University",
        "National Yang Ming Chiao Tung University",
        "National Tsing Hua University",
        "Seoul National University",
        "KAIST",
        "POSTECH",
        "NVIDIA",
        "MediaTek",
        "AMD",
        "Phison Electronics",
        "Wistron",
        "Samsung Electronics",
        "SK hynix",
    ] {
        assert!(named(name), "{name} is in the demo");
    }
    let faculty = all_items(&base, &op, "/api/v1/faculty");
    assert!(faculty.len() >= 200, "{} profiles", faculty.len());
    let text_of = |p: &Value| {
        format!(
            "{} {}",
            p["research_interests"].as_str().unwrap_or(""),
            p["bio"].as_str().unwrap_or("")
        )
    };
    let korean = faculty
        .iter()
        .filter(|p| {
            text_of(p)
                .chars()
                .any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
        })
        .count();
    let chinese = faculty
        .iter()
        .filter(|p| {
            let t = text_of(p);
            t.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
                && !t.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
        })
        .count();
    let english = faculty.len() - korean - chinese;
    assert!(
        korean >= 30 && chinese >= 30 && english >= 30,
        "ko {korean}, zh {chinese}, en {english}"
    );
    let needs = all_items(&base, &op, "/api/v1/needs");
    assert!(needs.len() >= 50, "{} needs", needs.len());
    let engagements = all_items(&base, &op, "/api/v1/engagements");
    // Every state the service knows, so a new one needs its place in the demo too.
    for state in EngagementState::ALL.map(EngagementState::as_str) {
        assert!(
            engagements.iter().any(|e| e["state"] == state),
            "an engagement is {state}"
        );
    }
    let centers = all_items(&base, &op, "/api/v1/centers");
    assert!(centers.iter().any(|c| {
        c["shared_resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "gpu")
    }));
    let projects = all_items(&base, &op, "/api/v1/funded-projects");
    for kind in ["sponsored_research", "donation", "government_grant"] {
        assert!(
            projects.iter().any(|p| p["type"] == kind),
            "a {kind} project"
        );
    }

    // The README's tour, block by block.
    let blocks = tour_blocks();
    assert_eq!(
        blocks.len(),
        9,
        "the tour's blocks (update this test with it)"
    );
    let out = run_tour(&base, &blocks);

    // 1: the need was posted.
    let need_id = out[1]
        .trim()
        .strip_prefix("posted need ")
        .expect("the need's id")
        .to_owned();
    assert_eq!(need_id.len(), 36, "{need_id}");

    // 2: its matches, Prof. Chen first, with explanations.
    let (docs, _) = json_docs(&out[2]);
    let top = &docs[0]["items"][0];
    assert_eq!(top["faculty"]["name"], "Chen Yu-Ting");
    assert_eq!(
        top["faculty"]["university_name"],
        "National Taiwan University"
    );
    assert!(!top["explanation"]["terms"].as_array().unwrap().is_empty());
    let prof_id = top["faculty"]["id"].as_str().unwrap().to_owned();

    // 3: the explanation of that pair.
    let (docs, _) = json_docs(&out[3]);
    assert_eq!(docs[0]["faculty"]["id"], prof_id.as_str());
    assert_eq!(docs[0]["need"]["id"], need_id.as_str());
    assert_eq!(docs[0]["in_need_matches"], true);

    // 4: the invitation.
    let (docs, _) = json_docs(&out[4]);
    assert_eq!(docs[0]["state"], "invited");
    assert_eq!(docs[0]["faculty_id"], prof_id.as_str());

    // 5: the professor found the need and is interested.
    let (docs, _) = json_docs(&out[5]);
    assert_eq!(docs.len(), 2, "{}", out[5]);
    assert!(
        docs[0]["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == need_id.as_str()),
        "the search finds the new need"
    );
    assert_eq!(docs[1]["state"], "interested");
    assert_eq!(docs[1]["events"].as_array().unwrap().len(), 2);

    // 6: the office follows the engagement, and pulls its funnel and funding (JSON, CSV).
    let (docs, csv) = json_docs(&out[6]);
    assert_eq!(docs.len(), 3, "{}", out[6]);
    let followed = docs[0]["items"].as_array().unwrap();
    assert!(followed.iter().any(|e| e["need_id"] == need_id.as_str()));
    assert!(followed.iter().all(|e| e["state"] == "interested"));
    let funnel = &docs[1];
    assert!(
        funnel["engagements_by_state"]["interested"]
            .as_u64()
            .unwrap()
            >= 1
    );
    assert!(funnel["agreed"].as_u64().unwrap() >= 1);
    assert!(!docs[2]["rows"].as_array().unwrap().is_empty());
    assert!(
        csv.starts_with("\u{feff}year,sponsor_id,sponsor_name,type,currency,"),
        "{csv}"
    );
    assert!(csv.contains("NVIDIA"));

    // 7: compute. The facility's V100 cluster has academia hours free; approving the pending
    // academic request would pass the academia share, so it is refused with the arithmetic;
    // the report shows both sectors and the imported usage.
    let (docs, _) = json_docs(&out[7]);
    assert_eq!(docs.len(), 3, "{}", out[7]);
    let found = docs[0]["items"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["name"], "Taiwania 2");
    assert_eq!(docs[1]["code"], "quota_exceeded", "{}", out[7]);
    assert_eq!(docs[1]["quota"]["sector"], "academia");
    assert_eq!(docs[1]["quota"]["sector_quota"], 250000);
    assert_eq!(docs[1]["quota"]["sector_granted"], 230000);
    let report = &docs[2];
    assert_eq!(report["sectors"].as_array().unwrap().len(), 2);
    assert!(
        report["sectors"][0]["used"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(
        report["sectors"][1]["used"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(report["allocations"].as_array().unwrap().len() >= 3);

    // 8: the professor's notifications hold the invitation; she saves an alert.
    let (docs, _) = json_docs(&out[8]);
    assert_eq!(docs.len(), 2, "{}", out[8]);
    assert!(
        docs[0]["items"].as_array().unwrap().iter().any(|n| n["type"]
            == "invitation.received"
            && n["data"]["need_id"] == need_id.as_str()),
        "{}",
        docs[0]
    );
    assert_eq!(docs[1]["kind"], "search");
    assert_eq!(docs[1]["target"], "need");

    // Needs that bring and need compute.
    let brings = all_items(&base, &op, "/api/v1/needs?compute=brings&gpu_model=h100");
    assert!(!brings.is_empty());
    assert!(!all_items(&base, &op, "/api/v1/needs?compute=needs").is_empty());

    // Allocations in every state the workflow has.
    let allocations = all_items(&base, &op, "/api/v1/compute/allocations");
    for state in liaison::dto::compute::AllocationState::ALL.map(|s| s.as_str()) {
        assert!(
            allocations.iter().any(|a| a["state"] == state),
            "an allocation is {state}"
        );
    }

    // The company sees the engagement as the professor left it.
    let company = login(&base, "alex.wu@nvidia.example");
    let listed = all_items(
        &base,
        &company,
        &format!("/api/v1/engagements?need_id={need_id}"),
    );
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "interested");

    // A second demo never loads into a database that already holds data.
    let url = if db.is_postgres() {
        db.url.clone()
    } else {
        format!("sqlite://{}", dir.join("liaison.db").display())
    };
    let again = demo_on(Some(&url), &tmp.path().join("again"), "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!again.status.success());
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds organizations"), "{stderr}");
    assert_eq!(
        all_items(&base, &op, "/api/v1/organizations").len(),
        orgs.len()
    );
}

#[test]
fn the_demo_never_overwrites_what_it_did_not_make() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new(tmp.path());
    // A folder with someone's files in it is refused, and left alone.
    let dir = tmp.path().join("mine");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("thesis.tex"), "precious").unwrap();
    let out = demo_command(&db, &dir).output().unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("was not made by `liaison demo`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("thesis.tex")).unwrap(),
        "precious"
    );

    // A demo folder in use by a demo that is still running (its address taken) is left alone.
    let used = tmp.path().join("running");
    std::fs::create_dir_all(&used).unwrap();
    std::fs::write(used.join(".liaison-demo"), "").unwrap();
    std::fs::write(used.join("liaison.db"), "in use").unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = demo_on(db.is_postgres().then_some(db.url.as_str()), &used, &addr)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot listen on"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(used.join("liaison.db")).unwrap(),
        "in use"
    );
}

#[test]
fn the_demo_with_sources_shows_a_profile_synced_from_the_local_orcid_and_openalex() {
    let tmp = tempfile::tempdir().unwrap();
    let db = TestDb::new(tmp.path());
    let demo = Demo::start_with(&db, &tmp.path().join("demo"), &["--with-sources"]);
    let line = demo
        .banner
        .lines()
        .find(|l| l.contains("synced from the local ORCID and OpenAlex: Lin Mei-Ling"))
        .unwrap_or_else(|| panic!("no synced profile in\n{}", demo.banner));
    let url = line.split_whitespace().last().unwrap();
    let profile: Value = serde_json::from_str(&curl(&[url])).unwrap();
    assert_eq!(profile["local_name"], "林美玲", "{profile}");
    assert_eq!(profile["openalex_id"], "A5000000001");
    assert_eq!(profile["publications"].as_array().unwrap().len(), 6);
    assert_eq!(profile["provenance"]["department"]["source"], "orcid");
    // Its publications are searchable, in the demo's language mix.
    let found: Value = serde_json::from_str(&curl(&[&format!(
        "{}/api/v1/search?type=faculty&q=optimizer%20state%20sharding",
        demo.base
    )]))
    .unwrap();
    assert_eq!(found["items"][0]["id"], profile["id"], "{found}");
}
