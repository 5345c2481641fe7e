//! The `status`, `registered` and `chain` checks of an offline answer, from what the status
//! lists and the licence's registration receipt say.

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;
use serde_json::json;

use crate::crypto::digest::parse_multibase_sha256;
use crate::domain::licence::LicenceState;
use crate::log::registration::Registration;
use crate::verify::checks::state_code;
use crate::verify::{time, Check};

/// A registration receipt to check against the credential's digest
/// (`docs/offline.md`, "Registration receipts").
#[derive(Debug, Clone, Copy)]
pub struct ReceiptToCheck<'a> {
    pub receipt: Registration,
    /// The pinned registry key.
    pub key: &'a VerifyingKey,
    /// The log's origin.
    pub origin: &'a str,
    /// The credential digest for which the receipt's signature already verified, right after
    /// the credential's own ([`verify_offline`]); the check then only compares digests.
    pub verified_for: Option<[u8; 32]>,
}

/// What the lists and the receipt say about one credential, turned into the `status`,
/// `registered` and `chain` checks (called by the engine for [`LicenceLookup::AsOf`]).
pub(in crate::verify) struct Facts<'a> {
    pub state: Option<LicenceState>,
    pub superseded: Option<bool>,
    pub receipt: Option<ReceiptToCheck<'a>>,
    pub as_of: DateTime<Utc>,
}

impl Facts<'_> {
    /// `digest` is the credential's multibase digest, which a receipt must be signed for.
    pub(in crate::verify) fn checks(&self, digest: &str) -> Vec<Check> {
        let as_of = time(self.as_of);
        let status = match (self.state, self.superseded) {
            (None, _) => Check::new("status", false, "status_unknown"),
            (Some(LicenceState::Active), Some(true)) => Check::new("status", false, "superseded"),
            (Some(LicenceState::Active), _) => Check::new("status", true, "active"),
            (Some(other), _) => Check::new("status", false, state_code(other)),
        };
        let raw = parse_multibase_sha256(digest).ok();
        let registered = match (&self.receipt, raw) {
            (None, _) => Check::new("registered", false, "not_registered").with(json!({
                "asOf": as_of, "reason": "the licence came without a registration receipt",
            })),
            (Some(r), Some(raw))
                if r.verified_for == Some(raw)
                    || r.receipt.verify(r.key, r.origin, &raw).is_ok() =>
            {
                Check::new("registered", true, "registered").with(json!({
                    "asOf": as_of, "leafIndex": r.receipt.leaf_index,
                    "acceptedAt": r.receipt.accepted_at().map(time),
                }))
            }
            (Some(_), _) => {
                Check::new("registered", false, "receipt_invalid").with(json!({"asOf": as_of}))
            }
        };
        let chain = match self.superseded {
            Some(false) => Check::new("chain", true, "head"),
            Some(true) => Check::new("chain", false, "superseded"),
            None => Check::new("chain", true, "unknown_as_of_bundle"),
        };
        vec![
            status.with(json!({"asOf": as_of})),
            registered,
            chain.with(json!({"asOf": as_of})),
        ]
    }
}
