//! Credentials: password hashing (argon2id), access tokens (JWT with key rotation), refresh
//! token secrets, and login throttling. Nothing here logs a password, token, hash or key.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::{JwtAlgorithm, JwtKeyConfig, Secret, Settings};
use crate::db::{Backend, DatabaseUrl};
use crate::error::{AppError, AppResult, ErrorCode, FieldCode};

/// argon2id with the OWASP-recommended minimum: 19 MiB of memory, 2 iterations, 1 lane.
pub struct Passwords {
    argon: Argon2<'static>,
    /// A hash of a random password, verified against when the email is unknown so that
    /// unknown accounts take as long as wrong passwords.
    dummy_hash: String,
}

impl Passwords {
    pub fn new() -> anyhow::Result<Self> {
        let params = Params::new(19 * 1024, 2, 1, None)
            .map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = random_token(24).map_err(|e| anyhow::anyhow!(e.describe()))?;
        let dummy_hash = argon
            .hash_password(dummy.as_bytes())
            .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
            .to_string();
        Ok(Self { argon, dummy_hash })
    }

    pub fn hash(&self, password: &str) -> AppResult<String> {
        self.argon
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(AppError::internal)
    }

    /// Checks a password against a stored hash, or against the dummy hash when there is no
    /// account (always false then, at the same cost).
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let ok = self
            .argon
            .verify_password(password.as_bytes(), stored.unwrap_or(&self.dummy_hash))
            .is_ok();
        ok && stored.is_some()
    }
}

/// The rules for new passwords (OWASP ASVS: length over composition rules).
pub fn check_new_password(field: &str, password: &str) -> Result<(), crate::error::FieldError> {
    let n = password.chars().count();
    if n < 12 {
        return Err(crate::error::FieldError::new(
            field,
            FieldCode::TooShort,
            "must be at least 12 characters",
        ));
    }
    if n > 256 {
        return Err(crate::error::FieldError::new(
            field,
            FieldCode::TooLong,
            "must be at most 256 characters",
        ));
    }
    Ok(())
}

/// `bytes` random bytes as base64url text. If the operating system's random source fails, no
/// token is made (never a predictable one): the request fails with a 503.
pub fn random_token(bytes: usize) -> AppResult<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| {
        AppError::unavailable(format!("the operating system's random source failed: {e}"))
    })?;
    Ok(URL_SAFE_NO_PAD.encode(buf))
}

/// What is stored for a refresh token: its SHA-256, never the token itself.
pub fn token_digest(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// Claims of an access token; every one is checked on every request.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub nbf: u64,
    pub jti: String,
}

struct VerifyingKey {
    algorithm: jsonwebtoken::Algorithm,
    key: DecodingKey,
}

/// Signing and verification keys, selected by the `kid` header.
pub struct Keys {
    signing_kid: String,
    signing_algorithm: jsonwebtoken::Algorithm,
    signing: EncodingKey,
    verifying: HashMap<String, VerifyingKey>,
    issuer: String,
    audience: String,
    access_ttl: u64,
}

