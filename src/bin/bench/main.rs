//! Search benchmark: builds a realistic corpus (faculty profiles with publications from the
//! SBIR abstracts, needs from Horizon Europe topics and SBIR abstracts, ~10% Korean or Chinese
//! text), loads it into a real `liaison serve` through the real import path over HTTP, and
//! prints import throughput, index size, peak RSS and search latency at concurrency 1 and 16.
//!
//! Run it with `bench/search.sh` (it builds the release binaries and unpacks the corpora);
//! `bench --help` lists the knobs. Everything runs on 127.0.0.1 and stops by itself.

// A panic in the service is a 500 or a crash: errors are returned, never unwrapped. Unit tests
// too return Result and use `?` (clippy.toml no longer exempts them); only `panic!` and
// `assert!` are allowed there, as the failing assertion itself.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

mod alerts;
mod alternatives;

use anyhow::{Context, Result, anyhow, bail, ensure};
use serde_json::{Value, json};

const PASSWORD: &str = "benchmark password 0123456789";
/// Runs of each query for the per-query table.
const PER_QUERY_RUNS: usize = 15;

#[derive(Clone)]
struct Args {
    liaison: PathBuf,
    sbir: PathBuf,
    horizon: PathBuf,
    work: PathBuf,
    faculty: usize,
    needs: usize,
    pubs: usize,
    chunk: usize,
    requests: usize,
    database_url: Option<String>,
    keep: bool,
    /// Measure latency on the database and index a `--keep` run left in `--work`.
    reuse: bool,
    /// `operator` for the search queries (the service's default when unset).
    operator: Option<String>,
    /// Import requests in flight at once.
    import_connections: usize,
    /// Measure text analysis alone (no service) and stop.
    analysis: bool,
    /// Skip the search phases: import (or reuse), then measure matching only.
    only_matches: bool,
    /// The needs the match phase cycles through: few keep every cache between requests warm,
    /// thousands measure matching cold.
    match_needs: usize,
    /// Also load the profiles into SQLite FTS5 and measure it beside Liaison.
    alternatives: bool,
    /// With `--alternatives`, PostgreSQL full-text search on this database too.
    alternatives_postgres: Option<String>,
    /// `--alerts N`: measure a bulk import of `faculty` profiles with N saved alerts in place
    /// against the same import without them (`alerts`), instead of the search benchmark.
    alerts: Option<usize>,
    /// With `--alerts`: pairs of runs (without alerts, then with them).
    runs: usize,
    /// With `--alerts`: profiles imported before the alerts (the professors' alerts watch
    /// needs for them).
    seed_profiles: Option<usize>,
    /// With `--alerts`: the `min_score` of the match alerts.
    min_score: f64,
    /// With `--alerts`: the longest wait for the notifications after the import.
    notify_timeout: Duration,
    /// With `--alerts`: only the runs with alerts.
    skip_baseline: bool,
    /// With `--alerts`: the percentages of need match alerts and of profile searches (the
    /// rest are profile match alerts).
    mix: (usize, usize),
}

/// A flag's value that must be a positive number.
fn positive(flag: &str, value: String) -> Result<usize> {
    value
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .with_context(|| format!("{flag} takes a positive number"))
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        liaison: std::env::current_exe()
            .context("cannot locate the bench binary")?
            .with_file_name("liaison"),
        sbir: PathBuf::from("sbir-abstracts.jsonl"),
        horizon: PathBuf::from("horizon-europe-topics.jsonl"),
        work: std::env::temp_dir().join(format!("liaison-bench-{}", std::process::id())),
        faculty: 100_000,
        needs: 20_000,
        pubs: 10,
        chunk: 1_000,
        requests: 4_000,
        database_url: None,
        keep: false,
        reuse: false,
        operator: None,
        import_connections: 2,
        analysis: false,
        only_matches: false,
        match_needs: 64,
        alternatives: false,
        alternatives_postgres: None,
        alerts: None,
        runs: 1,
        seed_profiles: None,
        min_score: alerts::MIN_SCORE,
        notify_timeout: Duration::from_secs(600),
        mix: (50, 40),
        skip_baseline: false,
    };
    let (mut faculty, mut needs) = (None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--liaison" => a.liaison = value()?.into(),
            "--sbir" => a.sbir = value()?.into(),
            "--horizon" => a.horizon = value()?.into(),
            "--work" => a.work = value()?.into(),
            "--faculty" => faculty = Some(value()?.parse().context("--faculty takes a number")?),
            "--needs" => needs = Some(value()?.parse().context("--needs takes a number")?),
            "--pubs" => a.pubs = value()?.parse().context("--pubs takes a number")?,
            "--chunk" => a.chunk = value()?.parse().context("--chunk takes a number")?,
            "--requests" => a.requests = value()?.parse().context("--requests takes a number")?,
            "--database-url" => a.database_url = Some(value()?),
            "--keep" => a.keep = true,
            "--reuse" => a.reuse = true,
            "--analysis" => a.analysis = true,
            "--only-matches" => a.only_matches = true,
            "--match-needs" => a.match_needs = positive(&flag, value()?)?,
            "--alternatives" => a.alternatives = true,
            "--alternatives-postgres" => {
                a.alternatives = true;
                a.alternatives_postgres = Some(value()?);
            }
            "--operator" => a.operator = Some(value()?),
            "--alerts" => a.alerts = Some(value()?.parse().context("--alerts takes a number")?),
            "--runs" => a.runs = positive(&flag, value()?)?,
            "--seed-profiles" => {
                a.seed_profiles = Some(value()?.parse().context("--seed-profiles takes a number")?)
            }
            "--min-score" => {
                a.min_score = value()?
                    .parse()
                    .ok()
                    .filter(|s| (0.0..=1.0).contains(s))
                    .context("--min-score takes a number between 0 and 1")?
            }
            "--skip-baseline" => a.skip_baseline = true,
            "--mix" => {
                let v = value()?;
                a.mix = v
                    .split_once(',')
                    .and_then(|(n, s)| Some((n.parse().ok()?, s.parse().ok()?)))
                    .filter(|(n, s): &(usize, usize)| n + s <= 100)
                    .context("--mix takes NEED,SEARCH percentages (the rest: profile matches)")?
            }
            "--notify-timeout" => {
                a.notify_timeout =
                    Duration::from_secs(value()?.parse().context("--notify-timeout takes seconds")?)
            }
            "--import-connections" => a.import_connections = positive(&flag, value()?)?,
            other => bail!(
                "unknown argument {other:?}\n\
                 usage: bench [--faculty 100000] [--needs 20000] [--pubs 10] [--chunk 1000] [--requests 4000]\n\
                 \x20            [--sbir FILE.jsonl] [--horizon FILE.jsonl] [--liaison PATH] [--work DIR] [--database-url URL] [--keep] [--reuse]\n\
                 \x20            [--operator and|or] [--import-connections 2] [--analysis] [--only-matches] [--match-needs 64]\n\
                 \x20            [--alternatives] [--alternatives-postgres URL]\n\
                 \x20      bench --alerts 10000 [--faculty 10000] [--needs 5000] [--seed-profiles 1000] [--runs 1]\n\
                 \x20            [--min-score {}] [--mix 50,40] [--skip-baseline] [--notify-timeout 600] [--chunk 1000] [--pubs 10] [--sbir ...] [--horizon ...] [--work DIR] [--keep]",
                alerts::MIN_SCORE
            ),
        }
    }
    // The alerts benchmark measures a smaller import (issue 24's size) by default.
    let alerts_mode = a.alerts.is_some();
    a.faculty = faculty.unwrap_or(if alerts_mode { 10_000 } else { a.faculty });
    a.needs = needs.unwrap_or(match a.alerts {
        Some(n) => alerts::Mix::of(n, a.mix).need_matches,
        None => a.needs,
    });
    // Commands run with the work directory as their current folder: resolve paths first.
    a.liaison = std::fs::canonicalize(&a.liaison)
        .with_context(|| format!("no liaison binary at {}", a.liaison.display()))?;
    Ok(a)
}

