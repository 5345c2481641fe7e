//! The offline QR payloads, `EL1:` and `EL2:` (`qr::decode_payload`: base45, the `EL2:`
//! registration receipt, raw DEFLATE with the preset dictionary, the inflate limit, then the
//! strict reader) and `qr::base45::decode`.
//!
//! The first byte picks how the rest is used: as the payload text itself; as the compressed
//! bytes, which the target base45-encodes behind `EL1:` so that libFuzzer mutates the DEFLATE
//! stream directly (through base45 almost every mutation is a base45 error); or as receipt
//! bytes and compressed bytes behind `EL2:`. Memory: libFuzzer's -malloc_limit_mb fails the
//! run on any allocation past it, so an inflate that ignored its limit would show.
#![no_main]
use libfuzzer_sys::fuzz_target;

use elicence::crypto::jcs;
use elicence::log::registration;
use elicence::qr::{
    self, base45, QrError, DEFAULT_MAX_INFLATED, OFFLINE_PREFIX, REGISTERED_PREFIX,
};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let payload = match mode % 3 {
        0 => {
            let Ok(text) = std::str::from_utf8(rest) else {
                return;
            };
            if let Ok(bytes) = base45::decode(text) {
                assert_eq!(base45::decode(&base45::encode(&bytes)).expect("round trip"), bytes);
            }
            text.to_owned()
        }
        1 => format!("{OFFLINE_PREFIX}{}", base45::encode(rest)),
        _ => format!("{REGISTERED_PREFIX}{}", base45::encode(rest)),
    };
    // The service's limit, and a small one (0..=255 bytes, from the mode byte): the limit only
    // ever refuses more, and what both accept is the same document.
    let small = usize::from(mode);
    let full = qr::decode_payload(&payload, DEFAULT_MAX_INFLATED);
    if let Ok(decoded) = &full {
        if let Some(receipt) = &decoded.registration {
            // A receipt read is the receipt's bytes: the payload's first 85 after base45.
            assert!(mode % 3 == 2 || payload.starts_with(REGISTERED_PREFIX));
            if mode % 3 == 2 {
                assert_eq!(&receipt.to_bytes()[..], &rest[..registration::LEN]);
            }
        }
    }
    match qr::decode_payload(&payload, small) {
        Ok(value) => {
            assert_eq!(
                full.as_ref().ok().map(|p| &p.credential),
                Some(&value.credential)
            );
            // Whatever the JSON, its canonical form fits in a few times the limit.
            assert!(jcs::canonicalize(&value.credential).len() <= 8 * small + 8);
        }
        Err(QrError::TooLarge { limit }) => assert_eq!(limit, small),
        Err(_) => {}
    }
    if let Err(QrError::TooLarge { limit }) = full {
        assert_eq!(limit, DEFAULT_MAX_INFLATED);
    }
});
