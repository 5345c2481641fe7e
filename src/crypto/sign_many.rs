//! Ed25519 signatures of many messages by one key, with one field inversion for all of them.
//!
//! A signature (RFC 8032, section 5.1.6) is `R ‖ S` with `r = SHA-512(prefix ‖ M) mod ℓ`,
//! `R = [r]B` encoded, `k = SHA-512(R ‖ A ‖ M) mod ℓ` and `S = r + k·a mod ℓ`. Encoding `R`
//! takes its affine coordinates, one inversion modulo 2²⁵⁵ − 19 (about a quarter of a
//! signature's work); signing `n` messages together inverts all `n` denominators with one
//! inversion and `3(n − 1)` multiplications (`EdwardsPoint::compress_batch_alloc`). The
//! signatures are exactly `ed25519_dalek::SigningKey::sign`'s: Ed25519 is deterministic, and
//! the tests compare them byte for byte.
//!
//! curve25519-dalek 5 has the batched encoding; the rest of the project is on 4 (with
//! ed25519-dalek 2), so the two meet here only as bytes.

use curve25519_dalek_5::edwards::EdwardsPoint;
use curve25519_dalek_5::scalar::Scalar;
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

/// The signatures of `messages` by `key`, in order, as `key.sign(message).to_bytes()` gives
/// them one by one.
pub fn sign_many<M: AsRef<[u8]>>(key: &SigningKey, messages: &[M]) -> Vec<[u8; 64]> {
    // The expanded secret key (RFC 8032, 5.1.5): the clamped scalar and the nonce prefix.
    let seed = Zeroizing::new(key.to_bytes());
    let expanded = Zeroizing::new(<[u8; 64]>::from(Sha512::digest(*seed)));
    let mut lower = Zeroizing::new([0u8; 32]);
    lower.copy_from_slice(&expanded[..32]);
    lower[0] &= 248;
    lower[31] &= 127;
    lower[31] |= 64;
    let secret = Zeroizing::new(Scalar::from_bytes_mod_order(*lower));
    let prefix = &expanded[32..];
    let public = key.verifying_key().to_bytes();

    let nonces: Vec<Zeroizing<Scalar>> = messages
        .iter()
        .map(|m| {
            let hash = Zeroizing::new(<[u8; 64]>::from(
                Sha512::new()
                    .chain_update(prefix)
                    .chain_update(m)
                    .finalize(),
            ));
            Zeroizing::new(Scalar::from_bytes_mod_order_wide(&hash))
        })
        .collect();
    let points: Vec<EdwardsPoint> = nonces.iter().map(|r| EdwardsPoint::mul_base(r)).collect();
    let encoded = EdwardsPoint::compress_batch_alloc(&points);
    messages
        .iter()
        .zip(nonces.iter().zip(&encoded))
        .map(|(m, (r, big_r))| {
            let hash: [u8; 64] = Sha512::new()
                .chain_update(big_r.as_bytes())
                .chain_update(public)
                .chain_update(m)
                .finalize()
                .into();
            let k = Scalar::from_bytes_mod_order_wide(&hash);
            let s = k * *secret + **r;
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(big_r.as_bytes());
            signature[32..].copy_from_slice(s.as_bytes());
            signature
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::Signer as _;
    use rand::{Rng as _, RngCore as _};

    use super::*;

    #[test]
    fn each_signature_is_the_one_sign_gives() {
        let mut rng = rand::thread_rng();
        for n in [0usize, 1, 2, 3, 17, 64] {
            let key = SigningKey::generate(&mut rng);
            let messages: Vec<Vec<u8>> = (0..n)
                .map(|_| {
                    let mut m = vec![0u8; rng.gen_range(0..300)];
                    rng.fill_bytes(&mut m);
                    m
                })
                .collect();
            let many = sign_many(&key, &messages);
            assert_eq!(many.len(), n);
            for (m, s) in messages.iter().zip(&many) {
                assert_eq!(*s, key.sign(m).to_bytes(), "{n} messages");
                assert!(key
                    .verifying_key()
                    .verify_strict(m, &ed25519_dalek::Signature::from_bytes(s))
                    .is_ok());
            }
        }
    }

    #[test]
    fn the_rfc_8032_test_vector_signs_alike() {
        // RFC 8032, section 7.1, TEST 2.
        let secret =
            hex::decode("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb")
                .unwrap();
        let key = SigningKey::from_bytes(&secret.try_into().unwrap());
        let expected = "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da\
                        085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00";
        let signatures = sign_many(&key, &[[0x72u8]]);
        assert_eq!(hex::encode(signatures[0]), expected);
    }
}
