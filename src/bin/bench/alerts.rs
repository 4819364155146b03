//! `bench --alerts N` (issue 24): what saved alerts cost a bulk import, and how long after it
//! their notifications exist. Each run starts its own `liaison serve` on a fresh SQLite
//! database in the work directory and builds the same world: the corpus's universities and
//! companies, `--seed-profiles` profiles, `--needs` needs, and the accounts that keep the
//! alerts (at most 100 each). A run with alerts then saves N of them (by default half
//! "profiles for my need" match alerts of the companies' staff, 40% saved profile searches,
//! 10% "needs for my profile" match alerts of the universities' offices, which only needs
//! wake); a baseline run saves none. Then it imports `--faculty` profiles exactly as the
//! search benchmark does (NDJSON, `--chunk` per request, `--import-connections` at once) and
//! waits until the notifier has checked every change against the alerts and turned every hit
//! into notifications, reading the notifier's positions in the service's database
//! (`workers`), and the CPU time of its thread from /proc. As the import ends it also invites a
//! profile to a need: how long that notification waits shows whether the alerts hold up the
//! rest. `--runs` pairs alternate baseline and alerts; a baseline also prints how many new
//! profiles reach a match list's `min_score`. Runs with alerts compare some alerts' hits with
//! what the API lists for their owner. Everything runs on 127.0.0.1 and stops by itself
//! (`--notify-timeout`).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, ensure};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text as Str};
use serde_json::{Value, json};

use crate::{
    Args, Conn, Imported, PASSWORD, Rng, Text, create_needs, create_operator, import_profiles,
    load, organizations, percentile, rss, start, wait_indexed,
};

/// The match alerts' `min_score` unless `--min-score` says otherwise: on the bench's corpus
/// about half the needs have one or two of 10,000 new profiles reaching it (the baseline
/// runs print the figures for other thresholds).
pub const MIN_SCORE: f64 = 0.15;
/// Alerts one account may keep (the service's limit).
const PER_ACCOUNT: usize = 100;
/// How often the notifier's progress is sampled.
const SAMPLE: Duration = Duration::from_millis(100);
/// Alerts of each kind whose hits are compared with what the API lists for their owner.
const CHECKED: usize = 12;

/// How N alerts divide between the kinds (`--mix`, percentages: need matches, searches; the
/// rest profile matches).
#[derive(Clone, Copy, Debug)]
pub struct Mix {
    pub need_matches: usize,
    pub searches: usize,
    pub profile_matches: usize,
}

impl Mix {
    pub fn of(n: usize, (need_pct, search_pct): (usize, usize)) -> Self {
        let need_matches = n * need_pct / 100;
        let searches = (n * search_pct / 100).min(n - need_matches);
        Self {
            need_matches,
            searches,
            profile_matches: n - need_matches - searches,
        }
    }
}

/// Broad topical profile searches people save: 1–3 words, English, Korean and Chinese. Most
/// saved searches are narrower (`search_alert`).
const TOPICAL: [&str; 40] = [
    "neural network",
    "semiconductor wafer defect",
    "lithium battery cathode",
    "\"machine learning\" radar",
    "quantum computing",
    "drug delivery",
    "protein",
    "antenna wireless",
    "fuel cell",
    "solar cell",
    "graphene",
    "additive manufacturing",
    "hypersonic",
    "cybersecurity",
    "autonomous robot",
    "satellite imaging",
    "biosensor",
    "microfluidic",
    "lidar",
    "power electronics",
    "gallium nitride",
    "silicon photonics",
    "thermal management",
    "corrosion coating",
    "vaccine",
    "water purification",
    "hydrogen storage",
    "composite materials",
    "ultrasound imaging",
    "natural language processing",
    "대규모 언어 모델",
    "반도체 공정",
    "의료 영상 분석",
    "배터리 소재",
    "半導體製程",
    "深度學習",
    "先進封裝",
    "醫學影像",
    "電池材料",
    "無線通訊",
];

/// The longer words of a text, lowercased, each once.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 4 && !w.chars().all(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
    {
        if !out.contains(&w) {
            out.push(w);
        }
    }
    out
}

/// In how many SBIR abstracts each longer word occurs: the specific words of a title are
/// those few abstracts use.
struct Rarity {
    docs: HashMap<String, u32>,
    total: usize,
}

impl Rarity {
    fn of(sbir: &[Text]) -> Self {
        let mut docs: HashMap<String, u32> = HashMap::new();
        for t in sbir {
            let mut seen: HashSet<&str> = HashSet::new();
            for w in t
                .body
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| w.len() > 4)
            {
                if seen.insert(w) {
                    *docs.entry(w.to_lowercase()).or_insert(0) += 1;
                }
            }
        }
        Self {
            docs,
            total: sbir.len(),
        }
    }

    /// In at least 0.02% and at most 0.3% of the abstracts (12–176 of the 58,705).
    fn specific(&self, word: &str) -> bool {
        let share = f64::from(self.docs.get(word).copied().unwrap_or(0)) / self.total.max(1) as f64;
        (0.0002..=0.003).contains(&share)
    }
}

