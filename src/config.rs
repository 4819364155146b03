//! Configuration: one typed struct, filled from built-in defaults, then an optional TOML file,
//! then `LIAISON_*` environment variables, then command-line flags (later wins). Unknown keys in
//! the file are rejected so that a typo never silently falls back to a default.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

/// Every setting of the service. Field names are the config-file keys; the environment variable
/// is `LIAISON_` plus the upper-cased name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// `sqlite://PATH` (or a bare path) for the embedded database, `postgres://...` for PostgreSQL.
    pub database_url: String,
    /// Address the HTTP server listens on.
    pub bind: String,
    /// Folder of the on-disk search index.
    pub index_dir: PathBuf,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted bulk-import body (CSV or NDJSON), in bytes.
    pub max_import_bytes: usize,
    /// Seconds a request body may take to arrive (plus one second per 64 KiB received, so
    /// that a large import on a slow link is not cut off); slower gets 408.
    pub body_timeout_secs: u64,
    /// The search indexer commits at most this often (milliseconds): the bound on how stale
    /// search can be, traded against commit cost.
    pub index_commit_interval_ms: u64,
    /// How often memory the process freed is given back to the system (milliseconds; 0:
    /// never). See `memory`.
    pub memory_release_interval_ms: u64,
    /// Database connections in the pool.
    pub db_pool_size: u32,
    /// Seconds to wait for a pooled connection before answering 503.
    pub db_timeout_secs: u64,
    /// Longest wait for a database lock (PostgreSQL `lock_timeout`, SQLite `busy_timeout`)
    /// before the request answers 503 with `Retry-After`.
    pub db_lock_timeout_ms: u64,
    /// Longest database statement (PostgreSQL `statement_timeout`).
    pub db_statement_timeout_secs: u64,
    /// Longest a transaction may sit idle before PostgreSQL ends its session, freeing its
    /// locks (`idle_in_transaction_session_timeout`): bounds what a frozen replica holds.
    pub db_idle_in_transaction_timeout_secs: u64,
    /// `/readyz` answers within this many milliseconds: a check that has not answered by
    /// then (a database that does not answer, a hung disk) counts as failing.
    pub readyz_timeout_ms: u64,
    /// When set, `/metrics` answers only requests with `Authorization: Bearer <this token>`
    /// (401 otherwise); unset, it is open to anyone who can reach it.
    pub metrics_token: Option<Secret>,
    /// HTTP worker threads; 0 means one per CPU core.
    pub workers: usize,
    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    pub shutdown_timeout_secs: u64,
    /// `text` for people, `json` for log collectors.
    pub log_format: LogFormat,
    /// A `tracing` filter, e.g. `info` or `liaison=debug,actix_web=info`.
    pub log_level: String,
    /// `iss` of access tokens (checked on every request).
    pub jwt_issuer: String,
    /// `aud` of access tokens (checked on every request).
    pub jwt_audience: String,
    /// Lifetime of access tokens, in seconds.
    pub access_token_ttl_secs: u64,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl_secs: u64,
    /// An HS256 signing secret (at least 32 bytes), the simplest way to configure signing.
    /// It signs with kid `jwt_secret_kid`; keys in `jwt_keys` still verify (rotation).
    pub jwt_secret: Option<Secret>,
    /// The kid of `jwt_secret`.
    pub jwt_secret_kid: String,
    /// Signing and verification keys, newest first: the first key that is not `retired` signs
    /// (unless `jwt_secret` is set); every listed key verifies until removed.
    pub jwt_keys: Vec<JwtKeyConfig>,
    /// Failed password checks of one account from one client address within the window
    /// before each further attempt from there waits (1 s, then twice as long each time).
    pub login_max_failures: u32,
    /// Failed password checks from one client address, over all accounts, within the window
    /// before that address gets 429 until the window has passed.
    pub login_max_failures_per_client: u32,
    /// The login throttling window, in seconds.
    pub login_window_secs: u64,
    /// The ORCID public API, up to its version (another base URL for a mirror or a fake).
    pub orcid_base_url: String,
    /// The OpenAlex API.
    pub openalex_base_url: String,
    /// Who runs this deployment, sent to ORCID and OpenAlex in the User-Agent and as
    /// OpenAlex's `mailto` (its polite pool): sources ask to be able to reach whoever calls
    /// them.
    pub sources_contact_email: Option<String>,
    /// An OpenAlex API key, sent as `api_key` (OpenAlex asks for one).
    pub openalex_api_key: Option<Secret>,
    /// At most this many requests per second to ORCID (its public API allows 24).
    pub orcid_requests_per_second: u32,
    /// At most this many requests per second to OpenAlex (it allows 10).
    pub openalex_requests_per_second: u32,
    /// Longest wait for one answer from a source, in seconds.
    pub sources_timeout_secs: u64,
    /// Retries of a request that got 429, 5xx, a timeout or no connection.
    pub sources_max_retries: u32,
    /// The first retry's backoff in milliseconds; each further retry waits twice as long.
    pub sources_retry_base_ms: u64,
    /// The longest single wait before a retry, in seconds; a source asking (`Retry-After`)
    /// for longer fails that profile with `rate_limited` instead.
    pub sources_max_retry_wait_secs: u64,
    /// Re-sync every profile with an ORCID iD or OpenAlex id whose last sync is older than
    /// this many hours (0: never; syncs then happen only when asked for).
    pub sync_refresh_interval_hours: u64,
    /// How often the notifier looks for events that time makes due (payments overdue,
    /// centre renewals coming up); each is announced once whatever the interval.
    pub due_scan_interval_secs: u64,
    /// How long notifications, finished webhook deliveries (with their attempts), finished
    /// mails and the events no longer needed by any of them are kept, in days (0: forever).
    /// Pruned by the notifier with its scan. The audit log and alert hits are kept.
    pub notification_retention_days: u64,
    /// How long an invitation to join an organization can be answered after it was sent (or
    /// sent again), in days.
    pub invitation_lifetime_days: u64,
    /// Let webhook endpoints be private, loopback or link-local addresses (a deployment
    /// whose receivers live on its own network; tests). Off: such targets are refused when
    /// registered and when a name resolves to them at delivery.
    pub webhook_allow_private_targets: bool,
    /// Whether webhook deliveries are sent. Off: they are queued and logged as pending but
    /// nothing leaves the process (a staging copy of production data must not call the
    /// production receivers); turned on again, the due ones go out.
    pub webhook_sending: bool,
    /// Longest wait for a webhook endpoint's answer.
    pub webhook_timeout_secs: u64,
    /// The waits before each retry of a failed delivery (the first attempt is at once); when
    /// they are used up the delivery fails and its endpoint is disabled. The default spans
    /// three days (Standard Webhooks' schedule).
    pub webhook_retry_schedule_secs: Vec<u64>,
    /// The SMTP server e-mail goes through: `smtp://host:587?tls=required` (STARTTLS),
    /// `smtps://host:465` (TLS), `smtp://host:25` (no encryption: a relay on the same
    /// machine); user and password in the URL. Unset: no e-mail (only in-app delivery may be
    /// chosen).
    pub smtp_url: Option<Secret>,
    /// The sender of e-mails, e.g. `Liaison <liaison@your-university.edu>`.
    pub mail_from: String,
    /// Where users reach this deployment: the links in e-mails (unsubscribing, notifications).
    pub public_base_url: String,
}

