//! Test harness: every test gets its own application on a free port, over its own database —
//! a temporary SQLite file, or a fresh PostgreSQL database (dropped afterwards) when
//! `TEST_DATABASE_URL` is set.

use actix_web::web;
use elicence::config::{LogFormat, Settings};
use elicence::startup::Application;
use elicence::state::AppState;
use secrecy::SecretString;
use serde_json::Value;

/// The operator token every test application is configured with.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// The VC-API client token every test application is configured with.
pub const VCAPI_CLIENT_TOKEN: &str = "test-vcapi-client-0123456789abcdef";

/// Which storage backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub state: web::Data<AppState>,
    pub settings: Settings,
    pub backend: Backend,
    _dir: tempfile::TempDir,
    _db: Option<PgTestDb>,
}

/// Runs each listed test function (`async fn name(app: TestApp)`) on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::support::app::spawn_app($crate::support::app::Backend::Sqlite).await;
                    super::$name(app.expect("SQLite is always available")).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(postgres_tests), ignore = "PostgreSQL half: set TEST_DATABASE_URL to run it")]
                async fn postgres() {
                    let app = $crate::support::app::spawn_app($crate::support::app::Backend::Postgres).await;
                    super::$name(app.expect("TEST_DATABASE_URL is set")).await;
                }
            }
        )*
    };
}

/// Settings for a test application rooted in `dir`, over `database_url`.
pub fn test_settings(dir: &std::path::Path, database_url: String) -> Settings {
    Settings {
        listen: "127.0.0.1:0".into(),
        database_url,
        data_dir: dir.join("data"),
        keys_dir: dir.join("keys"),
        admin_token: Some(SecretString::from(ADMIN_TOKEN)),
        public_url: "https://registry.test".into(),
        log_format: LogFormat::Text,
        body_limit: 1024 * 1024,
        submission_limit: 8 * 1024 * 1024,
        seed_dir: None,
        seed: true,
        trust_bundle_interval: 24 * 60 * 60,
        vcapi_issue_open: false,
        vcapi_client_token: Some(SecretString::from(VCAPI_CLIENT_TOKEN)),
        vcapi_issue_rate: 0,
        vcapi_issue_burst: 0,
        signature_max_age_days: elicence::domain::submission::DEFAULT_MAX_AGE_DAYS,
        submission_auth_slots: elicence::submissions::gate::DEFAULT_SLOTS,
        submission_auth_bytes: elicence::submissions::gate::DEFAULT_BYTES,
        oidc_issuer: None,
        oidc_client_id: None,
        oidc_client_secret: None,
        oidc_holder_claim: elicence::oidc::DEFAULT_HOLDER_CLAIM.into(),
    }
}

/// Starts an application on `backend`; `None` for PostgreSQL when `TEST_DATABASE_URL` is unset.
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (database_url, db) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("registry.db").display()),
            None,
        ),
        Backend::Postgres => {
            let db = PgTestDb::create().await?;
            (db.url.clone(), Some(db))
        }
    };
    let settings = test_settings(dir.path(), database_url);
    Some(spawn_with(settings, backend, dir, db).await)
}

/// Two service instances of one registry (same key) over one fresh PostgreSQL database; `None`
/// when `TEST_DATABASE_URL` is unset.
pub async fn spawn_two_instances() -> Option<(TestApp, TestApp)> {
    let db = PgTestDb::create().await?;
    let dir_a = tempfile::tempdir().expect("dir");
    let settings_a = test_settings(dir_a.path(), db.url.clone());
    let dir_b = tempfile::tempdir().expect("dir");
    let mut settings_b = test_settings(dir_b.path(), db.url.clone());
    // One registry: both instances sign with the same key.
    settings_b.keys_dir = settings_a.keys_dir.clone();
    let url = db.url.clone();
    let a = spawn_with(settings_a, Backend::Postgres, dir_a, Some(db)).await;
    let b = spawn_with(settings_b, Backend::Postgres, dir_b, None).await;
    assert_eq!(url, b.settings.database_url);
    Some((a, b))
}

/// Starts an application with explicit settings (tests that vary configuration).
pub async fn spawn_with(
    settings: Settings,
    backend: Backend,
    dir: tempfile::TempDir,
    db: Option<PgTestDb>,
) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let state = app.state();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: reqwest::Client::new(),
        state,
        settings,
        backend,
        _dir: dir,
        _db: db,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request sent")
    }

    /// POST JSON as the operator.
    pub async fn post_admin(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// POST JSON without credentials.
    pub async fn post_anon(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request sent")
    }

    /// POST raw bytes as the operator with a JSON content type.
    pub async fn post_admin_raw(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("request sent")
    }

    /// Any request with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.expect("request sent")
    }

    /// POST an envelope to `/v1/submissions`.
    pub async fn submit(&self, envelope: &Value) -> reqwest::Response {
        self.post_anon("/v1/submissions", envelope).await
    }
}

/// Reads a JSON body, asserting the status first (shows the body on mismatch).
pub async fn json_with_status(response: reqwest::Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.expect("body");
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Asserts a problem+json response with the given status and code.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = json_with_status(response, status).await;
    assert_eq!(content_type, "application/problem+json", "body: {body}");
    assert_eq!(body["code"], code, "body: {body}");
    assert_eq!(body["status"], status);
    body
}

/// A PostgreSQL database created for one test and dropped (forcefully) when the test ends.
pub struct PgTestDb {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgTestDb {
    /// Creates a fresh database next to `TEST_DATABASE_URL`; `None` when that is unset.
    pub async fn create() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("elicence_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = connect_admin(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Some(Self {
            url,
            admin_url,
            name,
        })
    }
}

async fn connect_admin(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    sqlx::PgConnection::connect(url)
        .await
        .expect("TEST_DATABASE_URL reachable")
}

/// Replaces the database name in a PostgreSQL URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime: use a thread with its own runtime.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = connect_admin(&admin_url).await;
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        });
        let _ = done.join();
    }
}