/// Saved searches: one in ten from `TOPICAL` (broad), the rest two specific words of an SBIR
/// title, in the title's order (what someone following a line of work would type: "gallium
/// nitride", "cryogenic propellant"); one in ten with a department filter.
fn search_alert(i: usize, rng: &mut Rng, sbir: &[Text], rarity: &Rarity) -> Value {
    let topical = i.is_multiple_of(10);
    let mut q = String::new();
    if !topical {
        for _ in 0..50 {
            let specific: Vec<String> = words(&sbir[rng.below(sbir.len())].title)
                .into_iter()
                .filter(|w| rarity.specific(w))
                .collect();
            if specific.len() >= 2 {
                let a = rng.below(specific.len() - 1);
                let b = a + 1 + rng.below(specific.len() - a - 1);
                q = format!("{} {}", specific[a], specific[b]);
                break;
            }
        }
    }
    if q.is_empty() {
        q = TOPICAL[(i / 10) % TOPICAL.len()].to_owned();
    }
    let mut search = json!({"type": "faculty", "q": q});
    if i % 10 == 7 {
        search["department"] = json!(crate::DEPARTMENTS[(i / 10) % crate::DEPARTMENTS.len()]);
    }
    let name = if topical { "Topical search" } else { "Search" };
    json!({"name": format!("{name} {i}: {q}"), "search": search})
}

/// An account that keeps alerts: its organization, and the alerts it saves.
struct Account {
    organization: String,
    email: String,
    alerts: Vec<Value>,
    /// Set once created: its id, password and a token.
    user_id: String,
    password: String,
    token: String,
}

impl Account {
    fn new(organization: &str, n: usize) -> Self {
        Self {
            organization: organization.to_owned(),
            email: format!("alerts-{n}@bench.test"),
            alerts: Vec::new(),
            user_id: String::new(),
            password: String::new(),
            token: String::new(),
        }
    }
}

/// The accounts and their alerts: company staff watching their company's needs (one alert per
/// need), company staff keeping saved searches, university offices watching their
/// university's profiles. The same accounts are created in the baseline.
fn plan(
    mix: Mix,
    min_score: f64,
    needs: &[(String, String)],
    seed: &[(String, String)],
    companies: &[String],
    sbir: &[Text],
) -> Result<Vec<Account>> {
    ensure!(
        needs.len() >= mix.need_matches,
        "{} need alerts need as many needs (--needs {})",
        mix.need_matches,
        needs.len()
    );
    ensure!(
        seed.len() >= mix.profile_matches,
        "{} profile alerts need as many profiles before the import (--seed-profiles {})",
        mix.profile_matches,
        seed.len()
    );
    let mut accounts: Vec<Account> = Vec::new();
    let by_org = |list: Vec<(String, Value)>, accounts: &mut Vec<Account>| {
        let mut grouped: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        for (org, alert) in list {
            grouped.entry(org).or_default().push(alert);
        }
        for (org, alerts) in grouped {
            for chunk in alerts.chunks(PER_ACCOUNT) {
                let mut a = Account::new(&org, accounts.len());
                a.alerts = chunk.to_vec();
                accounts.push(a);
            }
        }
    };
    // Match alerts, one per record (record id, its organization), by that organization's
    // staff: `key` names the record in the alert.
    let matching = |records: Vec<(&String, &String)>, name: &str, key: &str| {
        records
            .into_iter()
            .enumerate()
            .map(|(i, (record, org))| {
                let mut alert = json!({"name": format!("{name} {i}"), "min_score": min_score});
                alert[key] = json!(record);
                (org.clone(), alert)
            })
            .collect::<Vec<(String, Value)>>()
    };
    let watched = needs.iter().take(mix.need_matches).map(|(n, c)| (n, c));
    by_org(
        matching(watched.collect(), "Profiles for need", "need_id"),
        &mut accounts,
    );
    let mut rng = Rng(0x51ed_270b_2754_6d0d);
    let rarity = Rarity::of(sbir);
    let searches: Vec<Value> = (0..mix.searches)
        .map(|i| search_alert(i, &mut rng, sbir, &rarity))
        .collect();
    for (k, chunk) in searches.chunks(PER_ACCOUNT).enumerate() {
        let mut a = Account::new(&companies[k % companies.len()], accounts.len());
        a.alerts = chunk.to_vec();
        accounts.push(a);
    }
    let watched = seed.iter().take(mix.profile_matches).map(|(u, p)| (p, u));
    by_org(
        matching(watched.collect(), "Needs for profile", "faculty_id"),
        &mut accounts,
    );
    Ok(accounts)
}