/// A small deterministic generator (xorshift), so every run builds the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const KO: [&str; 30] = [
    "인공지능",
    "딥러닝 기반",
    "반도체 공정",
    "메모리 반도체",
    "고대역폭 메모리",
    "열 관리",
    "대규모 언어 모델",
    "분산 학습",
    "GPU 클러스터",
    "자율 주행",
    "의료 영상 분석",
    "신약 개발",
    "바이오 센서",
    "무선 통신",
    "6G 네트워크",
    "엣지 컴퓨팅",
    "양자 컴퓨팅",
    "로봇 제어",
    "전력 반도체",
    "배터리 소재",
    "강화 학습",
    "컴퓨터 비전",
    "자연어 처리",
    "칩 설계",
    "패키징 기술",
    "최적화 연구",
    "시스템 설계",
    "플랫폼 개발",
    "데이터 분석",
    "보안 기술",
];
const ZH: [&str; 30] = [
    "人工智慧",
    "深度學習",
    "半導體製程",
    "先進封裝",
    "晶片設計",
    "良率分析",
    "缺陷檢測",
    "大型語言模型",
    "分散式訓練",
    "高效能運算",
    "自駕車",
    "醫學影像",
    "新藥開發",
    "生醫感測",
    "無線通訊",
    "邊緣運算",
    "量子計算",
    "機器人控制",
    "功率元件",
    "電池材料",
    "強化學習",
    "電腦視覺",
    "自然語言處理",
    "記憶體",
    "系統整合",
    "平台開發",
    "研究計畫",
    "最佳化",
    "資料分析",
    "網路安全",
];

const DEPARTMENTS: [&str; 5] = [
    "Computer Science",
    "Electrical Engineering",
    "Materials Science",
    "Biomedical Engineering",
    "Physics",
];
const AVAILABILITY: [&str; 5] = [
    "sponsored_research",
    "consulting",
    "joint_lab",
    "student_internships",
    "licensing",
];
const KINDS: [&str; 3] = ["sponsored_research", "consulting", "joint_lab"];
const CURRENCIES: [&str; 3] = ["USD", "KRW", "TWD"];

fn phrases(rng: &mut Rng, words: &[&str], n: usize, sep: &str) -> String {
    (0..n)
        .map(|_| words[rng.below(words.len())])
        .collect::<Vec<_>>()
        .join(sep)
}

#[derive(Clone)]
struct Text {
    title: String,
    body: String,
}

fn load(path: &Path, title: &str, body: &str) -> Result<Vec<Text>> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter_map(|v| {
            Some(Text {
                // Titles are single-line fields: the corpus has a few with line breaks.
                title: v[title]
                    .as_str()?
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
                body: v[body].as_str()?.to_owned(),
            })
        })
        .collect())
}

fn truncate(s: &str, chars: usize) -> String {
    s.chars().take(chars).collect()
}

/// Keywords: the longer words of a title, lowercased.
fn keywords(title: &str) -> Vec<String> {
    let mut out: Vec<String> = title
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 5)
        .map(str::to_lowercase)
        .collect();
    out.dedup();
    out.truncate(5);
    out
}

