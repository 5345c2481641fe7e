//! A licence credential's shape (`domain::submission::licence::parse`), from bytes through the
//! strict reader, as the fixed issuer of `common.rs` submits it. What it accepts is coherent.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::crypto::strict_json;
use elicence::domain::identifiers::{LicenceId, Uscc};
use elicence::domain::submission::licence;

fuzz_target!(|data: &[u8]| {
    let Ok(vc) = strict_json::parse(data, common::MAX_JSON) else {
        return;
    };
    let issuer: Uscc = common::USCC.parse().expect("fixed USCC");
    let by = licence::Submitter {
        issuer: &issuer,
        issuer_did: common::DID,
        public_base: common::PUBLIC_BASE,
    };
    if let Ok(claims) = licence::parse(&vc, &by) {
        assert!(claims.valid_from < claims.valid_until);
        assert_eq!(claims.id.issuer(), &issuer);
        let again = LicenceId::from_urn(&claims.id.urn()).expect("its own URN parses");
        assert_eq!(again, claims.id);
        if let Some((previous, _)) = &claims.predecessor {
            assert_eq!(previous.base(), claims.id.base());
        }
    }
});
