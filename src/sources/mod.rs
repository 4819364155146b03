//! Outside sources of researcher profiles: the ORCID public API and OpenAlex. One [`Client`]
//! per source, with its base URL, timeouts, a rate limit, and retries with backoff; what each
//! source answers is read into one shape, [`SourceProfile`], which the sync service merges
//! into a stored profile.
//!
//! The client blocks: syncs run on blocking threads (a request's `spawn_blocking`, or the
//! sync runner's thread), never on an HTTP worker.

pub mod openalex;
pub mod orcid;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::domain::stored::SyncSource;

/// How a client talks to its source.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// Without a trailing slash, e.g. `https://pub.orcid.org/v3.0`.
    pub base_url: String,
    /// `liaison/<version> (mailto:<contact>)`: sources ask to be able to reach whoever runs
    /// a client.
    pub user_agent: String,
    /// Whole-request bound (connect, send, receive).
    pub timeout: Duration,
    /// Retries after the first attempt, on 429, 5xx, timeouts and connection failures.
    pub max_retries: u32,
    /// The first backoff; each retry waits twice the one before (plus jitter).
    pub retry_base: Duration,
    /// The longest single wait: a `Retry-After` beyond it is not waited for.
    pub max_retry_wait: Duration,
    /// At most this many requests per second to the source.
    pub requests_per_second: u32,
}

/// Why a source gave no usable answer for one profile. Reported per profile and per source;
/// never fails the rest of a bulk sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SourceError {
    pub code: SourceErrorCode,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceErrorCode {
    /// The source has no record under this identifier.
    UnknownId,
    /// The record exists but shows nothing publicly.
    PrivateRecord,
    /// The record was deactivated or locked by the source.
    Deactivated,
    /// The source kept answering 429 (Too Many Requests).
    RateLimited,
    /// The source answered 5xx, or could not be reached, on every attempt.
    SourceUnavailable,
    /// The source did not answer in time on any attempt.
    Timeout,
    /// The answer was not in the source's published format.
    MalformedResponse,
    /// The source refused the request (another 4xx).
    Refused,
}

impl SourceError {
    /// The detail may quote the source: control characters become spaces and it is cut to
    /// 500 characters, so that it can be stored and shown.
    pub fn new(code: SourceErrorCode, detail: impl Into<String>) -> Self {
        let detail: String = detail
            .into()
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(500)
            .collect();
        Self { code, detail }
    }

    pub fn code_str(&self) -> &'static str {
        match self.code {
            SourceErrorCode::UnknownId => "unknown_id",
            SourceErrorCode::PrivateRecord => "private_record",
            SourceErrorCode::Deactivated => "deactivated",
            SourceErrorCode::RateLimited => "rate_limited",
            SourceErrorCode::SourceUnavailable => "source_unavailable",
            SourceErrorCode::Timeout => "timeout",
            SourceErrorCode::MalformedResponse => "malformed_response",
            SourceErrorCode::Refused => "refused",
        }
    }
}

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code_str(), self.detail)
    }
}

/// A researcher as one source describes them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceProfile {
    pub name: Option<String>,
    /// A name in Korean or Chinese script, when the source gives one.
    pub local_name: Option<String>,
    pub bio: Option<String>,
    pub keywords: Vec<String>,
    pub department: Option<String>,
    /// The role at the current employer (e.g. `Professor`).
    pub title: Option<String>,
    /// The current employer's name.
    pub affiliation: Option<String>,
    pub orcid: Option<String>,
    pub openalex_id: Option<String>,
    pub works: Vec<SourceWork>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SourceWork {
    /// The source's id of the work (ORCID put-code, OpenAlex `W…`).
    pub source_id: String,
    pub title: String,
    pub abstract_: Option<String>,
    pub year: Option<i32>,
    pub venue: Option<String>,
    /// Bare, e.g. `10.1145/3620665.3640366`.
    pub doi: Option<String>,
}

/// Single-profile syncs asked for through the API at once; more get 429 (each holds a
/// blocking thread while it waits on the sources, which database work shares).
pub const CONCURRENT_SYNCS: usize = 4;

