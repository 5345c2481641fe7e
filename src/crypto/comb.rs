//! Ed25519 verification by a key known in advance, with fixed-base comb tables.
//!
//! `verify_strict` computes `[s]B − [h]A` in one double-scalar multiplication: 256 doublings
//! shared by the two points, plus additions from tables it builds for `A` on every call. When
//! the same key verifies many signatures (the registry key on every receipt, an issuer's key on
//! every licence it signed), a table of that key's multiples at every window position turns
//! `[h]A` into one addition per window and no doubling at all:
//!
//! ```text
//! [h]A = Σ_i [d_i] (2^{w·i} A),   h = Σ_i d_i 2^{w·i},   d_i ∈ [−2^{w−1}, 2^{w−1}]
//! ```
//!
//! With `w = 8` that is 32 additions where a double-scalar multiplication costs about 256
//! doublings and 70 additions. The base point has such a table once per process
//! ([`base`]); a key's table ([`KeyTable`]) is built once, when the key is first worth it.
//!
//! [`KeyTable::verify_strict`] answers exactly as `ed25519_dalek::VerifyingKey::verify_strict` does:
//! `s` canonical, the key and `R` not of small order, and the encoding of `[s]B − [h]A` equal
//! to `R`'s bytes (cofactorless). The tables are variable-time: they compute with public
//! values only (keys, signatures, messages). Nothing here remembers an answer; only the
//! multiples of a public key are kept.
//!
//! Encoding `[s]B − [h]A` takes its affine coordinates: one field inversion, about a quarter of
//! what is left of a verification once the tables have done their part. Many signatures checked
//! together ([`KeyTable::begin`], then [`settle`]) share one inversion for all of them
//! (Montgomery's trick, curve25519-dalek 5's `compress_batch_alloc`), with the same answers.
//! The arithmetic is curve25519-dalek 5's (the rest of the project is on 4, with
//! ed25519-dalek 2): keys and signatures meet it only as bytes.

use std::sync::LazyLock;

use curve25519_dalek_5::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek_5::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek_5::scalar::Scalar;
use curve25519_dalek_5::traits::Identity;
use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha512};

/// Window width of the base point's table and of a pinned key's: 32 windows of 128 multiples,
/// 4,096 points (640 KiB).
pub const WIDE: u32 = 8;

/// Window width of an issuer key's table: 51 windows of 16 multiples, 816 points (127 KiB),
/// 51 additions a multiplication.
pub const NARROW: u32 = 5;

/// The multiples `[j] 2^{w·i} P` of one point, `j` in `1..=2^{w−1}`, for every window `i`.
pub struct Comb {
    width: u32,
    points: Vec<EdwardsPoint>,
}

impl std::fmt::Debug for Comb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Comb")
            .field("width", &self.width)
            .field("points", &self.points.len())
            .finish()
    }
}

impl Comb {
    /// The table of `point` with windows of `width` bits (2 to 8).
    pub fn new(point: &EdwardsPoint, width: u32) -> Self {
        assert!((2..=8).contains(&width), "comb width {width} is not 2 to 8");
        let half = 1usize << (width - 1);
        let windows = windows(width);
        let mut points = Vec::with_capacity(windows * half);
        let mut base = *point;
        for _ in 0..windows {
            let mut multiple = base;
            for _ in 0..half {
                points.push(multiple);
                multiple += base;
            }
            // 2^w·base = 2·(2^{w−1}·base), the window's last multiple doubled.
            let last = points[points.len() - 1];
            base = last + last;
        }
        Self { width, points }
    }

    /// `[scalar]P`, for a reduced scalar (every `Scalar` this crate makes is; below 2^253).
    pub fn mul(&self, scalar: &Scalar) -> EdwardsPoint {
        let half = 1usize << (self.width - 1);
        let mut sum = EdwardsPoint::identity();
        for (window, digit) in signed_digits(scalar.as_bytes(), self.width).enumerate() {
            let magnitude = digit.unsigned_abs() as usize;
            if magnitude == 0 {
                continue;
            }
            let multiple = &self.points[window * half + magnitude - 1];
            if digit > 0 {
                sum += multiple;
            } else {
                sum -= multiple;
            }
        }
        sum
    }

    /// Bytes the table holds.
    pub fn size(&self) -> usize {
        self.points.len() * std::mem::size_of::<EdwardsPoint>()
    }
}

/// Windows of `width` bits that cover a reduced scalar and the last window's carry.
fn windows(width: u32) -> usize {
    254usize.div_ceil(width as usize)
}

