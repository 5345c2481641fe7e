//! Prometheus metrics: requests by route template and status, latency histograms, and the
//! database pool. The recorder is global, installed once per process.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// How often recorded histogram samples are folded into their buckets and summaries. The
/// recorder keeps every sample until then (or until `/metrics` is read): without upkeep a
/// service nobody scrapes grows by ~24 bytes a sample, about 1 MB a minute under load.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

/// The process-wide Prometheus handle, installing the recorder on first use.
pub fn handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("http_request_duration_seconds".into()),
                    LATENCY_BUCKETS,
                )
                // Invariant: the bucket list above is non-empty.
                .expect("non-empty buckets");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a host application); then our
            // handle still renders what we record through it only if ours won, so say so.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            spawn_upkeep(handle.clone());
            handle
        })
        .clone()
}

/// Folds recorded samples every [`UPKEEP_INTERVAL`] on a thread of its own, for as long as the
/// process lives (the recorder is process-wide, so is its upkeep; it needs no runtime).
fn spawn_upkeep(handle: PrometheusHandle) {
    let started = std::thread::Builder::new()
        .name("elicence-metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(UPKEEP_INTERVAL);
            handle.run_upkeep();
        });
    if let Err(e) = started {
        tracing::error!(error = %e, "metrics upkeep could not start: histograms will grow until /metrics is read");
    }
}

/// Middleware: counts requests and records latency, labelled by route template.
pub fn record<S, B>(
    req: ServiceRequest,
    srv: &S,
) -> impl Future<Output = Result<ServiceResponse<B>, actix_web::Error>> + use<S, B>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let start = Instant::now();
    let fut = srv.call(req);
    async move {
        let res = fut.await?;
        let route = res
            .request()
            .match_pattern()
            .unwrap_or_else(|| "unmatched".to_owned());
        let method = res.request().method().as_str().to_owned();
        let status = res.status().as_u16().to_string();
        metrics::counter!("http_requests_total", "route" => route.clone(), "method" => method.clone(), "status" => status)
            .increment(1);
        metrics::histogram!("http_request_duration_seconds", "route" => route, "method" => method)
            .record(start.elapsed().as_secs_f64());
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    /// The recorder keeps every histogram sample until upkeep folds it (found by the soak: a
    /// service nobody scraped grew ~1 MB a minute); installing it must start the upkeep.
    #[cfg(target_os = "linux")]
    #[test]
    fn installing_the_recorder_starts_its_upkeep() {
        super::handle();
        // Thread names are cut to 15 bytes in /proc; a new thread names itself once it runs.
        let running = || {
            std::fs::read_dir("/proc/self/task")
                .expect("this process's threads")
                .flatten()
                .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
                .any(|name| name.trim_end() == "elicence-metric")
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let mut upkeep = running();
        while !upkeep && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
            upkeep = running();
        }
        assert!(upkeep, "no metrics upkeep thread");
    }
}