/// A secret string that never appears in `Debug` output (and so in no log line).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JwtAlgorithm {
    HS256,
    EdDSA,
    RS256,
}

/// One token key. HS256 takes `secret`; EdDSA and RS256 take PEM files (`public_key_file`
/// always, `private_key_file` for the key that signs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtKeyConfig {
    pub kid: String,
    pub algorithm: JwtAlgorithm,
    #[serde(default)]
    pub secret: Option<Secret>,
    #[serde(default)]
    pub private_key_file: Option<PathBuf>,
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
    /// A retired key verifies tokens it signed earlier but signs no new ones.
    #[serde(default)]
    pub retired: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://data/liaison.db".to_owned(),
            bind: "127.0.0.1:8080".to_owned(),
            index_dir: PathBuf::from("index"),
            max_body_bytes: 1024 * 1024,
            max_import_bytes: 32 * 1024 * 1024,
            body_timeout_secs: 30,
            index_commit_interval_ms: 250,
            memory_release_interval_ms: 1000,
            db_pool_size: 8,
            db_timeout_secs: 5,
            db_lock_timeout_ms: 3000,
            db_statement_timeout_secs: 30,
            db_idle_in_transaction_timeout_secs: 60,
            readyz_timeout_ms: 1000,
            metrics_token: None,
            workers: 0,
            shutdown_timeout_secs: 30,
            log_format: LogFormat::Text,
            log_level: "info".to_owned(),
            jwt_issuer: "liaison".to_owned(),
            jwt_audience: "liaison-api".to_owned(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 30 * 24 * 3600,
            jwt_secret: None,
            jwt_secret_kid: "primary".to_owned(),
            jwt_keys: Vec::new(),
            login_max_failures: 5,
            login_max_failures_per_client: 50,
            login_window_secs: 15 * 60,
            orcid_base_url: "https://pub.orcid.org/v3.0".to_owned(),
            openalex_base_url: "https://api.openalex.org".to_owned(),
            sources_contact_email: None,
            openalex_api_key: None,
            orcid_requests_per_second: 12,
            openalex_requests_per_second: 8,
            sources_timeout_secs: 30,
            sources_max_retries: 4,
            sources_retry_base_ms: 1000,
            sources_max_retry_wait_secs: 120,
            sync_refresh_interval_hours: 0,
            due_scan_interval_secs: 3600,
            notification_retention_days: 365,
            invitation_lifetime_days: 14,
            webhook_allow_private_targets: false,
            webhook_sending: true,
            webhook_timeout_secs: 10,
            smtp_url: None,
            mail_from: "Liaison <liaison@localhost>".to_owned(),
            public_base_url: "http://127.0.0.1:8080".to_owned(),
            webhook_retry_schedule_secs: vec![
                5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400,
            ],
        }
    }
}

