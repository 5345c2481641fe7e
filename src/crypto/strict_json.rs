//! Strict JSON parsing for signed input.
//!
//! `serde_json` silently keeps the last of two equal object keys, so a signed
//! document could say one thing to a verifier and another to a reader. This
//! parser builds the same [`serde_json::Value`] as `serde_json` but refuses
//! duplicate keys at any depth, oversized input, invalid UTF-8, lone UTF-16
//! surrogates (`serde_json` already refuses these when decoding to `String`)
//! and anything after the top-level value.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

mod member;

pub use member::Member;

/// Longest key or path quoted back in an error, in characters.
const MAX_QUOTED_CHARS: usize = 64;
/// Longest parser message carried in [`StrictJsonError::Syntax`], in characters.
const MAX_MESSAGE_CHARS: usize = 200;

/// Why a document was refused. Messages never quote more than a few dozen
/// characters of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrictJsonError {
    /// The document is longer than the caller's limit.
    #[error("JSON document exceeds {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The document is not valid UTF-8.
    #[error("JSON document is not valid UTF-8 (byte {offset})")]
    InvalidUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// An object repeats a key.
    #[error("duplicate object key {key:?} in the object at JSON pointer {path:?}")]
    DuplicateKey {
        /// The repeated key (truncated).
        key: String,
        /// JSON Pointer (RFC 6901) of the object holding it (truncated).
        path: String,
    },
    /// Malformed JSON, including lone surrogates and trailing characters.
    #[error("invalid JSON: {0}")]
    Syntax(String),
}

/// Parses `bytes` as one JSON value, refusing duplicate keys anywhere.
pub fn parse(bytes: &[u8], max_len: usize) -> Result<Value, StrictJsonError> {
    if bytes.len() > max_len {
        return Err(StrictJsonError::TooLarge { limit: max_len });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| StrictJsonError::InvalidUtf8 {
        offset: e.valid_up_to(),
    })?;
    let mut state = State::default();
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = ValueSeed { state: &mut state }
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value));
    match (parsed, state.duplicate) {
        (Ok(value), _) => Ok(value),
        (Err(_), Some((key, path))) => Err(StrictJsonError::DuplicateKey {
            key,
            path: pointer(&path),
        }),
        (Err(e), None) => Err(StrictJsonError::Syntax(truncate(
            &e.to_string(),
            MAX_MESSAGE_CHARS,
        ))),
    }
}

/// Convenience wrapper around [`parse`] for text already known to be UTF-8.
pub fn parse_str(s: &str, max_len: usize) -> Result<Value, StrictJsonError> {
    parse(s.as_bytes(), max_len)
}

/// Parser state shared down the recursion: the first duplicate found (serde
/// errors are strings, so the details travel here). Its path is built only on
/// the way out of a failed parse, each level adding its own segment, so the
/// happy path allocates nothing for it.
#[derive(Default)]
struct State {
    /// The repeated key and the path to its object, innermost segment first.
    duplicate: Option<(String, Vec<String>)>,
}

impl State {
    /// Adds the segment of the level an error is passing through.
    fn unwinding(&mut self, segment: impl FnOnce() -> String) {
        if let Some((_, path)) = self.duplicate.as_mut() {
            path.push(segment());
        }
    }
}

/// The RFC 6901 pointer of segments listed innermost first.
fn pointer(reversed: &[String]) -> String {
    let mut out = String::new();
    for segment in reversed.iter().rev() {
        out.push('/');
        out.push_str(&segment.replace('~', "~0").replace('/', "~1"));
    }
    truncate(&out, MAX_QUOTED_CHARS)
}

struct ValueSeed<'a> {
    state: &'a mut State,
}

impl<'de> DeserializeSeed<'de> for ValueSeed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValueSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // serde_json never hands a visitor a non-finite float; Null mirrors
        // what serde_json's own Value visitor would do if it did.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        loop {
            let next = seq.next_element_seed(ValueSeed {
                state: &mut *self.state,
            });
            match next {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.state.unwinding(|| items.len().to_string());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // Room for most objects of a credential without regrowing (JSON gives no size hint).
        let mut object = Map::with_capacity(8);
        while let Some(key) = map.next_key::<String>()? {
            // One lookup finds a duplicate and the slot for the value.
            let slot = match object.entry(key) {
                Entry::Vacant(slot) => slot,
                Entry::Occupied(existing) => {
                    self.state.duplicate =
                        Some((truncate(existing.key(), MAX_QUOTED_CHARS), Vec::new()));
                    return Err(de::Error::custom("duplicate object key"));
                }
            };
            match map.next_value_seed(ValueSeed {
                state: &mut *self.state,
            }) {
                Ok(value) => {
                    slot.insert(value);
                }
                Err(e) => {
                    self.state.unwinding(|| slot.key().clone());
                    return Err(e);
                }
            }
        }
        Ok(Value::Object(object))
    }
}

