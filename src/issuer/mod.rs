//! The issuer's side of the registry, with no HTTP: build and sign licences (W3C VC 2.0 with
//! an `eddsa-jcs-2022` proof), status-change items, submission envelopes that extend the
//! issuer's hash chain, and the small state file that remembers the chain head between runs.
//!
//! The CLI (`elicence issuer …`, `elicence bench submit`) is a thin layer over this module; a
//! third-party issuer system can link it instead and produce exactly the same bytes.

mod chain;
mod envelope;
mod licence;
mod status;

pub use chain::{ChainError, ChainState, StatusCounters};
pub use envelope::{build_envelope, item_from_document, EnvelopeError};
pub use licence::{
    add_status, build_licence, sign_licence, LicenceDraft, LicenceError, VC_CONTEXT,
};
pub use status::status_change;

use crate::crypto::keys::KeyPair;
use crate::domain::identifiers::Uscc;
use crate::domain::issuer::issuer_did;

/// The registry DID of the issuer `uscc` for a registry at `public_url`
/// (`did:web:<host>:issuers:<USCC>`), or `None` when the URL has no usable host.
pub fn did_for(public_url: &str, uscc: &Uscc) -> Option<String> {
    crate::config::did_web_host(public_url).map(|host| issuer_did(&host, uscc))
}

/// The verification method naming `key` in the DID document of `did`: `<did>#<multikey>`.
pub fn verification_method(did: &str, key: &KeyPair) -> String {
    format!("{did}#{}", key.multikey())
}

/// The USCC at the end of a registry issuer DID (`…:issuers:<USCC>`), whatever the host.
pub fn uscc_of_did(did: &str) -> Option<Uscc> {
    did.rsplit_once(":issuers:")?.1.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_and_uscc_round_trip() {
        let uscc: Uscc = "11220000013544541J".parse().expect("vector USCC");
        let did = did_for("http://127.0.0.1:8080/", &uscc).expect("host");
        assert_eq!(did, "did:web:127.0.0.1%3A8080:issuers:11220000013544541J");
        assert_eq!(uscc_of_did(&did), Some(uscc));
        assert_eq!(uscc_of_did("did:web:example"), None);
    }
}
