//! Arguments several commands share: where the registry is, and the operator's token. Each
//! command flattens these instead of declaring its own, so that every command reads the same
//! flags and environment variables (`ELICENCE_REGISTRY_URL`, `ELICENCE_PUBLIC_URL`,
//! `ELICENCE_ADMIN_TOKEN`, `ELICENCE_DATA_DIR`).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use secrecy::SecretString;

use super::client::Registry;

/// Where the registry is.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// The registry's base URL.
    #[arg(
        long,
        env = "ELICENCE_REGISTRY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub registry_url: String,
    /// The registry's public URL, which fixes DIDs and schema URLs [default: --registry-url].
    #[arg(long, env = "ELICENCE_PUBLIC_URL")]
    pub public_url: Option<String>,
}

impl RegistryArgs {
    /// The public URL, or the registry URL when none is given.
    pub fn public_url(&self) -> &str {
        self.public_url.as_deref().unwrap_or(&self.registry_url)
    }

    /// A client of the registry acting as the operator.
    pub fn operator(&self, operator: &OperatorArgs) -> anyhow::Result<Registry> {
        Ok(Registry::new(&self.registry_url)?.with_admin_token(operator.token()?))
    }
}

/// The operator's token: given, or the one the service generated into its data directory.
#[derive(Debug, Clone, Args)]
pub struct OperatorArgs {
    /// The operator's token [default: the token the service wrote to <data-dir>/admin-token].
    #[arg(long, env = "ELICENCE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The service's data directory, where it writes the token it generates.
    #[arg(long, env = "ELICENCE_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
}

impl OperatorArgs {
    /// The token, from `--admin-token` / `ELICENCE_ADMIN_TOKEN`, else from the generated file.
    pub fn token(&self) -> anyhow::Result<SecretString> {
        if let Some(token) = &self.admin_token {
            return Ok(SecretString::from(token.clone()));
        }
        let path = self.data_dir.join("admin-token");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no operator token: pass --admin-token, set ELICENCE_ADMIN_TOKEN, or run this \
                 where the service wrote {}",
                path.display()
            )
        })?;
        Ok(SecretString::from(text.trim().to_owned()))
    }
}
