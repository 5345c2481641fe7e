//! The service as a real process: started from the built binary over a data directory (and a
//! PostgreSQL database when asked), killed with SIGKILL, restarted over the same data.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;

/// The operator token the processes are configured with.
pub const ADMIN_TOKEN: &str = "durability-admin-token-0123456789";
/// The public URL (and so the did:web host) of the processes.
pub const PUBLIC_URL: &str = "https://registry.test";

/// One running service process.
pub struct Service {
    child: Child,
    pub address: String,
    pub log: PathBuf,
}

/// Where a service keeps its state between runs.
pub struct DataDir {
    pub dir: tempfile::TempDir,
    pub database_url: String,
    pg: Option<PgDb>,
    runs: u32,
}

impl DataDir {
    /// A temporary SQLite data directory.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let database_url = format!("sqlite://{}", dir.path().join("registry.db").display());
        Self {
            dir,
            database_url,
            pg: None,
            runs: 0,
        }
    }

    /// A fresh PostgreSQL database next to `TEST_DATABASE_URL`; `None` when that is unset.
    pub async fn postgres() -> Option<Self> {
        let pg = PgDb::create().await?;
        let dir = tempfile::tempdir().expect("temporary directory");
        Some(Self {
            dir,
            database_url: pg.url.clone(),
            pg: Some(pg),
            runs: 0,
        })
    }

    /// Starts the service binary over this data and waits until it answers `/health`.
    pub async fn start(&mut self) -> Service {
        self.runs += 1;
        let port = free_port();
        let root = self.dir.path();
        let log = root.join(format!("service-{}.log", self.runs));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_elicence"))
            .arg("serve")
            .current_dir(root)
            .env("ELICENCE_LISTEN", format!("127.0.0.1:{port}"))
            .env("ELICENCE_DATABASE_URL", &self.database_url)
            .env("ELICENCE_DATA_DIR", root.join("data"))
            .env("ELICENCE_KEYS_DIR", root.join("keys"))
            .env("ELICENCE_ADMIN_TOKEN", ADMIN_TOKEN)
            .env("ELICENCE_PUBLIC_URL", PUBLIC_URL)
            .env("RUST_LOG", "warn")
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .stdin(Stdio::null())
            .spawn()
            .expect("service binary starts");
        let service = Service {
            child,
            address: format!("http://127.0.0.1:{port}"),
            log,
        };
        service.wait_ready().await;
        service
    }

    pub fn backend(&self) -> &'static str {
        if self.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }
}

impl Service {
    async fn wait_ready(&self) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let ok = client.get(format!("{}/health", self.address)).send().await;
            if ok.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the service did not start; its log:\n{}", read(&self.log));
    }

    /// SIGKILL: no shutdown hooks, no flushing, no draining.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL delivered");
        self.child.wait().expect("reaped");
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
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("bound address").port()
}

/// A PostgreSQL database for one test, dropped afterwards.
struct PgDb {
    url: String,
    admin_url: String,
    name: String,
}

impl PgDb {
    async fn create() -> Option<Self> {
        let admin_url = std::env::var("TEST_DATABASE_URL").ok()?;
        let name = format!("elicence_durability_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("TEST_DATABASE_URL reachable");
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let (base, query) = admin_url
            .split_once('?')
            .map_or((admin_url.as_str(), None), |(b, q)| (b, Some(q)));
        let prefix = base.rsplit_once('/').map_or(base, |(p, _)| p);
        let url = match query {
            Some(q) => format!("{prefix}/{name}?{q}"),
            None => format!("{prefix}/{name}"),
        };
        Some(Self {
            url,
            admin_url: admin_url.clone(),
            name,
        })
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop may run inside the test's runtime: use a thread with its own.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(&drop).execute(&mut conn).await;
                }
            });
        });
        let _ = done.join();
    }
}
