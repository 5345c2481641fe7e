//! Ed25519 batch verification with the terms of each shared key combined.
//!
//! A batch checks one random linear combination of the signature equations
//! `[s_i]B = R_i + [h_i]A_i` (with `h_i = SHA-512(R_i ‖ A_i ‖ M_i) mod ℓ`) instead of each:
//!
//! ```text
//! [−Σ z_i s_i] B + Σ [z_i] R_i + Σ_keys [Σ_{i: A_i = A} z_i h_i] A  =  identity
//! ```
//!
//! with independent random 128-bit `z_i` (the first `z` is 1). `ed25519_dalek::verify_batch`
//! gives every signature its own `A_i` term; here signatures by one key share one, so a batch
//! of `n` signatures by `k` keys is a multiscalar multiplication over `n + k` points (the
//! first `R` is added after it) instead of `1 + 2n`. In a registry most signatures in a batch
//! come from a few issuers, which is where this pays. The base point, and keys a verifier
//! meets in every batch ([`FixedKeys`]), use tables computed once.
//!
//! Each signature must meet what [`VerifyingKey::verify_strict`] asks before it enters the
//! equation: `s` canonical, `R` a valid point not of small order, the key not weak. The
//! equation is cofactorless, as `ed25519_dalek::verify_batch`'s: a batch of signatures that
//! each pass `verify_strict` always passes, and a batch with one that does not fails but with
//! negligible probability (or, for an `R` crafted by the key's own holder with a torsion
//! component, with probability at most 1/2; such a credential was never accepted by intake,
//! which verifies strictly, so it also fails `registered`). A caller that needs to know which
//! signature failed verifies them one by one after a failed batch.

use std::iter::once;
use std::sync::LazyLock;

use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint, VartimeEdwardsPrecomputation};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{
    IsIdentity, VartimeMultiscalarMul, VartimePrecomputedMultiscalarMul,
};
use ed25519_dalek::{Signature, VerifyingKey};
use rand::RngCore;
use sha2::{Digest, Sha512};

/// Signatures per batch in [`verify_each`]: past 256 the gain flattens while a single bad
/// signature costs a larger fallback.
pub const MAX_BATCH: usize = 256;

/// One signature to check: the message, the signature and the key it claims.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    pub message: &'a [u8],
    pub signature: &'a Signature,
    pub key: &'a VerifyingKey,
}

/// The base point and keys that sign in every batch of a verifier (the registry's own key,
/// offline), with their multiples precomputed once: their terms of the equation then cost no
/// table of their own and fewer additions.
pub struct FixedKeys {
    keys: Vec<[u8; 32]>,
    /// The base point, then each key's point.
    points: Vec<EdwardsPoint>,
    table: VartimeEdwardsPrecomputation,
}

impl std::fmt::Debug for FixedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FixedKeys")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl FixedKeys {
    /// The base point and `keys` (weak keys are left out: they never verify).
    pub fn new(keys: &[VerifyingKey]) -> Self {
        let keys: Vec<&VerifyingKey> = keys.iter().filter(|k| !k.is_weak()).collect();
        let points: Vec<EdwardsPoint> = once(ED25519_BASEPOINT_POINT)
            .chain(keys.iter().map(|k| k.to_edwards()))
            .collect();
        Self {
            keys: keys.iter().map(|k| *k.as_bytes()).collect(),
            table: VartimeEdwardsPrecomputation::new(&points),
            points,
        }
    }
}

/// Points in a multiplication from which curve25519-dalek's `vartime_multiscalar_mul` uses
/// Pippenger's method.
const PIPPENGER_FROM: usize = 190;

/// The base point alone, precomputed once for every batch without fixed keys.
static BASE_ONLY: LazyLock<FixedKeys> = LazyLock::new(|| FixedKeys::new(&[]));

