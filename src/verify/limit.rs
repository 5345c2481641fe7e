//! Per-client rate limits for anonymous verification: a GCRA bucket per client address
//! (`governor`), counted in licences so that a batch weighs what it costs.
//!
//! The default is [`DEFAULT_RATE`] licences per second with bursts of [`DEFAULT_BURST`];
//! `ELICENCE_VERIFY_RATE_LIMIT` overrides it as `<per second>` or `<per second>/<burst>`, and
//! `0` turns the limit off (for benchmarks on loopback).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Licences per second per client address, sustained.
pub const DEFAULT_RATE: u32 = 100;
/// Licences a client may verify at once before the rate applies (one full batch).
pub const DEFAULT_BURST: u32 = 1000;
/// The environment variable that overrides the default.
pub const RATE_ENV: &str = "ELICENCE_VERIFY_RATE_LIMIT";
/// Checks between sweeps of idle clients out of the table.
const SWEEP_EVERY: u64 = 10_000;

/// Rate limits per client address; `None` inside means no limit.
#[derive(Debug)]
pub struct ClientLimiter {
    limiter: RwLock<Option<Arc<Limiter>>>,
    checks: AtomicU64,
}

#[derive(Debug)]
struct Limiter {
    buckets: DefaultKeyedRateLimiter<IpAddr>,
    burst: NonZeroU32,
}

impl ClientLimiter {
    /// A limiter with `rate` licences per second and bursts of `burst`; `None` for no limit.
    pub fn new(limit: Option<(NonZeroU32, NonZeroU32)>) -> Self {
        let limiter = Self {
            limiter: RwLock::new(None),
            checks: AtomicU64::new(0),
        };
        limiter.set(limit);
        limiter
    }

    /// The limit from [`RATE_ENV`], else the default.
    pub fn from_env() -> Self {
        Self::new(parse_limit(std::env::var(RATE_ENV).ok().as_deref()))
    }

    /// Replaces the limit (tests tighten it; operators may relax it).
    pub fn set(&self, limit: Option<(NonZeroU32, NonZeroU32)>) {
        let next = limit.map(|(rate, burst)| {
            Arc::new(Limiter {
                buckets: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
                burst,
            })
        });
        if let Ok(mut slot) = self.limiter.write() {
            *slot = next;
        }
    }

    /// Takes `weight` licences from the client's bucket, or answers how long to wait.
    pub fn check(&self, client: IpAddr, weight: usize) -> Result<(), Duration> {
        let Some(limiter) = self.limiter.read().ok().and_then(|l| l.clone()) else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.buckets.retain_recent();
        }
        let weight = u32::try_from(weight)
            .unwrap_or(u32::MAX)
            .clamp(1, limiter.burst.get());
        let weight = NonZeroU32::new(weight).unwrap_or(NonZeroU32::MIN);
        match limiter.buckets.check_key_n(&client, weight) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            // Unreachable: the weight is capped at the burst.
            Err(_) => Err(Duration::from_secs(1)),
        }
    }
}

/// `<rate>` or `<rate>/<burst>`; `0` for no limit; anything unreadable gives the default.
fn parse_limit(text: Option<&str>) -> Option<(NonZeroU32, NonZeroU32)> {
    let default = NonZeroU32::new(DEFAULT_RATE).zip(NonZeroU32::new(DEFAULT_BURST));
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return default;
    };
    let (rate, burst) = text.split_once('/').unwrap_or((text, ""));
    match rate.trim().parse::<u32>() {
        Ok(0) => None,
        Ok(rate) => {
            let burst = burst
                .trim()
                .parse::<u32>()
                .unwrap_or(rate.max(DEFAULT_BURST));
            NonZeroU32::new(rate).zip(NonZeroU32::new(burst.max(1)))
        }
        Err(_) => {
            tracing::warn!("{RATE_ENV}={text:?} is not <per second>[/<burst>]; using the default");
            default
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).expect("non-zero")
    }

    #[test]
    fn limits_parse() {
        assert_eq!(parse_limit(None), Some((nz(100), nz(1000))));
        assert_eq!(parse_limit(Some("0")), None);
        assert_eq!(parse_limit(Some("50/5")), Some((nz(50), nz(5))));
        assert_eq!(parse_limit(Some("2000")), Some((nz(2000), nz(2000))));
        assert_eq!(parse_limit(Some("lots")), Some((nz(100), nz(1000))));
    }

    #[test]
    fn buckets_are_per_client_and_weighted() {
        let limiter = ClientLimiter::new(Some((nz(1), nz(3))));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        assert!(limiter.check(a, 2).is_ok());
        assert!(limiter.check(a, 1).is_ok());
        let wait = limiter.check(a, 1).expect_err("bucket empty");
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        assert!(
            limiter.check(b, 50).is_ok(),
            "weights are capped at the burst"
        );
        limiter.set(None);
        assert!(limiter.check(a, 1).is_ok());
    }
}