/// The command-line and environment layer: every field optional, so only what was given
/// overrides the file. clap reads the flag first and falls back to the environment variable.
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsArgs {
    /// TOML configuration file (keys as in the README's configuration table).
    #[arg(long, env = "LIAISON_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    #[arg(long, env = "LIAISON_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    #[arg(long, env = "LIAISON_BIND", global = true)]
    pub bind: Option<String>,
    #[arg(long, env = "LIAISON_INDEX_DIR", global = true)]
    pub index_dir: Option<PathBuf>,
    #[arg(long, env = "LIAISON_MAX_BODY_BYTES", global = true)]
    pub max_body_bytes: Option<usize>,
    #[arg(long, env = "LIAISON_MAX_IMPORT_BYTES", global = true)]
    pub max_import_bytes: Option<usize>,
    #[arg(long, env = "LIAISON_BODY_TIMEOUT_SECS", global = true)]
    pub body_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_INDEX_COMMIT_INTERVAL_MS", global = true)]
    pub index_commit_interval_ms: Option<u64>,
    #[arg(long, env = "LIAISON_MEMORY_RELEASE_INTERVAL_MS", global = true)]
    pub memory_release_interval_ms: Option<u64>,
    #[arg(long, env = "LIAISON_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,
    #[arg(long, env = "LIAISON_DB_TIMEOUT_SECS", global = true)]
    pub db_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_DB_LOCK_TIMEOUT_MS", global = true)]
    pub db_lock_timeout_ms: Option<u64>,
    #[arg(long, env = "LIAISON_DB_STATEMENT_TIMEOUT_SECS", global = true)]
    pub db_statement_timeout_secs: Option<u64>,
    #[arg(
        long,
        env = "LIAISON_DB_IDLE_IN_TRANSACTION_TIMEOUT_SECS",
        global = true
    )]
    pub db_idle_in_transaction_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_READYZ_TIMEOUT_MS", global = true)]
    pub readyz_timeout_ms: Option<u64>,
    /// Bearer token `/metrics` requires (prefer the environment variable: flags show up in `ps`).
    #[arg(
        long,
        env = "LIAISON_METRICS_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub metrics_token: Option<Secret>,
    #[arg(long, env = "LIAISON_WORKERS", global = true)]
    pub workers: Option<usize>,
    #[arg(long, env = "LIAISON_SHUTDOWN_TIMEOUT_SECS", global = true)]
    pub shutdown_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_LOG_FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    #[arg(long, env = "LIAISON_LOG_LEVEL", global = true)]
    pub log_level: Option<String>,
    #[arg(long, env = "LIAISON_JWT_ISSUER", global = true)]
    pub jwt_issuer: Option<String>,
    #[arg(long, env = "LIAISON_JWT_AUDIENCE", global = true)]
    pub jwt_audience: Option<String>,
    #[arg(long, env = "LIAISON_ACCESS_TOKEN_TTL_SECS", global = true)]
    pub access_token_ttl_secs: Option<u64>,
    #[arg(long, env = "LIAISON_REFRESH_TOKEN_TTL_SECS", global = true)]
    pub refresh_token_ttl_secs: Option<u64>,
    /// HS256 signing secret (prefer the environment variable: flags show up in `ps`).
    #[arg(
        long,
        env = "LIAISON_JWT_SECRET",
        global = true,
        hide_env_values = true
    )]
    pub jwt_secret: Option<Secret>,
    #[arg(long, env = "LIAISON_JWT_SECRET_KID", global = true)]
    pub jwt_secret_kid: Option<String>,
    #[arg(long, env = "LIAISON_LOGIN_MAX_FAILURES", global = true)]
    pub login_max_failures: Option<u32>,
    #[arg(long, env = "LIAISON_LOGIN_MAX_FAILURES_PER_CLIENT", global = true)]
    pub login_max_failures_per_client: Option<u32>,
    #[arg(long, env = "LIAISON_LOGIN_WINDOW_SECS", global = true)]
    pub login_window_secs: Option<u64>,
    #[arg(long, env = "LIAISON_ORCID_BASE_URL", global = true)]
    pub orcid_base_url: Option<String>,
    #[arg(long, env = "LIAISON_OPENALEX_BASE_URL", global = true)]
    pub openalex_base_url: Option<String>,
    #[arg(long, env = "LIAISON_SOURCES_CONTACT_EMAIL", global = true)]
    pub sources_contact_email: Option<String>,
    /// OpenAlex API key (prefer the environment variable: flags show up in `ps`).
    #[arg(
        long,
        env = "LIAISON_OPENALEX_API_KEY",
        global = true,
        hide_env_values = true
    )]
    pub openalex_api_key: Option<Secret>,
    #[arg(long, env = "LIAISON_ORCID_REQUESTS_PER_SECOND", global = true)]
    pub orcid_requests_per_second: Option<u32>,
    #[arg(long, env = "LIAISON_OPENALEX_REQUESTS_PER_SECOND", global = true)]
    pub openalex_requests_per_second: Option<u32>,
    #[arg(long, env = "LIAISON_SOURCES_TIMEOUT_SECS", global = true)]
    pub sources_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_SOURCES_MAX_RETRIES", global = true)]
    pub sources_max_retries: Option<u32>,
    #[arg(long, env = "LIAISON_SOURCES_RETRY_BASE_MS", global = true)]
    pub sources_retry_base_ms: Option<u64>,
    #[arg(long, env = "LIAISON_SOURCES_MAX_RETRY_WAIT_SECS", global = true)]
    pub sources_max_retry_wait_secs: Option<u64>,
    #[arg(long, env = "LIAISON_SYNC_REFRESH_INTERVAL_HOURS", global = true)]
    pub sync_refresh_interval_hours: Option<u64>,
    #[arg(long, env = "LIAISON_DUE_SCAN_INTERVAL_SECS", global = true)]
    pub due_scan_interval_secs: Option<u64>,
    #[arg(long, env = "LIAISON_NOTIFICATION_RETENTION_DAYS", global = true)]
    pub notification_retention_days: Option<u64>,
    #[arg(long, env = "LIAISON_INVITATION_LIFETIME_DAYS", global = true)]
    pub invitation_lifetime_days: Option<u64>,
    #[arg(long, env = "LIAISON_WEBHOOK_ALLOW_PRIVATE_TARGETS", global = true)]
    pub webhook_allow_private_targets: Option<bool>,
    #[arg(long, env = "LIAISON_WEBHOOK_SENDING", global = true)]
    pub webhook_sending: Option<bool>,
    #[arg(long, env = "LIAISON_WEBHOOK_TIMEOUT_SECS", global = true)]
    pub webhook_timeout_secs: Option<u64>,
    #[arg(long, env = "LIAISON_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    #[arg(long, env = "LIAISON_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
    #[arg(long, env = "LIAISON_PUBLIC_BASE_URL", global = true)]
    pub public_base_url: Option<String>,
    /// Comma-separated seconds.
    #[arg(
        long,
        env = "LIAISON_WEBHOOK_RETRY_SCHEDULE_SECS",
        global = true,
        value_delimiter = ','
    )]
    pub webhook_retry_schedule_secs: Option<Vec<u64>>,
}