impl Keys {
    /// Builds the key set from configuration. With none configured, the embedded (SQLite)
    /// default generates an HS256 secret once and keeps it beside the database; PostgreSQL
    /// deployments must configure a key, since replicas must share it.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let mut verifying = HashMap::new();
        let mut signing: Option<(String, jsonwebtoken::Algorithm, EncodingKey)> = None;
        if let Some(secret) = &settings.jwt_secret {
            let kid = settings.jwt_secret_kid.clone();
            verifying.insert(kid.clone(), hs256_verifying(secret));
            signing = Some((
                kid,
                jsonwebtoken::Algorithm::HS256,
                EncodingKey::from_secret(secret.0.as_bytes()),
            ));
        }
        for key in &settings.jwt_keys {
            let (verify, sign) = load_key(key)?;
            if verifying.insert(key.kid.clone(), verify).is_some() {
                anyhow::bail!("jwt_keys: kid {:?} is listed twice", key.kid);
            }
            if signing.is_none() && !key.retired {
                let Some(sign) = sign else {
                    anyhow::bail!(
                        "jwt_keys: {:?} would sign but has no private_key_file",
                        key.kid
                    );
                };
                signing = Some((key.kid.clone(), algorithm(key.algorithm), sign));
            }
        }
        if signing.is_none() {
            let url = DatabaseUrl::parse(&settings.database_url)?;
            if url.backend == Backend::Postgres {
                anyhow::bail!(
                    "no token signing key is configured: set LIAISON_JWT_SECRET (32+ bytes) or \
                     jwt_keys in the config file; on PostgreSQL a generated key is not allowed"
                );
            }
            let secret = local_secret(Path::new(&url.target))?;
            let kid = "local".to_owned();
            verifying.insert(kid.clone(), hs256_verifying(&secret));
            signing = Some((
                kid,
                jsonwebtoken::Algorithm::HS256,
                EncodingKey::from_secret(secret.0.as_bytes()),
            ));
        }
        let (signing_kid, signing_algorithm, signing) =
            signing.ok_or_else(|| anyhow::anyhow!("no signing key"))?;
        Ok(Self {
            signing_kid,
            signing_algorithm,
            signing,
            verifying,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            access_ttl: settings.access_token_ttl_secs,
        })
    }

    pub fn access_ttl(&self) -> u64 {
        self.access_ttl
    }

    /// Signs an access token for a user.
    pub fn issue(&self, user_id: &str) -> AppResult<String> {
        let now = unix_now();
        let claims = Claims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: user_id.to_owned(),
            exp: now + self.access_ttl,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        let mut header = Header::new(self.signing_algorithm);
        header.kid = Some(self.signing_kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.signing).map_err(AppError::internal)
    }

    /// Verifies a token: known `kid`, that key's algorithm only (so `none` and algorithm
    /// confusion fail), valid signature, and `iss`, `aud`, `exp`, `nbf`, `iat`, `sub` present
    /// and correct.
    pub fn verify(&self, token: &str) -> AppResult<Claims> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| AppError::unauthenticated(format!("token header: {e}")))?;
        let kid = header
            .kid
            .ok_or_else(|| AppError::unauthenticated("token without kid"))?;
        let key = self
            .verifying
            .get(&kid)
            .ok_or_else(|| AppError::unauthenticated("token with an unknown kid"))?;
        if header.alg != key.algorithm {
            return Err(AppError::unauthenticated(
                "token algorithm does not match its key",
            ));
        }
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 30;
        jsonwebtoken::decode::<Claims>(token, &key.key, &validation)
            .map(|d| d.claims)
            .map_err(|e| AppError::unauthenticated(format!("token rejected: {e}")))
    }
}

fn algorithm(a: JwtAlgorithm) -> jsonwebtoken::Algorithm {
    match a {
        JwtAlgorithm::HS256 => jsonwebtoken::Algorithm::HS256,
        JwtAlgorithm::EdDSA => jsonwebtoken::Algorithm::EdDSA,
        JwtAlgorithm::RS256 => jsonwebtoken::Algorithm::RS256,
    }
}

fn hs256_verifying(secret: &Secret) -> VerifyingKey {
    VerifyingKey {
        algorithm: jsonwebtoken::Algorithm::HS256,
        key: DecodingKey::from_secret(secret.0.as_bytes()),
    }
}

fn read_pem(path: &Path, kid: &str) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("jwt_keys {kid:?}: cannot read {}: {e}", path.display()))
}