fn login(conn: &mut Conn, email: &str, password: &str) -> Result<String> {
    let (_, v) = conn.json(
        "POST",
        "/api/v1/auth/login",
        None,
        Some(&json!({"email": email, "password": password})),
    )?;
    v["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("login of {email} failed: {v}"))
}

/// Creates the accounts as staff of their organizations (the operator adds them directly; the
/// answer carries a one-time password) and signs each in. Two at a time: each costs a
/// password hash and a check.
fn create_accounts(addr: &str, token: &str, accounts: &mut [Account]) -> Result<()> {
    let per = accounts.len().div_ceil(2).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = accounts
            .chunks_mut(per)
            .map(|part| {
                scope.spawn(move || -> Result<()> {
                    let mut conn = Conn::open(addr)?;
                    for a in part {
                        let (status, v) = conn.json(
                            "POST",
                            &format!("/api/v1/organizations/{}/members", a.organization),
                            Some(token),
                            Some(&json!({"email": a.email, "role": "staff", "display_name": a.email})),
                        )?;
                        ensure!(status == 201, "adding {} answered {status}: {v}", a.email);
                        a.user_id = v["user_id"].as_str().context("no user_id")?.to_owned();
                        a.password = v["initial_password"]
                            .as_str()
                            .context("no initial_password")?
                            .to_owned();
                        a.token = login(&mut conn, &a.email, &a.password)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join()
                .map_err(|_| anyhow!("a worker thread panicked"))??;
        }
        Ok(())
    })
}

/// Saves every account's alerts (`POST /api/v1/alerts`), 4 connections. Returns the alerts'
/// ids by account.
fn save_alerts(addr: &str, accounts: &[Account]) -> Result<Vec<Vec<String>>> {
    let per = accounts.len().div_ceil(4).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = accounts
            .chunks(per)
            .map(|part| {
                scope.spawn(move || -> Result<Vec<Vec<String>>> {
                    let mut conn = Conn::open(addr)?;
                    let mut out = Vec::new();
                    for a in part {
                        let mut ids = Vec::new();
                        for alert in &a.alerts {
                            let (status, v) =
                                conn.json("POST", "/api/v1/alerts", Some(&a.token), Some(alert))?;
                            ensure!(status == 201, "saving {alert} answered {status}: {v}");
                            ids.push(v["id"].as_str().context("no alert id")?.to_owned());
                        }
                        out.push(ids);
                    }
                    Ok(out)
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(
                h.join()
                    .map_err(|_| anyhow!("a worker thread panicked"))??,
            );
        }
        Ok(all)
    })
}

// ----------------------------------------------------------------------------------------
// The service's database, read beside it (SQLite in WAL mode: reads do not block its writer).

#[derive(QueryableByName, Clone, Copy, Debug, Default)]
struct Positions {
    #[diesel(sql_type = BigInt)]
    alerts: i64,
    #[diesel(sql_type = BigInt)]
    notifications: i64,
    #[diesel(sql_type = BigInt)]
    outbox: i64,
    #[diesel(sql_type = BigInt)]
    events: i64,
}

impl Positions {
    /// Every change checked against the alerts, every event turned into notifications.
    fn caught_up(&self) -> bool {
        self.alerts >= self.outbox && self.notifications >= self.events
    }
}

/// Invites a profile to a need as the operator (an `invitation.received` event for the need's
/// company and the profile's university); returns the event's `seq`.
fn probe_event(addr: &str, db: &mut SqliteConnection, need: &str, profile: &str) -> Result<i64> {
    let mut conn = Conn::open(addr)?;
    let token = login(&mut conn, "bench@liaison.test", PASSWORD)?;
    let (status, v) = conn.json(
        "POST",
        &format!("/api/v1/needs/{need}/invitations"),
        Some(&token),
        Some(&json!({"faculty_id": profile})),
    )?;
    ensure!(status == 201, "inviting answered {status}: {v}");
    count(
        db,
        "SELECT COALESCE(MAX(seq), 0) AS n FROM events WHERE type = 'invitation.received'",
    )
}

fn open_db(path: &std::path::Path) -> Result<SqliteConnection> {
    let mut c = SqliteConnection::establish(&path.display().to_string())
        .with_context(|| format!("cannot open {}", path.display()))?;
    c.batch_execute("PRAGMA busy_timeout = 10000; PRAGMA query_only = 1;")?;
    Ok(c)
}

/// One consistent reading (a single statement): the notifier's positions and the ends of the
/// logs they follow.
fn positions(c: &mut SqliteConnection) -> Result<Positions> {
    Ok(diesel::sql_query(
        "SELECT (SELECT position FROM workers WHERE name = 'alerts') AS alerts, \
                (SELECT position FROM workers WHERE name = 'notifications') AS notifications, \
                (SELECT COALESCE(MAX(seq), 0) FROM search_outbox) AS outbox, \
                (SELECT COALESCE(MAX(seq), 0) FROM events) AS events",
    )
    .get_result(c)?)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(c: &mut SqliteConnection, sql: &str) -> Result<i64> {
    Ok(diesel::sql_query(sql).get_result::<Count>(c)?.n)
}

#[derive(QueryableByName)]
struct KindHits {
    #[diesel(sql_type = Str)]
    label: String,
    #[diesel(sql_type = BigInt)]
    hits: i64,
    #[diesel(sql_type = BigInt)]
    fired: i64,
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = Str)]
    alert_id: String,
    #[diesel(sql_type = Str)]
    entity_id: String,
}

/// Waits until the notifier has caught up (nothing new for it to do); false when it has not
/// within `limit`.
fn caught_up(db: &mut SqliteConnection, limit: Duration) -> Result<bool> {
    let started = Instant::now();
    loop {
        if positions(db)?.caught_up() {
            return Ok(true);
        }
        if started.elapsed() >= limit {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the notifier has caught up, or fails.
fn wait_quiet(db: &mut SqliteConnection, limit: Duration) -> Result<()> {
    ensure!(
        caught_up(db, limit)?,
        "the notifier did not catch up in {limit:?}: {:?}",
        positions(db)?
    );
    Ok(())
}

// ----------------------------------------------------------------------------------------
// CPU time of the service's threads (Linux /proc; clock ticks are 1/100 s there).

/// A `stat` file's name field and CPU seconds (user + system).
fn stat_cpu(path: &std::path::Path) -> Option<(String, f64)> {
    let stat = std::fs::read_to_string(path).ok()?;
    // `pid (comm) state ...`: comm may hold spaces; the fields after it are fixed.
    let (open, close) = (stat.find('(')?, stat.rfind(')')?);
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<f64>().ok()))
        .sum();
    Some((stat[open + 1..close].to_owned(), ticks / 100.0))
}

/// CPU seconds by thread group: the notifier, the indexer, the search pool, and the rest
/// (HTTP workers, the blocking pool that runs the import's database work, tantivy's merges;
/// threads that ended included).
fn thread_cpu(pid: u32) -> BTreeMap<&'static str, f64> {
    let mut out = BTreeMap::new();
    let Some((_, total)) = stat_cpu(std::path::Path::new(&format!("/proc/{pid}/stat"))) else {
        return out;
    };
    let mut named = 0.0;
    if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.filter_map(Result::ok) {
            let Some((comm, cpu)) = stat_cpu(&t.path().join("stat")) else {
                continue;
            };
            // Names are cut to 15 bytes: `liaison-notifie`. Since 84d6902 the alert checks
            // have a thread of their own, `liaison-alerts`: both count as the notifier.
            let group = match comm.as_str() {
                c if c.starts_with("liaison-notifie") || c.starts_with("liaison-alerts") => {
                    "notifier"
                }
                "liaison-indexer" => "indexer",
                c if c.starts_with("liaison-cpu") => "search pool",
                _ => continue,
            };
            *out.entry(group).or_insert(0.0) += cpu;
            named += cpu;
        }
    }
    out.insert("rest", total - named);
    out
}

/// CPU seconds the whole machine has been busy (all cores, all processes), from /proc/stat.
fn machine_busy() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(cpu) = stat.lines().find(|l| l.starts_with("cpu ")) else {
        return 0.0;
    };
    let v: Vec<f64> = cpu
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is within user).
    let busy: f64 =
        v.iter().take(8).sum::<f64>() - v.get(3).unwrap_or(&0.0) - v.get(4).unwrap_or(&0.0);
    busy / 100.0
}

