//! `elicence audit-access`: reads the database directly, recomputes the access-record hash
//! chain and reports the first broken link (exit status 1) or the number of records verified.

use std::path::PathBuf;

use anyhow::Context;

use crate::config::Settings;
use crate::storage;

/// Audits the access-record chain of the database at `url` (or the configured one).
pub async fn run(config: Option<PathBuf>, url: Option<String>) -> anyhow::Result<()> {
    let url = match url {
        Some(url) => url,
        None => Settings::load(config)?.database_url,
    };
    let store = storage::connect(&url)
        .await
        .context("opening the database")?;
    match storage::audit_access(store.as_ref()).await? {
        Ok(n) => {
            println!("access records: {n} checked, chain intact");
            Ok(())
        }
        Err(broken) => {
            println!("access records: chain broken: {broken}");
            std::process::exit(1)
        }
    }
}
