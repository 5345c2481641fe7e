//! SHA-256 digests and their multibase form: `u` + base64url-no-pad of the
//! multihash (0x12 = sha2-256, 0x20 = 32 bytes, digest), which starts `uEi`.
//! Digests of JSON values are taken over their JCS canonical form.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::crypto::jcs;

/// Multihash header for a 32-byte sha2-256 digest.
const MULTIHASH_SHA256: [u8; 2] = [0x12, 0x20];

/// Why a multibase digest string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// The string does not start with the base64url multibase prefix `u`.
    #[error("digest must start with the base64url multibase prefix 'u'")]
    MissingMultibasePrefix,
    /// The characters after `u` are not unpadded base64url.
    #[error("digest is not valid unpadded base64url")]
    Base64,
    /// The multihash is not a 32-byte sha2-256 digest.
    #[error("digest is not a sha2-256 multihash")]
    NotSha256,
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// SHA-256 of `bytes` as a multibase multihash string (`uEi…`).
pub fn multibase_sha256(bytes: &[u8]) -> String {
    multibase_of(&sha256(bytes))
}

/// A SHA-256 digest already computed, as a multibase multihash (`uEi…`).
pub fn multibase_of(digest: &[u8; 32]) -> String {
    let mut multihash = [0u8; 34];
    multihash[..2].copy_from_slice(&MULTIHASH_SHA256);
    multihash[2..].copy_from_slice(digest);
    let mut out = String::with_capacity(47);
    out.push('u');
    URL_SAFE_NO_PAD.encode_string(multihash, &mut out);
    out
}

/// Multibase SHA-256 of the JCS canonical form of `value`.
pub fn digest_value(value: &Value) -> String {
    multibase_sha256(&jcs::canonicalize(value))
}

/// Parses a multibase sha2-256 multihash string back to the 32-byte digest.
pub fn parse_multibase_sha256(s: &str) -> Result<[u8; 32], DigestError> {
    let encoded = s
        .strip_prefix('u')
        .ok_or(DigestError::MissingMultibasePrefix)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(encoded)
        .map_err(|_| DigestError::Base64)?;
    bytes
        .strip_prefix(&MULTIHASH_SHA256)
        .and_then(|digest| <[u8; 32]>::try_from(digest).ok())
        .ok_or(DigestError::NotSha256)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sha256_known_answer() {
        // FIPS 180-2 "abc".
        assert_eq!(
            hex::encode(sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn multibase_form_round_trips() {
        let encoded = multibase_sha256(b"abc");
        assert!(encoded.starts_with("uEi"), "{encoded}");
        assert_eq!(encoded, "uEiC6eBa_jwHP6kFBQN5driIjsANho5YXepy0EP9h8gAVrQ");
        assert_eq!(parse_multibase_sha256(&encoded).unwrap(), sha256(b"abc"));
    }

    #[test]
    fn digest_value_hashes_the_canonical_form() {
        let a: Value = serde_json::from_str(r#"{ "b": 1.0, "a": [true] }"#).unwrap();
        assert_eq!(digest_value(&a), multibase_sha256(br#"{"a":[true],"b":1}"#));
        assert_eq!(
            digest_value(&a),
            digest_value(&json!({"a": [true], "b": 1}))
        );
    }

    #[test]
    fn refuses_malformed_digests() {
        let good = multibase_sha256(b"x");
        let sha512ish = format!(
            "u{}",
            URL_SAFE_NO_PAD.encode([[0x13, 0x20].as_slice(), &[0; 32]].concat())
        );
        let short = format!(
            "u{}",
            URL_SAFE_NO_PAD.encode([[0x12, 0x20].as_slice(), &[0; 31]].concat())
        );
        let cases = [
            (&good[1..], DigestError::MissingMultibasePrefix),
            ("u!!", DigestError::Base64),
            (&format!("{good}="), DigestError::Base64),
            (sha512ish.as_str(), DigestError::NotSha256),
            (short.as_str(), DigestError::NotSha256),
            ("u", DigestError::NotSha256),
        ];
        for (input, expected) in cases {
            assert_eq!(
                parse_multibase_sha256(input).unwrap_err(),
                expected,
                "{input}"
            );
        }
    }
}
