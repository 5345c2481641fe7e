//! RFC 8785 JSON Canonicalization Scheme (JCS): the byte form that is hashed
//! and signed. Object members are sorted by their UTF-16 code units and
//! numbers are written as ECMAScript does, so an integer above 2^53 loses
//! precision exactly as it would in a JavaScript verifier.
//!
//! Written straight from a parsed `serde_json::Value` into one buffer: keys are
//! compared in place (bytewise when both are ASCII, where UTF-8 and UTF-16
//! order agree), strings are escaped as `JSON.stringify` does (which is what
//! serde_json writes), numbers go through `ryu-js` (ECMAScript
//! `Number.prototype.toString`). The general-purpose `serde_json_canonicalizer`
//! crate, which re-parses every key to sort it, is kept as the oracle of the
//! tests; this is about four times faster on a licence.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Number, Value};

mod signed;

pub use signed::{canonicalize_signed, canonicalize_signed_reusing, SignedForms};

/// Integers up to 2^53 print the same as ECMAScript prints their double.
const EXACT_INTEGER: u64 = 1 << 53;

/// Returns the RFC 8785 canonical UTF-8 bytes of `value`.
pub fn canonicalize(value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_value(&mut out, value);
    out
}

/// The canonical bytes of an object without its member `skip` (e.g. a signed
/// document without its `proof`), without copying the object.
pub fn canonicalize_without(object: &Map<String, Value>, skip: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(1024);
    write_object(&mut out, object, Some(skip), &Fresh);
    out
}

/// Canonical forms already written for some objects inside a document, by the objects'
/// addresses: copied in place of writing those objects again. An envelope's canonical form holds
/// each of its licences' whole, and each licence's form is needed on its own for its signature
/// and digest: written once, it serves both.
#[derive(Debug, Default)]
pub struct Written<'a> {
    forms: HashMap<usize, &'a [u8]>,
}

impl<'a> Written<'a> {
    /// Records `form` as the canonical form of `object`, which must be exactly
    /// [`canonicalize`]`(object)`.
    pub fn insert(&mut self, object: &'a Value, form: &'a [u8]) {
        self.forms.insert(std::ptr::from_ref(object) as usize, form);
    }
}

/// Where [`write_value_reusing`] looks for forms already written.
trait Reuse {
    fn form(&self, object: &Value) -> Option<&[u8]>;
}

/// Nothing written before: every object is written.
struct Fresh;

impl Reuse for Fresh {
    #[inline(always)]
    fn form(&self, _: &Value) -> Option<&[u8]> {
        None
    }
}

impl Reuse for Written<'_> {
    fn form(&self, object: &Value) -> Option<&[u8]> {
        if self.forms.is_empty() {
            return None;
        }
        self.forms
            .get(&(std::ptr::from_ref(object) as usize))
            .copied()
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value) {
    write_value_reusing(out, value, &Fresh);
}

fn write_value_reusing(out: &mut Vec<u8>, value: &Value, reuse: &impl Reuse) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value_reusing(out, item, reuse);
            }
            out.push(b']');
        }
        Value::Object(map) => match reuse.form(value) {
            Some(form) => out.extend_from_slice(form),
            None => write_object(out, map, None, reuse),
        },
    }
}

fn write_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    skip: Option<&str>,
    reuse: &impl Reuse,
) {
    let members = sorted_members(map, skip);
    out.push(b'{');
    for (i, (key, value)) in members.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_string(out, key);
        out.push(b':');
        write_value_reusing(out, value, reuse);
    }
    out.push(b'}');
}

/// The members of `map` but `skip`, in canonical order.
fn sorted_members<'a>(
    map: &'a Map<String, Value>,
    skip: Option<&str>,
) -> Vec<(&'a String, &'a Value)> {
    let mut members: Vec<(&String, &Value)> = map
        .iter()
        .filter(|(k, _)| Some(k.as_str()) != skip)
        .collect();
    // Nearly every key is ASCII: checked once per object rather than in every comparison.
    if members.iter().all(|(k, _)| k.is_ascii()) {
        members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    } else {
        members.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
    }
    members
}

