//! What the store keeps of an envelope: the envelope as received with each item's body
//! (`{"licence": <credential>}`, `{"statusChange": <change>}`) replaced by the body's digest. Each item is stored once, in its own row (a licence version or a status
//! event, the signed bytes as received); [`reassemble`] puts the envelope back together from
//! them, and the result has the envelope's own digest, so its issuer's proof still verifies.

use std::collections::HashMap;

use serde_json::Value;

use super::batch::PendingItem;

/// The stored form of an envelope whose items are `items`, in order.
pub fn stored_document(mut envelope: Value, items: &[PendingItem]) -> String {
    if let Some(slots) = envelope.get_mut("items").and_then(Value::as_array_mut) {
        for (slot, item) in slots.iter_mut().zip(items) {
            if let Some(body) = body_mut(slot) {
                *body = Value::String(item.digest().to_owned());
            }
        }
    }
    envelope.to_string()
}

/// The digests a stored envelope names in place of its items' bodies (none for an envelope
/// stored whole, as envelopes were before items were stored once).
pub fn item_digests(stored: &Value) -> Vec<&str> {
    stored["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item.as_object()?.values().next()?.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// The envelope as received, from its stored form and its items' bodies by digest; `None`
/// when a body is missing or not JSON.
pub fn reassemble(mut stored: Value, documents: &HashMap<String, String>) -> Option<Value> {
    if let Some(items) = stored.get_mut("items").and_then(Value::as_array_mut) {
        for body in items.iter_mut().filter_map(body_mut) {
            if let Value::String(digest) = body {
                *body = serde_json::from_str(documents.get(digest.as_str())?).ok()?;
            }
        }
    }
    Some(stored)
}

/// The body of an item `{kind: body}`.
fn body_mut(item: &mut Value) -> Option<&mut Value> {
    let object = item.as_object_mut()?;
    (object.len() == 1).then(|| object.values_mut().next())?
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::crypto::digest::digest_value;

    #[test]
    fn stored_then_reassembled_is_the_envelope_with_its_digest() {
        let licence = json!({"id": "urn:x:1", "credentialSubject": {"n": 1.5e3, "名": "张三"}});
        let change = json!({"licence": "urn:x:0", "action": "revoke"});
        let envelope = json!({
            "sequence": 2, "items": [{"licence": licence}, {"statusChange": change}],
            "proof": {"v": "z1"},
        });
        let digests = [digest_value(&licence), digest_value(&change)];
        let mut stored = envelope.clone();
        stored["items"] = json!([{"licence": digests[0]}, {"statusChange": digests[1]}]);
        let stored: Value = serde_json::from_str(&stored.to_string()).expect("JSON");
        assert_eq!(
            item_digests(&stored),
            digests.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let documents = HashMap::from([
            (digests[0].clone(), licence.to_string()),
            (digests[1].clone(), change.to_string()),
        ]);
        let back = reassemble(stored.clone(), &documents).expect("every item");
        assert_eq!(digest_value(&back), digest_value(&envelope));
        let mut partial = documents.clone();
        partial.remove(&digests[1]);
        assert!(reassemble(stored, &partial).is_none(), "a missing item");
        // An envelope stored whole stays as it is and names no digests.
        assert!(item_digests(&envelope).is_empty());
        assert_eq!(
            reassemble(envelope.clone(), &HashMap::new()),
            Some(envelope)
        );
    }
}