/// The digits `d_i ∈ [−2^{w−1}, 2^{w−1}]` with `Σ d_i 2^{w·i}` = the little-endian `bytes`,
/// lowest window first.
fn signed_digits(bytes: &[u8; 32], width: u32) -> impl Iterator<Item = i32> + '_ {
    let mask = (1u32 << width) - 1;
    let half = 1i32 << (width - 1);
    let mut carry = 0i32;
    (0..windows(width)).map(move |window| {
        let bit = window * width as usize;
        let (byte, shift) = (bit / 8, bit % 8);
        let low = u32::from(bytes[byte]);
        let high = bytes.get(byte + 1).copied().map_or(0, u32::from);
        // Both fit in i32: a window is at most 8 bits.
        let value = (((low | high << 8) >> shift) & mask) as i32 + carry;
        if value > half {
            carry = 1;
            value - (1 << width)
        } else {
            carry = 0;
            value
        }
    })
}

/// The base point's table, built once per process (about 12 signature verifications' work).
pub fn base() -> &'static Comb {
    static BASE: LazyLock<Comb> = LazyLock::new(|| Comb::new(&ED25519_BASEPOINT_POINT, WIDE));
    &BASE
}

/// A verifying key with its comb table. Weak keys (of small order) get none: no signature by
/// them verifies strictly.
#[derive(Debug)]
pub struct KeyTable {
    key: VerifyingKey,
    comb: Comb,
}

impl KeyTable {
    /// `key`'s table with windows of `width` bits; none for a weak key.
    pub fn new(key: &VerifyingKey, width: u32) -> Option<Self> {
        if key.is_weak() {
            return None;
        }
        // A `VerifyingKey` holds a point that decoded from these bytes.
        let point = CompressedEdwardsY(key.to_bytes()).decompress()?;
        Some(Self {
            key: *key,
            comb: Comb::new(&point, width),
        })
    }

    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Bytes the table holds.
    pub fn size(&self) -> usize {
        self.comb.size()
    }

    /// Whether `signature` on `message` verifies under this key, with exactly the answer of
    /// `VerifyingKey::verify_strict`.
    pub fn verify_strict(&self, message: &[u8], signature: &Signature) -> bool {
        self.begin(message, signature)
            .is_some_and(|pending| settle([&pending]).first() == Some(&true))
    }

    /// [`Self::verify_strict`] up to the encoding of `[s]B − [h]A`, which [`settle`] finishes
    /// for many signatures at once; `None` when the signature already fails (`s` is not
    /// canonical).
    pub fn begin(&self, message: &[u8], signature: &Signature) -> Option<Pending> {
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(*signature.s_bytes()))?;
        let r_bytes = *signature.r_bytes();
        let hash: [u8; 64] = Sha512::new()
            .chain_update(r_bytes)
            .chain_update(self.key.as_bytes())
            .chain_update(message)
            .finalize()
            .into();
        let h = Scalar::from_bytes_mod_order_wide(&hash);
        Some(Pending {
            point: base().mul(&s) - self.comb.mul(&h),
            r_bytes,
        })
    }
}

/// A signature checked by [`KeyTable::begin`] but for the last step: `[s]B − [h]A`, and the
/// bytes of `R` its encoding must equal.
#[derive(Debug, Clone)]
pub struct Pending {
    point: EdwardsPoint,
    r_bytes: [u8; 32],
}

