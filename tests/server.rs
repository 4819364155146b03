//! The real binary over real TCP: `liaison serve` starts with its embedded defaults, serves,
//! shuts down gracefully on SIGTERM (letting an in-flight request finish) and keeps its data
//! across the restart. Also `liaison migrate` and `liaison openapi`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::TestDb;

const BIN: &str = env!("CARGO_BIN_EXE_liaison");

const SECRET: &str = "server-test-secret-0123456789abcdefghijklmnop";

/// Environment for the binary: only what the test sets (plus PATH). A generated signing key
/// is allowed only on SQLite, so PostgreSQL runs get a configured one.
fn command(dir: &std::path::Path, db_url: &str) -> Command {
    let mut c = Command::new(BIN);
    c.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("LIAISON_DATABASE_URL", db_url);
    if db_url.starts_with("postgres") {
        c.env("LIAISON_JWT_SECRET", SECRET);
    }
    c
}

/// `liaison user create --platform-operator` with the password on standard input.
fn bootstrap_operator(dir: &std::path::Path, db_url: &str, email: &str, password: &str) {
    let mut child = command(dir, db_url)
        .args(["user", "create", "--email", email, "--platform-operator"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("(platform operator)"), "{stdout}");
    assert!(
        !stdout.contains(password),
        "a given password is never echoed"
    );
}

struct Server {
    child: Child,
    addr: String,
    /// Everything the server logged, to check that no secret ever appears there.
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    fn start(dir: &std::path::Path, db_url: &str) -> Self {
        Self::start_with(dir, db_url, &[])
    }

    /// [`Server::start`] with more settings in its environment.
    fn start_with(dir: &std::path::Path, db_url: &str, env: &[(&str, &str)]) -> Self {
        let mut child = command(dir, db_url)
            .arg("serve")
            .env("LIAISON_BIND", "127.0.0.1:0")
            .env("LIAISON_WORKERS", "1")
            .env("LIAISON_SHUTDOWN_TIMEOUT_SECS", "10")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start liaison serve");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("server announced its address");
        Self { child, addr, log }
    }

    fn terminate(&mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn wait(&mut self) -> std::process::ExitStatus {
        for _ in 0..300 {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not stop within 15 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running server with one platform operator, and the operator's token.
fn server_with_operator(dir: &std::path::Path, db: &TestDb) -> (Server, String) {
    bootstrap_operator(dir, &db.url, "ops@liaison.test", "operator password 123");
    let server = Server::start(dir, &db.url);
    let token = login(&server.addr, "ops@liaison.test", "operator password 123");
    (server, token)
}

/// A fresh connection that gives up waiting for an answer after 20 s.
fn connect(addr: &str) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// A minimal HTTP/1.1 exchange over a fresh connection (`Connection: close`).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, String) {
    let mut s = connect(addr);
    let body = body.unwrap_or("");
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    read_response(&mut s)
}

fn login(addr: &str, email: &str, password: &str) -> String {
    let body = serde_json::json!({"email": email, "password": password}).to_string();
    let (status, body) = http(addr, "POST", "/api/v1/auth/login", None, Some(&body));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["access_token"].as_str().unwrap().to_owned()
}

/// POSTs `body` to `path` as `token`, expects 201, and returns the new resource's id.
fn create(addr: &str, token: &str, path: &str, body: &str) -> String {
    let (status, body) = http(addr, "POST", path, Some(token), Some(body));
    assert_eq!(status, 201, "{body}");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn read_response(s: &mut TcpStream) -> (u16, String) {
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn serves_shuts_down_gracefully_and_keeps_data_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    // With SQLite the default location is used: ./data/liaison.db under the working folder.
    let db_url = if db.is_postgres() {
        db.url.clone()
    } else {
        "sqlite://data/liaison.db".into()
    };
    bootstrap_operator(
        dir.path(),
        &db_url,
        "ops@liaison.test",
        "operator password 123",
    );
    let mut server = Server::start(dir.path(), &db_url);
    let token = login(&server.addr, "ops@liaison.test", "operator password 123");
    let wrong = serde_json::json!({"email": "ops@liaison.test", "password": "wrong password 456"})
        .to_string();
    let (status, body) = http(
        &server.addr,
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&wrong),
    );
    assert_eq!(status, 401, "{body}");
    assert!(!body.contains("wrong password 456"));
    let (status, _) = http(
        &server.addr,
        "GET",
        "/api/v1/me",
        Some("forged.token.value"),
        None,
    );
    assert_eq!(status, 401);
    if !db.is_postgres() {
        assert!(
            dir.path().join("data/jwt-secret").exists(),
            "generated signing key kept"
        );
        assert!(
            dir.path().join("data/liaison.db").exists(),
            "SQLite file created"
        );
    }
    assert!(dir.path().join("index").is_dir(), "index folder created");

    let (status, body) = http(&server.addr, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        &server.addr,
        "POST",
        "/api/v1/organizations",
        Some(&token),
        Some(
            r#"{"kind":"university","name":"National Tsing Hua University","local_name":"國立清華大學","country":"TW"}"#,
        ),
    );
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    // An in-flight request: headers and half the body sent, then SIGTERM, then the rest.
    let payload = r#"{"kind":"company","name":"Wistron","local_name":"緯創資通","country":"TW"}"#;
    let (first, second) = payload.split_at(payload.len() / 2);
    let mut s = connect(&server.addr);
    write!(
        s,
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{first}",
        payload.len()
    )
    .unwrap();
    s.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(second.as_bytes()).unwrap();
    let (status, body) = read_response(&mut s);
    assert_eq!(
        status, 201,
        "the in-flight request completed during shutdown: {body}"
    );
    let status = server.wait();
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    // A failed login, then: no password, token or key in the log.
    let log = server.log.lock().unwrap().clone();
    assert!(log.contains("handled"), "the log was captured");
    let key = std::fs::read_to_string(dir.path().join("data/jwt-secret")).unwrap_or_default();
    for secret in [
        "operator password 123",
        "wrong password 456",
        token.as_str(),
        SECRET,
        key.trim(),
    ] {
        assert!(
            secret.is_empty() || !log.contains(secret),
            "a secret leaked into the log"
        );
    }

    // New connections are refused once it has stopped; a restart serves the same data.
    assert!(TcpStream::connect(&server.addr).is_err());
    let server = Server::start(dir.path(), &db_url);
    // The access token issued before the restart still verifies (the key was kept).
    let (status, body) = http(&server.addr, "GET", "/api/v1/me", Some(&token), None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/organizations/{id}"),
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("國立清華大學"));
    let (_, body) = http(&server.addr, "GET", "/api/v1/organizations", None, None);
    let list: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

/// Replicas starting together on a fresh database: every one succeeds, and the migrations
/// are applied exactly once between them.
#[test]
fn concurrent_migrations_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(BIN)
                .args(["migrate", "--database-url", &db.url])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut applied = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let n: usize = stdout
            .split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{stdout}"));
        applied += n;
    }
    let migrations = std::fs::read_dir("migrations/sqlite").unwrap().count();
    assert_eq!(applied, migrations, "each migration applied once in all");
}

#[test]
fn migrate_and_openapi_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let out = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Every migration in the tree (both backends have the same ones).
    let migrations = std::fs::read_dir("migrations/sqlite").unwrap().count();
    assert_eq!(
        migrations,
        std::fs::read_dir("migrations/postgres").unwrap().count()
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("applied {migrations} migration")),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let again = Command::new(BIN)
        .args(["migrate", "--database-url", &db.url])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0 migration"));

    let out = Command::new(BIN).arg("openapi").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        liaison::http::openapi_json()
    );
}

#[test]
fn bad_configuration_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("liaison.toml"),
        "bind = \"127.0.0.1:0\"\ndatabse_url = \"x\"\n",
    )
    .unwrap();
    for (args, says) in [
        (
            &["--config", "liaison.toml"][..],
            "unknown field `databse_url`",
        ),
        (&["--bind", "nowhere"][..], "bind:"),
        (
            &["--memory-release-interval-ms", "5"][..],
            "memory_release_interval_ms:",
        ),
    ] {
        let out = Command::new(BIN)
            .arg("serve")
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn postgres_refuses_to_start_without_a_signing_key() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        // Never contacted: the key check comes before connecting.
        .env("LIAISON_DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no token signing key is configured"), "{err}");
}

