//! One load phase of `bench verify`: pre-serialised requests posted round-robin from a fixed
//! number of workers for a fixed time on the lean keep-alive client of [`super::wire`], with
//! the latencies and, from /proc, the CPU the server and this generator used meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::wire;
use crate::cli::client::Registry;

/// What one load phase saw.
pub struct Phase {
    pub latencies: Vec<Duration>,
    pub errors: usize,
    pub first_error: Option<String>,
    pub seconds: f64,
    /// CPU seconds the server used during the phase (user + system), when its pid was given.
    pub server_cpu: Option<f64>,
    /// CPU seconds this load generator used during the phase: what it took from the server's
    /// two cores.
    pub client_cpu: Option<f64>,
}

/// User + system CPU seconds a local process has used so far (Linux /proc).
fn cpu_seconds(pid: Option<u32>) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid?)).ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Posts the bodies round-robin from `concurrency` workers for `duration`, each worker on its
/// own keep-alive connection of the lean load client ([`wire`]).
pub async fn load(
    registry: &Registry,
    path: &str,
    bodies: Vec<Vec<u8>>,
    concurrency: usize,
    duration: Duration,
    server_pid: Option<u32>,
) -> Phase {
    let base = registry.url("");
    let requests: Result<Vec<Vec<u8>>, _> = bodies
        .iter()
        .map(|b| wire::post_json(base.trim_end_matches('/'), path, b))
        .collect();
    let requests = match requests {
        Ok(r) => Arc::new(r),
        Err(e) => {
            return Phase {
                latencies: Vec::new(),
                errors: 1,
                first_error: Some(e.to_string()),
                seconds: 0.0,
                server_cpu: None,
                client_cpu: None,
            }
        }
    };
    let own_pid = Some(std::process::id());
    let cpu_before = cpu_seconds(server_pid);
    let own_before = cpu_seconds(own_pid);
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..concurrency.max(1))
        .map(|w| {
            let (requests, base) = (requests.clone(), base.clone());
            tokio::spawn(async move {
                let (mut ok, mut errors, mut first) = (Vec::new(), 0usize, None);
                let mut next = w;
                let mut connection = None;
                while Instant::now() < deadline {
                    let request = &requests[next % requests.len()];
                    next += concurrency.max(1);
                    let sent = Instant::now();
                    let outcome = match connection.take() {
                        Some(c) => Ok(c),
                        None => wire::Connection::open(base.trim_end_matches('/')).await,
                    };
                    let outcome = match outcome {
                        Ok(mut c) => match c.exchange(request).await {
                            Ok((status, _)) if (200..300).contains(&status) => {
                                connection = Some(c);
                                Ok(())
                            }
                            Ok((status, _)) => {
                                connection = Some(c);
                                Err(format!("HTTP {status}"))
                            }
                            Err(e) => Err(e.to_string()),
                        },
                        Err(e) => Err(e.to_string()),
                    };
                    match outcome {
                        Ok(()) => ok.push(sent.elapsed()),
                        Err(e) => {
                            errors += 1;
                            first.get_or_insert(e);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                }
                (ok, errors, first)
            })
        })
        .collect();
    let mut phase = Phase {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        seconds: 0.0,
        server_cpu: None,
        client_cpu: None,
    };
    for worker in workers {
        if let Ok((ok, errors, first)) = worker.await {
            phase.latencies.extend(ok);
            phase.errors += errors;
            phase.first_error = phase.first_error.or(first);
        }
    }
    phase.seconds = start.elapsed().as_secs_f64();
    phase.server_cpu = cpu_seconds(server_pid)
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    phase.client_cpu = cpu_seconds(own_pid)
        .zip(own_before)
        .map(|(after, before)| after - before);
    phase.latencies.sort();
    phase
}