/// Cuts `s` to at most `max` characters, marking the cut with an ellipsis.
fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const MAX: usize = 1 << 20;

    fn dup(input: &str) -> (String, String) {
        match parse_str(input, MAX) {
            Err(StrictJsonError::DuplicateKey { key, path }) => (key, path),
            other => panic!("expected duplicate for {input}: {other:?}"),
        }
    }

    #[test]
    fn parses_plain_documents_like_serde_json() {
        let input = r#"{"a":[1,-2,3.5,{"b":null}],"c":"\u00e9\ud83d\ude02","d":true}"#;
        let expected: Value = serde_json::from_str(input).unwrap();
        assert_eq!(parse_str(input, MAX).unwrap(), expected);
    }

    #[test]
    fn refuses_duplicates_at_any_depth() {
        assert_eq!(dup(r#"{"a":1,"a":2}"#), ("a".into(), "".into()));
        assert_eq!(
            dup(r#"{"x":{"y":[0,{"k":1,"k":1}]}}"#),
            ("k".into(), "/x/y/1".into())
        );
        assert_eq!(
            dup(r#"[[{}],[{"a/b":{"z":0,"z":0}}]]"#),
            ("z".into(), "/1/0/a~1b".into())
        );
        // Equal after unescaping is still equal.
        assert_eq!(dup(r#"{"é":1,"\u00e9":2}"#).0, "é");
    }

    #[test]
    fn allows_same_key_in_sibling_objects() {
        assert!(parse_str(r#"[{"a":1},{"a":2}]"#, MAX).is_ok());
        assert!(parse_str(r#"{"a":{"a":{"a":1}}}"#, MAX).is_ok());
    }

    #[test]
    fn refuses_oversized_input_without_parsing() {
        let err = parse_str("[1, 2]", 5).unwrap_err();
        assert_eq!(err, StrictJsonError::TooLarge { limit: 5 });
        assert!(parse_str("[1,2]", 5).is_ok());
    }

    #[test]
    fn refuses_invalid_utf8() {
        let err = parse(b"{\"a\":\"\xff\"}", MAX).unwrap_err();
        assert_eq!(err, StrictJsonError::InvalidUtf8 { offset: 6 });
    }

    #[test]
    fn refuses_lone_surrogates() {
        for input in [
            r#"["\ud800"]"#,
            r#"["\udc00"]"#,
            r#"["\ud800\u0041"]"#,
            r#"{"\ud800":1}"#,
            r#"["\ud800\\"]"#,
        ] {
            assert!(
                matches!(parse_str(input, MAX), Err(StrictJsonError::Syntax(_))),
                "{input}"
            );
        }
    }

    #[test]
    fn refuses_trailing_garbage_and_empty_input() {
        for input in [
            "{} x",
            "{}{}",
            "1 2",
            "",
            "   ",
            "[1,]",
            "{\"a\":1,}",
            "\u{feff}{}",
        ] {
            assert!(
                matches!(parse_str(input, MAX), Err(StrictJsonError::Syntax(_))),
                "{input:?}"
            );
        }
        assert!(parse_str(" {} \n", MAX).is_ok());
    }

    #[test]
    fn error_messages_stay_short() {
        let key = "k".repeat(10_000);
        let input = format!(r#"{{"{key}":1,"{key}":2}}"#);
        assert!(parse_str(&input, MAX).unwrap_err().to_string().len() < 200);
        let input = format!(r#"["{}"#, "x".repeat(10_000));
        assert!(parse_str(&input, MAX).unwrap_err().to_string().len() < 250);
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let input = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(
            parse_str(&input, MAX),
            Err(StrictJsonError::Syntax(_))
        ));
    }

    #[test]
    fn parse_str_and_parse_agree() {
        assert_eq!(parse_str("{\"a\":[]}", MAX), parse(b"{\"a\":[]}", MAX));
        assert_eq!(parse_str("0", MAX).unwrap(), json!(0));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            any::<u64>().prop_map(|n| json!(n)),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| json!(f)),
            any::<String>().prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                // Building a Map deduplicates keys, so the value is duplicate-free.
                prop::collection::vec((any::<String>(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn agrees_with_serde_json_on_duplicate_free_values(
            value in arb_json(),
            pretty in any::<bool>(),
        ) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            let expected: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(parse_str(&text, usize::MAX).unwrap(), expected);
        }
    }
}