/// The answers of [`KeyTable::verify_strict`] for the signatures `pending` began, in order, with
/// one field inversion for them all.
pub fn settle<'a>(pending: impl IntoIterator<Item = &'a Pending>) -> Vec<bool> {
    let pending: Vec<&Pending> = pending.into_iter().collect();
    let points: Vec<EdwardsPoint> = pending.iter().map(|p| p.point).collect();
    EdwardsPoint::compress_batch_alloc(&points)
        .iter()
        .zip(pending)
        // `R`'s bytes encode the point computed (so they decode to it) and it is not of small
        // order: verify_strict's checks on the decoded R.
        .map(|(encoded, p)| encoded.as_bytes() == &p.r_bytes && !p.point.is_small_order())
        .collect()
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer, SigningKey};
    use proptest::prelude::*;

    use super::*;

    fn signer(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn a_comb_multiplies_as_the_group_does() {
        let point = CompressedEdwardsY(signer(7).verifying_key().to_bytes())
            .decompress()
            .expect("a key decodes");
        let scalars = [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(0x80u64),
            Scalar::from(0x81u64),
            Scalar::from(u64::MAX),
            Scalar::from_bytes_mod_order([0xff; 32]),
        ];
        for width in 2..=8 {
            let comb = Comb::new(&point, width);
            for scalar in &scalars {
                assert_eq!(comb.mul(scalar), point * scalar, "width {width}");
            }
        }
    }

    #[test]
    fn digits_sum_to_the_scalar() {
        for width in 2..=8 {
            for bytes in [[0xffu8; 32], [0x80; 32], [0x7f; 32]] {
                let mut bytes = bytes;
                bytes[31] &= 0x0f; // below 2^253
                let digits: Vec<i32> = signed_digits(&bytes, width).collect();
                let sum = digits.iter().rev().fold(Scalar::ZERO, |acc, &d| {
                    let digit = Scalar::from(d.unsigned_abs());
                    acc * Scalar::from(1u64 << width) + if d < 0 { -digit } else { digit }
                });
                assert_eq!(sum, Scalar::from_bytes_mod_order(bytes), "width {width}");
            }
        }
    }

    #[test]
    fn weak_keys_get_no_table() {
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = VerifyingKey::from_bytes(&identity).expect("the identity decodes");
        assert!(KeyTable::new(&weak, NARROW).is_none());
    }

    #[test]
    fn small_order_r_and_non_canonical_s_fail_as_verify_strict() {
        let key = signer(3);
        let table = KeyTable::new(&key.verifying_key(), NARROW).expect("not weak");
        // R = the identity (small order), s = 0: [0]B − [h]A is not the identity, but a forger
        // cannot win with it either way; the answer must match verify_strict's.
        let mut bytes = [0u8; 64];
        bytes[0] = 1;
        let identity_r = Signature::from_bytes(&bytes);
        assert_eq!(
            table.verify_strict(b"m", &identity_r),
            key.verifying_key().verify_strict(b"m", &identity_r).is_ok()
        );
        let mut bytes = key.sign(b"m").to_bytes();
        bytes[63] |= 0xf0;
        let wide_s = Signature::from_bytes(&bytes);
        assert!(key.verifying_key().verify_strict(b"m", &wide_s).is_err());
        assert!(!table.verify_strict(b"m", &wide_s));
    }

    #[test]
    fn settled_together_each_gets_its_own_answer() {
        let key = signer(9);
        let table = KeyTable::new(&key.verifying_key(), NARROW).expect("not weak");
        let mut small_order = [0u8; 64];
        small_order[0] = 1; // R = the identity, s = 0
        let mut checks: Vec<(Vec<u8>, Signature)> = Vec::new();
        for i in 0u8..24 {
            let message = vec![i; usize::from(i) * 3];
            let mut bytes = key.sign(&message).to_bytes();
            match i % 4 {
                1 => bytes[usize::from(i)] ^= 0x10, // a bit of R
                2 => bytes[40] ^= 1,                // a bit of s
                3 if i == 7 => bytes = small_order,
                _ => {}
            }
            checks.push((message, Signature::from_bytes(&bytes)));
        }
        // What verify_strict says, one by one; the table's single and settled answers must match.
        let expected: Vec<bool> = checks
            .iter()
            .map(|(m, sig)| key.verifying_key().verify_strict(m, sig).is_ok())
            .collect();
        assert!(expected.iter().any(|&ok| ok) && expected.iter().any(|&ok| !ok));
        let one_by_one: Vec<bool> = checks
            .iter()
            .map(|(m, sig)| table.verify_strict(m, sig))
            .collect();
        assert_eq!(one_by_one, expected);
        let begun: Vec<Option<Pending>> =
            checks.iter().map(|(m, sig)| table.begin(m, sig)).collect();
        let pending: Vec<Pending> = begun.iter().flatten().cloned().collect();
        let mut settled = settle(&pending).into_iter();
        let together: Vec<bool> = begun
            .iter()
            .map(|b| b.is_some() && settled.next() == Some(true))
            .collect();
        assert_eq!(together, expected);
        assert!(settle([]).is_empty());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Valid signatures pass, and a flipped bit of the message or the signature gets
        /// verify_strict's answer, whatever the width.
        #[test]
        fn answers_are_verify_strict_answers(
            seed in 1u8..=255,
            message in prop::collection::vec(any::<u8>(), 0..80),
            bit in 0usize..(8 * 64),
            in_message in any::<bool>(),
            width in 2u32..=8,
        ) {
            let key = signer(seed);
            let table = KeyTable::new(&key.verifying_key(), width).expect("not weak");
            let signature = key.sign(&message);
            prop_assert!(table.verify_strict(&message, &signature));
            let (mut message, mut bytes) = (message, signature.to_bytes());
            if in_message && !message.is_empty() {
                let bit = bit % (8 * message.len());
                message[bit / 8] ^= 1 << (bit % 8);
            } else {
                bytes[bit / 8] ^= 1 << (bit % 8);
            }
            let signature = Signature::from_bytes(&bytes);
            prop_assert_eq!(
                table.verify_strict(&message, &signature),
                key.verifying_key().verify_strict(&message, &signature).is_ok()
            );
        }
    }
}