/// Waits (at most 3 minutes) until the machine is nearly idle, so that another program's work
/// (a build, tests) does not land in the import's figures; says how busy it was.
fn quiet_machine() {
    let started = Instant::now();
    loop {
        let before = machine_busy();
        std::thread::sleep(Duration::from_secs(2));
        let busy = (machine_busy() - before) / 2.0;
        if busy < 0.25 {
            if started.elapsed() > Duration::from_secs(3) {
                println!(
                    "(waited {:.0} s for the machine to be idle)",
                    started.elapsed().as_secs_f64()
                );
            }
            return;
        }
        if started.elapsed() > Duration::from_secs(180) {
            println!(
                "(the machine is busy: {busy:.1} cores in use by other processes before the import)"
            );
            return;
        }
    }
}

/// What the sampler saw at one moment.
#[derive(Clone, Debug)]
struct Sample {
    at: Duration,
    p: Positions,
    cpu: BTreeMap<&'static str, f64>,
}

/// Samples the notifier's progress and the threads' CPU every `SAMPLE` until `stop`.
fn sampler(
    db_path: &std::path::Path,
    pid: u32,
    started: Instant,
    stop: &AtomicBool,
    out: &Mutex<Vec<Sample>>,
) -> Result<()> {
    let mut db = open_db(db_path)?;
    while !stop.load(Ordering::Relaxed) {
        let mut cpu = thread_cpu(pid);
        cpu.insert("machine", machine_busy());
        let s = Sample {
            at: started.elapsed(),
            p: positions(&mut db)?,
            cpu,
        };
        out.lock().map_err(|_| anyhow!("poisoned"))?.push(s);
        std::thread::sleep(SAMPLE);
    }
    // And the moment it was told to stop (the notifier has just caught up, or time is up).
    let mut cpu = thread_cpu(pid);
    cpu.insert("machine", machine_busy());
    let s = Sample {
        at: started.elapsed(),
        p: positions(&mut db)?,
        cpu,
    };
    out.lock().map_err(|_| anyhow!("poisoned"))?.push(s);
    Ok(())
}

fn cpu_between(a: Option<&Sample>, b: Option<&Sample>, group: &str) -> f64 {
    let at = |s: Option<&Sample>| s.and_then(|s| s.cpu.get(group)).copied().unwrap_or(0.0);
    at(b) - at(a)
}

// ----------------------------------------------------------------------------------------

/// One run's figures.
struct Outcome {
    run: usize,
    with_alerts: bool,
    alerts: usize,
    imported: usize,
    /// Import requests answered.
    import_db: Duration,
    /// And the index caught up.
    import_total: Duration,
    /// From the last import answer until every notification exists (None: not within
    /// `--notify-timeout`).
    notified_after: Option<Duration>,
    /// Search outbox rows of the import checked against the alerts, of all.
    checked: (i64, i64),
    /// (kind, hits, alerts that fired, alerts of the kind).
    hits: Vec<(String, i64, i64, usize)>,
    notifications: i64,
    peak_rss: f64,
    /// CPU seconds during the import (until the last answer) and after it, by thread group.
    cpu_import: BTreeMap<&'static str, f64>,
    cpu_after: BTreeMap<&'static str, f64>,
}

pub fn run(args: &Args) -> Result<()> {
    let n = args.alerts.unwrap_or(0);
    let mix = Mix::of(n, args.mix);
    let seed = args.seed_profiles.unwrap_or(mix.profile_matches);
    println!("# Liaison saved-alerts benchmark (issue 24)");
    println!(
        "import: {} profiles × {} publications ({} per request, {} at a time), on {} profiles and {} needs; \
         alerts: {n} = {} need matches (min_score {}), {} profile searches, {} profile matches; {} run pair(s); SQLite",
        args.faculty,
        args.pubs,
        args.chunk,
        args.import_connections,
        seed,
        args.needs,
        mix.need_matches,
        args.min_score,
        mix.searches,
        mix.profile_matches,
        args.runs
    );
    let sbir = load(&args.sbir, "title", "abstract")?;
    ensure!(
        !sbir.is_empty(),
        "no SBIR abstracts in {}",
        args.sbir.display()
    );
    let horizon = load(&args.horizon, "title", "description")?;
    let mut outcomes = Vec::new();
    for r in 0..args.runs {
        for with_alerts in [false, true] {
            if !with_alerts && args.skip_baseline {
                continue;
            }
            let o = one(args, r, with_alerts, mix, seed, &sbir, &horizon)?;
            outcomes.push(o);
        }
    }
    summary(&outcomes);
    Ok(())
}