/// The clients of every source, made once per process from the settings.
pub struct Sources {
    pub orcid: Client,
    pub openalex: Client,
    pub polite: openalex::Polite,
    /// Permits for single-profile syncs ([`CONCURRENT_SYNCS`]).
    pub syncs: std::sync::Arc<tokio::sync::Semaphore>,
}

impl Sources {
    pub fn from_settings(s: &crate::config::Settings) -> Self {
        let user_agent = match &s.sources_contact_email {
            Some(email) => format!("liaison/{} (mailto:{email})", env!("CARGO_PKG_VERSION")),
            None => format!("liaison/{}", env!("CARGO_PKG_VERSION")),
        };
        let client = |base_url: &str, rate: u32| {
            Client::new(ClientSettings {
                base_url: base_url.to_owned(),
                user_agent: user_agent.clone(),
                timeout: Duration::from_secs(s.sources_timeout_secs),
                max_retries: s.sources_max_retries,
                retry_base: Duration::from_millis(s.sources_retry_base_ms),
                max_retry_wait: Duration::from_secs(s.sources_max_retry_wait_secs),
                requests_per_second: rate,
            })
        };
        Self {
            orcid: client(&s.orcid_base_url, s.orcid_requests_per_second),
            openalex: client(&s.openalex_base_url, s.openalex_requests_per_second),
            polite: openalex::Polite {
                mailto: s.sources_contact_email.clone(),
                api_key: s.openalex_api_key.as_ref().map(|k| k.0.clone()),
            },
            syncs: std::sync::Arc::new(tokio::sync::Semaphore::new(CONCURRENT_SYNCS)),
        }
    }
}

/// An answer other than 200 that the source module interprets (404, 409, ...).
#[derive(Debug)]
pub enum Fetch {
    Json(serde_json::Value),
    Status(u16, String),
}

/// The largest answer read: an ORCID record with thousands of works is a few megabytes.
const MAX_BODY: u64 = 64 * 1024 * 1024;

pub struct Client {
    agent: ureq::Agent,
    settings: ClientSettings,
    /// When the next request may start (the rate limit).
    next_slot: Mutex<Instant>,
}