fn profile_line(i: usize, rng: &mut Rng, sbir: &[Text], pubs: usize) -> String {
    let lang = i % 10;
    let first = &sbir[(i * 7919) % sbir.len()];
    let publications: Vec<Value> = (0..pubs)
        .map(|j| {
            let t = &sbir[(i * pubs + j) % sbir.len()];
            json!({"title": truncate(&t.title, 300), "abstract": truncate(&t.body, 2000), "year": 2000 + (i + j) % 26})
        })
        .collect();
    let (name, local, interests, kws) = match lang {
        0 => (
            format!("Kim Bench {i}"),
            Some(format!("김벤치{}", i % 1000)),
            format!(
                "{}에 관한 연구. {}",
                phrases(rng, &KO, 4, ", "),
                phrases(rng, &KO, 6, " ")
            ),
            vec![
                KO[rng.below(KO.len())].to_owned(),
                KO[rng.below(KO.len())].to_owned(),
            ],
        ),
        5 => (
            format!("Chen Bench {i}"),
            Some(format!("陳測試{}", i % 1000)),
            format!(
                "{}之研究。{}",
                phrases(rng, &ZH, 4, "、"),
                phrases(rng, &ZH, 6, "")
            ),
            vec![
                ZH[rng.below(ZH.len())].to_owned(),
                ZH[rng.below(ZH.len())].to_owned(),
            ],
        ),
        _ => (
            format!("Bench Professor {i}"),
            None,
            truncate(&first.body, 800),
            keywords(&first.title),
        ),
    };
    json!({
        "external_id": format!("B-{i}"), "name": name, "local_name": local, "title": "Professor",
        "department": DEPARTMENTS[i % 5],
        "research_interests": interests, "keywords": kws,
        "availability": [AVAILABILITY[i % 5]],
        "publications": publications, "visibility": if i.is_multiple_of(7) { "members" } else { "public" },
    })
    .to_string()
}

fn need_body(i: usize, rng: &mut Rng, company: &str, sbir: &[Text], horizon: &[Text]) -> Value {
    let (title, description) = if i % 10 == 3 {
        (
            format!("{} 공동 연구", KO[rng.below(KO.len())]),
            phrases(rng, &KO, 12, " "),
        )
    } else if i % 10 == 8 {
        (
            format!("{}合作研究", ZH[rng.below(ZH.len())]),
            phrases(rng, &ZH, 12, ""),
        )
    } else if i.is_multiple_of(3) && !horizon.is_empty() {
        let t = &horizon[i % horizon.len()];
        (truncate(&t.title, 300), truncate(&t.body, 6000))
    } else {
        let t = &sbir[(i * 104_729) % sbir.len()];
        (truncate(&t.title, 300), truncate(&t.body, 3000))
    };
    let visibility = match i % 10 {
        0 => "confidential",
        1 | 2 => "members",
        _ => "public",
    };
    json!({
        "company_id": company, "title": title, "summary": truncate(&description, 300), "description": description,
        "keywords": keywords(&title), "collaboration_types": [KINDS[i % 3]],
        "budget": {"min": 10_000_000, "max": 50_000_000, "currency": CURRENCIES[i % 3]},
        "status": "open", "visibility": visibility,
    })
}

// ----------------------------------------------------------------------------------------
// A minimal keep-alive HTTP/1.1 client (no dependency; the bench talks only to 127.0.0.1).

struct Conn {
    stream: BufReader<TcpStream>,
    addr: String,
}

impl Conn {
    fn open(addr: &str) -> Result<Self> {
        let s = TcpStream::connect(addr).with_context(|| format!("cannot connect to {addr}"))?;
        s.set_nodelay(true)?;
        s.set_read_timeout(Some(Duration::from_secs(300)))?;
        Ok(Self {
            stream: BufReader::new(s),
            addr: addr.to_owned(),
        })
    }

    fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Vec<u8>)> {
        let auth = token
            .map(|t| format!("Authorization: Bearer {t}\r\n"))
            .unwrap_or_default();
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\n{auth}Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            self.addr,
            body.len()
        );
        let s = self.stream.get_mut();
        s.write_all(head.as_bytes())?;
        s.write_all(body)?;
        let mut status_line = String::new();
        self.stream.read_line(&mut status_line)?;
        let status = status_line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        let mut length = 0;
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line)?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body)?;
        Ok((status, body))
    }

    fn json(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<(u16, Value)> {
        let raw = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, body) =
            self.request(method, path, token, "application/json", raw.as_bytes())?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }
}

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..200 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

fn liaison(args: &Args, database_url: &str) -> Command {
    let mut c = Command::new(&args.liaison);
    c.current_dir(&args.work)
        .env("LIAISON_DATABASE_URL", database_url)
        .env("LIAISON_INDEX_DIR", args.work.join("index"))
        .env(
            "LIAISON_JWT_SECRET",
            "bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz",
        )
        .env("LIAISON_MAX_IMPORT_BYTES", (256 * 1024 * 1024).to_string())
        .env(
            "LIAISON_LOG_LEVEL",
            "warn,liaison::http=info,liaison::http::observe=warn",
        );
    c
}

