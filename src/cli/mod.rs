//! Command line: `serve` (default), `migrate`, `keygen`, `issuer …`, `bench …`.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::crypto::keys::KeyPair;
use crate::startup::Application;
use crate::{storage, telemetry};

mod args;
pub mod audit;
mod audit_access;
pub mod bench;
mod client;
pub mod demo;
pub mod fetch;
pub mod issuer;
mod offline_qr;
mod serve_help;
pub mod verify;

/// The registry and verification service for electronic licences (电子证照).
#[derive(Debug, Parser)]
#[command(
    name = "elicence",
    version,
    after_help = "Without a command, runs `serve`; `elicence serve --help` lists the ELICENCE_* settings."
)]
pub struct Cli {
    /// Configuration file (TOML); `elicence.toml` in the working directory is read when present.
    #[arg(long, global = true, env = "ELICENCE_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    #[command(after_help = serve_help::text())]
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Write a new Ed25519 key as PKCS#8 PEM and print its Multikey.
    Keygen {
        /// Where to write the key; refuses to overwrite.
        #[arg(long, short)]
        out: PathBuf,
    },
    /// Issuer tools: sign licences, submit envelopes, change a licence's status.
    Issuer {
        #[command(subcommand)]
        command: issuer::IssuerCommand,
    },
    /// Recompute the access-record hash chain and report the first broken link.
    AuditAccess {
        /// The database to read (default: the configured `ELICENCE_DATABASE_URL`).
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Walk through the whole story against a running registry, step by step.
    Demo(demo::DemoArgs),
    /// Load generators against a running registry.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
    /// Verify a licence offline against a trust bundle; exits 0 only when verified.
    Verify(verify::VerifyArgs),
    /// Print a signed licence's offline QR payload (`EL1:…`), the text its offline QR code holds.
    OfflineQr(offline_qr::OfflineQrArgs),
    /// Keep a directory with the trust bundle and its status lists, fetching what changed.
    FetchBundle(fetch::FetchArgs),
    /// Monitor the transparency log: checkpoint signatures and consistency, failing on a fork.
    Audit(audit::AuditArgs),
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(cli.config).await,
        Command::Migrate => migrate(cli.config).await,
        Command::Keygen { out } => keygen(&out),
        Command::Issuer { command } => issuer::run(command).await,
        Command::Bench { command } => bench::run(command).await,
        Command::AuditAccess { database_url } => audit_access::run(cli.config, database_url).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Verify(args) => {
            if !verify::run(args)? {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Audit(args) => audit::run(args).await,
        Command::OfflineQr(args) => offline_qr::run(&args),
        Command::FetchBundle(args) => fetch::run(args).await.map(|_| ()),
    }
}

async fn serve(config: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    telemetry::init(settings.log_format);
    let listen = settings.listen.clone();
    let public = settings.public_base().to_owned();
    let app = Application::build(settings).await?;
    tracing::info!(%listen, port = app.port(), "elicence listening");
    eprintln!("elicence: serving on {listen}; open {public}/ (the directory: {public}/catalogue, a holder's page: {public}/holder)");
    app.run_until_stopped().await?;
    tracing::info!("stopped");
    Ok(())
}

async fn migrate(config: Option<PathBuf>) -> anyhow::Result<()> {
    let settings = Settings::load(config)?;
    telemetry::init(settings.log_format);
    let store = storage::connect(&settings.database_url).await?;
    store.migrate().await?;
    println!("migrations applied ({})", store.backend());
    Ok(())
}

fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    let key = KeyPair::write_new(out).with_context(|| format!("writing {}", out.display()))?;
    println!("{}", key.multikey());
    eprintln!("wrote {} (PKCS#8 PEM, mode 0600)", out.display());
    Ok(())
}