fn load_key(cfg: &JwtKeyConfig) -> anyhow::Result<(VerifyingKey, Option<EncodingKey>)> {
    let kid = cfg.kid.as_str();
    let bad = |e: jsonwebtoken::errors::Error| anyhow::anyhow!("jwt_keys {kid:?}: {e}");
    match cfg.algorithm {
        JwtAlgorithm::HS256 => {
            let secret = cfg
                .secret
                .as_ref()
                .filter(|s| s.0.len() >= 32)
                .ok_or_else(|| {
                    anyhow::anyhow!("jwt_keys {kid:?}: HS256 needs a secret of 32+ bytes")
                })?;
            Ok((
                hs256_verifying(secret),
                Some(EncodingKey::from_secret(secret.0.as_bytes())),
            ))
        }
        JwtAlgorithm::EdDSA | JwtAlgorithm::RS256 => {
            let public = cfg
                .public_key_file
                .as_deref()
                .ok_or_else(|| anyhow::anyhow!("jwt_keys {kid:?}: public_key_file is required"))?;
            let public = read_pem(public, kid)?;
            let private = cfg
                .private_key_file
                .as_deref()
                .map(|p| read_pem(p, kid))
                .transpose()?;
            let (verify, sign) = if cfg.algorithm == JwtAlgorithm::EdDSA {
                (
                    DecodingKey::from_ed_pem(&public).map_err(bad)?,
                    private
                        .map(|p| EncodingKey::from_ed_pem(&p).map_err(bad))
                        .transpose()?,
                )
            } else {
                (
                    DecodingKey::from_rsa_pem(&public).map_err(bad)?,
                    private
                        .map(|p| EncodingKey::from_rsa_pem(&p).map_err(bad))
                        .transpose()?,
                )
            };
            Ok((
                VerifyingKey {
                    algorithm: algorithm(cfg.algorithm),
                    key: verify,
                },
                sign,
            ))
        }
    }
}