fn fmt_cpu(m: &BTreeMap<&'static str, f64>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn one(
    base: &Args,
    r: usize,
    with_alerts: bool,
    mix: Mix,
    seed: usize,
    sbir: &[Text],
    horizon: &[Text],
) -> Result<Outcome> {
    let label = if with_alerts { "alerts" } else { "baseline" };
    let mut args = base.clone();
    args.work = base.work.join(format!("run{}-{label}", r + 1));
    let _ = std::fs::remove_dir_all(&args.work);
    std::fs::create_dir_all(&args.work)
        .with_context(|| format!("cannot create {}", args.work.display()))?;
    let db_path = args.work.join("liaison.db");
    let database_url = format!("sqlite://{}", db_path.display());
    println!();
    println!("## Run {} {label}", r + 1);
    let setup = Instant::now();

    create_operator(&args, &database_url)?;
    let server = start(&args, &database_url)?;
    let addr = server.addr.clone();
    let pid = server.child.id();
    let mut conn = Conn::open(&addr)?;
    let token = login(&mut conn, "bench@liaison.test", PASSWORD)?;
    let (universities, companies) = organizations(&mut conn, &token)?;

    // The world the alerts watch: profiles and needs from before the import.
    let seeded = import_profiles(
        &args,
        &addr,
        &token,
        &universities,
        sbir,
        (args.faculty, seed, 100),
        true,
    )?;
    ensure!(seeded.rejected == 0, "seed profiles were rejected");
    let needs: Vec<(String, String)> =
        create_needs(&addr, &token, &companies, sbir, horizon, args.needs)?
            .into_iter()
            .flatten()
            .collect();
    wait_indexed(&addr)?;
    let mut db = open_db(&db_path)?;
    // The needs' events reach their companies' staff: none yet, so the accounts below start
    // with no notifications.
    wait_quiet(&mut db, args.notify_timeout)?;
    let mut accounts = plan(mix, args.min_score, &needs, &seeded.ids, &companies, sbir)?;
    let accounts_started = Instant::now();
    create_accounts(&addr, &token, &mut accounts)?;
    let accounts_time = accounts_started.elapsed();
    let mut alert_ids: Vec<Vec<String>> = Vec::new();
    let mut saving = Duration::ZERO;
    if with_alerts {
        let started = Instant::now();
        alert_ids = save_alerts(&addr, &accounts)?;
        saving = started.elapsed();
    }
    wait_quiet(&mut db, args.notify_timeout)?;
    let saved = alert_ids.iter().map(Vec::len).sum::<usize>();
    println!(
        "set-up: {seed} profiles, {} needs, {} accounts ({:.1} s), {saved} alerts saved ({:.1} s = {:.0}/s); {:.1} s in all",
        needs.len(),
        accounts.len(),
        accounts_time.as_secs_f64(),
        saving.as_secs_f64(),
        saved as f64 / saving.as_secs_f64().max(1e-9),
        setup.elapsed().as_secs_f64()
    );

    // The import, sampled.
    quiet_machine();
    let stop = AtomicBool::new(false);
    let samples = Mutex::new(Vec::new());
    let started = Instant::now();
    let before = positions(&mut db)?;
    type Timed = (Imported, Duration, Option<Duration>, Duration, Option<i64>);
    let (imported, import_total, notified, end_of_import, probe) =
        std::thread::scope(|scope| -> Result<Timed> {
            let watcher = scope.spawn(|| sampler(&db_path, pid, started, &stop, &samples));
            let result = (|| -> Result<Timed> {
                let imported = import_profiles(
                    &args,
                    &addr,
                    &token,
                    &universities,
                    sbir,
                    (0, args.faculty, args.chunk),
                    false,
                )?;
                let end = started.elapsed();
                // Another kind of notification, due at once: whether it waits for the alerts.
                let probe = match (needs.first(), seeded.ids.first()) {
                    (Some((need, _)), Some((_, profile))) => {
                        Some(probe_event(&addr, &mut db, need, profile)?)
                    }
                    _ => None,
                };
                wait_indexed(&addr)?;
                let total = started.elapsed();
                let done = caught_up(&mut db, args.notify_timeout.saturating_sub(total - end))?;
                let notified = done.then(|| started.elapsed() - end);
                Ok((imported, total, notified, end, probe))
            })();
            stop.store(true, Ordering::Relaxed);
            watcher
                .join()
                .map_err(|_| anyhow!("the sampler panicked"))??;
            result
        })?;
    let samples = samples.into_inner().map_err(|_| anyhow!("poisoned"))?;
    ensure!(imported.rejected == 0, "profiles were rejected");
    let (peak_rss, ..) = rss(pid);
    let after = positions(&mut db)?;
    let checked = (after.alerts - before.alerts, after.outbox - before.outbox);
    let first = samples.first();
    let at_end = samples.iter().rev().find(|s| s.at <= end_of_import);
    let last = samples.last();
    let groups = ["notifier", "indexer", "search pool", "rest", "machine"];
    let by_group = |a: Option<&Sample>, b: Option<&Sample>| -> BTreeMap<&'static str, f64> {
        let mut m: BTreeMap<_, _> = groups.iter().map(|g| (*g, cpu_between(a, b, g))).collect();
        // What the machine did besides the service: this bench's client, and anything else
        // running (another build is noise in the figures).
        let service: f64 = m
            .iter()
            .filter(|(k, _)| **k != "machine")
            .map(|(_, v)| v)
            .sum();
        let machine = m.remove("machine").unwrap_or(0.0);
        m.insert("other processes", machine - service);
        m
    };
    let cpu_import = by_group(first, at_end);
    let cpu_after = by_group(at_end, last);
    println!(
        "import: {} profiles in {:.1} s = {:.0} profiles/s (database + index {:.1} s = {:.0}/s); {}",
        imported.imported,
        imported.elapsed.as_secs_f64(),
        imported.imported as f64 / imported.elapsed.as_secs_f64(),
        import_total.as_secs_f64(),
        imported.imported as f64 / import_total.as_secs_f64(),
        match notified {
            Some(t) => format!(
                "notifications all made {:.1} s after the last answer",
                t.as_secs_f64()
            ),
            None => format!(
                "notifications NOT all made {:.0} s after the last answer: {} of {} outbox rows checked against the alerts, \
                 events {} of {}, {after:?}",
                args.notify_timeout.as_secs_f64(),
                checked.0,
                checked.1,
                after.notifications,
                after.events
            ),
        }
    );
    println!(
        "CPU seconds (2 cores) during the import: {}; after it: {}",
        fmt_cpu(&cpu_import),
        fmt_cpu(&cpu_after)
    );
    steps(&samples, end_of_import);
    let probe_after = probe.map(|seq| {
        samples
            .iter()
            .find(|s| s.at >= end_of_import && s.p.notifications >= seq)
            .map(|s| s.at - end_of_import)
    });
    match probe_after {
        Some(Some(t)) => println!(
            "an invitation sent as the import ended became notifications {:.1} s later",
            t.as_secs_f64()
        ),
        Some(None) => println!(
            "an invitation sent as the import ended had NOT become notifications when the wait ended ({:.0} s later)",
            last.map_or(0.0, |l| (l.at - end_of_import).as_secs_f64())
        ),
        None => {}
    }

    // What came of it.
    let hits: Vec<KindHits> = diesel::sql_query(
        "SELECT CASE WHEN a.kind = 'search' THEN 'profile search' \
                     WHEN a.target = 'faculty' THEN 'need match' ELSE 'profile match' END AS label, \
                COUNT(*) AS hits, COUNT(DISTINCT a.id) AS fired \
         FROM alert_hits h JOIN saved_alerts a ON a.id = h.alert_id \
         GROUP BY label ORDER BY label"
    )
    .load(&mut db)?;
    let of_kind = |label: &str| match label {
        "need match" => mix.need_matches,
        "profile search" => mix.searches,
        _ => mix.profile_matches,
    };
    let hits: Vec<(String, i64, i64, usize)> = hits
        .into_iter()
        .map(|h| {
            let n = if with_alerts { of_kind(&h.label) } else { 0 };
            (h.label, h.hits, h.fired, n)
        })
        .collect();
    let notifications = count(
        &mut db,
        "SELECT COUNT(*) AS n FROM notifications WHERE type = 'alert.matched'",
    )?;
    let all_notifications = count(&mut db, "SELECT COUNT(*) AS n FROM notifications")?;
    for (label, h, fired, of) in &hits {
        println!("hits, {label}: {h} from {fired} of {of} alerts");
    }
    println!(
        "notifications: {notifications} of alert hits ({all_notifications} in all); peak RSS {peak_rss:.0} MiB"
    );
    if with_alerts {
        per_alert(&mut db)?;
        if notified.is_some() {
            check(
                &addr,
                &mut db,
                &accounts,
                &alert_ids,
                &seeded.ids,
                args.min_score,
            )?;
        }
    } else {
        // A fresh connection: the first has been idle through the import.
        let mut conn = Conn::open(&addr)?;
        calibration(&mut conn, &token, &needs, &seeded.ids, args.min_score)?;
    }
    drop(server);
    if !args.keep {
        let _ = std::fs::remove_dir_all(&args.work);
    }
    Ok(Outcome {
        run: r + 1,
        with_alerts,
        alerts: saved,
        imported: imported.imported,
        import_db: imported.elapsed,
        import_total,
        notified_after: notified,
        checked,
        hits,
        notifications,
        peak_rss,
        cpu_import,
        cpu_after,
    })
}