impl SettingsArgs {
    /// Defaults, then the file (if any), then these overrides; checked before use.
    pub fn resolve(&self) -> anyhow::Result<Settings> {
        let mut s = match &self.config {
            Some(path) => Settings::from_file(path)?,
            None => Settings::default(),
        };
        macro_rules! apply {
            ($($f:ident),+) => { $( if let Some(v) = &self.$f { s.$f = v.clone(); } )+ };
        }
        apply!(
            database_url,
            bind,
            index_dir,
            max_body_bytes,
            max_import_bytes,
            body_timeout_secs,
            index_commit_interval_ms,
            memory_release_interval_ms,
            db_pool_size,
            db_timeout_secs,
            db_lock_timeout_ms,
            db_statement_timeout_secs,
            db_idle_in_transaction_timeout_secs,
            readyz_timeout_ms,
            workers,
            shutdown_timeout_secs,
            log_format,
            log_level,
            jwt_issuer,
            jwt_audience,
            access_token_ttl_secs,
            refresh_token_ttl_secs,
            jwt_secret_kid,
            login_max_failures,
            login_max_failures_per_client,
            login_window_secs,
            orcid_base_url,
            openalex_base_url,
            orcid_requests_per_second,
            openalex_requests_per_second,
            sources_timeout_secs,
            sources_max_retries,
            sources_retry_base_ms,
            sources_max_retry_wait_secs,
            sync_refresh_interval_hours,
            due_scan_interval_secs,
            notification_retention_days,
            invitation_lifetime_days,
            webhook_allow_private_targets,
            webhook_sending,
            webhook_timeout_secs,
            webhook_retry_schedule_secs,
            mail_from,
            public_base_url
        );
        if let Some(url) = &self.smtp_url {
            s.smtp_url = Some(Secret(url.clone()));
        }
        if let Some(email) = &self.sources_contact_email {
            s.sources_contact_email = Some(email.clone());
        }
        if let Some(key) = &self.openalex_api_key {
            s.openalex_api_key = Some(key.clone());
        }
        if let Some(secret) = &self.jwt_secret {
            s.jwt_secret = Some(secret.clone());
        }
        if let Some(token) = &self.metrics_token {
            s.metrics_token = Some(token.clone());
        }
        s.check()?;
        Ok(s)
    }
}

