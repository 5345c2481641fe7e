//! A small HTTP client for the registry routes the issuer CLI and the benchmarks call.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use reqwest::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::Value;

use crate::domain::identifiers::Uscc;

/// The registry at one base URL, optionally with the operator's token.
#[derive(Clone)]
pub struct Registry {
    http: reqwest::Client,
    base: String,
    admin_token: Option<SecretString>,
}

/// `GET /v1/issuers/{uscc}/head`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Head {
    /// The issuer's DID as the registry spells it.
    pub issuer: String,
    /// 0 before the first envelope.
    pub sequence: u64,
    pub digest: Option<String>,
}

/// The head a 409 reports.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConflictHead {
    pub sequence: u64,
    pub digest: Option<String>,
}

/// What the registry made of an envelope.
#[derive(Debug)]
pub enum Submitted {
    /// 201 (new) or 200 (a repeat of an accepted envelope), with the receipt.
    Accepted { repeat: bool, receipt: Value },
    /// 409: `sequence` / `previous` do not extend the registry's head.
    Conflict(ConflictHead),
    /// 422: the problem body with its per-item `errors`.
    Rejected(Value),
}

impl Registry {
    /// A client for the registry at `base` (`http(s)://host[:port]`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            // Below the server's keep-alive (5 s), so a pooled connection is never reused just
            // as the server closes it.
            .pool_idle_timeout(Duration::from_secs(2))
            .user_agent(concat!("elicence/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("building the HTTP client")?;
        Ok(Registry {
            http,
            base: base.trim_end_matches('/').to_owned(),
            admin_token: None,
        })
    }

    /// The same client, sending the operator's bearer token on operator routes.
    pub fn with_admin_token(mut self, token: SecretString) -> Self {
        self.admin_token = Some(token);
        self
    }

    /// The base URL without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The underlying HTTP client, for callers that time raw requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The issuer's chain head.
    pub async fn head(&self, uscc: &Uscc) -> anyhow::Result<Head> {
        let response = self
            .http
            .get(self.url(&format!("/v1/issuers/{uscc}/head")))
            .send()
            .await
            .with_context(|| format!("GET {}", self.base))?;
        let body = expect_success(response).await?;
        serde_json::from_value(body).context("the head answer is not {issuer, sequence, digest}")
    }

    /// Posts an envelope (already serialised) to `/v1/submissions`.
    pub async fn submit(&self, envelope: Vec<u8>) -> anyhow::Result<Submitted> {
        let response = self
            .http
            .post(self.url("/v1/submissions"))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(envelope)
            .send()
            .await
            .with_context(|| format!("POST {}/v1/submissions", self.base))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        match status {
            StatusCode::CREATED | StatusCode::OK => Ok(Submitted::Accepted {
                repeat: status == StatusCode::OK,
                receipt: body,
            }),
            StatusCode::CONFLICT => {
                let head = serde_json::from_value(body["head"].clone()).map_err(|_| {
                    anyhow!("409 without a head in the problem body: {}", problem(&body))
                })?;
                Ok(Submitted::Conflict(head))
            }
            StatusCode::UNPROCESSABLE_ENTITY => Ok(Submitted::Rejected(body)),
            other => bail!("POST /v1/submissions: {other}: {}", problem(&body)),
        }
    }

    /// GETs `path` and answers its JSON body; any non-2xx status is an error.
    pub async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .with_context(|| format!("GET {}{path}", self.base))?;
        expect_success(response)
            .await
            .with_context(|| format!("GET {path}"))
    }

    /// POSTs `body` to an operator route with the admin token.
    pub async fn admin_post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let token = self
            .admin_token
            .as_ref()
            .ok_or_else(|| anyhow!("{path} needs the operator token (--admin-token)"))?;
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(token.expose_secret())
            .json(body)
            .send()
            .await
            .with_context(|| format!("POST {}{path}", self.base))?;
        expect_success(response)
            .await
            .with_context(|| format!("POST {path}"))
    }
}

/// The JSON body of a 2xx answer, or an error naming the status and the problem.
async fn expect_success(response: reqwest::Response) -> anyhow::Result<Value> {
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        Ok(body)
    } else {
        Err(anyhow!("{status}: {}", problem(&body)))
    }
}

/// A one-line summary of an RFC 9457 problem body: `code: title — detail`.
pub fn problem(body: &Value) -> String {
    let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or("");
    let summary = [text("code"), text("title"), text("detail")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    if summary.is_empty() {
        body.to_string()
    } else {
        summary
    }
}
