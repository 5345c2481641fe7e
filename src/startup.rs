//! Start-up: open the store, run migrations, load or create keys and the admin token, seed the
//! directory, and bind the HTTP server.

use std::net::TcpListener;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};
use anyhow::Context;
use secrecy::ExposeSecret;
use tracing_actix_web::TracingLogger;

use crate::config::Settings;
use crate::crypto::digest::sha256;
use crate::crypto::key_tables::KeyTables;
use crate::crypto::keys::KeyPair;
use crate::domain::submission::SigningWindow;
use crate::log::checkpoint::Checkpoint;
use crate::log::receipt::Signer;
use crate::state::AppState;
use crate::storage::{self, Store};
use crate::submissions::gate::AuthGate;
use crate::submissions::intake::{Intake, SchemaCache};
use crate::submissions::sequencer::Sequencer;
use crate::{extract, metrics, routes, seed};

/// Issuer keys whose comb tables an instance keeps (127 KiB each: 8 MiB at most).
const KEY_TABLES: usize = 64;

/// A bound, not yet running, HTTP service.
pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
}

impl Application {
    /// Prepares storage, keys and seed data, and binds the listener (port 0 picks one).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = storage::connect(&settings.database_url)
            .await
            .context("opening the database")?;
        store.migrate().await.context("running migrations")?;
        let registry_key = load_key(&settings, "registry.pem", "the registry signing key")?;
        let vcapi_key = load_key(
            &settings,
            "vcapi-issuer.pem",
            "the VC-API interoperability issuer key",
        )?;
        let admin_token_hash = admin_token_hash(&settings)?;
        let vcapi_client_hash = vcapi_client_hash(&settings)?;
        let vcapi_limiter = crate::verify::limit::ClientLimiter::new(
            NonZeroU32::new(settings.vcapi_issue_rate).map(|rate| {
                (
                    rate,
                    NonZeroU32::new(settings.vcapi_issue_burst).unwrap_or(rate),
                )
            }),
        );
        if settings.seed {
            let report = seed::seed(store.as_ref(), settings.seed_dir.as_deref()).await?;
            tracing::info!(
                added = report.added,
                present = report.present,
                "directory seeded"
            );
        }
        let did_host = settings
            .did_web_host()
            .context("the public URL has no did:web host")?;
        let verifier = Arc::new(crate::verify::cache::RegistryCache::new(
            store.clone(),
            did_host,
            settings.public_base().to_owned(),
        ));
        tokio::spawn(crate::verify::cache::RegistryCache::follow_log(
            Arc::downgrade(&verifier),
            crate::verify::standings::FOLLOW_INTERVAL,
        ));
        let intake = intake(&settings, store.clone(), verifier.clone(), &registry_key).await?;
        let listener = TcpListener::bind(&settings.listen)
            .with_context(|| format!("binding {}", settings.listen))?;
        let port = listener.local_addr()?.port();
        let oidc =
            crate::oidc::Oidc::from_settings(&settings).context("OpenID Connect settings")?;
        let state = web::Data::new(AppState {
            settings,
            store,
            admin_token_hash,
            registry_key,
            vcapi_key,
            vcapi_client_hash,
            vcapi_limiter,
            intake,
            verifier,
            verify_limiter: crate::verify::limit::ClientLimiter::from_env(),
            bundle: Default::default(),
            oidc,
        });
        let server = run(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The state shared by the handlers (tests reach the store through it).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves until SIGINT/SIGTERM, then drains in-flight requests.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(listener: TcpListener, state: web::Data<AppState>) -> anyhow::Result<Server> {
    let limit = state.settings.body_limit;
    let prometheus = metrics::handle();
    let server = HttpServer::new(move || {
        App::new()
            .wrap_fn(metrics::record)
            .wrap_fn(routes::verify_cache::invalidate_on_change)
            .wrap_fn(crate::telemetry_mw::echo_request_id)
            .wrap(TracingLogger::<crate::telemetry_mw::RootSpan>::new())
            .app_data(state.clone())
            .app_data(web::Data::new(prometheus.clone()))
            .app_data(
                web::JsonConfig::default()
                    .limit(limit)
                    .error_handler(extract::json_error),
            )
            .app_data(web::PayloadConfig::new(limit))
            .app_data(web::QueryConfig::default().error_handler(extract::query_error))
            .app_data(web::PathConfig::default().error_handler(extract::path_error))
            .configure(routes::configure)
            .default_service(web::to(routes::fallback))
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Loads `keys_dir/<file>`, creating a fresh key there on first start.
fn load_key(settings: &Settings, file: &str, what: &str) -> anyhow::Result<KeyPair> {
    let path = settings.keys_dir.join(file);
    let (key, created) = KeyPair::load_or_create(&path)
        .with_context(|| format!("loading {what} {}", path.display()))?;
    if created {
        tracing::info!(path = %path.display(), key = %key.multikey(), "created {what}");
    }
    Ok(key)
}

/// The write path, with its sequencer started on a thread of its own.
async fn intake(
    settings: &Settings,
    store: Arc<dyn Store>,
    registry: Arc<crate::verify::cache::RegistryCache>,
    registry_key: &KeyPair,
) -> anyhow::Result<Intake> {
    let did_host = settings
        .did_web_host()
        .context("the public URL has no did:web host")?;
    let origin = settings.log_origin();
    Checkpoint::new(origin.clone(), 0, crate::log::merkle::empty_root())
        .with_context(|| format!("the log origin {origin:?} is not a valid note key name"))?;
    let signer = Signer {
        key: KeyPair::from(registry_key.signing_key().clone()),
        origin,
        registry_did: format!("did:web:{did_host}"),
        did_host: did_host.clone(),
    };
    // From this thread, at the service's own priority: the threads the seal's signatures and
    // the envelopes' checks are spread over start at the priority of the thread that starts them.
    crate::parallel::start();
    Ok(Intake {
        sequencer: Sequencer::start_dedicated(&settings.database_url, signer).await?,
        store,
        registry,
        schemas: SchemaCache::default(),
        did_host,
        public_base: settings.public_base().to_owned(),
        window: SigningWindow::days(settings.signature_max_age_days),
        gate: AuthGate::new(
            settings.submission_auth_slots,
            settings.submission_auth_bytes,
        ),
        status_lists: Default::default(),
        key_tables: Arc::new(KeyTables::new(KEY_TABLES)),
        checks: crate::submissions::checks::CheckRuntime::start()
            .context("starting the envelope check threads")?,
    })
}

/// The operator token's hash: from configuration, or from `data_dir/admin-token`, created with
/// a fresh random value on first start. The token is never logged; only its file path is.
fn admin_token_hash(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    let (hash, ignored) = admin_token(settings)?;
    if let Some(ignored) = ignored {
        // A walk-through that read the generated file earlier would now get 401s.
        tracing::warn!(file = %ignored.display(), "ELICENCE_ADMIN_TOKEN is set: the token in this file is ignored");
        eprintln!("{}", ignored_token_warning(&ignored));
    }
    Ok(hash)
}

/// The operator token's hash, and the generated token file that configuration overrides, if
/// an earlier start left one.
fn admin_token(settings: &Settings) -> anyhow::Result<([u8; 32], Option<PathBuf>)> {
    let path = settings.data_dir.join("admin-token");
    if let Some(token) = &settings.admin_token {
        anyhow::ensure!(
            token.expose_secret().len() >= 16,
            "ELICENCE_ADMIN_TOKEN must be at least 16 characters"
        );
        let ignored = path.exists().then_some(path);
        return Ok((sha256(token.expose_secret().as_bytes()), ignored));
    }
    let token = read_or_create_token(&path)?;
    Ok((sha256(token.as_bytes()), None))
}

fn ignored_token_warning(file: &Path) -> String {
    format!(
        "elicence: ELICENCE_ADMIN_TOKEN is set, so the operator token in {} no longer works",
        file.display()
    )
}

/// The VC-API client token's hash, when one is configured. The token is never logged.
fn vcapi_client_hash(settings: &Settings) -> anyhow::Result<Option<[u8; 32]>> {
    let Some(token) = &settings.vcapi_client_token else {
        return Ok(None);
    };
    anyhow::ensure!(
        token.expose_secret().len() >= 16,
        "ELICENCE_VCAPI_CLIENT_TOKEN must be at least 16 characters"
    );
    Ok(Some(sha256(token.expose_secret().as_bytes())))
}

fn read_or_create_token(path: &Path) -> anyhow::Result<String> {
    if path.exists() {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let token = text.trim().to_owned();
        anyhow::ensure!(
            token.len() >= 16,
            "{} holds no usable token",
            path.display()
        );
        return Ok(token);
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let token = crate::auth::random_token();
    write_private(path, &token).with_context(|| format!("writing {}", path.display()))?;
    tracing::warn!(path = %path.display(), "no admin token configured: generated one and wrote it to this file");
    eprintln!(
        "elicence: generated an operator (admin) token; it is in {}",
        path.display()
    );
    Ok(token)
}

/// Writes a secret file readable by its owner only.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use secrecy::SecretString;

    use super::*;

    #[test]
    fn a_configured_operator_token_says_which_file_it_overrides() {
        let dir = tempfile::tempdir().expect("scratch");
        let mut settings = Settings::load(None).expect("defaults load");
        settings.data_dir = dir.path().to_path_buf();
        settings.admin_token = None;
        // First start: the token is generated into the data directory.
        let (generated, ignored) = admin_token(&settings).expect("created");
        let file = dir.path().join("admin-token");
        let written = std::fs::read_to_string(&file).expect("written");
        assert_eq!(generated, sha256(written.trim().as_bytes()));
        assert_eq!(ignored, None);
        // Then configured: that token wins, and the file it makes useless is named.
        settings.admin_token = Some(SecretString::from("configured-operator-token"));
        let (hash, ignored) = admin_token(&settings).expect("configured");
        assert_eq!(hash, sha256(b"configured-operator-token"));
        assert_eq!(ignored.as_deref(), Some(file.as_path()));
        let warning = ignored_token_warning(&file);
        assert!(
            warning.contains(&file.display().to_string()) && warning.contains("no longer works")
        );
        assert!(
            !warning.contains("configured-operator-token") && !warning.contains(written.trim())
        );
        // Configured on a fresh data directory: nothing to warn about.
        std::fs::remove_file(&file).expect("removed");
        assert_eq!(admin_token(&settings).expect("configured").1, None);
        settings.admin_token = Some(SecretString::from("short"));
        assert!(admin_token(&settings).is_err(), "too short");
    }
}
