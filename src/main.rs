//! The `liaison` command: serve, migrate, openapi, user, import, reindex, demo, eval.

// A panic in the service is a 500 or a crash: errors are returned, never unwrapped. Unit tests
// too return Result and use `?` (clippy.toml does not exempt them); only `panic!` and
// `assert!` are allowed there, as the failing assertion itself.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use liaison::config::SettingsArgs;
use liaison::http::{self, AppState};

#[derive(Debug, Parser)]
#[command(
    name = "liaison",
    version,
    about = "Industry-academia collaboration service"
)]
struct Cli {
    #[command(flatten)]
    settings: SettingsArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Manage user accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Bulk-import records from a file.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Sync faculty profiles from ORCID and OpenAlex (the `orcid_base_url`,
    /// `openalex_base_url` and fair-use settings apply). Prints the outcome as JSON.
    #[command(subcommand)]
    Sync(SyncCommand),
    /// Rebuild the search index from the database alone (stop the service first: it holds
    /// the index while it runs).
    Reindex,
    /// Run the service on a fresh database loaded with a multilingual demo (Taiwanese and
    /// Korean universities, companies, profiles, needs, engagements, centres and funded
    /// projects); prints one login per role. Recreates `--dir` at every start.
    Demo {
        /// Folder of the demo's SQLite database and search index, emptied at start (it must
        /// be empty, missing, or made by an earlier demo). With `--database-url` (or
        /// LIAISON_DATABASE_URL) the demo loads into that database instead, which must hold
        /// no organization yet.
        #[arg(long, default_value = "data/demo")]
        dir: std::path::PathBuf,
        /// Also start a local stand-in for ORCID and OpenAlex (on 127.0.0.1, serving
        /// records in their published formats; no network needed) and add a profile synced
        /// from it.
        #[arg(long)]
        with_sources: bool,
    },
    /// Measure match quality on a labelled set (JSON; format in docs/api.md): prints nDCG@10
    /// and the pairwise ranking loss. Works in a temporary database of its own.
    Eval {
        /// The labelled set (see docs/api.md, "Match quality").
        #[arg(required_unless_present = "sbir", conflicts_with = "sbir")]
        file: Option<std::path::PathBuf>,
        /// Instead, the development set built from real SBIR awards (a .jsonl or .jsonl.gz
        /// file such as ../shared/data/sbir-abstracts.jsonl.gz): every firm with six or more
        /// awards is a profile, its latest award a need; reports MRR, recall@10 and nDCG@10.
        #[arg(long)]
        sbir: Option<std::path::PathBuf>,
        /// With --sbir: only the first N firms (by name), for a quicker run.
        #[arg(long, requires = "sbir")]
        firms: Option<usize>,
        /// With --sbir: also rank with plain BM25 (SQLite FTS5 over the same texts), the
        /// classic baseline, and print it beside.
        #[arg(long, requires = "sbir")]
        baseline: bool,
        /// Print the full report (per item rankings) as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Upsert faculty profiles of one university from CSV or NDJSON (format from the file
    /// extension: .csv, .ndjson or .jsonl). Prints the per-row report as JSON.
    Faculty {
        /// The CSV or NDJSON file.
        file: std::path::PathBuf,
        /// The university the profiles belong to.
        #[arg(long)]
        university_id: String,
    },
    /// Charge scheduler usage to compute allocations: Slurm accounting records as
    /// `sacct --parsable2 --noheader --format=JobID,Account,User,Partition,AllocTRES,ElapsedRaw,Start,End,State`
    /// writes them. Idempotent by job id. Prints the per-line report as JSON.
    Usage {
        /// The sacct output.
        file: std::path::PathBuf,
        /// The compute resource whose scheduler wrote it.
        #[arg(long)]
        resource_id: String,
    },
    /// Create or update a university's profiles from OpenAlex snapshot files: the folder's
    /// gzip JSON Lines of authors and works (as OpenAlex publishes them, e.g.
    /// `data/jsonl/authors/updated_date=…/part_0000.gz`), read as a stream with a progress
    /// line. Prints the summary as JSON.
    Openalex {
        /// The snapshot folder (searched recursively for authors and works files).
        dir: std::path::PathBuf,
        /// The university the profiles belong to.
        #[arg(long)]
        university_id: String,
        /// Only authors of this institution (its OpenAlex id, e.g. I148366613, or its ROR).
        #[arg(long)]
        institution: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum SyncCommand {
    /// One profile, now.
    Profile {
        /// The profile's id.
        id: String,
        /// Comma-separated: orcid, openalex (default: both).
        #[arg(long)]
        sources: Option<String>,
    },
    /// Every profile of a university with an ORCID iD or OpenAlex id, with a progress line;
    /// the job is also visible at `/api/v1/sync-jobs/{id}`.
    University {
        /// The university's id.
        id: String,
        /// Comma-separated: orcid, openalex (default: both).
        #[arg(long)]
        sources: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from standard input when it is not a terminal;
    /// otherwise (or if the input is empty) one is generated and printed once.
    Create {
        #[arg(long)]
        email: String,
        /// The name shown to others (defaults to the email).
        #[arg(long)]
        name: Option<String>,
        /// May do everything, including creating organizations.
        #[arg(long)]
        platform_operator: bool,
    },
    /// Disable a user: their tokens stop working at once.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Re-enable a disabled user.
    Enable {
        #[arg(long)]
        email: String,
    },
    /// Delete a user (kept for the record, but no longer able to sign in).
    Delete {
        #[arg(long)]
        email: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("liaison: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        print!("{}", http::openapi_json());
        return Ok(());
    }
    if let Command::Eval {
        file,
        sbir,
        firms,
        baseline,
        json,
    } = &cli.command
    {
        return match (file, sbir) {
            (_, Some(sbir)) => eval_dev(sbir, *firms, *baseline, *json),
            (Some(file), None) => eval(file, *json),
            (None, None) => anyhow::bail!("name a labelled set, or --sbir FILE"),
        };
    }
    let explicit_database = cli.settings.database_url.is_some();
    let settings = cli.settings.resolve()?;
    liaison::telemetry::init(&settings);
    match cli.command {
        Command::Openapi | Command::Eval { .. } => Ok(()),
        Command::Migrate => {
            let db = liaison::db::Db::connect(
                &settings.database_url,
                1,
                std::time::Duration::from_secs(settings.db_timeout_secs),
            )?;
            let applied = db.migrate()?;
            println!("applied {} migration(s)", applied.len());
            for m in applied {
                println!("  {m}");
            }
            Ok(())
        }
        Command::User(cmd) => user_command(settings, cmd),
        Command::Import(ImportCommand::Faculty {
            file,
            university_id,
        }) => import_faculty(settings, &file, university_id),
        Command::Import(ImportCommand::Usage { file, resource_id }) => {
            import_usage(settings, &file, resource_id)
        }
        Command::Import(ImportCommand::Openalex {
            dir,
            university_id,
            institution,
        }) => import_openalex(settings, &dir, &university_id, institution.as_deref()),
        Command::Sync(cmd) => sync_command(settings, cmd),
        Command::Reindex => {
            let db = liaison::db::Db::connect(
                &settings.database_url,
                2,
                std::time::Duration::from_secs(settings.db_timeout_secs),
            )?;
            db.migrate()?;
            let started = std::time::Instant::now();
            let (documents, seq) = liaison::search::index::rebuild(&db, &settings.index_dir)?;
            println!(
                "indexed {documents} record(s) up to outbox position {seq} in {} ms ({})",
                started.elapsed().as_millis(),
                settings.index_dir.display()
            );
            Ok(())
        }
        Command::Demo { dir, with_sources } => {
            demo(settings, &dir, explicit_database, with_sources)
        }
        Command::Serve => {
            let state = AppState::open(settings)?;
            actix_web::rt::System::new().block_on(http::serve(state))
        }
    }
}

fn user_command(settings: liaison::config::Settings, cmd: UserCommand) -> anyhow::Result<()> {
    use liaison::service::{accounts, auth::Auth};
    let db = liaison::db::Db::connect(
        &settings.database_url,
        1,
        std::time::Duration::from_secs(settings.db_timeout_secs),
    )?;
    db.migrate()?;
    let fail = |e: liaison::error::AppError| match e.field_messages() {
        None => anyhow::anyhow!(e.describe()),
        Some(fields) => anyhow::anyhow!("{} ({fields})", e.detail),
    };
    match cmd {
        UserCommand::Create {
            email,
            name,
            platform_operator,
        } => {
            let auth = Auth::from_settings(&settings)?;
            let password = read_password_from_stdin()?;
            let name = name.unwrap_or_else(|| email.clone());
            let (user, generated) = accounts::create_user_blocking(
                &db,
                &auth,
                &email,
                &name,
                password.as_deref(),
                platform_operator,
            )
            .map_err(fail)?;
            println!(
                "created user {} <{}>{}",
                user.id,
                user.email,
                if user.is_platform_operator {
                    " (platform operator)"
                } else {
                    ""
                }
            );
            if let Some(p) = generated {
                println!("generated password (shown once): {p}");
            }
            Ok(())
        }
        UserCommand::Disable { email } => {
            accounts::set_user_state_blocking(&db, &email, true, false).map_err(fail)?;
            println!("disabled {email}");
            Ok(())
        }
        UserCommand::Enable { email } => {
            accounts::set_user_state_blocking(&db, &email, false, false).map_err(fail)?;
            println!("enabled {email}");
            Ok(())
        }
        UserCommand::Delete { email } => {
            accounts::set_user_state_blocking(&db, &email, true, true).map_err(fail)?;
            println!("deleted {email}");
            Ok(())
        }
    }
}

/// The first line of standard input when it is piped in; `None` for a terminal or no input.
fn read_password_from_stdin() -> anyhow::Result<Option<String>> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    Ok((!line.is_empty()).then_some(line))
}

/// `liaison demo`: a fresh demo folder (database unless one is given, index, signing key),
/// the demo world loaded through the service layer, indexed, then served.
fn demo(
    mut settings: liaison::config::Settings,
    dir: &std::path::Path,
    explicit_database: bool,
    with_sources: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Before emptying anything: a second demo on the same address (the first still running)
    // would otherwise wipe the first one's folder only to fail to listen.
    std::net::TcpListener::bind(&settings.bind).map_err(|e| {
        anyhow::anyhow!(
            "cannot listen on {}: {e} (is another demo or service running there? choose another with --bind)",
            settings.bind
        )
    })?;
    let marker = dir.join(".liaison-demo");
    if dir.exists() {
        let empty = std::fs::read_dir(dir)?.next().is_none();
        if !empty && !marker.exists() {
            anyhow::bail!(
                "{} is not empty and was not made by `liaison demo`; choose another --dir",
                dir.display()
            );
        }
        std::fs::remove_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot empty {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        &marker,
        "made by `liaison demo`, which empties this folder at every start\n",
    )?;
    if !explicit_database {
        settings.database_url = format!("sqlite://{}", dir.join("liaison.db").display());
    }
    settings.index_dir = dir.join("index");
    // Kept for as long as the demo runs.
    let fake = if with_sources {
        let fake = liaison::demo::fake_sources::FakeSources::start()?;
        settings.orcid_base_url = fake.orcid_base_url();
        settings.openalex_base_url = fake.openalex_base_url();
        Some(fake)
    } else {
        None
    };
    let state = AppState::open(settings)?;
    actix_web::rt::System::new().block_on(async move {
        let mut summary = liaison::demo::seed(&state.db, &state.auth).await?;
        if fake.is_some() {
            summary.synced = liaison::demo::seed_synced(&state.db, state.sources.clone()).await?;
        }
        // Serve only once everything loaded is searchable.
        state
            .search
            .wait_for_current(std::time::Duration::from_secs(120))
            .await
            .map_err(|e| anyhow::anyhow!(e.describe()))?;
        let seconds = started.elapsed().as_secs_f64();
        http::serve_announcing(state, move |addrs| {
            print_demo_banner(&summary, addrs, seconds);
        })
        .await
    })
}

fn print_demo_banner(s: &liaison::demo::Summary, addrs: &[std::net::SocketAddr], seconds: f64) {
    let url = addrs.first().map_or_else(
        || "http://127.0.0.1:8080".to_owned(),
        |a| format!("http://{a}"),
    );
    let states: Vec<String> = s
        .engagement_states
        .iter()
        .map(|(state, n)| format!("{n} {state}"))
        .collect();
    let mut out = format!(
        "\nLiaison demo ready in {seconds:.1} s at {url}\n\
         \x20 web app:   {url}/\n\
         \x20 API docs:  {url}/docs/\n\
         \x20 loaded:    {} universities, {} companies, {} funders; {} faculty profiles, {} needs;\n\
         \x20            {} engagements ({}); {} joint centres; {} funded projects with {} payments;\n\
         \x20            {} compute resources with {} allocations and {} charged jobs; {} accounts\n\
         \x20 logins (password for all: {}):\n",
        s.universities,
        s.companies,
        s.other_organizations,
        s.faculty,
        s.needs,
        s.engagements,
        states.join(", "),
        s.centers,
        s.projects,
        s.payments,
        s.compute_resources,
        s.allocations,
        s.jobs,
        s.accounts,
        liaison::demo::PASSWORD,
    );
    for (role, email) in &s.logins {
        out.push_str(&format!("    {role:<44} {email}\n"));
    }
    for (name, id) in &s.synced {
        out.push_str(&format!(
            "  synced from the local ORCID and OpenAlex: {name}, {url}/api/v1/faculty/{id}\n"
        ));
    }
    out.push_str("  Everything is fictional and recreated at every start. Ctrl-C stops it.\n");
    println!("{out}");
}

/// `liaison eval`: a temporary SQLite database and index, removed afterwards.
fn eval(file: &std::path::Path, json: bool) -> anyhow::Result<()> {
    let set = liaison::eval::read(file)?;
    let work = std::env::temp_dir().join(format!("liaison-eval-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work)?;
    let url = format!("sqlite://{}", work.join("eval.db").display());
    let started = std::time::Instant::now();
    let report = actix_web::rt::System::new().block_on(liaison::eval::run(&set, &url, &work));
    let _ = std::fs::remove_dir_all(&work);
    let report = report?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        for item in &report.per_item {
            println!(
                "{:<24} nDCG@10 {:>6}  loss {:>6}",
                item.need,
                item.ndcg_at_10.map_or("-".into(), |v| format!("{v:.3}")),
                item.pairwise_loss.map_or("-".into(), |v| format!("{v:.3}")),
            );
        }
    }
    println!(
        "items {}  candidates {}  nDCG@10 {:.4}  pairwise loss {:.4} (per item {:.4})  in {:.1} s",
        report.items,
        report.candidates,
        report.ndcg_at_10,
        report.pairwise_loss,
        report.pairwise_loss_per_item,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `liaison eval --sbir FILE`: the development set, in a temporary SQLite database and index
/// (and with `--baseline`, plain BM25 on the same texts).
fn eval_dev(
    file: &std::path::Path,
    firms: Option<usize>,
    baseline: bool,
    json: bool,
) -> anyhow::Result<()> {
    let set = liaison::eval::dev_set(file, firms)?;
    let work = std::env::temp_dir().join(format!("liaison-eval-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&work)?;
    let url = format!("sqlite://{}", work.join("eval.db").display());
    let started = std::time::Instant::now();
    let report = actix_web::rt::System::new()
        .block_on(liaison::eval::run_dev(&set, &url, &work))
        .and_then(|liaison| {
            let plain = if baseline {
                Some(liaison::eval::baseline_dev(&set, &work)?)
            } else {
                None
            };
            Ok((liaison, plain))
        });
    let _ = std::fs::remove_dir_all(&work);
    let (report, plain) = report?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    }
    let rows = [("", Some(&report)), ("plain BM25 (FTS5): ", plain.as_ref())];
    for (engine, r) in rows {
        let Some(r) = r else { continue };
        for (view, r) in [
            ("needs rank profiles", &r.needs_to_profiles),
            ("profiles rank needs", &r.profiles_to_needs),
        ] {
            println!(
                "{engine}{view}: {} x {}  MRR {:.4}  recall@10 {:.4}  nDCG@10 {:.4}  unranked {}",
                r.queries, r.candidates, r.mrr, r.recall_at_10, r.ndcg_at_10, r.unranked
            );
        }
    }
    println!("in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The CLI acts with the rights of whoever can run it against the database: an operator.
fn cli_operator() -> liaison::service::policy::Caller {
    liaison::service::policy::Caller {
        user_id: "cli".to_owned(),
        is_platform_operator: true,
        memberships: Vec::new(),
    }
}

fn connect_migrated(settings: &liaison::config::Settings) -> anyhow::Result<liaison::db::Db> {
    let db = liaison::db::Db::connect(
        &settings.database_url,
        2,
        std::time::Duration::from_secs(settings.db_timeout_secs),
    )?;
    db.migrate()?;
    Ok(db)
}

fn import_usage(
    settings: liaison::config::Settings,
    file: &std::path::Path,
    resource_id: String,
) -> anyhow::Result<()> {
    let body =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let db = connect_migrated(&settings)?;
    let report = actix_web::rt::System::new()
        .block_on(liaison::service::compute::import_usage(
            &db,
            Some(&cli_operator()),
            resource_id,
            body,
        ))
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "charged {}, updated {}, unchanged {}, skipped {}, rejected {}",
        report.charged, report.updated, report.unchanged, report.skipped, report.rejected
    );
    if report.rejected > 0 {
        // Charged lines are saved; the exit status tells scripts that some were not.
        std::process::exit(2);
    }
    Ok(())
}

fn import_openalex(
    settings: liaison::config::Settings,
    dir: &std::path::Path,
    university_id: &str,
    institution: Option<&str>,
) -> anyhow::Result<()> {
    use std::io::Write;
    let db = connect_migrated(&settings)?;
    let started = std::time::Instant::now();
    let report = liaison::service::faculty::snapshot::import_openalex(
        &db,
        &cli_operator(),
        university_id,
        dir,
        institution,
        &mut |r| {
            eprint!(
                "\r{} files: {} authors read ({} taken), {} works read; profiles: {} created, {} updated, {} unchanged, {} failed ({:.0} s)",
                r.files,
                r.authors_read,
                r.authors_taken,
                r.works_read,
                r.created,
                r.updated,
                r.unchanged,
                r.failed,
                started.elapsed().as_secs_f64()
            );
            let _ = std::io::stderr().flush();
        },
    )
    .map_err(|e| anyhow::anyhow!(e.describe()))?;
    eprintln!();
    println!("{}", serde_json::to_string_pretty(&report)?);
    if report.failed > 0 {
        // What could be imported is saved; the exit status tells scripts that some was not.
        std::process::exit(2);
    }
    Ok(())
}

fn sync_command(settings: liaison::config::Settings, cmd: SyncCommand) -> anyhow::Result<()> {
    use liaison::service::faculty::{jobs, sync};
    use std::io::Write;
    let db = connect_migrated(&settings)?;
    let sources = std::sync::Arc::new(liaison::sources::Sources::from_settings(&settings));
    let operator = cli_operator();
    let system = actix_web::rt::System::new();
    match cmd {
        SyncCommand::Profile {
            id,
            sources: wanted,
        } => {
            let report = system
                .block_on(sync::sync_one(
                    &db,
                    sources,
                    Some(&operator),
                    id,
                    wanted.as_deref(),
                ))
                .map_err(|e| anyhow::anyhow!(e.describe()))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if report.sources.iter().any(|s| s.error.is_some()) {
                std::process::exit(2);
            }
        }
        SyncCommand::University {
            id,
            sources: wanted,
        } => {
            let wanted = sync::parse_sources(wanted.as_deref())
                .map_err(|e| anyhow::anyhow!(e.describe()))?;
            let started = std::time::Instant::now();
            let done = system
                .block_on(jobs::run_now(
                    &db,
                    sources,
                    Some(&operator),
                    liaison::dto::faculty::StartSync {
                        university_id: id,
                        sources: Some(wanted),
                    },
                    move |processed, total| {
                        eprint!(
                            "\rsync: {processed}/{total} profiles ({:.0} s)",
                            started.elapsed().as_secs_f64()
                        );
                        let _ = std::io::stderr().flush();
                    },
                ))
                .map_err(|e| anyhow::anyhow!(e.describe()))?;
            eprintln!();
            println!("{}", serde_json::to_string_pretty(&done)?);
            if done.failed > 0 {
                std::process::exit(2);
            }
        }
    }
    Ok(())
}

fn import_faculty(
    settings: liaison::config::Settings,
    file: &std::path::Path,
    university_id: String,
) -> anyhow::Result<()> {
    use liaison::service::faculty::{ImportFormat, import};
    let format = match file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv") => ImportFormat::Csv,
        Some("ndjson" | "jsonl") => ImportFormat::Ndjson,
        _ => anyhow::bail!("{}: use a .csv, .ndjson or .jsonl file", file.display()),
    };
    let body =
        std::fs::read(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
    let db = connect_migrated(&settings)?;
    let report = actix_web::rt::System::new()
        .block_on(import(
            &db,
            Some(&cli_operator()),
            university_id,
            format,
            body,
        ))
        .map_err(|e| anyhow::anyhow!(e.describe()))?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    eprintln!(
        "created {}, updated {}, unchanged {}, rejected {}",
        report.created, report.updated, report.unchanged, report.rejected
    );
    if report.rejected > 0 {
        // Valid rows are saved; the exit status tells scripts that some were not.
        std::process::exit(2);
    }
    Ok(())
}
