//! Public and private keys from outside: `crypto::keys::parse_public_key` (Multikey or SPKI
//! PEM), `KeyPair::from_pkcs8_pem`, `multikey::decode`, `decode_private`, `resolve_did_key`.
#![no_main]
use libfuzzer_sys::fuzz_target;

use elicence::crypto::keys::{parse_public_key, KeyPair};
use elicence::crypto::multikey;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = parse_public_key(text) {
        assert!(!key.is_weak());
        assert_eq!(parse_public_key(&multikey::encode(&key)).expect("own Multikey"), key);
    }
    if let Ok(key) = multikey::decode(text) {
        assert_eq!(multikey::encode(&key), text, "one spelling per key");
    }
    let _ = multikey::decode_private(text);
    if let Ok(key) = multikey::resolve_did_key(text) {
        assert!(text.contains(&multikey::encode(&key)));
    }
    if let Ok(pair) = KeyPair::from_pkcs8_pem(text) {
        let again = KeyPair::from_pkcs8_pem(&pair.to_pkcs8_pem()).expect("own PEM");
        assert_eq!(again.verifying_key(), pair.verifying_key());
    }
});
