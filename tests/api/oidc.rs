//! Holders sign in through a real OpenID Connect provider: `oidc-provider` from npm, run by
//! `tests/oidc/provider.mjs` on loopback (installed with `npm ci --prefix tests/oidc`; without
//! it these tests show as ignored). A `reqwest` client with a cookie store plays the browser
//! and posts the provider's login and consent forms. Every refusal leaves no session row.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::redirect::Policy;
use secrecy::SecretString;

use crate::support::app::{spawn_with, test_settings, Backend, PgTestDb, TestApp};

/// The public URL of the OIDC test applications: http, so the session cookie is not `Secure`
/// and the test's cookie store sends it to the plain-http test server.
pub const PUBLIC_URL: &str = "http://registry.test";
const CLIENT_ID: &str = "elicence";
const CLIENT_SECRET: &str = "elicence-test-secret";

/// Runs each listed test (`async fn name(app: TestApp, provider: Provider)`) against its own
/// provider on both backends.
macro_rules! with_provider {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(oidc_tests), ignore = "OIDC: run `npm ci --prefix tests/oidc` to install the test provider")]
                async fn sqlite() {
                    let (app, provider) = super::setup(crate::support::app::Backend::Sqlite).await.unwrap();
                    super::$name(app, provider).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(all(oidc_tests, postgres_tests)), ignore = "OIDC on PostgreSQL: needs TEST_DATABASE_URL and `npm ci --prefix tests/oidc`")]
                async fn postgres() {
                    let (app, provider) = super::setup(crate::support::app::Backend::Postgres).await.unwrap();
                    super::$name(app, provider).await;
                }
            }
        )*
    };
}

with_provider!(
    a_citizen_signs_in_uses_the_page_makes_an_app_token_and_signs_out,
    a_callback_with_another_state_is_refused,
    a_replayed_code_is_refused,
    an_account_without_the_holder_claim_is_refused,
    an_account_with_a_malformed_resident_id_is_refused,
);

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
    fn start() -> Provider {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(dir)
            .env("PORT", port.to_string())
            .env("REDIRECT_URI", format!("{PUBLIC_URL}/holder/oidc/callback"))
            .env("POST_LOGOUT_URI", format!("{PUBLIC_URL}/holder"))
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
}

async fn setup(backend: Backend) -> Option<(TestApp, Provider)> {
    let provider = Provider::start();
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

fn absolute(base: &str, target: &str) -> String {
    reqwest::Url::parse(base)
        .unwrap()
        .join(target)
        .unwrap()
        .to_string()
}

fn attribute(html: &str, prefix: &str) -> Option<String> {
    let rest = html.split(prefix).nth(1)?;
    Some(rest.split('"').next()?.replace("&amp;", "&"))
}

fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter(|tag| tag.contains("type=\"hidden\""))
        .filter_map(|tag| {
            let tag = tag.split('>').next()?;
            Some((attribute(tag, "name=\"")?, attribute(tag, "value=\"")?))
        })
        .collect()
}

async fn sessions(app: &TestApp) -> i64 {
    app.state.store.holder_session_count().await.unwrap()
}

/// The CSRF token in the holder page.
pub async fn csrf(app: &TestApp, browser: &reqwest::Client) -> String {
    let page = browser.get(app.url("/holder")).send().await.unwrap();
    let page = page.text().await.unwrap();
    attribute(&page, "name=\"csrf\" value=\"").expect("a signed-in page")
}

