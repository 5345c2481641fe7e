//! The submission envelope (`domain::submission::Envelope::parse`) and its items
//! (`item_kind`, `licence::parse`, `status::parse`), from bytes through the strict reader.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::crypto::strict_json;
use elicence::domain::identifiers::Uscc;
use elicence::domain::submission::{item_kind, licence, status, Envelope};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = strict_json::parse(data, common::MAX_JSON) else {
        return;
    };
    let Ok(envelope) = Envelope::parse(value, common::HOST) else {
        return;
    };
    assert!(envelope.sequence >= 1);
    assert_eq!(envelope.previous.is_none(), envelope.sequence == 1);
    // The envelope's own digest comes with its proof check; the one it names is a digest.
    assert!(envelope.previous.as_deref().is_none_or(|p| p.starts_with("uEi")));
    let items = envelope.items();
    assert!(!items.is_empty());
    let by = licence::Submitter {
        issuer: &envelope.issuer,
        issuer_did: &envelope.issuer_did,
        public_base: common::PUBLIC_BASE,
    };
    let _: &Uscc = by.issuer;
    for item in items {
        match item_kind(item) {
            Ok(("licence", vc)) => {
                let _ = licence::parse(vc, &by);
            }
            Ok((_, change)) => {
                let _ = status::parse(change);
            }
            Err(_) => {}
        }
    }
});
