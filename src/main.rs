//! The `liaison` command: serve, migrate, openapi.

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
    let settings = cli.settings.resolve()?;
    liaison::telemetry::init(&settings);
    match cli.command {
        Command::Openapi => Ok(()),
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
        Command::Serve => {
            let state = AppState::open(settings)?;
            actix_web::rt::System::new().block_on(http::serve(state))
        }
    }
}