/// The bench's platform operator (`bench@liaison.test`, [`PASSWORD`]), made with the CLI.
fn create_operator(args: &Args, database_url: &str) -> Result<()> {
    let mut create = liaison(args, database_url)
        .args([
            "user",
            "create",
            "--email",
            "bench@liaison.test",
            "--platform-operator",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .context("cannot run liaison user create")?;
    writeln!(create.stdin.take().context("no stdin pipe")?, "{PASSWORD}")?;
    ensure!(create.wait()?.success(), "liaison user create failed");
    Ok(())
}

fn start(args: &Args, database_url: &str) -> Result<Server> {
    let mut child = liaison(args, database_url)
        .arg("serve")
        .env("LIAISON_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {} serve", args.liaison.display()))?;
    let stderr = child.stderr.take().context("no stderr pipe")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on http://").nth(1) {
                let _ = tx.send(
                    rest.chars()
                        .take_while(|c| !c.is_whitespace())
                        .collect::<String>(),
                );
            } else {
                // Warnings and errors of the service (its log level is `warn`): shown, so
                // that a failed request can be explained.
                eprintln!("service: {line}");
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .context("the service did not announce its address within 60 s")?;
    Ok(Server { child, addr })
}

/// Peak and current resident memory of a process, in MiB (Linux), and the current split into
/// anonymous memory and file pages (the memory-mapped index counts as resident when touched).
fn rss(pid: u32) -> (f64, f64, f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (
        field("VmHWM:"),
        field("VmRSS:"),
        field("RssAnon:"),
        field("RssFile:"),
    )
}

/// The process's memory now, after a phase of the run: which phase leaves what behind.
fn memory_after(pid: u32, phase: &str) {
    let (peak, now, anon, file) = rss(pid);
    println!(
        "memory after {phase}: RSS {now:.0} MiB (anonymous {anon:.0} MiB, mapped files {file:.0} MiB); peak so far {peak:.0} MiB"
    );
}

fn dir_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_size(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

fn wait_indexed(addr: &str) -> Result<Duration> {
    let started = Instant::now();
    loop {
        // A fresh connection each time: an idle keep-alive connection may have been closed.
        let (_, ready) = Conn::open(addr)?.json("GET", "/readyz", None, None)?;
        if ready["search"]["lag"] == 0 && ready["search"]["rebuilding"] == false {
            return Ok(started.elapsed());
        }
        ensure!(
            started.elapsed() < Duration::from_secs(1800),
            "the index did not catch up in 30 minutes: {ready}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn latencies(
    addr: &str,
    token: &str,
    queries: &[(String, bool)],
    concurrency: usize,
    total: usize,
) -> Result<(Vec<f64>, Duration)> {
    let started = Instant::now();
    let per = total.div_ceil(concurrency);
    // Each thread starts 7 paths after the last; with many paths (`--match-needs`), far
    // enough apart that no two threads ask for the same one.
    let stride = (queries.len() / concurrency).max(7);
    let handles: Vec<_> = (0..concurrency)
        .map(|t| {
            let (addr, token, queries) = (addr.to_owned(), token.to_owned(), queries.to_vec());
            std::thread::spawn(move || -> Result<Vec<f64>> {
                let mut conn = Conn::open(&addr)?;
                let mut out = Vec::with_capacity(per);
                for i in 0..per {
                    let (path, signed_in) = &queries[(t * stride + i) % queries.len()];
                    let started = Instant::now();
                    let (status, _) = conn.request(
                        "GET",
                        path,
                        signed_in.then_some(token.as_str()),
                        "application/json",
                        b"",
                    )?;
                    out.push(started.elapsed().as_secs_f64() * 1000.0);
                    ensure!(status == 200, "{path} answered {status}");
                }
                Ok(out)
            })
        })
        .collect();
    let mut all = Vec::with_capacity(total);
    for h in handles {
        all.extend(joined(h)??);
    }
    all.sort_by(|a, b| a.total_cmp(b));
    Ok((all, started.elapsed()))
}

/// `--analysis`: text analysis alone, in MB/s over every SBIR abstract (best of three passes,
/// one analyzer instance each): tantivy's filters chained, the one-stream analyzer that indexes
/// and parses queries, and the highlighter for a two-word query.
fn analysis(sbir: &[Text]) {
    use liaison::search::analyzer::{highlighter, multilingual, reference_chain};
    use tantivy::tokenizer::{TextAnalyzer, TokenStream as _};
    let mb = sbir.iter().map(|t| t.body.len()).sum::<usize>() as f64 / 1e6;
    println!("## Text analysis ({} abstracts, {mb:.0} MB)", sbir.len());
    println!("| analyzer | tokens | MB/s |");
    println!("|---|---|---|");
    let analyzers: [(&str, TextAnalyzer); 3] = [
        (
            "tantivy's filters chained, stemming every word",
            reference_chain(true),
        ),
        ("one stream (indexing, queries)", multilingual()),
        (
            "highlighter, 2-word query",
            highlighter(["neural", "network"]),
        ),
    ];
    for (name, mut analyzer) in analyzers {
        let (mut best, mut tokens) = (0f64, 0usize);
        for _ in 0..3 {
            let started = Instant::now();
            tokens = 0;
            for t in sbir {
                let mut stream = analyzer.token_stream(&t.body);
                while stream.advance() {
                    tokens += 1;
                }
            }
            best = best.max(mb / started.elapsed().as_secs_f64());
        }
        println!("| {name} | {tokens} | {best:.0} |");
    }
    // What writing a publication costs matching's stored form (`publications.analysed`), and
    // what counting a query's words from it costs against analysing the text.
    use liaison::search::matching::AnalysedPublication;
    let started = Instant::now();
    let stored: Vec<Vec<u8>> = sbir
        .iter()
        .map(|t| AnalysedPublication::stored(&t.title, Some(&t.body)))
        .collect();
    let per = started.elapsed().as_secs_f64() * 1e6 / sbir.len() as f64;
    let bytes = stored.iter().map(Vec::len).sum::<usize>() as f64 / sbir.len() as f64;
    let text = sbir
        .iter()
        .map(|t| t.title.len() + t.body.len().min(liaison::search::matching::ABSTRACT_CHARS))
        .sum::<usize>() as f64
        / sbir.len() as f64;
    println!(
        "\nstored form of a publication (title and abstract start): {per:.1} µs to make, {bytes:.0} bytes (its text: {text:.0} bytes)"
    );
}

/// Latency of `paths` at each (concurrency, requests), as a table's rows.
fn latency_table(
    addr: &str,
    token: &str,
    paths: &[(String, bool)],
    runs: [(usize, usize); 2],
) -> Result<()> {
    println!("| concurrency | requests | p50 ms | p95 ms | p99 ms | max ms | requests/s |");
    println!("|---|---|---|---|---|---|---|");
    for (concurrency, total) in runs {
        let (l, elapsed) = latencies(addr, token, paths, concurrency, total)?;
        println!(
            "| {concurrency} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
            l.len(),
            percentile(&l, 0.5),
            percentile(&l, 0.95),
            percentile(&l, 0.99),
            l.last().copied().unwrap_or(0.0),
            l.len() as f64 / elapsed.as_secs_f64()
        );
    }
    Ok(())
}

/// A worker thread's result; a panic in it becomes an error here.
fn joined<T>(h: std::thread::JoinHandle<T>) -> Result<T> {
    h.join().map_err(|_| anyhow!("a worker thread panicked"))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    std::fs::create_dir_all(&args.work)
        .with_context(|| format!("cannot create {}", args.work.display()))?;
    if args.alerts.is_some() {
        return alerts::run(&args);
    }
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.work.join("liaison.db").display()));
    println!("# Liaison search benchmark");
    println!(
        "corpus: {} profiles × {} publications, {} needs; work dir {}; database {}",
        args.faculty,
        args.pubs,
        args.needs,
        args.work.display(),
        if database_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );
    let sbir = load(&args.sbir, "title", "abstract")?;
    if args.analysis {
        analysis(&sbir);
        return Ok(());
    }
    let horizon = load(&args.horizon, "title", "description")?;
    ensure!(
        !sbir.is_empty(),
        "no SBIR abstracts in {}",
        args.sbir.display()
    );
    println!(
        "texts: {} SBIR abstracts, {} Horizon Europe topics",
        sbir.len(),
        horizon.len()
    );

    if !args.reuse {
        create_operator(&args, &database_url)?;
    }
    let server = start(&args, &database_url)?;
    let mut conn = Conn::open(&server.addr)?;
    let (_, login) = conn.json(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"email": "bench@liaison.test", "password": PASSWORD})),
    )?;
    let token = login["access_token"]
        .as_str()
        .with_context(|| format!("login failed: {login}"))?
        .to_owned();
    let need_ids = if args.reuse {
        // The needs the earlier run created: the first `--match-needs` open ones.
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        while ids.len() < args.match_needs {
            let limit = (args.match_needs - ids.len()).min(100);
            let after = cursor
                .as_deref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let path = format!("/api/v1/needs?status=open&limit={limit}{after}");
            let (status, v) = conn.json("GET", &path, Some(&token), None)?;
            ensure!(status == 200, "listing needs answered {status}: {v}");
            ids.extend(
                v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|n| n["id"].as_str().map(str::to_owned)),
            );
            cursor = v["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        ids
    } else {
        load_corpus(
            &args,
            &server,
            &mut conn,
            &token,
            &sbir,
            horizon,
            &database_url,
        )?
    };
    memory_after(server.child.id(), "the load");

    // Search latency for a fixed mixed query set.
    let raw_queries: [(&str, &str, bool); 24] = [
        ("faculty", "q=neural network", false),
        ("faculty", "q=semiconductor wafer defect inspection", false),
        ("faculty", "q=lithium battery cathode materials", true),
        ("faculty", "q=\"machine learning\" radar", false),
        ("faculty", "q=+laser -military", false),
        ("faculty", "q=대규모 언어 모델", false),
        ("faculty", "q=GPU 클러스터 기반 LLM 학습", true),
        ("faculty", "q=半導體製程 良率分析", false),
        ("faculty", "q=深度學習 醫學影像", true),
        ("faculty", "q=quantum computing&department=Physics", false),
        ("faculty", "q=sensor&collaboration_type=consulting", false),
        (
            "faculty",
            "q=antenna wireless communication&country=KR",
            true,
        ),
        ("faculty", "q=protein drug delivery&limit=50", false),
        ("faculty", "keyword=인공지능", false),
        ("need", "q=hydrogen fuel cell", false),
        ("need", "q=climate adaptation resilience", true),
        ("need", "q=autonomous vehicle perception", false),
        ("need", "q=고대역폭 메모리 열 관리", true),
        ("need", "q=先進封裝 晶片設計", false),
        (
            "need",
            "q=cybersecurity software&collaboration_type=consulting",
            false,
        ),
        ("need", "q=satellite imaging&status=open", true),
        ("need", "q=vaccine manufacturing", false),
        ("need", "q=robot control reinforcement learning", true),
        ("need", "q=energy storage grid", false),
    ];
    let queries: Vec<(String, bool)> = raw_queries
        .iter()
        .map(|(kind, q, signed_in)| {
            let q: String = q
                .split('&')
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    format!(
                        "{k}={}",
                        form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>()
                    )
                })
                .collect::<Vec<_>>()
                .join("&");
            let operator = args
                .operator
                .as_deref()
                .map(|o| format!("&operator={o}"))
                .unwrap_or_default();
            (
                format!("/api/v1/search?type={kind}&{q}{operator}"),
                *signed_in,
            )
        })
        .collect();
    if !args.only_matches {
        // Warm up (caches, page faults) before measuring.
        latencies(&server.addr, &token, &queries, 4, queries.len() * 4)?;
        println!();
        println!(
            "## Search latency (GET /api/v1/search over HTTP keep-alive, {} mixed queries, en/ko/zh, with filters)",
            queries.len()
        );
        latency_table(
            &server.addr,
            &token,
            &queries,
            [(1, args.requests / 4), (16, args.requests)],
        )?;

        // Each query on its own, one at a time: which ones the tail is made of.
        println!();
        println!("## Per query (concurrency 1, {PER_QUERY_RUNS} runs each)");
        println!("| query | signed in | total hits | p50 ms | max ms |");
        println!("|---|---|---|---|---|");
        let mut conn = Conn::open(&server.addr)?;
        for (path, signed_in) in &queries {
            let mut times = Vec::with_capacity(PER_QUERY_RUNS);
            let mut total = Value::Null;
            for _ in 0..PER_QUERY_RUNS {
                let started = Instant::now();
                let (status, body) =
                    conn.json("GET", path, signed_in.then_some(token.as_str()), None)?;
                times.push(started.elapsed().as_secs_f64() * 1000.0);
                ensure!(status == 200, "{path} answered {status}");
                total = body["total"].clone();
            }
            times.sort_by(|a, b| a.total_cmp(b));
            let shown = path.trim_start_matches("/api/v1/search?");
            let shown = form_urlencoded::parse(shown.as_bytes())
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
            println!(
                "| `{shown}` | {} | {total} | {:.1} | {:.1} |",
                if *signed_in { "yes" } else { "no" },
                percentile(&times, 0.5),
                times.last().copied().unwrap_or(0.0),
            );
        }

        if args.alternatives {
            side_by_side(&args, &server.addr, &raw_queries, &sbir)?;
        }
    }

    // Matches for a need (profiles ranked against the whole corpus), signed in as the
    // operator, who sees every profile: the largest candidate sets.
    let matches: Vec<(String, bool)> = need_ids
        .iter()
        .map(|id| (format!("/api/v1/needs/{id}/matches"), true))
        .collect();
    println!();
    memory_after(server.child.id(), "the searches");
    if !matches.is_empty() {
        // Warm up the process, not every need: with thousands (`--match-needs`) the
        // measured requests should find them cold.
        latencies(
            &server.addr,
            &token,
            &matches,
            2,
            (matches.len() * 2).min(128),
        )?;
        println!();
        println!(
            "## Match latency (GET /api/v1/needs/{{id}}/matches, limit 20, {} needs, over HTTP keep-alive)",
            matches.len()
        );
        latency_table(
            &server.addr,
            &token,
            &matches,
            [(1, args.requests / 8), (16, args.requests / 4)],
        )?;
    }
    let (peak, now, anon, file) = rss(server.child.id());
    println!();
    println!("## Memory (the liaison serve process)");
    println!(
        "peak RSS (VmHWM): {peak:.0} MiB; RSS at the end: {now:.0} MiB (anonymous {anon:.0} MiB, mapped files {file:.0} MiB)"
    );
    drop(server);
    // A reused corpus is kept too: `--reuse` measures it again without reloading it.
    if args.database_url.is_none() && !args.keep && !args.reuse {
        let _ = std::fs::remove_dir_all(&args.work);
    }
    Ok(())
}

