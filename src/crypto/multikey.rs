//! Multikey strings for Ed25519 keys (W3C Controlled Identifiers, "Multikey"):
//! `z` + base58btc(multicodec prefix ‖ 32 key bytes). Public keys use the
//! `ed25519-pub` prefix 0xed 0x01 and so start `z6Mk`; private keys use
//! `ed25519-priv` 0x80 0x26 and start `z3u2`. Also resolves `did:key` URLs.

use ed25519_dalek::{SigningKey, VerifyingKey, PUBLIC_KEY_LENGTH, SECRET_KEY_LENGTH};
use zeroize::Zeroizing;

/// Multicodec varint for `ed25519-pub`.
const ED25519_PUB: [u8; 2] = [0xed, 0x01];
/// Multicodec varint for `ed25519-priv`.
const ED25519_PRIV: [u8; 2] = [0x80, 0x26];

/// Why a Multikey or `did:key` string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultikeyError {
    /// The string does not start with the base58btc multibase prefix `z`.
    #[error("multikey must start with the base58btc multibase prefix 'z'")]
    MissingMultibasePrefix,
    /// The characters after `z` are not base58btc.
    #[error("multikey is not valid base58btc")]
    Base58,
    /// The multicodec prefix is not the expected Ed25519 one.
    #[error("multikey is not an Ed25519 key of the expected kind")]
    UnsupportedCodec,
    /// The key is not 32 bytes long.
    #[error("multikey holds {len} key bytes, expected 32")]
    WrongLength {
        /// Number of key bytes after the prefix.
        len: usize,
    },
    /// The bytes are not a usable Ed25519 public key (not a curve point, or
    /// of small order).
    #[error("multikey is not a valid Ed25519 public key")]
    InvalidKey,
    /// The verification method is not a `did:key` URL.
    #[error("verification method is not a did:key URL")]
    NotDidKey,
    /// The `did:key` fragment names a different key than the DID.
    #[error("did:key fragment does not match the key")]
    FragmentMismatch,
}

/// Encodes a public key as a Multikey string (`z6Mk…`).
pub fn encode(key: &VerifyingKey) -> String {
    let mut bytes = Vec::with_capacity(ED25519_PUB.len() + PUBLIC_KEY_LENGTH);
    bytes.extend_from_slice(&ED25519_PUB);
    bytes.extend_from_slice(key.as_bytes());
    format!("z{}", bs58::encode(bytes).into_string())
}

/// Decodes a Multikey public key, refusing anything but a valid Ed25519 key.
pub fn decode(s: &str) -> Result<VerifyingKey, MultikeyError> {
    let bytes = decode_payload(s, &ED25519_PUB)?;
    let bytes: [u8; PUBLIC_KEY_LENGTH] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| MultikeyError::WrongLength { len: bytes.len() })?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| MultikeyError::InvalidKey)?;
    if key.is_weak() {
        return Err(MultikeyError::InvalidKey);
    }
    Ok(key)
}

/// Decodes a Multikey private key (`z3u2…`, multicodec `ed25519-priv`), as
/// published in the W3C test vectors.
pub fn decode_private(s: &str) -> Result<SigningKey, MultikeyError> {
    let bytes = Zeroizing::new(decode_payload(s, &ED25519_PRIV)?);
    let secret: &[u8; SECRET_KEY_LENGTH] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| MultikeyError::WrongLength { len: bytes.len() })?;
    Ok(SigningKey::from_bytes(secret))
}

/// Resolves a `did:key:z6Mk…` or `did:key:z6Mk…#z6Mk…` verification method to
/// its key. When a fragment is present it must equal the method-specific id.
pub fn resolve_did_key(verification_method: &str) -> Result<VerifyingKey, MultikeyError> {
    let rest = verification_method
        .strip_prefix("did:key:")
        .ok_or(MultikeyError::NotDidKey)?;
    let (id, fragment) = match rest.split_once('#') {
        Some((id, fragment)) => (id, Some(fragment)),
        None => (rest, None),
    };
    if fragment.is_some_and(|fragment| fragment != id) {
        return Err(MultikeyError::FragmentMismatch);
    }
    decode(id)
}

