//! A local stand-in for ORCID's public API and OpenAlex on 127.0.0.1, serving records in
//! their published formats (the fixtures in `src/demo/sources`, see their READMEs). The demo
//! uses it (`liaison demo --with-sources`) to show synced profiles without a network, and the
//! tests use it, with faults injected (429 with `Retry-After`, 5xx, slow answers, malformed
//! JSON, replaced records), to drive the production client through the same code path: only
//! the base URLs differ.
//!
//! ORCID is served under `/orcid/v3.0`, OpenAlex under `/openalex`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

macro_rules! fixture {
    ($path:literal) => {
        ($path, include_str!(concat!("sources/", $path)))
    };
}

/// Every fixture, by its path under `src/demo/sources`.
const FIXTURES: &[(&str, &str)] = &[
    fixture!("orcid/0000-0001-5109-3700.record.json"),
    fixture!("orcid/0000-0001-5109-3700.works.json"),
    fixture!("orcid/0000-0002-1825-0097.record.json"),
    fixture!("orcid/0000-0002-1825-0097.works.json"),
    fixture!("orcid/0000-0002-9079-593X.record.json"),
    fixture!("orcid/error-404.json"),
    fixture!("orcid/error-409-deactivated.json"),
    fixture!("openalex/author-A5000000001.json"),
    fixture!("openalex/author-A5000000002.json"),
    fixture!("openalex/works-A5000000001-page1.json"),
    fixture!("openalex/works-A5000000001-page2.json"),
    fixture!("openalex/works-A5000000002-page1.json"),
    fixture!("openalex/error-404.json"),
];

/// The iD the fake answers as a deactivated record (409), as ORCID does.
pub const DEACTIVATED_ORCID: &str = "0000-0000-0000-0124";

fn fixture(path: &str) -> Option<&'static str> {
    FIXTURES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, body)| *body)
}

/// What the fake does instead of answering normally.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers this status; 429 with `Retry-After` seconds when given.
    Status(u16, Option<u64>),
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Answers 200 with a body that is not JSON.
    Malformed,
    /// Answers 200 with this body.
    Body(String),
}

struct Rule {
    /// Applies to request paths containing this.
    path: String,
    /// How many more requests it applies to.
    remaining: usize,
    fault: Fault,
}

/// A request the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: String,
    pub user_agent: String,
    pub at: std::time::Instant,
}

#[derive(Default)]
pub struct Faults {
    rules: Mutex<VecDeque<Rule>>,
    log: Mutex<Vec<Received>>,
}

impl Faults {
    /// The next `times` requests whose path contains `path` get `fault` (rules apply in the
    /// order they were added).
    pub fn inject(&self, path: &str, times: usize, fault: Fault) {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_back(Rule {
                path: path.to_owned(),
                remaining: times,
                fault,
            });
    }

    /// Every request whose path contains `path` gets `body` from now on.
    pub fn replace(&self, path: &str, body: String) {
        self.inject(path, usize::MAX, Fault::Body(body));
    }

    pub fn clear(&self) {
        self.rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    /// The requests received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn take(&self, path: &str) -> Option<Fault> {
        let mut rules = self
            .rules
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let i = rules
            .iter()
            .position(|r| r.remaining > 0 && path.contains(&r.path))?;
        let rule = &mut rules[i];
        rule.remaining = rule.remaining.saturating_sub(1);
        let fault = rule.fault.clone();
        if rule.remaining == 0 {
            rules.remove(i);
        }
        Some(fault)
    }
}

/// The running fake; stops when dropped.
pub struct FakeSources {
    base: String,
    pub faults: Arc<Faults>,
    server: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeSources {
    /// Starts the fake on a free port of 127.0.0.1.
    pub fn start() -> anyhow::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let base = format!("http://{}", listener.local_addr()?);
        let faults = Arc::new(Faults::default());
        let shared = faults.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("liaison-fake-sources".into())
            .spawn(move || {
                let system = actix_web::rt::System::new();
                let served = system.block_on(async move {
                    let server = HttpServer::new(move || {
                        App::new()
                            .app_data(web::Data::new(shared.clone()))
                            .default_service(web::to(answer))
                    })
                    .workers(1)
                    .disable_signals()
                    .listen(listener)?
                    .run();
                    let _ = tx.send(server.handle());
                    server.await
                });
                if let Err(e) = served {
                    tracing::warn!(error = %e, "the fake sources stopped");
                }
            })?;
        let server = rx.recv()?;
        Ok(Self {
            base,
            faults,
            server,
            thread: Some(thread),
        })
    }

    /// The `orcid_base_url` setting that points at the fake.
    pub fn orcid_base_url(&self) -> String {
        format!("{}/orcid/v3.0", self.base)
    }

    /// The `openalex_base_url` setting that points at the fake.
    pub fn openalex_base_url(&self) -> String {
        format!("{}/openalex", self.base)
    }
}