impl Settings {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        Self::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("invalid config file {}: {e}", path.display()))
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        Ok(toml::from_str(text)?)
    }

    /// Rejects values that would only fail later, with a message that names the setting.
    /// The bounds on waits inside the database these settings give.
    pub fn db_timeouts(&self) -> crate::db::DbTimeouts {
        use std::time::Duration;
        crate::db::DbTimeouts {
            lock: Duration::from_millis(self.db_lock_timeout_ms),
            statement: Duration::from_secs(self.db_statement_timeout_secs),
            idle_in_transaction: Duration::from_secs(self.db_idle_in_transaction_timeout_secs),
        }
    }

    pub fn check(&self) -> anyhow::Result<()> {
        crate::db::DatabaseUrl::parse(&self.database_url)
            .map_err(|e| anyhow::anyhow!("database_url: {e}"))?;
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            anyhow::bail!(
                "bind: {:?} is not an address such as 127.0.0.1:8080",
                self.bind
            );
        }
        if self.max_body_bytes < 1024 {
            anyhow::bail!("max_body_bytes: must be at least 1024");
        }
        if self.max_import_bytes < 1024 {
            anyhow::bail!("max_import_bytes: must be at least 1024");
        }
        if !(1..=3600).contains(&self.body_timeout_secs) {
            anyhow::bail!("body_timeout_secs: must be between 1 and 3600");
        }
        if !(10..=10_000).contains(&self.index_commit_interval_ms) {
            anyhow::bail!("index_commit_interval_ms: must be between 10 and 10000");
        }
        if self.memory_release_interval_ms != 0
            && !(100..=3_600_000).contains(&self.memory_release_interval_ms)
        {
            anyhow::bail!(
                "memory_release_interval_ms: must be 0 (never) or between 100 and 3600000"
            );
        }
        if self.db_pool_size == 0 {
            anyhow::bail!("db_pool_size: must be at least 1");
        }
        if self.db_timeout_secs == 0 {
            anyhow::bail!("db_timeout_secs: must be at least 1");
        }
        if !(1..=600_000).contains(&self.db_lock_timeout_ms) {
            anyhow::bail!("db_lock_timeout_ms: must be between 1 and 600000");
        }
        if !(1..=86_400).contains(&self.db_statement_timeout_secs) {
            anyhow::bail!("db_statement_timeout_secs: must be between 1 and 86400");
        }
        if !(1..=86_400).contains(&self.db_idle_in_transaction_timeout_secs) {
            anyhow::bail!("db_idle_in_transaction_timeout_secs: must be between 1 and 86400");
        }
        if !(10..=60_000).contains(&self.readyz_timeout_ms) {
            anyhow::bail!("readyz_timeout_ms: must be between 10 and 60000");
        }
        if self.workers > 512 {
            anyhow::bail!("workers: must be at most 512");
        }
        if let Some(secret) = &self.jwt_secret
            && secret.0.len() < 32
        {
            anyhow::bail!("jwt_secret: must be at least 32 bytes");
        }
        if let Some(token) = &self.metrics_token
            && token.0.len() < 16
        {
            anyhow::bail!("metrics_token: must be at least 16 bytes");
        }
        if self.access_token_ttl_secs == 0 || self.refresh_token_ttl_secs == 0 {
            anyhow::bail!("access_token_ttl_secs / refresh_token_ttl_secs: must be positive");
        }
        for (key, url) in [
            ("orcid_base_url", &self.orcid_base_url),
            ("openalex_base_url", &self.openalex_base_url),
        ] {
            let parsed = url::Url::parse(url)
                .map_err(|e| anyhow::anyhow!("{key}: {url:?} is not a URL ({e})"))?;
            if !matches!(parsed.scheme(), "http" | "https") || url.ends_with('/') {
                anyhow::bail!("{key}: must be an http(s) URL without a trailing slash");
            }
        }
        if let Some(email) = &self.sources_contact_email
            && crate::domain::Email::optional("sources_contact_email", Some(email)).is_err()
        {
            anyhow::bail!("sources_contact_email: {email:?} is not an e-mail address");
        }
        if !(1..=100).contains(&self.orcid_requests_per_second)
            || !(1..=100).contains(&self.openalex_requests_per_second)
        {
            anyhow::bail!("orcid/openalex_requests_per_second: must be between 1 and 100");
        }
        if !(1..=600).contains(&self.sources_timeout_secs) {
            anyhow::bail!("sources_timeout_secs: must be between 1 and 600");
        }
        if self.sources_max_retries > 10 {
            anyhow::bail!("sources_max_retries: must be at most 10");
        }
        if !(1..=60_000).contains(&self.sources_retry_base_ms) {
            anyhow::bail!("sources_retry_base_ms: must be between 1 and 60000");
        }
        if !(1..=3600).contains(&self.sources_max_retry_wait_secs) {
            anyhow::bail!("sources_max_retry_wait_secs: must be between 1 and 3600");
        }
        if let Some(url) = &self.smtp_url
            && lettre::SmtpTransport::from_url(&url.0).is_err()
        {
            anyhow::bail!(
                "smtp_url: must be smtp://host[:port][?tls=required|opportunistic] or smtps://host[:port]"
            );
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            anyhow::bail!("mail_from: must be an address, e.g. Liaison <liaison@example.edu>");
        }
        if url::Url::parse(&self.public_base_url).is_err() {
            anyhow::bail!("public_base_url: must be an absolute URL");
        }
        if !(1..=300).contains(&self.webhook_timeout_secs) {
            anyhow::bail!("webhook_timeout_secs: must be between 1 and 300");
        }
        if self.webhook_retry_schedule_secs.len() > 50
            || self
                .webhook_retry_schedule_secs
                .iter()
                .any(|s| *s > 7 * 86_400)
        {
            anyhow::bail!("webhook_retry_schedule_secs: at most 50 waits of at most a week each");
        }
        if !(1..=86_400).contains(&self.due_scan_interval_secs) {
            anyhow::bail!("due_scan_interval_secs: must be between 1 and 86400 (a day)");
        }
        if self.notification_retention_days > 100 * 365 {
            anyhow::bail!("notification_retention_days: must be at most 36500 (0 keeps forever)");
        }
        if !(1..=365).contains(&self.invitation_lifetime_days) {
            anyhow::bail!("invitation_lifetime_days: must be between 1 and 365");
        }
        if self.sync_refresh_interval_hours > 24 * 365 {
            anyhow::bail!("sync_refresh_interval_hours: must be at most 8760 (a year)");
        }
        tracing_subscriber::EnvFilter::try_new(&self.log_level)
            .map_err(|e| anyhow::anyhow!("log_level: {e}"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_overrides_defaults_and_rejects_unknown_keys() -> anyhow::Result<()> {
        let s = Settings::from_toml("bind = \"0.0.0.0:9000\"\nmax_body_bytes = 4096\n")?;
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.max_body_bytes, 4096);
        assert_eq!(s.database_url, Settings::default().database_url);
        let Err(err) = Settings::from_toml("bnid = \"0.0.0.0:9000\"\n") else {
            panic!("an unknown key must be refused")
        };
        assert!(err.to_string().contains("unknown field"), "{err}");
        Ok(())
    }

    #[test]
    fn flags_override_file() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("liaison.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9000\"\nlog_format = \"json\"\n")?;
        let args = SettingsArgs {
            config: Some(path),
            bind: Some("127.0.0.1:9100".into()),
            ..Default::default()
        };
        let s = args.resolve()?;
        assert_eq!(s.bind, "127.0.0.1:9100");
        assert_eq!(s.log_format, LogFormat::Json);
        Ok(())
    }

    #[test]
    fn bad_values_are_refused_with_the_setting_named() -> anyhow::Result<()> {
        for (toml, key) in [
            ("bind = \"nowhere\"", "bind"),
            ("database_url = \"mysql://x\"", "database_url"),
            ("database_url = \":memory:\"", "database_url"),
            ("max_body_bytes = 10", "max_body_bytes"),
            ("body_timeout_secs = 0", "body_timeout_secs"),
            ("readyz_timeout_ms = 0", "readyz_timeout_ms"),
            ("db_lock_timeout_ms = 0", "db_lock_timeout_ms"),
            ("db_statement_timeout_secs = 0", "db_statement_timeout_secs"),
            (
                "db_idle_in_transaction_timeout_secs = 0",
                "db_idle_in_transaction_timeout_secs",
            ),
            ("metrics_token = \"short\"", "metrics_token"),
            ("invitation_lifetime_days = 0", "invitation_lifetime_days"),
            ("invitation_lifetime_days = 366", "invitation_lifetime_days"),
        ] {
            let Err(err) = Settings::from_toml(toml)?.check() else {
                panic!("{toml} must be refused")
            };
            assert!(err.to_string().starts_with(key), "{toml}: {err}");
        }
        Ok(())
    }
}