#[test]
fn user_create_generates_and_prints_a_password_once_when_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let out = command(dir.path(), &db.url)
        .args([
            "user",
            "create",
            "--email",
            "Office@NYCU.edu.tw",
            "--name",
            "NYCU ILO",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("generated password"))
        .expect(&stdout);
    assert!(line.rsplit(' ').next().unwrap().len() >= 20);
    // The same email in another case is the same account.
    let again = command(dir.path(), &db.url)
        .args(["user", "create", "--email", "office@nycu.edu.tw"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn chunked_bodies_over_the_limit_are_413_problems() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let (server, token) = server_with_operator(dir.path(), &db);
    let mut s = connect(&server.addr);
    write!(
        s,
        "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    .unwrap();
    let chunk = "x".repeat(64 * 1024);
    // 2 MiB in 64 KiB chunks, past the default 1 MiB limit; the server may stop reading early.
    for _ in 0..32 {
        if write!(s, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
            break;
        }
    }
    let _ = write!(s, "0\r\n\r\n");
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    assert!(
        raw.starts_with("HTTP/1.1 413"),
        "{}",
        &raw[..raw.len().min(300)]
    );
    assert!(
        raw.to_lowercase()
            .contains("content-type: application/problem+json")
    );
}

/// HEAD answers with GET's status and headers, Content-Length included, and no body.
#[test]
fn head_answers_like_get_without_a_body() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let (server, token) = server_with_operator(dir.path(), &db);
    for path in ["/healthz", "/api/v1/organizations", "/api/v1/openapi.json"] {
        let (status, body) = http(&server.addr, "GET", path, Some(&token), None);
        assert_eq!(status, 200, "{path}: {body}");
        let mut s = connect(&server.addr);
        write!(
            s,
            "HEAD {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {token}\r\n\r\n"
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let (head, rest) = raw.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{path}: {head}");
        assert!(
            head.to_lowercase()
                .contains(&format!("content-length: {}", body.len())),
            "{path}: {head}"
        );
        assert_eq!(rest, "", "{path}");
    }
}

/// Query text nested 10,000 levels deep once overflowed a search thread's stack and aborted
/// the process. Now it is a 400 naming the bound, and the same server answers the next search.
#[test]
fn deeply_nested_query_text_is_refused_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let server = Server::start(dir.path(), &db.url);
    let nested = |n: usize| format!("{}gpu{}", "(".repeat(n), ")".repeat(n));
    for (text, code) in [
        (nested(10_000), "too_long"),
        (nested(998), "too_deeply_nested"),
        ("NOT ".repeat(499) + "gpu", "too_deeply_nested"),
    ] {
        // Parentheses may stand unescaped in a query string; spaces may not.
        let path = format!("/api/v1/search?type=faculty&q={}", text.replace(' ', "+"));
        let (status, body) = http(&server.addr, "GET", &path, None, None);
        assert_eq!(status, 400, "{body}");
        let p: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(p["errors"][0]["field"], "q", "{p}");
        assert_eq!(p["errors"][0]["code"], code, "{p}");
    }
    let (status, body) = http(
        &server.addr,
        "GET",
        "/api/v1/search?type=faculty&q=gpu",
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
}

#[test]
fn flags_beat_environment_which_beats_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("liaison.toml"),
        "database_url = \"sqlite://from-file.db\"\n",
    )
    .unwrap();
    let migrate = |env: Option<&str>, flag: Option<&str>| {
        let mut c = Command::new(BIN);
        c.current_dir(dir.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .args(["migrate", "--config", "liaison.toml"]);
        if let Some(e) = env {
            c.env("LIAISON_DATABASE_URL", e);
        }
        if let Some(f) = flag {
            c.args(["--database-url", f]);
        }
        assert!(c.output().unwrap().status.success());
    };
    migrate(None, None);
    assert!(dir.path().join("from-file.db").exists());
    migrate(Some("sqlite://from-env.db"), None);
    assert!(dir.path().join("from-env.db").exists());
    migrate(Some("sqlite://from-env2.db"), Some("sqlite://from-flag.db"));
    assert!(dir.path().join("from-flag.db").exists());
    assert!(!dir.path().join("from-env2.db").exists());
}

/// `liaison import faculty` of a CSV text; returns the ids of the rows.
fn cli_import(dir: &std::path::Path, db_url: &str, university_id: &str, csv: &str) -> Vec<String> {
    let file = dir.join("import.csv");
    std::fs::write(&file, csv).unwrap();
    let out = command(dir, db_url)
        .args([
            "import",
            "faculty",
            file.to_str().unwrap(),
            "--university-id",
            university_id,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Every profile id the search finds for `keyword` (and the reported total).
fn search_ids(addr: &str, keyword: &str) -> (u64, Vec<String>) {
    let (status, body) = http(
        addr,
        "GET",
        &format!("/api/v1/search?type=faculty&q={keyword}&limit=100"),
        None,
        None,
    );
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let ids = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    (v["total"].as_u64().unwrap(), ids)
}

/// Waits until the search finds exactly `want` (sorted) and reports no more hits than that.
fn wait_for_search(addr: &str, keyword: &str, want: &[String]) {
    let mut want = want.to_vec();
    want.sort();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (total, mut found) = search_ids(addr, keyword);
        found.sort();
        if found == want && total == want.len() as u64 {
            return;
        }
        assert!(
            total <= want.len() as u64,
            "more hits than records: applied twice? {total} > {}",
            want.len()
        );
        assert!(
            std::time::Instant::now() < deadline,
            "search has {total}/{} after 20 s",
            want.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn the_search_index_survives_kill_9_and_rebuilds_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    bootstrap_operator(
        dir.path(),
        &db.url,
        "ops@liaison.test",
        "operator password 123",
    );
    let mut server = Server::start(dir.path(), &db.url);
    let token = login(&server.addr, "ops@liaison.test", "operator password 123");
    let uni = create(
        &server.addr,
        &token,
        "/api/v1/organizations",
        r#"{"kind":"university","name":"NYCU","country":"TW"}"#,
    );
    let mut created = Vec::new();
    for i in 0..40 {
        // The first half waits until searchable; the rest may still be in flight at the kill.
        let refresh = if i < 20 { "?refresh=wait_for" } else { "" };
        let body = serde_json::json!({"university_id": uni, "name": format!("P{i}"), "keywords": ["crashtest"]});
        let path = format!("/api/v1/faculty{refresh}");
        created.push(create(&server.addr, &token, &path, &body.to_string()));
    }
    // kill -9: no chance to commit anything more.
    server.child.kill().unwrap();
    server.child.wait().unwrap();

    // While it is down, the CLI writes more (through the same outbox).
    created.extend(cli_import(
        dir.path(),
        &db.url,
        &uni,
        "external_id,name,keywords\nX-1,Q1,crashtest\nX-2,Q2,crashtest\nX-3,Q3,crashtest\n",
    ));

    // Restarted: it resumes from its last commit; nothing lost, nothing twice.
    let mut server = Server::start(dir.path(), &db.url);
    wait_for_search(&server.addr, "crashtest", &created);
    let (status, body) = http(&server.addr, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"search\""), "{body}");

    // `liaison reindex` refuses while the service holds the index ...
    let out = command(dir.path(), &db.url)
        .arg("reindex")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("in use"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.terminate();
    assert!(server.wait().success());
    // ... and rebuilds from the database alone once it is stopped.
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let out = command(dir.path(), &db.url)
        .arg("reindex")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("indexed {} record(s)", created.len())),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let server = Server::start(dir.path(), &db.url);
    wait_for_search(&server.addr, "crashtest", &created);
    drop(server);

    // A missing index is rebuilt by the service itself at start.
    std::fs::remove_dir_all(dir.path().join("index")).unwrap();
    let server = Server::start(dir.path(), &db.url);
    wait_for_search(&server.addr, "crashtest", &created);
    drop(server);

    // Outbox rows the index never applied were pruned while it was away: it notices the gap
    // and rebuilds instead of silently missing them.
    created.extend(cli_import(
        dir.path(),
        &db.url,
        &uni,
        "external_id,name,keywords\nY-1,R1,crashtest\nY-2,R2,crashtest\n",
    ));
    db.execute("DELETE FROM search_outbox WHERE seq < (SELECT MAX(seq) FROM search_outbox)");
    let server = Server::start(dir.path(), &db.url);
    wait_for_search(&server.addr, "crashtest", &created);
}

/// A segment file cut short, overwritten with zeros or deleted while the service is stopped:
/// at start the index is verified and rebuilt from the database, and every search answers
/// (phrases too, which read positions). Each kind of damage once, each on a fresh rebuild.
#[test]
fn a_damaged_index_is_rebuilt_from_the_database_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let (mut server, token) = server_with_operator(dir.path(), &db);
    let uni = create(
        &server.addr,
        &token,
        "/api/v1/organizations",
        r#"{"kind":"university","name":"NTHU","country":"TW"}"#,
    );
    let mut created = Vec::new();
    for i in 0..12 {
        let body = serde_json::json!({"university_id": uni, "name": format!("P{i}"),
            "keywords": ["damagetest"], "research_interests": "silicon photonics for accelerators"});
        let path = "/api/v1/faculty?refresh=wait_for";
        created.push(create(&server.addr, &token, path, &body.to_string()));
    }
    server.terminate();
    assert!(server.wait().success());

    let index = dir.path().join("index");
    // The largest file of the index with this extension.
    let largest = |ext: &str| -> std::path::PathBuf {
        std::fs::read_dir(&index)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == ext))
            .max_by_key(|p| std::fs::metadata(p).unwrap().len())
            .unwrap_or_else(|| panic!("no .{ext} file in the index"))
    };
    let cut_short = |p: std::path::PathBuf| {
        let len = std::fs::metadata(&p).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&p)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    };
    let zeros = |p: std::path::PathBuf| {
        let len = std::fs::metadata(&p).unwrap().len() as usize;
        std::fs::write(&p, vec![0u8; len]).unwrap();
    };
    let damages: [(&str, &dyn Fn()); 5] = [
        ("store cut short", &|| cut_short(largest("store"))),
        ("idx cut short", &|| cut_short(largest("idx"))),
        ("term cut short", &|| cut_short(largest("term"))),
        ("zeros in idx", &|| zeros(largest("idx"))),
        ("pos deleted", &|| {
            std::fs::remove_file(largest("pos")).unwrap();
        }),
    ];
    for (what, damage) in damages {
        damage();
        let mut server = Server::start(dir.path(), &db.url);
        wait_for_search(&server.addr, "damagetest", &created);
        let (total, _) = search_ids(&server.addr, "%22silicon+photonics%22");
        assert_eq!(total, created.len() as u64, "{what}");
        let (status, body) = http(&server.addr, "GET", "/readyz", None, None);
        assert_eq!(status, 200, "{what}: {body}");
        server.terminate();
        assert!(server.wait().success(), "{what}");
        let log = server.log.lock().unwrap().clone();
        assert!(log.contains("search index damaged"), "{what}: {log}");
    }
}

/// Zeros written over a postings file while the service runs: the search that fails has the
/// index verified, and the indexer rebuilds it from the database while the service answers.
#[test]
fn an_index_damaged_while_serving_is_rebuilt_after_a_failed_search() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let (server, token) = server_with_operator(dir.path(), &db);
    let uni = create(
        &server.addr,
        &token,
        "/api/v1/organizations",
        r#"{"kind":"university","name":"NCKU","country":"TW"}"#,
    );
    let created = cli_import(
        dir.path(),
        &db.url,
        &uni,
        &(0..50)
            .map(|i| format!("E-{i},P{i},livedamage\n"))
            .fold("external_id,name,keywords\n".to_owned(), |a, b| a + &b),
    );
    wait_for_search(&server.addr, "livedamage", &created);
    let idx = std::fs::read_dir(dir.path().join("index"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .unwrap();
    // In place, without truncating: the service maps the file.
    let len = std::fs::metadata(&idx).unwrap().len() as usize;
    let mut f = std::fs::OpenOptions::new().write(true).open(&idx).unwrap();
    f.write_all(&vec![0u8; len]).unwrap();
    drop(f);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut failed = 0;
    loop {
        let (status, _) = http(
            &server.addr,
            "GET",
            "/api/v1/search?type=faculty&q=livedamage&limit=100",
            None,
            None,
        );
        if status == 200 && search_ids(&server.addr, "livedamage").0 == created.len() as u64 {
            break;
        }
        failed += 1;
        assert!(
            std::time::Instant::now() < deadline,
            "search still fails 30 s after the damage ({status}): {}",
            server.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = server.log.lock().unwrap().clone();
    assert!(failed > 0, "the damage was never noticed by a search");
    assert!(log.contains("search index damaged"), "{log}");
}

/// The indexer cannot write its commit (its folder replaced by a file, as a full or
/// read-only disk would refuse it): its log line names that cause, not the public "could
/// not complete the request" that says nothing to an operator.
#[test]
fn the_indexer_logs_the_cause_of_its_failures() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let (server, token) = server_with_operator(dir.path(), &db);
    let uni = create(
        &server.addr,
        &token,
        "/api/v1/organizations",
        r#"{"kind":"university","name":"NCCU","country":"TW"}"#,
    );
    let index = dir.path().join("index");
    std::fs::remove_dir_all(&index).unwrap();
    // A file where the folder was: nothing can be created inside it (even as root).
    std::fs::write(&index, b"not a folder").unwrap();
    let body = serde_json::json!({"university_id": uni, "name": "P", "keywords": ["logtest"]});
    create(&server.addr, &token, "/api/v1/faculty", &body.to_string());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let line = loop {
        let log = server.log.lock().unwrap().clone();
        if let Some(line) = log.lines().find(|l| l.contains("search indexer failed")) {
            break line.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no indexer failure logged: {log}"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        line.contains("Not a directory"),
        "the cause is named: {line}"
    );
    assert!(!line.contains("could not complete the request"), "{line}");
}

/// A body trickled a byte at a time (a quarter second apart, 40 bytes) is cut off with a 408
/// problem once `body_timeout_secs` has passed, the connection is closed, and the server
/// answers the next request. Without the deadline the trickle held the request for as long
/// as it lasted.
#[test]
fn a_slow_body_times_out_with_408_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    let server = Server::start_with(dir.path(), &db.url, &[("LIAISON_BODY_TIMEOUT_SECS", "2")]);
    let mut s = connect(&server.addr);
    let body = format!("{{\"email\":\"{}\"}}", "x".repeat(28));
    assert_eq!(body.len(), 40);
    write!(
        s,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    let started = std::time::Instant::now();
    let mut writer = s.try_clone().unwrap();
    let trickle = std::thread::spawn(move || {
        for byte in body.bytes() {
            if writer.write_all(&[byte]).is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    });
    let mut raw = String::new();
    let _ = s.read_to_string(&mut raw);
    let elapsed = started.elapsed();
    assert!(raw.starts_with("HTTP/1.1 408"), "after {elapsed:?}: {raw}");
    assert!(elapsed < Duration::from_secs(6), "after {elapsed:?}");
    assert!(
        raw.to_lowercase()
            .contains("content-type: application/problem+json"),
        "{raw}"
    );
    assert!(raw.contains("\"code\":\"request_timeout\""), "{raw}");
    trickle.join().unwrap();
    let (status, body) = http(&server.addr, "GET", "/healthz", None, None);
    assert_eq!(status, 200, "{body}");
}

/// PostgreSQL stops answering (a frozen proxy in front of it passes nothing on, as a network
/// partition or a stopped server would): `/readyz` still answers 503 naming the database
/// within `readyz_timeout_ms`, and the process keeps answering. (SQLite has no network to
/// lose; tests/operations.rs holds every pooled connection instead, on both backends.)
#[test]
fn readyz_answers_in_time_when_postgres_stops_answering() {
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    if !db.is_postgres() {
        return;
    }
    // postgres://user@HOST:PORT/name -> the same through the proxy.
    let (head, rest) = db.url.split_once('@').unwrap();
    let (upstream, name) = rest.split_once('/').unwrap();
    let upstream = upstream.to_owned();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxied = format!("{head}@{}/{name}", listener.local_addr().unwrap());
    let frozen = Arc::new(AtomicBool::new(false));
    let pump = |mut from: TcpStream, mut to: TcpStream, frozen: Arc<AtomicBool>| {
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            while let Ok(n) = from.read(&mut buf) {
                while frozen.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                if n == 0 || to.write_all(&buf[..n]).is_err() {
                    return;
                }
            }
        });
    };
    let proxy_frozen = frozen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(server) = TcpStream::connect(&upstream) else {
                continue;
            };
            let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            pump(client, server, proxy_frozen.clone());
            pump(s2, c2, proxy_frozen.clone());
        }
    });
    let server = Server::start_with(
        dir.path(),
        &proxied,
        &[("LIAISON_READYZ_TIMEOUT_MS", "1000")],
    );
    let (status, body) = http(&server.addr, "GET", "/readyz", None, None);
    assert_eq!(status, 200, "{body}");

    frozen.store(true, Ordering::SeqCst);
    let started = std::time::Instant::now();
    let (status, body) = http(&server.addr, "GET", "/readyz", None, None);
    let elapsed = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(
        elapsed < Duration::from_secs(3),
        "answered after {elapsed:?}"
    );
    let p: serde_json::Value = serde_json::from_str(&body).unwrap();
    let failing: Vec<_> = p["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(failing, ["database"], "{p}");
    let (status, _) = http(&server.addr, "GET", "/healthz", None, None);
    assert_eq!(status, 200);
}

#[test]
fn webhook_deliveries_survive_kill_9_none_lost_none_sent_twice_under_another_id() {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(dir.path());
    bootstrap_operator(
        dir.path(),
        &db.url,
        "ops@liaison.test",
        "operator password 123",
    );
    let env = [
        ("LIAISON_WEBHOOK_ALLOW_PRIVATE_TARGETS", "true"),
        ("LIAISON_WEBHOOK_RETRY_SCHEDULE_SECS", "1,1,1,1,1"),
    ];
    let receiver = common::receiver::Receiver::start();
    let mut server = Server::start_with(dir.path(), &db.url, &env);
    let token = login(&server.addr, "ops@liaison.test", "operator password 123");
    let co = create(
        &server.addr,
        &token,
        "/api/v1/organizations",
        r#"{"kind":"company","name":"MediaTek","country":"TW"}"#,
    );
    let hook = serde_json::json!({"url": receiver.url, "event_types": ["need.published"]});
    create(
        &server.addr,
        &token,
        &format!("/api/v1/organizations/{co}/webhooks"),
        &hook.to_string(),
    );
    let mut needs = Vec::new();
    for i in 0..40 {
        let body = serde_json::json!({"company_id": co, "title": format!("Need {i}"), "status": "open", "visibility": "public"});
        needs.push(create(
            &server.addr,
            &token,
            "/api/v1/needs",
            &body.to_string(),
        ));
        if i == 20 {
            receiver.wait_for("the first deliveries", |r| !r.is_empty());
        }
    }
    // kill -9 in the middle of the burst.
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let before = receiver.received().len();
    let _server = Server::start_with(dir.path(), &db.url, &env);
    let got = receiver.wait_for("every need's delivery", |r| {
        let seen: std::collections::HashSet<String> = r
            .iter()
            .map(|x| x.json()["data"]["entity_id"].as_str().unwrap().to_owned())
            .collect();
        needs.iter().all(|n| seen.contains(n))
    });
    assert!(
        before < needs.len(),
        "the kill came before the burst was out ({before})"
    );
    let mut ids: std::collections::HashMap<String, String> = Default::default();
    for r in &got {
        let need = r.json()["data"]["entity_id"].as_str().unwrap().to_owned();
        let id = r.header("webhook-id").to_owned();
        let first = ids.entry(need.clone()).or_insert_with(|| id.clone());
        assert_eq!(*first, id, "{need} was sent under two ids");
    }
    assert_eq!(ids.len(), needs.len());
}