/// The notifier's steps over the search outbox, as sampled: when each ended, the outbox rows
/// it covered and the hits it recorded; and when the notifications caught up.
fn steps(samples: &[Sample], end_of_import: Duration) {
    let Some(first) = samples.first() else {
        return;
    };
    let mut rows = Vec::new();
    let mut prev = first;
    let mut started_at = first.at;
    for s in samples {
        if s.p.alerts != prev.p.alerts {
            rows.push(format!(
                "{:.1}–{:.1} s: rows {}–{} ({}), +{} events, notifier CPU {:.1} s",
                started_at.as_secs_f64(),
                s.at.as_secs_f64(),
                prev.p.alerts + 1,
                s.p.alerts,
                s.p.alerts - prev.p.alerts,
                s.p.events - prev.p.events,
                cpu_between(Some(prev), Some(s), "notifier"),
            ));
            started_at = s.at;
            prev = s;
        }
    }
    println!(
        "alert checks (import ended at {:.1} s; a step ends when its position moves):",
        end_of_import.as_secs_f64()
    );
    for r in rows {
        println!("  {r}");
    }
    let end = samples.last().map_or(0, |l| l.p.alerts);
    if let Some(done) = samples
        .iter()
        .find(|s| s.at >= end_of_import && s.p.alerts == end && s.p.caught_up())
    {
        println!(
            "  notifications caught up with the events at {:.1} s",
            done.at.as_secs_f64()
        );
    }
}