/// Strips `z`, decodes base58btc and checks and strips the multicodec prefix.
fn decode_payload(s: &str, codec: &[u8; 2]) -> Result<Vec<u8>, MultikeyError> {
    let encoded = s
        .strip_prefix('z')
        .ok_or(MultikeyError::MissingMultibasePrefix)?;
    let mut bytes = bs58::decode(encoded)
        .into_vec()
        .map_err(|_| MultikeyError::Base58)?;
    if !bytes.starts_with(codec) {
        zeroize::Zeroize::zeroize(&mut bytes);
        return Err(MultikeyError::UnsupportedCodec);
    }
    bytes.drain(..codec.len());
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const W3C_PUBLIC: &str = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";

    fn key_pair() -> Value {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/vectors/vc-di-eddsa/keyPair.json"
        );
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    fn raw(prefix: &[u8], body: &[u8]) -> String {
        format!("z{}", bs58::encode([prefix, body].concat()).into_string())
    }

    #[test]
    fn w3c_private_key_derives_w3c_public_key() {
        let pair = key_pair();
        let signing = decode_private(pair["privateKeyMultibase"].as_str().unwrap()).unwrap();
        let public = pair["publicKeyMultibase"].as_str().unwrap();
        assert_eq!(public, W3C_PUBLIC);
        assert_eq!(encode(&signing.verifying_key()), public);
        assert_eq!(decode(public).unwrap(), signing.verifying_key());
    }

    #[test]
    fn round_trips_and_starts_z6mk() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let encoded = encode(&key);
        assert!(encoded.starts_with("z6Mk"), "{encoded}");
        assert_eq!(decode(&encoded).unwrap(), key);
    }

    #[test]
    fn refuses_malformed_multikeys() {
        let key = *decode(W3C_PUBLIC).unwrap().as_bytes();
        let cases = [
            (&W3C_PUBLIC[1..], MultikeyError::MissingMultibasePrefix),
            ("u7QE", MultikeyError::MissingMultibasePrefix),
            ("z6Mk0OIl", MultikeyError::Base58),
            (&raw(&[0xec, 0x01], &key), MultikeyError::UnsupportedCodec),
            (&raw(&ED25519_PRIV, &key), MultikeyError::UnsupportedCodec),
            (&raw(&[], &key), MultikeyError::UnsupportedCodec),
            (
                &raw(&ED25519_PUB, &key[..31]),
                MultikeyError::WrongLength { len: 31 },
            ),
            (
                &raw(&ED25519_PUB, &[key.as_slice(), &[0]].concat()),
                MultikeyError::WrongLength { len: 33 },
            ),
            ("z", MultikeyError::UnsupportedCodec),
        ];
        for (input, expected) in cases {
            assert_eq!(decode(input).unwrap_err(), expected, "{input}");
        }
    }

    #[test]
    fn refuses_invalid_and_small_order_points() {
        // y = 2 is not on the curve; the identity (y = 1) has small order.
        let mut not_on_curve = [0u8; 32];
        not_on_curve[0] = 2;
        let mut identity = [0u8; 32];
        identity[0] = 1;
        for bytes in [not_on_curve, identity] {
            assert_eq!(
                decode(&raw(&ED25519_PUB, &bytes)).unwrap_err(),
                MultikeyError::InvalidKey
            );
        }
    }

    #[test]
    fn resolves_did_key_with_and_without_fragment() {
        let expected = decode(W3C_PUBLIC).unwrap();
        let did = format!("did:key:{W3C_PUBLIC}");
        assert_eq!(resolve_did_key(&did).unwrap(), expected);
        assert_eq!(
            resolve_did_key(&format!("{did}#{W3C_PUBLIC}")).unwrap(),
            expected
        );
    }

    #[test]
    fn refuses_bad_did_key_urls() {
        let other = encode(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        let did = format!("did:key:{W3C_PUBLIC}");
        assert_eq!(
            resolve_did_key(&format!("{did}#{other}")).unwrap_err(),
            MultikeyError::FragmentMismatch
        );
        assert_eq!(
            resolve_did_key(&format!("{did}#")).unwrap_err(),
            MultikeyError::FragmentMismatch
        );
        assert_eq!(
            resolve_did_key(W3C_PUBLIC).unwrap_err(),
            MultikeyError::NotDidKey
        );
        assert_eq!(
            resolve_did_key(&format!("did:web:example.com#{W3C_PUBLIC}")).unwrap_err(),
            MultikeyError::NotDidKey
        );
    }
}
