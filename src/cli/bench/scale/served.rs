//! What the filled registry costs when served: the database's bytes per licence, and the
//! service itself (`serve`, a child process over the same database) — inclusion proofs and
//! verifications through HTTP, and its resident memory after serving the bundle, every status
//! list, the proofs and the verifications.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::{json, Value};
use sqlx::Connection as _;

use super::{median, ms, PUBLIC_BASE};
use crate::cli::bench::service::{scratch, DataDir};

/// The database's size in bytes: SQLite's pages in use after a WAL checkpoint, PostgreSQL's
/// `pg_database_size`.
pub async fn database_bytes(url: &str) -> anyhow::Result<u64> {
    let bytes: i64 = if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut conn)
            .await?;
        sqlx::query_scalar(
            "SELECT (p.page_count - f.freelist_count) * s.page_size \
             FROM pragma_page_count() p, pragma_freelist_count() f, pragma_page_size() s",
        )
        .fetch_one(&mut conn)
        .await?
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        sqlx::query_scalar("SELECT pg_database_size(current_database())")
            .fetch_one(&mut conn)
            .await?
    };
    u64::try_from(bytes).context("a size")
}

/// The largest tables and their indexes, bytes each (PostgreSQL; SQLite only when built with
/// the `dbstat` table, else nothing).
pub async fn table_bytes(url: &str) -> anyhow::Result<Vec<(String, i64)>> {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        let rows = sqlx::query_as(
            "SELECT name, SUM(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 12",
        )
        .fetch_all(&mut conn)
        .await;
        return Ok(rows.unwrap_or_default());
    }
    let mut conn = sqlx::PgConnection::connect(url).await?;
    Ok(sqlx::query_as(
        "SELECT relname::text, pg_total_relation_size(c.oid) AS bytes FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY bytes DESC LIMIT 12",
    )
    .fetch_all(&mut conn)
    .await?)
}

/// Starts the service over the filled database and reports its figures.
pub async fn service_figures(
    database_url: &str,
    licences: &[Value],
    samples: usize,
) -> anyhow::Result<()> {
    let root = scratch("elicence-scale");
    let mut data = DataDir::new(root.clone(), database_url.to_owned())?;
    // The licences were issued under the bench's did:web host.
    let service = data
        .start_with(&[("ELICENCE_PUBLIC_URL", PUBLIC_BASE)])
        .await?;
    let base = service.address.clone();
    let http = reqwest::Client::new();
    let get = |path: String| {
        let http = http.clone();
        let url = format!("{base}{path}");
        async move {
            let response = http
                .get(&url)
                .header("accept", "application/json")
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            let body = response.bytes().await?;
            serde_json::from_slice::<Value>(&body).with_context(|| {
                format!(
                    "{url}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(200)])
                )
            })
        }
    };
    let bundle = get("/v1/trust-bundle".into()).await?;
    let lists = bundle["statusLists"].as_array().context("statusLists")?;
    for list in lists {
        let url = list["url"].as_str().context("a list URL")?;
        get(url.trim_start_matches(PUBLIC_BASE).to_owned()).await?;
    }
    let size = get("/v1/log/checkpoint".into()).await?["size"]
        .as_u64()
        .context("a log size")?;
    let mut proofs = Vec::with_capacity(samples);
    for i in 0..samples as u64 {
        // Leaves spread over the whole log.
        let index = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) % size;
        let t = Instant::now();
        get(format!("/v1/log/proof/inclusion?index={index}&size={size}")).await?;
        proofs.push(t.elapsed());
    }
    // Some of the real licences are among the 1 % revoked and 1 % suspended.
    let (mut verifications, mut verified) = (Vec::with_capacity(samples), 0);
    for i in 0..samples {
        let t = Instant::now();
        let response = http
            .post(format!("{base}/v1/verify"))
            .json(&json!({"credential": licences[i % licences.len()]}))
            .send()
            .await?;
        anyhow::ensure!(
            response.status().is_success(),
            "verify: {}",
            response.status()
        );
        let answer: Value = response.json().await?;
        anyhow::ensure!(
            answer["checks"].is_array(),
            "a verification answer: {answer}"
        );
        verified += usize::from(answer["verified"] == true);
        verifications.push(t.elapsed());
    }
    let (rss, peak) = memory(service.pid())?;
    println!(
        "| inclusion proof through HTTP, p50 / p99 ({samples} leaves over the whole log) | {:.2} / {:.2} ms |",
        ms(median(&mut proofs)),
        ms(percentile(&mut proofs, 99))
    );
    println!(
        "| `POST /v1/verify` one at a time, p50 / p99 ({samples}, {verified} verified) | {:.2} / {:.2} ms |",
        ms(median(&mut verifications)),
        ms(percentile(&mut verifications, 99))
    );
    println!(
        "| service RSS after the bundle, {} lists, the proofs and verifications (peak) | {:.0} MB ({:.0} MB) |",
        lists.len(),
        rss as f64 / 1e6,
        peak as f64 / 1e6
    );
    drop(service);
    let _ = std::fs::remove_dir_all(root);
    Ok(())
}

fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort();
    times[(times.len() * p / 100).min(times.len() - 1)]
}

/// A process's resident and peak resident memory, bytes (Linux `/proc`).
fn memory(pid: u32) -> anyhow::Result<(u64, u64)> {
    use crate::cli::bench::soak_report::status_kb;
    Ok((
        status_kb(pid, "VmRSS")? * 1024,
        status_kb(pid, "VmHWM")? * 1024,
    ))
}
