//! The provider's discovery document and JWKS as last read: fetched on first use (the provider
//! may start after the service), kept for at most [`DOCUMENTS_TTL`] (so a key the provider
//! withdrew stops being trusted within that time), and the JWKS read again on demand when a
//! token names a key it lacks.

use std::time::{Duration, Instant};

use openidconnect::{IssuerUrl, JsonWebKeySet, ProviderMetadataWithLogout};
use tokio::sync::Mutex;

use super::OidcError;

/// How long the discovery document and JWKS are trusted before being read again.
pub const DOCUMENTS_TTL: Duration = Duration::from_secs(60 * 60);

/// The cache. One lock: concurrent sign-ins wait for one fetch instead of each making one.
pub(super) struct Documents {
    issuer: IssuerUrl,
    ttl: Duration,
    cached: Mutex<Option<(Instant, ProviderMetadataWithLogout)>>,
}

impl Documents {
    pub(super) fn new(issuer: IssuerUrl) -> Self {
        Self {
            issuer,
            ttl: DOCUMENTS_TTL,
            cached: Mutex::new(None),
        }
    }

    pub(super) fn set_ttl(&mut self, ttl: Duration) {
        self.ttl = ttl;
    }

    /// The documents, read again when missing or older than the TTL. A failed read is an
    /// error, not a fallback to stale keys.
    pub(super) async fn current(
        &self,
        http: &reqwest::Client,
    ) -> Result<ProviderMetadataWithLogout, OidcError> {
        let mut cached = self.cached.lock().await;
        if let Some((read_at, metadata)) = cached.as_ref() {
            if read_at.elapsed() < self.ttl {
                return Ok(metadata.clone());
            }
        }
        let metadata = ProviderMetadataWithLogout::discover_async(self.issuer.clone(), http)
            .await
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        *cached = Some((Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    /// Reads the JWKS again (the provider may have rotated its keys); the discovery document
    /// keeps its age.
    pub(super) async fn refresh_keys(
        &self,
        http: &reqwest::Client,
        metadata: ProviderMetadataWithLogout,
    ) -> Result<ProviderMetadataWithLogout, OidcError> {
        let mut cached = self.cached.lock().await;
        let jwks = JsonWebKeySet::fetch_async(metadata.jwks_uri(), http)
            .await
            .map_err(|e| OidcError::Unavailable(e.to_string()))?;
        let metadata = metadata.set_jwks(jwks);
        let read_at = cached.as_ref().map_or_else(Instant::now, |(at, _)| *at);
        *cached = Some((read_at, metadata.clone()));
        Ok(metadata)
    }
}