/// The seed of the profiles' generator: the same profiles on every run of the same size.
const PROFILE_SEED: u64 = 0x9e37_79b9_7f4a_7c15;

/// `--alternatives`: the anonymous profile searches of the mixed set (their text only, without
/// filters), on Liaison and on what a team would build instead (`alternatives`), each loaded
/// with the profiles an anonymous caller sees: load time, latency at concurrency 1 and 16,
/// and what each finds for each query (Chinese and Korean text included).
fn side_by_side(
    args: &Args,
    addr: &str,
    raw_queries: &[(&str, &str, bool)],
    sbir: &[Text],
) -> Result<()> {
    use alternatives::{Doc, Engine, Fts5, PgFts};
    let texts: Vec<String> = raw_queries
        .iter()
        .filter(|(kind, _, _)| *kind == "faculty")
        .filter_map(|(_, q, _)| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("q="))
                .map(str::to_owned)
        })
        .collect();
    let paths: Vec<(String, bool)> = texts
        .iter()
        .map(|q| {
            let q: String = form_urlencoded::byte_serialize(q.as_bytes()).collect();
            (format!("/api/v1/search?type=faculty&q={q}"), false)
        })
        .collect();
    let docs = || {
        let mut rng = Rng(PROFILE_SEED);
        (0..args.faculty).filter_map(move |i| {
            let line = profile_line(i, &mut rng, sbir, args.pubs);
            let profile: Value = serde_json::from_str(&line).ok()?;
            (profile["visibility"] == "public").then(|| Doc::from_profile(i as i64, &profile))
        })
    };
    /// p50 and p99 in ms, and searches per second.
    fn summary((l, elapsed): (Vec<f64>, Duration)) -> (f64, f64, f64) {
        (
            percentile(&l, 0.5),
            percentile(&l, 0.99),
            l.len() as f64 / elapsed.as_secs_f64(),
        )
    }
    type Row = (
        String,
        Option<(f64, usize)>,
        (f64, f64, f64),
        (f64, f64, f64),
    );
    let (c1, c16) = (args.requests / 8, args.requests / 2);
    let mut table: Vec<Row> = Vec::new();
    let mut totals: Vec<(&str, Vec<usize>)> = Vec::new();

    let mut conn = Conn::open(addr)?;
    let mut liaison_totals = Vec::new();
    for (path, _) in &paths {
        let (status, body) = conn.json("GET", path, None, None)?;
        ensure!(status == 200, "{path} answered {status}");
        liaison_totals.push(body["total"].as_u64().unwrap_or(0) as usize);
    }
    latencies(addr, "", &paths, 4, paths.len() * 4)?;
    table.push((
        "Liaison (HTTP, with highlights and facets)".to_owned(),
        None,
        summary(latencies(addr, "", &paths, 1, c1)?),
        summary(latencies(addr, "", &paths, 16, c16)?),
    ));
    totals.push(("Liaison", liaison_totals));

    /// Loads the engine, then: what it finds for each query, and its row of the table.
    fn measure<E: Engine>(
        engine: &E,
        docs: &mut dyn Iterator<Item = Doc>,
        texts: &[String],
        (c1, c16): (usize, usize),
    ) -> Result<(Row, Vec<usize>)> {
        let started = Instant::now();
        let loaded = engine.load(docs)?;
        let load = started.elapsed().as_secs_f64();
        let mut conn = engine.connect()?;
        let found = texts
            .iter()
            .map(|q| engine.search(&mut conn, q).map(|(total, _)| total))
            .collect::<Result<Vec<_>>>()?;
        alternatives::latencies(engine, texts, 4, texts.len() * 4)?;
        let row = (
            engine.name().to_owned(),
            Some((load, loaded)),
            summary(alternatives::latencies(engine, texts, 1, c1)?),
            summary(alternatives::latencies(engine, texts, 16, c16)?),
        );
        Ok((row, found))
    }
    let fts5 = Fts5 {
        path: args.work.join("fts5.sqlite3"),
    };
    let (row, found) = measure(&fts5, &mut docs(), &texts, (c1, c16))?;
    table.push(row);
    totals.push(("FTS5", found));
    let _ = std::fs::remove_file(&fts5.path);
    if let Some(url) = &args.alternatives_postgres {
        let pg = PgFts { url: url.clone() };
        let (row, found) = measure(&pg, &mut docs(), &texts, (c1, c16))?;
        table.push(row);
        totals.push(("PostgreSQL", found));
        pg.drop_table()?;
    }

    println!();
    println!(
        "## Side by side ({} profile queries, text only, anonymous: the public profiles)",
        texts.len()
    );
    println!(
        "| engine | loaded (s, profiles) | c1 p50 / p99 ms | c1 /s | c16 p50 / p99 ms | c16 /s | Liaison's c16 rate ÷ this |"
    );
    println!("|---|---|---|---|---|---|---|");
    let liaison_rate = table[0].3.2;
    for (name, loaded, (p50, p99, rate), (q50, q99, rate16)) in &table {
        let loaded = loaded.map_or("—".to_owned(), |(s, n)| format!("{s:.1} s, {n}"));
        println!(
            "| {name} | {loaded} | {p50:.1} / {p99:.1} | {rate:.0} | {q50:.1} / {q99:.1} | {rate16:.0} | {:.1}× |",
            liaison_rate / rate16
        );
    }
    println!();
    println!(
        "| query | {} |",
        totals
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(totals.len()));
    for (i, q) in texts.iter().enumerate() {
        println!(
            "| `{q}` | {} |",
            totals
                .iter()
                .map(|(_, t)| t[i].to_string())
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    Ok(())
}

/// Creates an organization as `token`'s caller; returns its id.
fn create_org(
    conn: &mut Conn,
    token: &str,
    kind: &str,
    name: &str,
    country: &str,
) -> Result<String> {
    let (status, v) = conn.json(
        "POST",
        "/api/v1/organizations",
        Some(token),
        Some(&json!({"kind": kind, "name": name, "country": country})),
    )?;
    ensure!(status == 201, "creating {name} answered {status}: {v}");
    v["id"]
        .as_str()
        .map(str::to_owned)
        .context("no id in the answer")
}

/// The corpus's universities and companies, created; their ids.
fn organizations(conn: &mut Conn, token: &str) -> Result<(Vec<String>, Vec<String>)> {
    let universities: Vec<String> = [
        ("NYCU", "TW"),
        ("NTU", "TW"),
        ("NTHU", "TW"),
        ("SNU", "KR"),
        ("KAIST", "KR"),
        ("POSTECH", "KR"),
    ]
    .iter()
    .map(|(n, c)| create_org(conn, token, "university", n, c))
    .collect::<Result<_>>()?;
    let companies: Vec<String> = [
        ("NVIDIA", "US"),
        ("TSMC", "TW"),
        ("MediaTek", "TW"),
        ("AMD", "US"),
        ("Phison", "TW"),
        ("Wistron", "TW"),
        ("Samsung Electronics", "KR"),
        ("SK hynix", "KR"),
    ]
    .iter()
    .map(|(n, c)| create_org(conn, token, "company", n, c))
    .collect::<Result<_>>()?;
    Ok((universities, companies))
}

/// What one import through `POST /api/v1/faculty/import` did.
struct Imported {
    imported: usize,
    rejected: usize,
    bytes: usize,
    /// From the first request sent to the last answered.
    elapsed: Duration,
    /// The created profiles' ids with their university, when asked for.
    ids: Vec<(String, String)>,
}

/// Profiles `first..first + count` of the corpus, imported as NDJSON chunks of `chunk` through
/// `POST /api/v1/faculty/import`, chunk by chunk to each university in turn. One thread writes
/// the chunks ahead (the client's own work is not the service's), and `--import-connections`
/// requests are in flight at once.
fn import_profiles(
    args: &Args,
    addr: &str,
    token: &str,
    universities: &[String],
    sbir: &[Text],
    (first, count, chunk): (usize, usize, usize),
    keep_ids: bool,
) -> Result<Imported> {
    ensure!(
        !universities.is_empty() && chunk > 0,
        "nothing to import into"
    );
    let started = Instant::now();
    let (chunks_tx, chunks_rx) = mpsc::sync_channel::<(String, String)>(args.import_connections);
    let chunks_rx = std::sync::Mutex::new(chunks_rx);
    std::thread::scope(|scope| -> Result<Imported> {
        let writer = scope.spawn(move || -> usize {
            let mut rng = Rng(PROFILE_SEED);
            let mut bytes = 0;
            let mut i = 0;
            while i < count {
                let n = chunk.min(count - i);
                let uni = universities[(i / chunk) % universities.len()].clone();
                let body: String = (first + i..first + i + n)
                    .map(|k| profile_line(k, &mut rng, sbir, args.pubs) + "\n")
                    .collect();
                bytes += body.len();
                if chunks_tx.send((uni, body)).is_err() {
                    break;
                }
                i += n;
            }
            bytes
        });
        type Sent = (usize, usize, Vec<(String, String)>);
        let senders: Vec<_> = (0..args.import_connections)
            .map(|_| {
                let chunks_rx = &chunks_rx;
                scope.spawn(move || -> Result<Sent> {
                    let mut conn = Conn::open(addr)?;
                    let (mut imported, mut rejected, mut ids) = (0, 0, Vec::new());
                    loop {
                        let next = chunks_rx.lock().map_err(|_| anyhow!("poisoned"))?.recv();
                        let Ok((uni, body)) = next else { break };
                        let (status, report) = conn.request(
                            "POST",
                            &format!("/api/v1/faculty/import?university_id={uni}"),
                            Some(token),
                            "application/x-ndjson",
                            body.as_bytes(),
                        )?;
                        let report: Value = serde_json::from_slice(&report).unwrap_or(Value::Null);
                        ensure!(
                            status == 200,
                            "import answered {status}: {}",
                            truncate(&report.to_string(), 2000)
                        );
                        for row in report["rows"].as_array().into_iter().flatten() {
                            if row["status"] == "rejected" {
                                if rejected < 5 {
                                    eprintln!("rejected: {}", truncate(&row.to_string(), 500));
                                }
                                rejected += 1;
                            } else if keep_ids && row["status"] == "created" {
                                ids.extend(
                                    row["id"].as_str().map(|id| (uni.clone(), id.to_owned())),
                                );
                            }
                        }
                        imported += report["created"].as_u64().unwrap_or(0) as usize;
                    }
                    Ok((imported, rejected, ids))
                })
            })
            .collect();
        let mut out = Imported {
            imported: 0,
            rejected: 0,
            bytes: 0,
            elapsed: Duration::ZERO,
            ids: Vec::new(),
        };
        for s in senders {
            let (i, r, ids) = s
                .join()
                .map_err(|_| anyhow!("an import thread panicked"))??;
            out.imported += i;
            out.rejected += r;
            out.ids.extend(ids);
        }
        out.bytes = writer
            .join()
            .map_err(|_| anyhow!("the chunk writer panicked"))?;
        out.elapsed = started.elapsed();
        Ok(out)
    })
}

/// Needs `0..n` of the corpus, created through `POST /api/v1/needs` on 4 connections, each
/// for the company `companies[k % companies.len()]`. Returns each connection's needs in
/// order, as (id, company id).
fn create_needs(
    addr: &str,
    token: &str,
    companies: &[String],
    sbir: &[Text],
    horizon: &[Text],
    n: usize,
) -> Result<Vec<Vec<(String, String)>>> {
    ensure!(!companies.is_empty(), "no companies to post needs for");
    let per = n.div_ceil(4);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                scope.spawn(move || -> Result<Vec<(String, String)>> {
                    let mut conn = Conn::open(addr)?;
                    let mut ids = Vec::new();
                    let mut rng = Rng(0x2545_f491_4f6c_dd1d + t as u64);
                    for k in (t * per)..((t + 1) * per).min(n) {
                        let company = &companies[k % companies.len()];
                        let body = need_body(k, &mut rng, company, sbir, horizon);
                        let (status, v) =
                            conn.json("POST", "/api/v1/needs", Some(token), Some(&body))?;
                        ensure!(status == 201, "creating a need answered {status}: {v}");
                        let id = v["id"].as_str().context("no id in the answer")?;
                        ids.push((id.to_owned(), company.clone()));
                    }
                    Ok(ids)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().map_err(|_| anyhow!("a worker thread panicked"))?)
            .collect()
    })
}