/// The embedded default's generated secret, kept in `jwt-secret` beside the SQLite file
/// (readable by the owner only), so tokens survive a restart.
fn local_secret(db_path: &Path) -> anyhow::Result<Secret> {
    let dir = db_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let path = dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= 32 {
            return Ok(Secret(existing));
        }
    }
    std::fs::create_dir_all(dir)?;
    let secret = random_token(48).map_err(|e| anyhow::anyhow!(e.describe()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    use std::io::Write as _;
    let mut file = options
        .open(&path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    file.sync_all()?;
    tracing::info!(path = %path.display(), "generated a token signing key for the embedded database");
    Ok(Secret(secret))
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One password check to throttle: whose password is guessed at (an account) and from where
/// (the client address).
pub struct Attempt {
    pair: String,
    client: String,
}

impl Attempt {
    /// `subject` names the account (`account:<email>` for logins, `user:<id>` for password
    /// changes); `client` is the client address.
    pub fn new(subject: &str, client: &str) -> Self {
        Self {
            pair: format!("{subject} from {client}"),
            client: format!("client:{client}"),
        }
    }
}

/// Failed password checks in a sliding window, per account and client address together and
/// per client address alone.
///
/// Failures are never counted per account alone: that would let anyone lock any account (the
/// operator's too) by failing a few times, after which the owner's right password from
/// another address would be refused as well. Instead, one address guessing at one account gets
/// `free` tries, then waits 1 s before the next, then 2, 4, ... up to the window; and one
/// address failing on any accounts `per_client` times waits until the window has passed.
/// An owner elsewhere is never held up by a stranger's failures. Guessing from many
/// addresses is slowed per address and by the argon2 cost of every check; passwords are at
/// least 12 characters.
///
/// Kept in memory: one process's view, which is what a single-node deployment needs;
/// replicas each throttle on their own (documented).
pub struct Throttle {
    free: usize,
    per_client: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Throttle {
    pub fn new(free: u32, per_client: u32, window: Duration) -> Self {
        let count = |n: u32| usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        Self {
            free: count(free),
            per_client: count(per_client),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(429)` with the seconds to wait if this attempt must wait.
    pub fn check(&self, attempt: &Attempt) -> AppResult<()> {
        let wait = self.wait_at(attempt, Instant::now());
        if wait.is_zero() {
            return Ok(());
        }
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        Err(AppError::new(
            ErrorCode::TooManyRequests,
            format!("Too many failed password checks; try again in {secs} seconds"),
        )
        .with_header("retry-after", secs.to_string()))
    }

    /// How long this attempt must wait at `now`.
    fn wait_at(&self, attempt: &Attempt, now: Instant) -> Duration {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let mut recent = |key: &str| -> Option<VecDeque<Instant>> {
            let q = map.get_mut(key)?;
            while q
                .front()
                .is_some_and(|t| now.duration_since(*t) >= self.window)
            {
                q.pop_front();
            }
            Some(q.clone())
        };
        let mut wait = Duration::ZERO;
        if let Some(q) = recent(&attempt.pair)
            && q.len() >= self.free
            && let Some(last) = q.back()
        {
            let doublings = u32::try_from(q.len() - self.free)
                .unwrap_or(u32::MAX)
                .min(30);
            let delay = Duration::from_secs(1u64 << doublings).min(self.window);
            wait = delay.saturating_sub(now.duration_since(*last));
        }
        if let Some(q) = recent(&attempt.client)
            && q.len() >= self.per_client
            && let Some(oldest) = q.front()
        {
            wait = wait.max(self.window.saturating_sub(now.duration_since(*oldest)));
        }
        wait
    }

    pub fn record_failure(&self, attempt: &Attempt) {
        self.record_failure_at(attempt, Instant::now());
    }

    fn record_failure_at(&self, attempt: &Attempt, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        for key in [&attempt.pair, &attempt.client] {
            map.entry(key.clone()).or_default().push_back(now);
        }
        // Bound memory: forget keys whose failures have all left the window.
        if map.len() > 100_000 {
            map.retain(|_, q| {
                q.back()
                    .is_some_and(|t| now.duration_since(*t) < self.window)
            });
        }
    }

    /// The right password: this address's failures on this account are forgotten (those
    /// counted against the address stay).
    pub fn succeeded(&self, attempt: &Attempt) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&attempt.pair);
    }
}

/// Everything authentication needs, built once at start.
pub struct Auth {
    pub keys: Keys,
    pub passwords: Passwords,
    pub throttle: Throttle,
    pub refresh_ttl: u64,
}

impl Auth {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Ok(Self {
            keys: Keys::from_settings(settings)?,
            passwords: Passwords::new()?,
            throttle: Throttle::new(
                settings.login_max_failures,
                settings.login_max_failures_per_client,
                Duration::from_secs(settings.login_window_secs),
            ),
            refresh_ttl: settings.refresh_token_ttl_secs,
        })
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;

    #[test]
    fn delays_grow_per_account_and_address_and_an_address_has_a_cap() {
        let t = Throttle::new(3, 10, Duration::from_secs(900));
        let start = Instant::now();
        let at = |s: u64| start + Duration::from_secs(s);
        let stranger = Attempt::new("account:ops@x", "203.0.113.9");
        let owner = Attempt::new("account:ops@x", "198.51.100.7");
        for _ in 0..3 {
            assert_eq!(t.wait_at(&stranger, at(0)), Duration::ZERO);
            t.record_failure_at(&stranger, at(0));
        }
        // Then 1 s, 2 s, 4 s, ... after the last failure.
        let mut now = 0;
        for delay in [1, 2, 4, 8, 16] {
            assert_eq!(t.wait_at(&stranger, at(now)), Duration::from_secs(delay));
            now += delay;
            assert_eq!(t.wait_at(&stranger, at(now)), Duration::ZERO);
            t.record_failure_at(&stranger, at(now));
        }
        // The owner, from elsewhere, is not held up at all.
        assert_eq!(t.wait_at(&owner, at(now)), Duration::ZERO);
        // The stranger's address reached its cap (8 of 10): two more failures on other
        // accounts and it waits until its oldest failure leaves the window.
        for i in 0..2 {
            t.record_failure_at(
                &Attempt::new(&format!("account:{i}@x"), "203.0.113.9"),
                at(now),
            );
        }
        let other = Attempt::new("account:new@x", "203.0.113.9");
        assert_eq!(t.wait_at(&other, at(now)), Duration::from_secs(900 - now));
        assert_eq!(t.wait_at(&other, at(900)), Duration::ZERO);
        // Success forgets the pair's failures.
        t.succeeded(&stranger);
        assert_eq!(t.wait_at(&stranger, at(900)), Duration::ZERO);
    }
}
