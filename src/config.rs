//! Settings: defaults, then an optional file, then `ELICENCE_*` environment variables.
//!
//! Secrets are held in [`SecretString`] so that `Debug` output and logs never show them.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// Everything the service needs to start, typed and complete.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `host:port` to listen on; port 0 picks a free port (tests).
    pub listen: String,
    /// `sqlite://…` or `postgres://…`; the scheme chooses the storage backend.
    pub database_url: String,
    /// Where generated data lives (the SQLite file, the generated admin token).
    pub data_dir: PathBuf,
    /// Where the registry's signing keys live.
    pub keys_dir: PathBuf,
    /// The operator's bearer token; generated into `data_dir` when absent.
    pub admin_token: Option<SecretString>,
    /// Base URL used in QR codes and as the did:web host.
    pub public_url: String,
    /// `text` or `json`.
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Largest submission envelope accepted (`POST /v1/submissions`), in bytes.
    pub submission_limit: usize,
    /// Directory of seed licence types (`ELICENCE_SEED_DIR`); when absent, the types embedded in
    /// the binary (built from `schemas/licence-types`) are seeded.
    pub seed_dir: Option<PathBuf>,
    /// Whether to seed the directory at start-up.
    pub seed: bool,
    /// Seconds from a trust bundle's `issuedAt` to its `nextUpdate`.
    pub trust_bundle_interval: u64,
    /// Whether anyone may have `POST /credentials/issue` sign (`ELICENCE_VCAPI_ISSUE_OPEN`,
    /// default `false`). Closed, only the operator token and [`Self::vcapi_client_token`] may;
    /// open it only on a test registry, never on a production one.
    pub vcapi_issue_open: bool,
    /// The bearer token of the VC-API interoperability client, e.g. the W3C test suite
    /// (`ELICENCE_VCAPI_CLIENT_TOKEN`, at least 16 characters; default none). Only its SHA-256
    /// is kept; it is never logged.
    pub vcapi_client_token: Option<SecretString>,
    /// Credentials per second each client address may have `POST /credentials/issue` sign
    /// (`ELICENCE_VCAPI_ISSUE_RATE`, default 5; `0` for no limit).
    pub vcapi_issue_rate: u32,
    /// How many of them at once before the rate applies (`ELICENCE_VCAPI_ISSUE_BURST`,
    /// default 50).
    pub vcapi_issue_burst: u32,
    /// How many days before receipt a licence or envelope may have been signed (its proof's
    /// `created`), for issuers who sign a batch and submit it later
    /// (`ELICENCE_SIGNATURE_MAX_AGE_DAYS`, default 7). Authorisation is judged at `created`,
    /// so this bounds how far back an issuer can claim to have signed.
    pub signature_max_age_days: u32,
    /// How many submissions may be parsed and checked at once before their envelope's proof has
    /// verified (`ELICENCE_SUBMISSION_AUTH_SLOTS`, default 64), and how many bytes of their
    /// bodies together (`ELICENCE_SUBMISSION_AUTH_BYTES`, default 32 MiB); past either, 503
    /// `intake_busy` with `Retry-After` (see `submissions::gate`).
    pub submission_auth_slots: usize,
    pub submission_auth_bytes: usize,
    /// The province's identity provider, for holders to sign in with OpenID Connect
    /// (`ELICENCE_OIDC_ISSUER`, e.g. `https://id.example.gov.cn`; default none). Its discovery
    /// document is read at `<issuer>/.well-known/openid-configuration` on first use. When set,
    /// the holder page's token sign-in is off; unset, the page offers only that development
    /// sign-in. See `docs/oidc.md`.
    pub oidc_issuer: Option<String>,
    /// This registry's client id at the provider (`ELICENCE_OIDC_CLIENT_ID`).
    pub oidc_client_id: Option<String>,
    /// Its client secret (`ELICENCE_OIDC_CLIENT_SECRET`); never logged.
    pub oidc_client_secret: Option<SecretString>,
    /// The ID token claim that carries the holder's identifier: an 18-character resident ID or
    /// USCC, or a `urn:cn:rid:…` / `urn:cn:uscc:…` holder id (`ELICENCE_OIDC_HOLDER_CLAIM`,
    /// default `resident_id`).
    pub oidc_holder_claim: String,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("invalid public URL {0:?}: expected http(s)://host[:port]")]
    PublicUrl(String),
    #[error("OpenID Connect needs ELICENCE_OIDC_ISSUER, ELICENCE_OIDC_CLIENT_ID and ELICENCE_OIDC_CLIENT_SECRET together")]
    Oidc,
}

