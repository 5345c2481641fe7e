//! The `EL1:` offline QR payload (`qr::decode_offline`: base45, raw DEFLATE with the preset
//! dictionary, the inflate limit, then the strict reader) and `qr::base45::decode`.
//!
//! The first byte picks how the rest is used: even, as the payload text itself; odd, as the
//! compressed bytes, which the target base45-encodes behind `EL1:` so that libFuzzer mutates
//! the DEFLATE stream directly (through base45 almost every mutation is a base45 error).
//! Either way the inflated document may not pass the limit (checked against its canonical
//! form, which is never longer than the accepted inflated bytes are limited to... so the
//! target checks the limit with a small `max_inflated` too).
#![no_main]
use libfuzzer_sys::fuzz_target;

use elicence::crypto::jcs;
use elicence::qr::{self, base45, QrError, DEFAULT_MAX_INFLATED, OFFLINE_PREFIX};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let payload = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        if let Ok(bytes) = base45::decode(text) {
            assert_eq!(base45::decode(&base45::encode(&bytes)).expect("round trip"), bytes);
        }
        text.to_owned()
    } else {
        format!("{OFFLINE_PREFIX}{}", base45::encode(rest))
    };
    // A small limit (0..=255 bytes from the mode byte) and the service's default.
    let small = usize::from(mode);
    for limit in [small, DEFAULT_MAX_INFLATED] {
        match qr::decode_offline(&payload, limit) {
            Ok(value) => {
                // Whitespace and key order aside, the document fits: its canonical form is
                // never longer than the inflated text by more than its escapes, so bound it
                // loosely by 6 × the limit (`\u00xx` for one byte).
                assert!(jcs::canonicalize(&value).len() <= 6 * limit + 8);
            }
            Err(QrError::TooLarge { limit: l }) => assert_eq!(l, limit),
            Err(_) => {}
        }
    }
});
