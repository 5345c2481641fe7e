//! RFC 8785 JSON Canonicalization Scheme (JCS): the byte form that is hashed
//! and signed. Object members are sorted by their UTF-16 code units and
//! numbers are written as ECMAScript does, so an integer above 2^53 loses
//! precision exactly as it would in a JavaScript verifier.

use serde_json::Value;

/// Returns the RFC 8785 canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    // Invariant: a `serde_json::Value` has string keys, no duplicate keys and
    // only finite numbers, which are the only inputs the canonicalizer refuses.
    serde_json_canonicalizer::to_vec(value).expect("a serde_json::Value is always canonicalizable")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn vectors() -> PathBuf {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/vectors/jcs"
        ))
    }

    #[test]
    fn rfc8785_vectors_canonicalize_exactly() {
        let mut names: Vec<_> = std::fs::read_dir(vectors().join("input"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        names.sort();
        assert!(names.len() >= 6, "vectors missing: {names:?}");
        for name in names {
            let input = std::fs::read(vectors().join("input").join(&name)).unwrap();
            // Output files carry no trailing newline; compare byte for byte.
            let expected = std::fs::read(vectors().join("output").join(&name)).unwrap();
            let value: Value = serde_json::from_slice(&input).unwrap();
            let actual = canonicalize(&value);
            assert_eq!(
                String::from_utf8_lossy(&actual),
                String::from_utf8_lossy(&expected),
                "{name:?}"
            );
            assert_eq!(actual, expected, "{name:?}");
        }
    }

    #[test]
    fn sorts_keys_by_utf16_code_units() {
        // U+1F602 (surrogates D83D DE02) sorts before U+FB33 in UTF-16,
        // though after it by code point.
        let value = json!({"\u{fb33}": 1, "\u{1f602}": 2, "a": 3});
        assert_eq!(
            String::from_utf8(canonicalize(&value)).unwrap(),
            "{\"a\":3,\"\u{1f602}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn formats_numbers_like_ecmascript() {
        let value: Value =
            serde_json::from_str("[1.0, -0, 1e21, 1e-7, 100, 9007199254740993]").unwrap();
        assert_eq!(
            canonicalize(&value),
            b"[1,0,1e+21,1e-7,100,9007199254740992]".to_vec()
        );
    }
}