/// For a few alerts of each kind, compares its hits with what its owner sees through the API:
/// a need's match list (scores at least `min_score`) and the saved search, among the profiles
/// the import created. A difference is not necessarily wrong (an alert is checked with the
/// corpus statistics of its moment; a list is ranked with today's), but it is shown.
fn check(
    addr: &str,
    db: &mut SqliteConnection,
    accounts: &[Account],
    alert_ids: &[Vec<String>],
    seed: &[(String, String)],
    min_score: f64,
) -> Result<()> {
    let before: HashSet<&str> = seed.iter().map(|(_, id)| id.as_str()).collect();
    let hits: Vec<Hit> =
        diesel::sql_query("SELECT alert_id, entity_id FROM alert_hits").load(db)?;
    let mut by_alert: HashMap<String, HashSet<String>> = HashMap::new();
    for h in hits {
        by_alert.entry(h.alert_id).or_default().insert(h.entity_id);
    }
    let mut conn = Conn::open(addr)?;
    let (mut same, mut only_alert, mut only_api, mut checked) = (0, 0, 0, [0usize; 2]);
    let mut unread = Vec::new();
    for (a, ids) in accounts.iter().zip(alert_ids) {
        let kind = if a.alerts.first().is_some_and(|x| x.get("need_id").is_some()) {
            0
        } else if a.alerts.first().is_some_and(|x| x.get("search").is_some()) {
            1
        } else {
            continue;
        };
        if checked[kind] >= CHECKED {
            continue;
        }
        // A fresh token: the run may have outlived the first.
        let token = login(&mut conn, &a.email, &a.password)?;
        if unread.len() < 4 && kind == 1 {
            let (status, v) =
                conn.json("GET", "/api/v1/notifications?limit=1", Some(&token), None)?;
            ensure!(status == 200, "notifications answered {status}: {v}");
            let stored = count(
                db,
                &format!(
                    "SELECT COUNT(*) AS n FROM notifications WHERE user_id = '{}' AND read_at IS NULL",
                    a.user_id
                ),
            )?;
            unread.push(format!("{} (database {stored})", v["unread_count"]));
        }
        // Alerts spread over the account's list.
        for k in [0, a.alerts.len() / 2, a.alerts.len().saturating_sub(1)] {
            let (Some(alert), Some(id)) = (a.alerts.get(k), ids.get(k)) else {
                continue;
            };
            let listed: HashSet<String> = if let Some(need) = alert["need_id"].as_str() {
                let (status, v) = conn.json(
                    "GET",
                    &format!("/api/v1/needs/{need}/matches?limit=500"),
                    Some(&token),
                    None,
                )?;
                ensure!(status == 200, "matches answered {status}: {v}");
                v["items"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|m| m["score"].as_f64().unwrap_or(0.0) >= min_score)
                    .filter_map(|m| m["faculty"]["id"].as_str().map(str::to_owned))
                    .collect()
            } else {
                let s = &alert["search"];
                // `operator=and` as the alert has it: without it a search nothing matches with
                // every word is answered with any word.
                let mut query = format!(
                    "type=faculty&operator=and&q={}",
                    form_urlencoded::byte_serialize(s["q"].as_str().unwrap_or("").as_bytes())
                        .collect::<String>()
                );
                if let Some(d) = s["department"].as_str() {
                    query.push_str("&department=");
                    query.extend(form_urlencoded::byte_serialize(d.as_bytes()));
                }
                let mut found = HashSet::new();
                let mut offset = 0;
                loop {
                    let (status, v) = conn.json(
                        "GET",
                        &format!("/api/v1/search?{query}&limit=100&offset={offset}"),
                        Some(&token),
                        None,
                    )?;
                    ensure!(status == 200, "search answered {status}: {v}");
                    let items = v["items"].as_array().cloned().unwrap_or_default();
                    found.extend(
                        items
                            .iter()
                            .filter_map(|h| h["id"].as_str().map(str::to_owned)),
                    );
                    offset += 100;
                    if items.len() < 100 || offset >= 2000 {
                        break;
                    }
                }
                found
            };
            let listed: HashSet<String> = listed
                .into_iter()
                .filter(|id| !before.contains(id.as_str()))
                .collect();
            let fired = by_alert.get(id).cloned().unwrap_or_default();
            same += fired.intersection(&listed).count();
            only_alert += fired.difference(&listed).count();
            only_api += listed.difference(&fired).count();
        }
        checked[kind] += 1;
    }
    println!(
        "check against the API (3 alerts of each of {} need-match and {} search accounts): \
         {same} in both, {only_alert} only in the alert's hits, {only_api} only in the owner's list; \
         unread notifications of search owners through GET /notifications: {}",
        checked[0],
        checked[1],
        unread.join(", ")
    );
    Ok(())
}

#[derive(QueryableByName)]
struct PerAlert {
    #[diesel(sql_type = Str)]
    label: String,
    #[diesel(sql_type = BigInt)]
    hits: i64,
}