impl Drop for FakeSources {
    fn drop(&mut self) {
        // The command is sent at once; the server's thread ends when it has stopped.
        drop(self.server.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn json(status: u16, body: &str) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR),
    )
    .content_type("application/json;charset=UTF-8")
    .body(body.to_owned())
}

async fn answer(req: HttpRequest, faults: web::Data<Arc<Faults>>) -> HttpResponse {
    let path = req.path().to_owned();
    let query = req.query_string().to_owned();
    faults
        .log
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Received {
            path: path.clone(),
            query: query.clone(),
            user_agent: req
                .headers()
                .get("user-agent")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
            at: std::time::Instant::now(),
        });
    match faults.take(&path) {
        Some(Fault::Status(status, retry_after)) => {
            let mut res = json(
                status,
                &serde_json::json!({"error": "injected", "status": status}).to_string(),
            );
            if let Some(secs) = retry_after
                && let Ok(value) = actix_web::http::header::HeaderValue::from_str(&secs.to_string())
            {
                res.headers_mut()
                    .insert(actix_web::http::header::RETRY_AFTER, value);
            }
            return res;
        }
        Some(Fault::Delay(d)) => actix_web::rt::time::sleep(d).await,
        Some(Fault::Malformed) => return json(200, "{\"bulk\": [{\"work\": "),
        Some(Fault::Body(body)) => return json(200, &body),
        None => {}
    }
    if let Some(rest) = path.strip_prefix("/orcid/v3.0/") {
        orcid(rest)
    } else if let Some(rest) = path.strip_prefix("/openalex/") {
        openalex(rest, &query)
    } else {
        json(404, "{}")
    }
}

fn orcid(rest: &str) -> HttpResponse {
    let parts: Vec<&str> = rest.split('/').collect();
    let not_found = || json(404, fixture("orcid/error-404.json").unwrap_or("{}"));
    match parts.as_slice() {
        [id, "record"] if *id == DEACTIVATED_ORCID => json(
            409,
            fixture("orcid/error-409-deactivated.json").unwrap_or("{}"),
        ),
        [id, "record"] => fixture(&format!("orcid/{id}.record.json"))
            .map_or_else(not_found, |body| json(200, body)),
        [id, "works", codes] => {
            let Some(body) = fixture(&format!("orcid/{id}.works.json")) else {
                return not_found();
            };
            // The bulk answer holds the works asked for, in put-code order.
            let wanted: Vec<&str> = codes.split(',').collect();
            let mut bulk: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            if let Some(items) = bulk.get_mut("bulk").and_then(Value::as_array_mut) {
                items.retain(|item| {
                    item.pointer("/work/put-code")
                        .map(|p| p.to_string())
                        .is_some_and(|p| wanted.contains(&p.as_str()))
                });
            }
            json(200, &bulk.to_string())
        }
        _ => not_found(),
    }
}

fn openalex(rest: &str, query: &str) -> HttpResponse {
    let not_found = || json(404, fixture("openalex/error-404.json").unwrap_or("{}"));
    if let Some(id) = rest.strip_prefix("authors/") {
        if let Some(orcid) = id.strip_prefix("orcid:") {
            return FIXTURES
                .iter()
                .filter(|(p, _)| p.starts_with("openalex/author-"))
                .find(|(_, body)| {
                    serde_json::from_str::<Value>(body)
                        .ok()
                        .and_then(|a| a.get("orcid").and_then(Value::as_str).map(str::to_owned))
                        .is_some_and(|o| o.ends_with(orcid))
                })
                .map_or_else(not_found, |(_, body)| json(200, body));
        }
        return fixture(&format!("openalex/author-{id}.json"))
            .map_or_else(not_found, |body| json(200, body));
    }
    if rest == "works" {
        let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let param = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
        };
        let Some(author) =
            param("filter").and_then(|f| f.strip_prefix("author.id:").map(str::to_owned))
        else {
            return json(400, "{\"error\": \"filter is required here\"}");
        };
        let cursor = param("cursor").unwrap_or_else(|| "*".to_owned());
        // Pages in order; a page's cursor is the one the page before it handed out.
        let mut expected = "*".to_owned();
        for n in 1.. {
            let Some(body) = fixture(&format!("openalex/works-{author}-page{n}.json")) else {
                break;
            };
            if expected == cursor {
                return json(200, body);
            }
            let page: Value = serde_json::from_str(body).unwrap_or(Value::Null);
            match page.pointer("/meta/next_cursor").and_then(Value::as_str) {
                Some(next) => expected = next.to_owned(),
                None => break,
            }
        }
        return json(
            200,
            &serde_json::json!({"meta": {"count": 0, "db_response_time_ms": 1, "page": null,
                "per_page": 25, "next_cursor": null, "groups_count": null},
                "results": [], "group_by": []})
            .to_string(),
        );
    }
    not_found()
}