/// Whether every signature verifies (see the module's note on what a pass means). An empty
/// batch passes.
pub fn verify(items: &[Item<'_>]) -> bool {
    verify_with(items, &BASE_ONLY)
}

/// [`verify`], with the terms of `fixed`'s keys taken from its precomputed tables.
///
/// The first signature's coefficient is 1 rather than random (its `R` is added once, outside
/// the multiplication): a batch with only that signature wrong still fails, since the sum is
/// then that signature's own nonzero difference, and one with another wrong fails but with
/// negligible probability, as before.
#[allow(non_snake_case)] // B, R, A: the names of the Ed25519 equation.
pub fn verify_with(items: &[Item<'_>], fixed: &FixedKeys) -> bool {
    let mut rng = rand::thread_rng();
    // The base point's coefficient, then each fixed key's.
    let mut static_scalars = vec![Scalar::ZERO; 1 + fixed.keys.len()];
    let mut first_R = None;
    let mut R_terms: Vec<(Scalar, EdwardsPoint)> = Vec::with_capacity(items.len());
    // Per distinct key not fixed: its encoding, the sum of z_i h_i of its signatures, and its
    // point. A batch holds a few keys, so a list beats a map.
    let mut A_terms: Vec<(&[u8; 32], Scalar, EdwardsPoint)> = Vec::new();
    for item in items {
        let Some(s) =
            Option::<Scalar>::from(Scalar::from_canonical_bytes(*item.signature.s_bytes()))
        else {
            return false;
        };
        let R_bytes = item.signature.r_bytes();
        let Some(R) = CompressedEdwardsY(*R_bytes).decompress() else {
            return false;
        };
        if R.is_small_order() {
            return false;
        }
        let h = Scalar::from_hash(
            Sha512::new()
                .chain_update(R_bytes)
                .chain_update(item.key.as_bytes())
                .chain_update(item.message),
        );
        let z = if first_R.is_none() {
            first_R = Some(R);
            Scalar::ONE
        } else {
            let mut z = [0u8; 16];
            rng.fill_bytes(&mut z);
            let z = Scalar::from(u128::from_le_bytes(z));
            R_terms.push((z, R));
            z
        };
        static_scalars[0] -= z * s;
        let key = item.key.as_bytes();
        if let Some(k) = fixed.keys.iter().position(|f| f == key) {
            static_scalars[1 + k] += z * h;
            continue;
        }
        match A_terms.iter_mut().find(|t| t.0 == key) {
            Some(term) => term.1 += z * h,
            // Checked once per key: a small-order test costs a tenth of a signature's share.
            None if item.key.is_weak() => return false,
            None => A_terms.push((key, z * h, item.key.to_edwards())),
        }
    }
    let Some(first_R) = first_R else {
        return true;
    };
    let dynamic_scalars = R_terms
        .iter()
        .map(|t| t.0)
        .chain(A_terms.iter().map(|t| t.1));
    let dynamic_points = R_terms
        .iter()
        .map(|t| t.1)
        .chain(A_terms.iter().map(|t| t.2));
    // Precomputed tables serve Straus's method only; from PIPPENGER_FROM points on, Pippenger's
    // is faster with every point dynamic (curve25519-dalek switches at the same size).
    let sum = if R_terms.len() + A_terms.len() + fixed.points.len() >= PIPPENGER_FROM {
        EdwardsPoint::vartime_multiscalar_mul(
            static_scalars.iter().copied().chain(dynamic_scalars),
            fixed.points.iter().copied().chain(dynamic_points),
        )
    } else {
        fixed
            .table
            .vartime_mixed_multiscalar_mul(&static_scalars, dynamic_scalars, dynamic_points)
    };
    (sum + first_R).is_identity()
}

/// Whether each signature verifies strictly: in batches of up to [`MAX_BATCH`], a batch that
/// fails (and a signature alone, or by a weak key) checked with `verify_strict` one by one, so
/// a bad signature never fails its neighbours.
pub fn verify_each(items: &[Item<'_>]) -> Vec<bool> {
    verify_each_with(items, &BASE_ONLY)
}

/// [`verify_each`], with the terms of `fixed`'s keys taken from its precomputed tables.
pub fn verify_each_with(items: &[Item<'_>], fixed: &FixedKeys) -> Vec<bool> {
    let mut valid: Vec<Option<bool>> = vec![None; items.len()];
    // Neighbours mostly share a key: its weakness is checked again only when the key changes.
    let mut last: Option<(&VerifyingKey, bool)> = None;
    let batchable: Vec<usize> = (0..items.len())
        .filter(|&i| {
            let key = items[i].key;
            let weak = match last {
                Some((seen, weak)) if seen == key => weak,
                _ => key.is_weak(),
            };
            last = Some((key, weak));
            !weak
        })
        .collect();
    for chunk in batchable.chunks(MAX_BATCH).filter(|c| c.len() > 1) {
        let batch: Vec<Item<'_>> = chunk.iter().map(|&i| items[i]).collect();
        if verify_with(&batch, fixed) {
            for &i in chunk {
                valid[i] = Some(true);
            }
        }
    }
    valid
        .into_iter()
        .zip(items)
        .map(|(done, item)| {
            done.unwrap_or_else(|| item.key.verify_strict(item.message, item.signature).is_ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    /// `n` signatures by `keys` signers (round robin), as owned triples.
    fn signed(n: usize, keys: u8) -> Vec<(Vec<u8>, Signature, VerifyingKey)> {
        (0..n)
            .map(|i| {
                let signer = key(1 + (i % usize::from(keys)) as u8);
                let message = format!("licence {i}").into_bytes();
                let signature = signer.sign(&message);
                (message, signature, signer.verifying_key())
            })
            .collect()
    }

    fn items(all: &[(Vec<u8>, Signature, VerifyingKey)]) -> Vec<Item<'_>> {
        all.iter()
            .map(|(message, signature, key)| Item {
                message,
                signature,
                key,
            })
            .collect()
    }

    #[test]
    fn valid_batches_pass_whatever_their_keys() {
        assert!(verify(&[]));
        for (n, keys) in [(1, 1), (2, 1), (7, 3), (64, 1), (64, 64), (256, 5)] {
            assert!(
                verify(&items(&signed(n, keys))),
                "{n} signatures by {keys} keys"
            );
        }
    }

    #[test]
    fn fixed_keys_change_no_answer() {
        let fixed = FixedKeys::new(&[key(1).verifying_key(), key(3).verifying_key()]);
        let unrelated = FixedKeys::new(&[key(50).verifying_key()]);
        for (n, keys) in [(1, 1), (2, 2), (7, 3), (64, 5), (256, 4)] {
            let all = signed(n, keys);
            assert!(
                verify_with(&items(&all), &fixed),
                "{n} signatures by {keys} keys"
            );
            assert!(verify_with(&items(&all), &unrelated));
            // A wrong signature by a fixed key, first or last.
            for i in [0, n - 1] {
                let mut wrong = all.clone();
                wrong[i].1 = key(99).sign(&wrong[i].0);
                assert!(!verify_with(&items(&wrong), &fixed), "{n}: signature {i}");
                assert!(!verify(&items(&wrong)), "{n}: signature {i}");
            }
        }
    }

    #[test]
    fn only_the_first_signature_wrong_fails() {
        // The first signature's coefficient is 1: alone wrong, it must still fail the batch.
        for n in [1, 2, 5] {
            let mut all = signed(n, 2);
            all[0].0.push(b'!');
            assert!(!verify(&items(&all)), "{n} signatures");
        }
    }

    #[test]
    fn a_batch_with_a_signature_by_another_key_fails() {
        let mut all = signed(16, 2);
        all[9].2 = key(99).verifying_key();
        assert!(!verify(&items(&all)));
    }

    #[test]
    fn a_non_canonical_s_fails_as_verify_strict_does() {
        let mut all = signed(4, 1);
        let mut bytes = all[2].1.to_bytes();
        // s ≥ 2^255 − 2^251 > ℓ: not reduced.
        bytes[63] |= 0xf0;
        all[2].1 = Signature::from_bytes(&bytes);
        assert!(all[2].2.verify_strict(&all[2].0, &all[2].1).is_err());
        assert!(!verify(&items(&all)));
    }

    #[test]
    fn a_small_order_r_or_a_weak_key_fails() {
        let mut all = signed(4, 1);
        // R = the identity's encoding (small order), s = 0.
        let mut bytes = [0u8; 64];
        bytes[0] = 1;
        all[1].1 = Signature::from_bytes(&bytes);
        assert!(!verify(&items(&all)));

        let mut all = signed(4, 1);
        let mut identity = [0u8; 32];
        identity[0] = 1;
        all[3].2 = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
        assert!(!verify(&items(&all)));
    }

    #[test]
    fn each_answer_is_its_own_signatures() {
        let mut all = signed(300, 3);
        for i in [0, 7, 299] {
            all[i].1 = key(99).sign(&all[i].0);
        }
        let mut identity = [0u8; 32];
        identity[0] = 1;
        all[150].2 = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
        let answers = verify_each(&items(&all));
        for (i, valid) in answers.into_iter().enumerate() {
            assert_eq!(valid, ![0, 7, 150, 299].contains(&i), "signature {i}");
        }
        assert_eq!(verify_each(&items(&signed(1, 1))), vec![true]);
        assert!(verify_each(&[]).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// One flipped bit anywhere in one message or signature fails the batch, as it fails
        /// `verify_strict`.
        #[test]
        fn one_flipped_bit_fails_the_batch(
            n in 1usize..24,
            keys in 1u8..4,
            which in any::<prop::sample::Index>(),
            bit in 0usize..(8 * 64),
            in_message in any::<bool>(),
            fixed in any::<bool>(),
        ) {
            let mut all = signed(n, keys);
            let i = which.index(n);
            if in_message {
                let m = &mut all[i].0;
                let bit = bit % (8 * m.len());
                m[bit / 8] ^= 1 << (bit % 8);
            } else {
                let mut bytes = all[i].1.to_bytes();
                bytes[bit / 8] ^= 1 << (bit % 8);
                all[i].1 = Signature::from_bytes(&bytes);
            }
            prop_assert!(all[i].2.verify_strict(&all[i].0, &all[i].1).is_err());
            if fixed {
                let fixed = FixedKeys::new(&[key(1).verifying_key()]);
                prop_assert!(!verify_with(&items(&all), &fixed));
            } else {
                prop_assert!(!verify(&items(&all)));
            }
        }
    }
}