/// How the hits spread over the alerts that fired: the median, 90th percentile and most.
fn per_alert(db: &mut SqliteConnection) -> Result<()> {
    let rows: Vec<PerAlert> = diesel::sql_query(
        "SELECT CASE WHEN a.kind = 'search' AND a.name LIKE 'Topical%' THEN 'profile search (topical)' \
                     WHEN a.kind = 'search' THEN 'profile search (from titles)' \
                     WHEN a.target = 'faculty' THEN 'need match' ELSE 'profile match' END AS label, \
                COUNT(*) AS hits \
         FROM alert_hits h JOIN saved_alerts a ON a.id = h.alert_id GROUP BY a.id",
    )
    .load(db)?;
    let mut by: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in rows {
        by.entry(r.label).or_default().push(r.hits as f64);
    }
    for (label, mut v) in by {
        v.sort_by(|a, b| a.total_cmp(b));
        println!(
            "hits per {label} alert that fired: median {:.0}, p90 {:.0}, most {:.0}",
            percentile(&v, 0.5),
            percentile(&v, 0.9),
            v.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}

/// What `min_score` means on this corpus: for needs spread over the corpus, how many of the
/// imported profiles their match list scores at least `min_score`, and their best scores (as
/// the operator, who sees every profile).
fn calibration(
    conn: &mut Conn,
    token: &str,
    needs: &[(String, String)],
    seed: &[(String, String)],
    min_score: f64,
) -> Result<()> {
    let before: HashSet<&str> = seed.iter().map(|(_, id)| id.as_str()).collect();
    let step = (needs.len() / 40).max(1);
    let (mut all, mut best, mut fifth) = (Vec::new(), Vec::new(), Vec::new());
    for (need, _) in needs.iter().step_by(step) {
        let (status, v) = conn.json(
            "GET",
            &format!("/api/v1/needs/{need}/matches?limit=500"),
            Some(token),
            None,
        )?;
        ensure!(status == 200, "matches answered {status}: {v}");
        let scores: Vec<f64> = v["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| {
                m["faculty"]["id"]
                    .as_str()
                    .is_some_and(|id| !before.contains(id))
            })
            .filter_map(|m| m["score"].as_f64())
            .collect();
        all.push(scores.clone());
        best.push(scores.first().copied().unwrap_or(0.0));
        fifth.push(scores.get(4).copied().unwrap_or(0.0));
    }
    let q = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.total_cmp(b));
        format!(
            "p10 {:.2} / median {:.2} / p90 {:.2}",
            percentile(v, 0.1),
            percentile(v, 0.5),
            percentile(v, 0.9)
        )
    };
    let n = all.len();
    println!(
        "match scores of the imported profiles for {n} needs (a match list holds at most 500): best {}, fifth best {}",
        q(&mut best),
        q(&mut fifth),
    );
    for t in [0.1, 0.15, 0.2, 0.25, 0.3, min_score] {
        let mut reached: Vec<f64> = all
            .iter()
            .map(|s| s.iter().filter(|x| **x >= t).count() as f64)
            .collect();
        let firing = reached.iter().filter(|r| **r > 0.0).count();
        let mean = reached.iter().sum::<f64>() / n.max(1) as f64;
        println!(
            "  min_score {t}: {firing} of {n} needs would fire, {mean:.1} profiles per need on average ({})",
            q(&mut reached)
        );
    }
    Ok(())
}

fn spread(values: impl Iterator<Item = f64>, digits: usize) -> String {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(|a, b| a.total_cmp(b));
    match (v.first(), v.last()) {
        (Some(lo), Some(hi)) if v.len() > 1 => {
            format!(
                "{lo:.digits$}–{hi:.digits$} (median {:.digits$})",
                percentile(&v, 0.5)
            )
        }
        (Some(x), _) => format!("{x:.digits$}"),
        _ => "—".to_owned(),
    }
}

impl Outcome {
    fn other_during_import(&self) -> f64 {
        self.cpu_import
            .get("other processes")
            .copied()
            .unwrap_or(0.0)
    }
}

fn summary(outcomes: &[Outcome]) {
    println!();
    println!("## Summary");
    println!(
        "| run | alerts | import s (requests) | profiles/s | + index s | profiles/s with index | notifications made after the import, s | hits (need match / search / profile match) | notifications | notifier CPU s during / after | other processes' CPU s during the import | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for o in outcomes {
        let hits = |label: &str| {
            o.hits
                .iter()
                .find(|h| h.0 == label)
                .map_or("0".to_owned(), |h| format!("{} ({} fired)", h.1, h.2))
        };
        println!(
            "| {} {} | {} | {:.1} | {:.0} | {:.1} | {:.0} | {} | {} / {} / {} | {} | {:.1} / {:.1} | {:.1} | {:.0} |",
            o.run,
            if o.with_alerts { "alerts" } else { "baseline" },
            o.alerts,
            o.import_db.as_secs_f64(),
            o.imported as f64 / o.import_db.as_secs_f64(),
            o.import_total.as_secs_f64(),
            o.imported as f64 / o.import_total.as_secs_f64(),
            o.notified_after.map_or_else(
                || format!(
                    "not within the timeout ({} of {} rows checked)",
                    o.checked.0, o.checked.1
                ),
                |t| format!("{:.1}", t.as_secs_f64())
            ),
            hits("need match"),
            hits("profile search"),
            hits("profile match"),
            o.notifications,
            o.cpu_import.get("notifier").copied().unwrap_or(0.0),
            o.cpu_after.get("notifier").copied().unwrap_or(0.0),
            o.other_during_import(),
            o.peak_rss
        );
    }
    // Another program's work during an import (a build, tests: the machine is shared) slows
    // it: the runs where other processes (this bench's client included, about 2 CPU seconds
    // for 10,000 profiles) used under a third of a core are shown apart.
    for (with_alerts, quiet) in [(false, false), (true, false), (false, true), (true, true)] {
        let of: Vec<&Outcome> = outcomes
            .iter()
            .filter(|o| o.with_alerts == with_alerts)
            .filter(|o| !quiet || o.other_during_import() < 0.35 * o.import_db.as_secs_f64())
            .collect();
        println!(
            "{}{} ({} runs): import {} profiles/s (database + index {} profiles/s); notifications made {} s after; peak RSS {} MiB",
            if with_alerts {
                "with alerts"
            } else {
                "baseline"
            },
            if quiet {
                ", runs with the machine otherwise idle"
            } else {
                ""
            },
            of.len(),
            spread(
                of.iter()
                    .map(|o| o.imported as f64 / o.import_db.as_secs_f64()),
                0
            ),
            spread(
                of.iter()
                    .map(|o| o.imported as f64 / o.import_total.as_secs_f64()),
                0
            ),
            spread(
                of.iter()
                    .filter_map(|o| o.notified_after)
                    .map(|t| t.as_secs_f64()),
                1
            ),
            spread(of.iter().map(|o| o.peak_rss), 0),
        );
    }
}