impl Settings {
    /// Loads defaults, then `file` (or `elicence.toml` when present), then the environment.
    pub fn load(file: Option<PathBuf>) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder()
            .set_default("listen", "127.0.0.1:8080")?
            .set_default("database_url", "sqlite://data/registry.db")?
            .set_default("data_dir", "data")?
            .set_default("keys_dir", "keys")?
            .set_default("public_url", "http://127.0.0.1:8080")?
            .set_default("log_format", "text")?
            .set_default("body_limit", 1024 * 1024)?
            .set_default("submission_limit", 8 * 1024 * 1024)?
            .set_default("seed", true)?
            .set_default("trust_bundle_interval", 24 * 60 * 60)?
            .set_default("vcapi_issue_open", false)?
            .set_default("vcapi_issue_rate", 5)?
            .set_default("vcapi_issue_burst", 50)?
            .set_default(
                "signature_max_age_days",
                crate::domain::submission::DEFAULT_MAX_AGE_DAYS,
            )?
            .set_default("oidc_holder_claim", crate::oidc::DEFAULT_HOLDER_CLAIM)?
            .set_default(
                "submission_auth_slots",
                u64::try_from(crate::submissions::gate::DEFAULT_SLOTS).unwrap_or(64),
            )?
            .set_default(
                "submission_auth_bytes",
                u64::try_from(crate::submissions::gate::DEFAULT_BYTES).unwrap_or(1 << 25),
            )?;
        match file {
            Some(path) => builder = builder.add_source(config::File::from(path).required(true)),
            None => {
                builder = builder.add_source(config::File::with_name("elicence").required(false))
            }
        }
        let settings: Settings = builder
            .add_source(config::Environment::with_prefix("ELICENCE").try_parsing(true))
            .build()?
            .try_deserialize()?;
        settings.validate()
    }

    fn validate(self) -> Result<Self, SettingsError> {
        if self.did_web_host().is_none() {
            return Err(SettingsError::PublicUrl(self.public_url));
        }
        let oidc = [
            self.oidc_issuer.is_some(),
            self.oidc_client_id.is_some(),
            self.oidc_client_secret.is_some(),
        ];
        if oidc.contains(&true) && oidc.contains(&false) {
            return Err(SettingsError::Oidc);
        }
        Ok(self)
    }

    /// The host part of the public URL, encoded for did:web (`host%3Aport`).
    pub fn did_web_host(&self) -> Option<String> {
        did_web_host(&self.public_url)
    }

    /// The public URL's authority (`host[:port]`), as given.
    pub fn public_authority(&self) -> &str {
        let rest = self
            .public_url
            .split_once("://")
            .map_or(self.public_url.as_str(), |(_, rest)| rest);
        rest.split('/').next().unwrap_or(rest)
    }

    /// The transparency log's origin and checkpoint key name: `<authority>/log`.
    pub fn log_origin(&self) -> String {
        format!("{}/log", self.public_authority())
    }

    /// Whether holders sign in through the identity provider (all three settings given).
    pub fn oidc_enabled(&self) -> bool {
        self.oidc_issuer.is_some() && self.oidc_client_id.is_some()
    }

    /// The public base URL without a trailing slash.
    pub fn public_base(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }
}

/// did:web host for a base URL: the authority, with `:` percent-encoded as did:web requires.
pub fn did_web_host(public_url: &str) -> Option<String> {
    let rest = public_url
        .strip_prefix("https://")
        .or_else(|| public_url.strip_prefix("http://"))?;
    let authority = rest.split('/').next().filter(|a| !a.is_empty())?;
    if authority.contains(['@', '?', '#', ' ']) {
        return None;
    }
    Some(authority.replace(':', "%3A"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_web_host_encodes_port() {
        assert_eq!(
            did_web_host("http://127.0.0.1:8080").as_deref(),
            Some("127.0.0.1%3A8080")
        );
        assert_eq!(
            did_web_host("https://registry.example.gov.cn/").as_deref(),
            Some("registry.example.gov.cn")
        );
        assert_eq!(did_web_host("ftp://x"), None);
        assert_eq!(did_web_host("https://"), None);
    }

    #[test]
    fn debug_redacts_admin_token() {
        let mut s = Settings::load(None).expect("defaults load");
        s.admin_token = Some(SecretString::from("super-secret-token"));
        let shown = format!("{s:?}");
        assert!(!shown.contains("super-secret-token"));
    }

    #[test]
    fn vcapi_issue_is_closed_by_default_and_its_token_redacted() {
        let mut s = Settings::load(None).expect("defaults load");
        assert!(!s.vcapi_issue_open);
        assert!(s.vcapi_client_token.is_none());
        assert_eq!((s.vcapi_issue_rate, s.vcapi_issue_burst), (5, 50));
        s.vcapi_client_token = Some(SecretString::from("vcapi-client-secret"));
        assert!(!format!("{s:?}").contains("vcapi-client-secret"));
    }
}
