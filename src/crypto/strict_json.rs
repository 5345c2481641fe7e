//! Strict JSON parsing for signed input.
//!
//! `serde_json` silently keeps the last of two equal object keys, so a signed
//! document could say one thing to a verifier and another to a reader. This
//! parser builds the same [`serde_json::Value`] as `serde_json` but refuses
//! duplicate keys at any depth, oversized input, invalid UTF-8, lone UTF-16
//! surrogates (`serde_json` already refuses these when decoding to `String`)
//! and anything after the top-level value.
//!
//! It also bounds the tree it builds. A `serde_json::Value` takes far more memory than the text
//! it came from (72 bytes a value, more a member), so a small body of tiny values (`[{},{},…]`)
//! could ask for hundreds of times its size: the tree may take at most
//! [`TREE_BYTES_PER_INPUT_BYTE`] bytes per input byte (never less than [`TREE_BYTES_FLOOR`]),
//! counted as it is built (values, strings, members, an array's whole capacity as it grows),
//! and objects allocate only when they get a member.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

mod member;

pub use member::Member;

/// Tree bytes allowed per input byte. Real documents (credentials, batches of them, licence
/// subjects, the seeded schemas) take 4–5.3 (measured in the tests); a document made mostly of
/// tiny values (empty objects and arrays, empty strings, one-digit numbers) takes 24 to 70,
/// and is refused unless it is small.
pub const TREE_BYTES_PER_INPUT_BYTE: usize = 20;
/// Tree bytes any document may take, however short.
pub const TREE_BYTES_FLOOR: usize = 1 << 20;
/// What a value costs wherever it sits (its slot in an array, or beside its key).
const VALUE_COST: usize = std::mem::size_of::<Value>();
/// What an object member adds to its value: the key's string and the map's hash and index.
const MEMBER_COST: usize = std::mem::size_of::<String>() + 2 * std::mem::size_of::<usize>();
/// What an object's first member adds: the map allocates room for three members and its table.
const FIRST_MEMBER_COST: usize = 2 * (VALUE_COST + MEMBER_COST) + 64;

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
    /// The document's values would take more memory than its size allows.
    #[error(
        "JSON document holds too many values for its size (more than {limit} bytes of structure)"
    )]
    TooComplex {
        /// The tree's budget in bytes.
        limit: usize,
    },
    /// Malformed JSON, including lone surrogates and trailing characters.
    #[error("invalid JSON: {0}")]
    Syntax(String),
}

/// Parses `bytes` as one JSON value, refusing duplicate keys anywhere.
pub fn parse(bytes: &[u8], max_len: usize) -> Result<Value, StrictJsonError> {
    let budget = bytes
        .len()
        .saturating_mul(TREE_BYTES_PER_INPUT_BYTE)
        .max(TREE_BYTES_FLOOR);
    parse_within(bytes, max_len, budget).0
}

/// [`parse`] with the tree's budget given, answering also the bytes of it spent.
fn parse_within(
    bytes: &[u8],
    max_len: usize,
    budget: usize,
) -> (Result<Value, StrictJsonError>, usize) {
    if bytes.len() > max_len {
        return (Err(StrictJsonError::TooLarge { limit: max_len }), 0);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let offset = e.valid_up_to();
            return (Err(StrictJsonError::InvalidUtf8 { offset }), 0);
        }
    };
    let mut state = State {
        duplicate: None,
        budget,
        over_budget: false,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = ValueSeed {
        state: &mut state,
        slot_paid: false,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    let spent = budget - state.budget;
    let result = match (parsed, state.duplicate) {
        (Ok(value), _) => Ok(value),
        (Err(_), _) if state.over_budget => Err(StrictJsonError::TooComplex { limit: budget }),
        (Err(_), Some((key, path))) => Err(StrictJsonError::DuplicateKey {
            key,
            path: pointer(&path),
        }),
        (Err(e), None) => Err(StrictJsonError::Syntax(truncate(
            &e.to_string(),
            MAX_MESSAGE_CHARS,
        ))),
    };
    (result, spent)
}

/// Convenience wrapper around [`parse`] for text already known to be UTF-8.
pub fn parse_str(s: &str, max_len: usize) -> Result<Value, StrictJsonError> {
    parse(s.as_bytes(), max_len)
}

/// Parser state shared down the recursion: the first duplicate found (serde
/// errors are strings, so the details travel here). Its path is built only on
/// the way out of a failed parse, each level adding its own segment, so the
/// happy path allocates nothing for it.
struct State {
    /// The repeated key and the path to its object, innermost segment first.
    duplicate: Option<(String, Vec<String>)>,
    /// Tree bytes still allowed.
    budget: usize,
    /// Whether the budget ran out (serde errors are strings, so the fact travels here).
    over_budget: bool,
}

impl State {
    /// Takes `bytes` from the budget; an error once it is spent.
    fn charge<E: de::Error>(&mut self, bytes: usize) -> Result<(), E> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => {
                self.over_budget = true;
                Err(E::custom("document too complex for its size"))
            }
        }
    }

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
    /// Whether the value's slot is already paid for (an array element: its array pays for
    /// its whole capacity as it grows).
    slot_paid: bool,
}

impl ValueSeed<'_> {
    /// Charges the value's own slot, unless its container paid for it, plus `extra` bytes.
    fn charge<E: de::Error>(&mut self, extra: usize) -> Result<(), E> {
        let slot = if self.slot_paid { 0 } else { VALUE_COST };
        self.state.charge(slot + extra)
    }
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

    fn visit_bool<E: de::Error>(mut self, v: bool) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(mut self, v: i64) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: de::Error>(mut self, v: u64) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: de::Error>(mut self, v: f64) -> Result<Value, E> {
        self.charge(0)?;
        // serde_json never hands a visitor a non-finite float; Null mirrors
        // what serde_json's own Value visitor would do if it did.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(mut self, v: &str) -> Result<Value, E> {
        self.charge(v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(mut self, v: String) -> Result<Value, E> {
        self.charge(v.len())?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(mut self) -> Result<Value, E> {
        self.charge(0)?;
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(0)?;
        let mut items: Vec<Value> = Vec::new();
        loop {
            let next = seq.next_element_seed(ValueSeed {
                state: &mut *self.state,
                slot_paid: true,
            });
            match next {
                Ok(Some(item)) => {
                    if items.len() == items.capacity() {
                        // Grown as `push` would (doubling, at least four), paid in full.
                        let more = items.capacity().max(4);
                        self.state.charge(more * VALUE_COST)?;
                        items.reserve_exact(more);
                    }
                    items.push(item);
                }
                Ok(None) => return Ok(Value::Array(items)),
                Err(e) => {
                    self.state.unwinding(|| items.len().to_string());
                    return Err(e);
                }
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Value, A::Error> {
        self.charge(0)?;
        // Allocated at the first member, not before: an empty object costs only its slot.
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let first = if object.is_empty() {
                FIRST_MEMBER_COST
            } else {
                0
            };
            self.state.charge(MEMBER_COST + key.len() + first)?;
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
                slot_paid: false,
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
mod tests;
