//! The strict JSON reader (`crypto::strict_json::parse`): never panics, and whatever it accepts
//! serde_json accepts too, as the same value (it only refuses more: duplicate keys, budgets).
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

use elicence::crypto::strict_json::{self, StrictJsonError};

fuzz_target!(|data: &[u8]| {
    match strict_json::parse(data, common::MAX_JSON) {
        Ok(value) => {
            let plain: serde_json::Value =
                serde_json::from_slice(data).expect("serde_json accepts what the strict reader does");
            assert_eq!(plain, value);
            // Its own output parses back to the same value (or is refused as too complex: the
            // compact form is shorter, so its budget is smaller).
            let again = serde_json::to_vec(&value).expect("serialises");
            match strict_json::parse(&again, usize::MAX) {
                Ok(reread) => assert_eq!(reread, value),
                Err(e) => assert!(matches!(e, StrictJsonError::TooComplex { .. }), "{e}"),
            }
        }
        Err(StrictJsonError::TooLarge { .. }) => unreachable!("inputs are below the limit"),
        Err(StrictJsonError::Syntax(message)) => assert!(message.chars().count() <= 200),
        Err(StrictJsonError::DuplicateKey { key, .. }) => assert!(key.chars().count() <= 70),
        Err(_) => {}
    }
    // A limit below the input's length always refuses it.
    if !data.is_empty() {
        assert!(matches!(
            strict_json::parse(data, data.len() - 1),
            Err(StrictJsonError::TooLarge { .. })
        ));
    }
});
