//! The service as a child process, for the reliability harnesses (`bench crash-cycles`,
//! `bench db-faults`, `bench soak`): this very binary started with `serve` over a data
//! directory (and a PostgreSQL database when asked), SIGKILLed, restarted over the same data.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use sqlx::Connection as _;

/// The operator token the processes are configured with (a test value, not a secret).
pub const ADMIN_TOKEN: &str = "reliability-admin-token-0123456789";
/// The public URL (so the did:web host) of the processes: fixed, whatever port they listen on.
pub const PUBLIC_URL: &str = "https://registry.test";

/// Where a service keeps its state between runs, and how it is started.
pub struct DataDir {
    pub root: PathBuf,
    pub database_url: String,
    /// Where the registry keys are (shared by the instances of one registry).
    pub keys_dir: PathBuf,
    /// Where the service logs go (the data root unless set: elsewhere when the data's file
    /// system is to be filled up).
    pub log_dir: PathBuf,
    /// Extra environment for every start.
    pub env: Vec<(String, String)>,
    runs: u32,
}

/// One running service process.
pub struct Service {
    child: Child,
    pub address: String,
    pub log: PathBuf,
}

impl DataDir {
    /// A data directory at `root` (created) over `database_url`.
    pub fn new(root: PathBuf, database_url: String) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&root).with_context(|| format!("creating {}", root.display()))?;
        Ok(Self {
            keys_dir: root.join("keys"),
            log_dir: root.clone(),
            root,
            database_url,
            // The checks verify every accepted licence after every fault, anonymously and
            // from one address: the anonymous verify rate limit would answer them 429.
            env: vec![("ELICENCE_VERIFY_RATE_LIMIT".into(), "0".into())],
            runs: 0,
        })
    }

    /// A SQLite data directory at `root`.
    pub fn sqlite(root: PathBuf) -> anyhow::Result<Self> {
        let url = format!("sqlite://{}", root.join("registry.db").display());
        Self::new(root, url)
    }

    /// Starts `serve` over this data and waits until `/health` answers.
    pub async fn start(&mut self) -> anyhow::Result<Service> {
        self.start_with(&[]).await
    }

    /// As [`Self::start`], with `extra` environment for this start only.
    pub async fn start_with(&mut self, extra: &[(&str, &str)]) -> anyhow::Result<Service> {
        self.runs += 1;
        let port = free_port()?;
        let log = self.log_dir.join(format!("service-{}.log", self.runs));
        let out = std::fs::File::create(&log).context("creating the service log")?;
        let mut command = Command::new(std::env::current_exe().context("this binary's path")?);
        command
            .arg("serve")
            .current_dir(&self.root)
            .env("ELICENCE_LISTEN", format!("127.0.0.1:{port}"))
            .env("ELICENCE_DATABASE_URL", &self.database_url)
            .env("ELICENCE_DATA_DIR", self.root.join("data"))
            .env("ELICENCE_KEYS_DIR", &self.keys_dir)
            .env("ELICENCE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("ELICENCE_PUBLIC_URL", PUBLIC_URL)
            .env("RUST_LOG", "warn")
            .stdout(out.try_clone()?)
            .stderr(out)
            .stdin(Stdio::null());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        for (name, value) in extra {
            command.env(name, value);
        }
        let child = command.spawn().context("starting the service")?;
        let service = Service {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        };
        service.wait_healthy().await?;
        Ok(service)
    }
}

impl Service {
    async fn wait_healthy(&self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let ok = client.get(format!("{}/health", self.address)).send().await;
            if ok.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        bail!("the service did not start; its log:\n{}", read(&self.log))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown hooks, no flushing, no draining.
    pub fn kill(mut self) -> anyhow::Result<()> {
        self.child.kill().context("sending SIGKILL")?;
        self.child.wait().context("reaping the service")?;
        Ok(())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A port that was free a moment ago (the service binds it itself).
pub fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding port 0")?;
    Ok(listener.local_addr()?.port())
}

/// A private scratch directory under the system's temporary directory.
pub fn scratch(prefix: &str) -> PathBuf {
    std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4().simple()))
}

/// A fresh PostgreSQL database next to the one `admin_url` names, dropped by [`Self::drop_now`].
pub struct PgDatabase {
    pub url: String,
    admin_url: String,
    name: String,
}

impl PgDatabase {
    /// Creates `elicence_<purpose>_<random>` on the server of `admin_url`.
    pub async fn create(admin_url: &str, purpose: &str) -> anyhow::Result<Self> {
        let name = format!("elicence_{purpose}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .context("connecting to --database-url")?;
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .context("creating the database")?;
        Ok(Self {
            url: with_database(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        })
    }

    /// Drops the database (forcing out any connection left).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        let mut conn = sqlx::PgConnection::connect(&self.admin_url).await?;
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        sqlx::query(&drop).execute(&mut conn).await?;
        Ok(())
    }
}

/// `url` naming database `name` instead, its query string kept.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
    match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_names_replace_the_path() {
        assert_eq!(
            with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/db?sslmode=disable", "y"),
            "postgres://u@h/y?sslmode=disable"
        );
    }
}
