//! Base45 (RFC 9285): bytes as text over the 45 characters of QR code alphanumeric mode, so a
//! QR code can carry binary data at 5.5 bits per character instead of 8.

/// The alphabet, in value order (RFC 9285 table 1).
const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not base45.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base45Error {
    #[error("character {0:?} is not in the base45 alphabet")]
    Character(char),
    #[error("a base45 text cannot end in a single character")]
    Length,
    #[error("a base45 group encodes a value above its range")]
    Overflow,
}

/// Encodes `bytes`: each pair becomes three characters, a trailing byte two.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() / 2 * 3 + 2);
    for chunk in bytes.chunks(2) {
        let (mut n, digits) = match chunk {
            [a, b] => (usize::from(*a) * 256 + usize::from(*b), 3),
            [a] => (usize::from(*a), 2),
            _ => unreachable!("chunks(2) yields one or two bytes"),
        };
        for _ in 0..digits {
            out.push(char::from(ALPHABET[n % 45]));
            n /= 45;
        }
    }
    out
}

/// Decodes `text`, refusing characters outside the alphabet and out-of-range groups.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let values = text
        .chars()
        .map(value)
        .collect::<Result<Vec<u32>, Base45Error>>()?;
    let mut out = Vec::with_capacity(values.len() / 3 * 2 + 1);
    for group in values.chunks(3) {
        match group {
            [c, d, e] => {
                let n = c + d * 45 + e * 45 * 45;
                let pair = u16::try_from(n).map_err(|_| Base45Error::Overflow)?;
                out.extend_from_slice(&pair.to_be_bytes());
            }
            [c, d] => {
                let byte = u8::try_from(c + d * 45).map_err(|_| Base45Error::Overflow)?;
                out.push(byte);
            }
            _ => return Err(Base45Error::Length),
        }
    }
    Ok(out)
}

fn value(c: char) -> Result<u32, Base45Error> {
    ALPHABET
        .iter()
        .position(|&a| u32::from(a) == u32::from(c))
        .map(|p| p as u32)
        .ok_or(Base45Error::Character(c))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// RFC 9285 sections 4.3 and 4.4.
    #[test]
    fn rfc_9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
        assert_eq!(decode("BB8").unwrap(), b"AB");
        assert_eq!(decode("%69 VD92EX0").unwrap(), b"Hello!!");
    }

    #[test]
    fn refuses_malformed_text() {
        // "GGW" is 16 + 16·45 + 32·2025 = 65536, one past a 16-bit value.
        assert_eq!(decode("GGW"), Err(Base45Error::Overflow));
        assert_eq!(decode("::"), Err(Base45Error::Overflow));
        assert_eq!(decode("BB8A"), Err(Base45Error::Length));
        assert_eq!(decode("bb8"), Err(Base45Error::Character('b')));
        assert_eq!(decode("").unwrap(), b"");
        assert_eq!(decode("FGW").unwrap(), [0xff, 0xff]);
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(text.len(), bytes.len() / 2 * 3 + bytes.len() % 2 * 2);
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }
    }
}