async fn a_citizen_signs_in_uses_the_page_makes_an_app_token_and_signs_out(
    app: TestApp,
    provider: Provider,
) {
    let browser = browser();
    let form = browser.get(app.url("/holder")).send().await.unwrap();
    let form = form.text().await.unwrap();
    assert!(form.contains("href=\"/holder/oidc/login\"") && !form.contains("name=\"token\""));
    let callback = through_provider(&app, &browser, "citizen").await;
    let landed = browser.get(&callback).send().await.unwrap();
    assert_eq!(landed.status(), 303);
    assert_eq!(location(&landed), "/holder");
    let set: Vec<String> = landed
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = set
        .iter()
        .find(|c| c.starts_with("elicence_holder="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    assert!(session.contains("Path=/holder"), "{session}");
    assert_eq!(sessions(&app).await, 1);
    let page = browser.get(app.url("/holder")).send().await.unwrap();
    let page = page.text().await.unwrap();
    assert!(page.contains("urn:cn:rid:11010519491231002X"), "{page}");
    assert!(!page.contains("data-sign-in=\"development\""));
    // Token sign-in is off with an identity provider.
    let token = browser
        .post(app.url("/holder/login"))
        .form(&[("token", "x".repeat(64))]);
    assert_eq!(token.send().await.unwrap().status(), 404);
    // An app token, made from the session, works on the API; without the CSRF token, nothing.
    let csrf = csrf(&app, &browser).await;
    let forged = browser
        .post(app.url("/holder/tokens"))
        .form(&[("csrf", "0".repeat(64))]);
    assert_eq!(forged.send().await.unwrap().status(), 403);
    let made = browser
        .post(app.url("/holder/tokens"))
        .form(&[("csrf", &csrf)]);
    let made = made.send().await.unwrap();
    assert_eq!(made.status(), 201);
    let html = made.text().await.unwrap();
    let token = html
        .split("<code id=\"app-token\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the token is shown once")
        .to_owned();
    let api = app
        .call("GET", "/v1/holder/licences", Some(&token), None)
        .await;
    assert_eq!(api.status(), 200);
    let page = browser
        .get(app.url("/holder"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let id = attribute(&page, "data-token=\"").expect("the token is listed");
    assert!(!page.contains(&token), "the page never shows a token again");
    let revoke = format!("/holder/tokens/{id}/revoke");
    let revoked = browser.post(app.url(&revoke)).form(&[("csrf", &csrf)]);
    assert_eq!(revoked.send().await.unwrap().status(), 303);
    let api = app
        .call("GET", "/v1/holder/licences", Some(&token), None)
        .await;
    assert_eq!(api.status(), 401);
    // Signing out ends the session here and goes on to the provider's end_session_endpoint.
    let out = browser
        .post(app.url("/holder/logout"))
        .form(&[("csrf", &csrf)]);
    let out = out.send().await.unwrap();
    assert_eq!(out.status(), 303);
    let to = location(&out);
    assert!(
        to.starts_with(&format!("{}/session/end?", provider.issuer)),
        "{to}"
    );
    assert!(to.contains("client_id=elicence") && to.contains("post_logout_redirect_uri="));
    let after = browser.get(app.url("/holder")).send().await.unwrap();
    assert!(after.text().await.unwrap().contains("/holder/oidc/login"));
}

async fn a_callback_with_another_state_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "citizen").await;
    let mut url = reqwest::Url::parse(&callback).unwrap();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "state" {
                "forged".into()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    let refused = browser.get(url.as_str()).send().await.unwrap();
    assert_eq!(refused.status(), 400);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_state_mismatch"));
    assert_eq!(sessions(&app).await, 0);
    // Nor does a callback arrive without the browser having started a sign-in here.
    let fresh = browser_without_cookies()
        .get(&callback)
        .send()
        .await
        .unwrap();
    assert_eq!(fresh.status(), 400);
    assert_eq!(sessions(&app).await, 0);
}

fn browser_without_cookies() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn a_replayed_code_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let start = browser
        .get(app.url("/holder/oidc/login"))
        .send()
        .await
        .unwrap();
    let pending = start
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("elicence_oidc="))
        .unwrap();
    let callback = through_provider_from(&app, &browser, location(&start), "citizen").await;
    assert_eq!(browser.get(&callback).send().await.unwrap().status(), 303);
    assert_eq!(sessions(&app).await, 1);
    // The same code again, with the same pending-login cookie: the provider refuses it.
    let replay = browser_without_cookies()
        .get(&callback)
        .header("Cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 401);
    assert!(replay.text().await.unwrap().contains("oidc_code_refused"));
    assert_eq!(sessions(&app).await, 1);
}

/// [`through_provider`] from an authorization URL already obtained.
async fn through_provider_from(
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

async fn an_account_without_the_holder_claim_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "no-claim").await;
    let refused = browser.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_holder_claim_missing"));
    assert_eq!(sessions(&app).await, 0);
}

async fn an_account_with_a_malformed_resident_id_is_refused(app: TestApp, _provider: Provider) {
    let browser = browser();
    let callback = through_provider(&app, &browser, "malformed").await;
    let refused = browser.get(&callback).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused
        .text()
        .await
        .unwrap()
        .contains("oidc_holder_claim_malformed"));
    assert_eq!(sessions(&app).await, 0);
}