impl Client {
    pub fn new(settings: ClientSettings) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(settings.timeout))
            .user_agent(settings.user_agent.as_str())
            .accept("application/json")
            .max_redirects(3)
            .build()
            .into();
        Self {
            agent,
            settings,
            next_slot: Mutex::new(Instant::now()),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.settings.base_url
    }

    /// Waits for the rate limit's next slot.
    fn pace(&self) {
        let rate = self.settings.requests_per_second.max(1);
        let interval = Duration::from_secs(1) / rate;
        let slot = {
            let mut next = self
                .next_slot
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + interval;
            slot
        };
        let now = Instant::now();
        if slot > now {
            std::thread::sleep(slot - now);
        }
    }

    /// The backoff before retry `attempt` (0-based): doubling from `retry_base`, with up to
    /// half again of jitter so that many profiles failing together do not retry together.
    fn backoff(&self, attempt: u32) -> Duration {
        let base = self
            .settings
            .retry_base
            .saturating_mul(1u32 << attempt.min(16));
        let mut byte = [0u8; 1];
        let jitter = if getrandom::fill(&mut byte).is_ok() {
            base.mul_f64(f64::from(byte[0]) / 510.0)
        } else {
            Duration::ZERO
        };
        (base + jitter).min(self.settings.max_retry_wait)
    }

    /// GETs `path` (with its query) under the base URL: JSON on 200, the status and body on
    /// another 4xx; retries 429 (after its `Retry-After`), 5xx, timeouts and connection
    /// failures, then gives up with a [`SourceError`].
    pub fn get(&self, path: &str, source: &str) -> Result<Fetch, SourceError> {
        let url = format!("{}{}", self.settings.base_url, path);
        let mut last = SourceError::new(SourceErrorCode::SourceUnavailable, "no attempt made");
        for attempt in 0..=self.settings.max_retries {
            self.pace();
            let wait = match self.agent.get(&url).call() {
                Ok(mut response) => {
                    let status = response.status().as_u16();
                    if status == 200 {
                        let body = response
                            .body_mut()
                            .with_config()
                            .limit(MAX_BODY)
                            .read_to_vec();
                        match body {
                            Ok(bytes) => {
                                return serde_json::from_slice(&bytes).map(Fetch::Json).map_err(
                                    |e| {
                                        SourceError::new(
                                            SourceErrorCode::MalformedResponse,
                                            format!("{source} answered with invalid JSON: {e}"),
                                        )
                                    },
                                );
                            }
                            Err(ureq::Error::Timeout(_)) => {
                                last = SourceError::new(
                                    SourceErrorCode::Timeout,
                                    format!("{source} did not send its answer in time"),
                                );
                                Some(self.backoff(attempt))
                            }
                            Err(e) => {
                                return Err(SourceError::new(
                                    SourceErrorCode::MalformedResponse,
                                    format!("{source}'s answer could not be read: {e}"),
                                ));
                            }
                        }
                    } else if status == 429 {
                        let retry_after = response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok())
                            .and_then(parse_retry_after);
                        last = SourceError::new(
                            SourceErrorCode::RateLimited,
                            format!("{source} answered 429 Too Many Requests"),
                        );
                        match retry_after {
                            Some(d) if d > self.settings.max_retry_wait => {
                                last.detail = format!(
                                    "{source} answered 429 and asked to wait {} s, longer than \
                                     the configured limit",
                                    d.as_secs()
                                );
                                return Err(last);
                            }
                            Some(d) => Some(d),
                            None => Some(self.backoff(attempt)),
                        }
                    } else if status >= 500 {
                        last = SourceError::new(
                            SourceErrorCode::SourceUnavailable,
                            format!("{source} answered {status}"),
                        );
                        Some(self.backoff(attempt))
                    } else {
                        let body = response
                            .body_mut()
                            .with_config()
                            .limit(64 * 1024)
                            .read_to_string()
                            .unwrap_or_default();
                        return Ok(Fetch::Status(status, body));
                    }
                }
                Err(ureq::Error::Timeout(_)) => {
                    last = SourceError::new(
                        SourceErrorCode::Timeout,
                        format!(
                            "{source} did not answer within {} s",
                            self.settings.timeout.as_secs_f32()
                        ),
                    );
                    Some(self.backoff(attempt))
                }
                Err(e) => {
                    last = SourceError::new(
                        SourceErrorCode::SourceUnavailable,
                        format!("{source} could not be reached: {e}"),
                    );
                    Some(self.backoff(attempt))
                }
            };
            if attempt < self.settings.max_retries
                && let Some(wait) = wait
            {
                // The path only: the query may carry an API key.
                let path = path.split('?').next().unwrap_or_default();
                tracing::debug!(source, path, attempt, ?wait, error = %last, "retrying");
                std::thread::sleep(wait);
            }
        }
        Err(last)
    }
}

/// `Retry-After` as seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let secs = (at.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_seconds();
    Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// Text from a JSON string value, trimmed; `None` when absent, not a string or empty.
pub(crate) fn text(v: Option<&serde_json::Value>) -> Option<String> {
    v.and_then(serde_json::Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Whether a name is written in Korean or Chinese (or Japanese) script.
pub(crate) fn is_local_script(s: &str) -> bool {
    s.chars().any(crate::search::analyzer::is_cjk)
}

/// A DOI in its bare form, lower-cased prefix stripped (`https://doi.org/…`, `doi:…`).
pub(crate) fn bare_doi(d: &str) -> Option<String> {
    let d = d.trim();
    let lower = d.to_ascii_lowercase();
    let cut = [
        "https://doi.org/",
        "http://doi.org/",
        "https://dx.doi.org/",
        "doi:",
    ]
    .iter()
    .find(|p| lower.starts_with(*p))
    .map_or(0, |p| p.len());
    let d = &d[cut..];
    (d.starts_with("10.")
        && d.contains('/')
        && d.len() <= 255
        && !d.contains(|c: char| c.is_whitespace() || c.is_control()))
    .then(|| d.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn dois_are_bare() {
        assert_eq!(
            bare_doi("https://doi.org/10.7717/peerj.4375").as_deref(),
            Some("10.7717/peerj.4375")
        );
        assert_eq!(bare_doi("doi:10.1/x").as_deref(), Some("10.1/x"));
        assert_eq!(bare_doi("not a doi"), None);
    }
}
