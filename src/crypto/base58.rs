//! Base58btc decoding into a fixed-size array, for signatures (`proofValue`) and Multikeys.
//!
//! The `bs58` crate decodes a byte at a time (about 19,000 instructions for a 64-byte
//! signature); this reads five digits at a time into 32-bit limbs (58⁵ < 2³²), about a tenth
//! of that. It answers exactly what `bs58` answers when that is `N` bytes long, and nothing
//! otherwise (property-tested against `bs58`).

/// Base58btc's alphabet.
const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
/// Digit values by ASCII byte; `INVALID` for bytes outside the alphabet.
const DIGITS: [u8; 128] = digits();
const INVALID: u8 = 0xff;
/// Limbs of the number: room for the largest `N` decoded here plus one limb to see overflow.
const LIMBS: usize = 20;

const fn digits() -> [u8; 128] {
    let mut table = [INVALID; 128];
    let mut i = 0;
    while i < ALPHABET.len() {
        table[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    table
}

/// Decodes `text` when it is the base58btc form of exactly `N` bytes (`N` ≤ 76).
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    if N > 4 * (LIMBS - 1) {
        return None;
    }
    let bytes = text.as_bytes();
    // Each leading '1' is a leading zero byte.
    let zeros = bytes.iter().take_while(|&&b| b == b'1').count();
    if zeros > N {
        return None;
    }
    let mut limbs = [0u32; LIMBS];
    for chunk in bytes[zeros..].chunks(5) {
        let (mut multiplier, mut value) = (1u64, 0u64);
        for &b in chunk {
            let digit = *DIGITS.get(usize::from(b))?;
            if digit == INVALID {
                return None;
            }
            multiplier *= 58;
            value = value * 58 + u64::from(digit);
        }
        let mut carry = value;
        for limb in &mut limbs {
            let t = u64::from(*limb) * multiplier + carry;
            *limb = t as u32; // the low half; the high half carries
            carry = t >> 32;
        }
        if carry != 0 {
            return None;
        }
    }
    // The number's big-endian bytes, without leading zeros, must fill what the '1's left.
    let mut number = [0u8; 4 * LIMBS];
    for (i, limb) in limbs.iter().rev().enumerate() {
        number[4 * i..4 * i + 4].copy_from_slice(&limb.to_be_bytes());
    }
    let significant = number.iter().position(|&b| b != 0).unwrap_or(number.len());
    let digits = &number[significant..];
    if zeros + digits.len() != N {
        return None;
    }
    let mut out = [0u8; N];
    out[zeros..].copy_from_slice(digits);
    Some(out)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference<const N: usize>(text: &str) -> Option<[u8; N]> {
        bs58::decode(text).into_vec().ok()?.try_into().ok()
    }

    #[test]
    fn edge_cases_agree_with_bs58() {
        for text in [
            "",
            "1",
            "11",
            "z",
            "0",
            "O",
            "I",
            "l",
            "1z",
            "é",
            "2NEpo7TZRRrLZSi2U",
        ] {
            assert_eq!(decode::<1>(text), reference::<1>(text), "{text:?}");
            assert_eq!(decode::<2>(text), reference::<2>(text), "{text:?}");
            assert_eq!(decode::<12>(text), reference::<12>(text), "{text:?}");
        }
        let zero64 = bs58::encode([0u8; 64]).into_string();
        assert_eq!(decode::<64>(&zero64), Some([0u8; 64]));
        let max64 = bs58::encode([0xffu8; 64]).into_string();
        assert_eq!(decode::<64>(&max64), Some([0xffu8; 64]));
        assert_eq!(decode::<64>(&format!("{max64}1")), None);
    }

    proptest! {
        /// Any 64 or 34 bytes (leading zeros included) round-trip through bs58's encoding.
        #[test]
        fn encoded_bytes_decode_back(
            mut bytes in proptest::collection::vec(any::<u8>(), 64),
            zeros in 0usize..6,
        ) {
            for b in bytes.iter_mut().take(zeros) {
                *b = 0;
            }
            let text = bs58::encode(&bytes).into_string();
            prop_assert_eq!(decode::<64>(&text).map(|a| a.to_vec()), Some(bytes.clone()));
            let key = &bytes[..34];
            let text = bs58::encode(key).into_string();
            prop_assert_eq!(decode::<34>(&text).map(|a| a.to_vec()), Some(key.to_vec()));
        }

        /// Any string of alphabet characters (and the odd stranger) decodes as bs58 decodes it.
        #[test]
        fn any_text_decodes_as_bs58_does(text in "[1-9A-HJ-NP-Za-km-z0OIl]{0,100}") {
            prop_assert_eq!(decode::<64>(&text), reference::<64>(&text));
            prop_assert_eq!(decode::<34>(&text), reference::<34>(&text));
        }
    }
}
