//! The state one service instance shares with every request: settings, the store, keys, the
//! write path and the verifier. Built by [`crate::startup`]; read by routes, extractors and pages,
//! which therefore depend on this module and not on start-up.

use std::sync::Arc;

use crate::config::Settings;
use crate::crypto::keys::KeyPair;
use crate::storage::Store;
use crate::submissions::intake::Intake;

/// Shared, read-only state of one service instance.
pub struct AppState {
    pub settings: Settings,
    pub store: Arc<dyn Store>,
    /// SHA-256 of the operator token; the token itself is not kept.
    pub admin_token_hash: [u8; 32],
    /// The registry's own signing key (checkpoints, receipts, trust bundles).
    pub registry_key: KeyPair,
    /// The key `POST /credentials/issue` signs with (interoperability testing only, never
    /// licences); its DID is the bare `did:key` of its Multikey.
    pub vcapi_key: KeyPair,
    /// SHA-256 of the VC-API client token, when one is configured.
    pub vcapi_client_hash: Option<[u8; 32]>,
    /// Per-client rate limit of `POST /credentials/issue`.
    pub vcapi_limiter: crate::verify::limit::ClientLimiter,
    /// The write path: submission checks and this instance's sequencer.
    pub intake: Intake,
    /// Verification: the cached registry view and per-client rate limits.
    pub verifier: Arc<crate::verify::cache::RegistryCache>,
    pub verify_limiter: crate::verify::limit::ClientLimiter,
    /// The last signed trust bundle.
    pub bundle: crate::bundle::BundleCache,
    /// The OpenID Connect relying party holders sign in through, when configured.
    pub oidc: Option<crate::oidc::Oidc>,
}