/// Creates the organizations, imports the profiles and creates the needs; prints the import
/// figures and returns some of the needs' ids.
fn load_corpus(
    args: &Args,
    server: &Server,
    conn: &mut Conn,
    token: &str,
    sbir: &[Text],
    horizon: Vec<Text>,
    database_url: &str,
) -> Result<Vec<String>> {
    let (universities, companies) = organizations(conn, token)?;

    // Import: NDJSON chunks through POST /api/v1/faculty/import, per university.
    let started = Instant::now();
    let Imported {
        imported,
        rejected,
        bytes,
        elapsed: db_time,
        ..
    } = import_profiles(
        args,
        &server.addr,
        token,
        &universities,
        sbir,
        (0, args.faculty, args.chunk),
        false,
    )?;
    if rejected > 0 {
        println!("rows rejected by the service: {rejected}");
    }
    let catch_up = wait_indexed(&server.addr)?;
    let total_time = started.elapsed();
    println!();
    println!(
        "## Import (POST /api/v1/faculty/import, NDJSON, {} per request, {} at a time)",
        args.chunk, args.import_connections
    );
    println!(
        "profiles imported:               {imported} ({:.0} MB of NDJSON)",
        bytes as f64 / 1e6
    );
    println!(
        "into the database:               {:.1} s = {:.0} profiles/s",
        db_time.as_secs_f64(),
        imported as f64 / db_time.as_secs_f64()
    );
    println!(
        "index caught up after:           +{:.1} s",
        catch_up.as_secs_f64()
    );
    println!(
        "database + index:                {:.1} s = {:.0} profiles/s",
        total_time.as_secs_f64(),
        imported as f64 / total_time.as_secs_f64()
    );

    // Needs: one POST each, 4 connections.
    let started = Instant::now();
    let created = create_needs(&server.addr, token, &companies, sbir, &horizon, args.needs)?;
    let need_ids: Vec<String> = created
        .into_iter()
        .flat_map(|ids| {
            let each = args.match_needs.div_ceil(4);
            ids.into_iter().take(each).map(|(id, _)| id)
        })
        .collect();
    let needs_time = started.elapsed();
    wait_indexed(&server.addr)?;
    println!(
        "needs created (POST /api/v1/needs, 4 connections): {} in {:.1} s = {:.0}/s",
        args.needs,
        needs_time.as_secs_f64(),
        args.needs as f64 / needs_time.as_secs_f64()
    );
    let index_bytes = dir_size(&args.work.join("index"));
    let db_bytes = if database_url.starts_with("sqlite") {
        dir_size(&args.work) - index_bytes
    } else {
        0
    };
    println!(
        "index size on disk:              {:.0} MB",
        index_bytes as f64 / 1e6
    );
    if db_bytes > 0 {
        println!(
            "SQLite database on disk:         {:.0} MB",
            db_bytes as f64 / 1e6
        );
    }

    Ok(need_ids)
}