/// Orders keys by UTF-16 code units. UTF-8 byte order is code point order,
/// which differs from UTF-16 order only between a supplementary character and
/// one of U+E000..=U+FFFF; ASCII keys (nearly all) compare bytewise.
fn utf16_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

/// Writes `s` as a JSON string escaped as `JSON.stringify` escapes: `"`, `\` and the C0
/// controls (`\b \t \n \f \r`, else `\u00xx` in lowercase hex), nothing else. Text with none
/// of those (nearly all) is copied as it is; the rest goes through serde_json, which escapes
/// exactly so.
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing a string to a Vec cannot fail");
    }
}

/// Whether `bytes` hold a `"`, a `\` or a C0 control, eight bytes at a time: a byte below
/// 0x20 and a zero byte (after XOR with the quote or backslash) each show as a borrow into that
/// byte's high bit. Bytes of 0x80 and above never match (`& !x`).
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        if below(x, 0x20)
            || below(x ^ (ONES * u64::from(b'"')), 1)
            || below(x ^ (ONES * u64::from(b'\\')), 1)
        {
            return true;
        }
    }
    chunks
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

pub(crate) fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64().filter(|u| *u <= EXACT_INTEGER) {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
    } else if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= EXACT_INTEGER) {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else {
        // Invariant: a `serde_json::Number` (without arbitrary precision) is a
        // u64, an i64 or a finite f64, so `as_f64` always answers.
        let f = n.as_f64().unwrap_or(0.0);
        out.extend_from_slice(ryu_js::Buffer::new().format_finite(f).as_bytes());
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    fn vectors() -> PathBuf {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/jcs"))
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

    /// The crate `serde_json_canonicalizer` as oracle, on awkward values.
    #[test]
    fn agrees_with_the_reference_canonicalizer() {
        let samples = [
            r#"{"b":[1,2.5,-0.0,1e300,5e-324,-9007199254740993,18446744073709551615],"a":{"\u00e9":"x\u0001\u001f\u007f\u2028\"\\/","\ud83d\ude02":null,"\uffff":true,"":false}}"#,
            r#"[0.1,100000000000000000000,1e21,123456789012345680000,-1.5e-7,0.000001,9007199254740992]"#,
            r#"{"\u20ac":1,"\r":2,"1":3,"\u0080":4,"\u00f6":5,"\ud800\udc00":6,"\ue000":7,"a\u0000b":8}"#,
        ];
        for sample in samples {
            let value: Value = serde_json::from_str(sample).unwrap();
            assert_eq!(
                String::from_utf8(canonicalize(&value)).unwrap(),
                String::from_utf8(serde_json_canonicalizer::to_vec(&value).unwrap()).unwrap(),
                "{sample}"
            );
        }
    }

    #[test]
    fn canonicalize_without_leaves_one_member_out() {
        let value = json!({"z": 1, "proof": {"b": 2}, "a": [true]});
        let map = value.as_object().unwrap();
        assert_eq!(
            canonicalize_without(map, "proof"),
            b"{\"a\":[true],\"z\":1}"
        );
        assert_eq!(canonicalize_without(map, "absent"), canonicalize(&value));
    }

    proptest::proptest! {
        /// Any JSON value canonicalizes as the reference does.
        #[test]
        fn random_values_agree_with_the_reference(value in arbitrary_json()) {
            proptest::prop_assert_eq!(
                canonicalize(&value),
                serde_json_canonicalizer::to_vec(&value).unwrap()
            );
        }
    }

    #[test]
    fn each_byte_to_escape_is_found_at_every_position() {
        for b in 0..=255u8 {
            for at in 0..17 {
                let mut bytes = vec![b'a'; 17];
                bytes[at] = b;
                let expected = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(needs_escape(&bytes), expected, "byte {b:#x} at {at}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn escapes_are_found_eight_bytes_at_a_time(s in proptest::prelude::any::<String>(), b in proptest::prelude::any::<Vec<u8>>()) {
            let bytewise = |bytes: &[u8]| bytes.iter().any(|&c| c < 0x20 || c == b'"' || c == b'\\');
            proptest::prop_assert_eq!(needs_escape(s.as_bytes()), bytewise(s.as_bytes()));
            proptest::prop_assert_eq!(needs_escape(&b), bytewise(&b));
        }
    }

    pub(crate) fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::String),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }
}
