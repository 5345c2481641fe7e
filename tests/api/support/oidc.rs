//! What the OIDC tests (`oidc.rs`, `oidc_forged.rs`) share: the test identity provider
//! (`tests/oidc/provider.mjs`, a real `oidc-provider` on loopback) as a child process, an
//! application signing holders in there, and a `reqwest` client with a cookie store playing the
//! browser through the provider's login and consent forms.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::redirect::Policy;
use secrecy::SecretString;

use crate::support::app::{spawn_with, test_settings, Backend, PgTestDb, TestApp};

/// The public URL of the OIDC test applications: http, so the session cookie is not `Secure`
/// and the test's cookie store sends it to the plain-http test server.
pub const PUBLIC_URL: &str = "http://registry.test";
pub const CLIENT_ID: &str = "elicence";
const CLIENT_SECRET: &str = "elicence-test-secret";

/// Runs each listed test (`async fn name(app: TestApp, provider: Provider)`) against its own
/// provider on both backends; `name = "mode"` starts that provider with `TAMPER=mode`.
macro_rules! with_provider {
    ($($name:ident $(= $tamper:literal)?),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(oidc_tests), ignore = "OIDC: run `npm ci --prefix tests/oidc` to install the test provider")]
                async fn sqlite() {
                    let env: &[(&str, &str)] = &[$(("TAMPER", $tamper))?];
                    let (app, provider) = crate::support::oidc::setup(crate::support::app::Backend::Sqlite, env).await.unwrap();
                    super::$name(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(all(oidc_tests, postgres_tests)), ignore = "OIDC on PostgreSQL: needs TEST_DATABASE_URL and `npm ci --prefix tests/oidc`")]
                async fn postgres() {
                    let env: &[(&str, &str)] = &[$(("TAMPER", $tamper))?];
                    let (app, provider) = crate::support::oidc::setup(crate::support::app::Backend::Postgres, env).await.unwrap();
                    super::$name(app, provider).await;
                }
            }
        )*
    };
}
pub(crate) use with_provider;

/// The provider process, killed when dropped.
pub struct Provider {
    pub issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    /// Starts `tests/oidc/provider.mjs` on a free port with these extra environment variables
    /// (`TAMPER`, `KID`: see the script).
    pub fn start(env: &[(&str, &str)]) -> Provider {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        Self::start_on(port, env)
    }

    fn start_on(port: u16, env: &[(&str, &str)]) -> Provider {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URI", format!("{PUBLIC_URL}/holder/oidc/callback"))
            .env("POST_LOGOUT_URI", format!("{PUBLIC_URL}/holder"))
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node runs tests/oidc/provider.mjs");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout);
        let mut line = String::new();
        lines
            .read_line(&mut line)
            .expect("the provider's first line");
        // Keep reading, so the provider never writes into a closed pipe.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        assert!(line.starts_with("listening "), "provider said {line:?}");
        Provider {
            issuer: line["listening ".len()..].trim().to_owned(),
            child,
        }
    }

    /// Stops this provider and starts another at the same issuer URL with `env`: a new
    /// signing key (a rotation when `KID` differs), nothing of the old one's sessions.
    pub fn restart(&mut self, env: &[(&str, &str)]) {
        let port = reqwest::Url::parse(&self.issuer)
            .ok()
            .and_then(|url| url.port())
            .expect("the issuer URL has a port");
        let _ = self.child.kill();
        let _ = self.child.wait();
        *self = Self::start_on(port, env);
    }

    /// How often discovery and the JWKS were read since the provider started.
    pub async fn counts(&self) -> (u64, u64) {
        let url = format!("{}/test/counts", self.issuer);
        let counts: serde_json::Value = reqwest::get(url).await.unwrap().json().await.unwrap();
        let count = |name: &str| counts[name].as_u64().expect("a count");
        (count("discovery"), count("jwks"))
    }
}

/// A provider started with `env` and an application whose holders sign in there.
pub async fn setup(backend: Backend, env: &[(&str, &str)]) -> Option<(TestApp, Provider)> {
    let provider = Provider::start(env);
    let app = spawn_oidc(backend, &provider.issuer).await?;
    Some((app, provider))
}

/// An application whose holders sign in at `issuer`.
pub async fn spawn_oidc(backend: Backend, issuer: &str) -> Option<TestApp> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let (url, db) = match backend {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("registry.db").display()),
            None,
        ),
        Backend::Postgres => {
            let db = PgTestDb::create().await?;
            (db.url.clone(), Some(db))
        }
    };
    let mut settings = test_settings(dir.path(), url);
    settings.public_url = PUBLIC_URL.into();
    settings.oidc_issuer = Some(issuer.into());
    settings.oidc_client_id = Some(CLIENT_ID.into());
    settings.oidc_client_secret = Some(SecretString::from(CLIENT_SECRET));
    Some(spawn_with(settings, backend, dir, db).await)
}

/// A browser: cookies kept, redirects followed by hand.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// Starts the sign-in at the app and goes through the provider's pages as `account`; answers
/// the callback URL the provider sends the browser to, pointed at the test application.
pub async fn through_provider(app: &TestApp, browser: &reqwest::Client, account: &str) -> String {
    let start = browser
        .get(app.url("/holder/oidc/login"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    through_provider_from(app, browser, location(&start), account).await
}

pub fn location(response: &reqwest::Response) -> String {
    let value = response.headers().get("location");
    value.expect("a Location").to_str().unwrap().to_owned()
}

pub fn absolute(base: &str, target: &str) -> String {
    reqwest::Url::parse(base)
        .unwrap()
        .join(target)
        .unwrap()
        .to_string()
}

pub fn attribute(html: &str, prefix: &str) -> Option<String> {
    let rest = html.split(prefix).nth(1)?;
    Some(rest.split('"').next()?.replace("&amp;", "&"))
}

pub fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            Some((attribute(tag, "name=\"")?, attribute(tag, "value=\"")?))
        })
        .collect()
}

pub async fn sessions(app: &TestApp) -> i64 {
    app.state.store.holder_session_count().await.unwrap()
}

/// The CSRF token in the holder page.
pub async fn csrf(app: &TestApp, browser: &reqwest::Client) -> String {
    let page = browser.get(app.url("/holder")).send().await.unwrap();
    let page = page.text().await.unwrap();
    attribute(&page, "name=\"csrf\" value=\"").expect("a signed-in page")
}

pub fn browser_without_cookies() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// [`through_provider`] from an authorization URL already obtained.
pub async fn through_provider_from(
    app: &TestApp,
    browser: &reqwest::Client,
    authorize: String,
    account: &str,
) -> String {
    let mut next = authorize;
    for _ in 0..12 {
        if let Some(rest) = next.strip_prefix(PUBLIC_URL) {
            return app.url(rest);
        }
        let answer = browser.get(&next).send().await.unwrap();
        if answer.status().is_redirection() {
            next = absolute(&next, &location(&answer));
            continue;
        }
        let html = answer.text().await.unwrap();
        let action = attribute(&html, "action=\"").expect("a form on the provider's page");
        let mut form = hidden_inputs(&html);
        if html.contains("name=\"login\"") {
            form.push(("login".into(), account.into()));
            form.push(("password".into(), "any".into()));
        }
        let posted = browser.post(absolute(&next, &action)).form(&form).send();
        next = absolute(&next, &location(&posted.await.unwrap()));
    }
    panic!("the provider never sent the browser back");
}
