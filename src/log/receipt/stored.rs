//! How the store keeps a receipt: without its checkpoint note and with each item reduced to
//! what no other row holds; and how a repeated envelope's receipt is put back from the
//! checkpoints, the leaves and the tree.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::Value;

use crate::log::merkle::Hash;

/// A signed receipt as the store keeps it: without its `checkpoint` (the note signed for its
/// tree size, kept once per batch in the `checkpoints` table), each item reduced to what no
/// other row holds (`index`, `kind`, `leafIndex`, and a licence's `registration`). An item's
/// `id` and `digest` are in its leaf data and its `leafHash` is the leaf's, while its inclusion
/// proof is most of a receipt (about 1 KB a licence at ten million leaves) and the tree, which
/// never changes, gives it again. [`restore_checkpoint`] and [`restore_items`] put them back,
/// so a repeated envelope gets its original receipt byte for byte.
///
/// The seal writes the stored form itself (`text`); this, from the receipt as a value, is
/// what its tests hold it to.
#[cfg(test)]
pub(super) fn stored_form(mut signed: Value) -> String {
    if let Some(receipt) = signed.as_object_mut() {
        receipt.shift_remove("checkpoint");
    }
    if let Some(items) = signed["items"].as_array_mut() {
        for item in items.iter_mut().filter_map(Value::as_object_mut) {
            for key in ["id", "digest", "leafHash", "inclusionProof"] {
                item.shift_remove(key);
            }
        }
    }
    signed.to_string()
}

/// The tree size of a stored receipt whose checkpoint note was left out (none for receipts
/// stored with it, as earlier versions did).
pub fn missing_checkpoint(stored: &Value) -> Option<u64> {
    if stored.get("checkpoint").is_some() {
        return None;
    }
    stored["treeSize"].as_u64()
}

/// Puts the checkpoint note back where the receipt was signed with it: before `treeSize`.
pub fn restore_checkpoint(stored: &mut Value, note: &str) {
    if let Some(receipt) = stored.as_object_mut() {
        let at = receipt
            .keys()
            .position(|k| k == "treeSize")
            .unwrap_or(receipt.len());
        receipt.shift_insert(at, "checkpoint".into(), note.into());
    }
}

/// The tree size of a stored receipt and the leaves of the items it keeps reduced, in item
/// order (none for receipts stored whole, as they were before items were reduced).
pub fn reduced_items(stored: &Value) -> Option<(u64, Vec<u64>)> {
    let size = stored["treeSize"].as_u64()?;
    let leaves: Vec<u64> = stored["items"]
        .as_array()?
        .iter()
        .filter(|item| item.get("inclusionProof").is_none())
        .filter_map(|item| item["leafIndex"].as_u64())
        .collect();
    (!leaves.is_empty()).then_some((size, leaves))
}

/// What the log gives back for one leaf of [`reduced_items`]: its leaf data and hash, and its
/// inclusion proof at the receipt's tree size.
#[derive(Debug, Clone, Copy)]
pub struct LeafFacts<'a> {
    pub data: &'a str,
    pub hash: Hash,
    pub proof: &'a [Hash],
}

/// Why a stored receipt could not be put back together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a stored receipt's item does not match its leaf: {0}")]
pub struct RestoreError(&'static str);

/// Puts back what [`stored_form`] left out of the items of [`reduced_items`] (`leaves` in that
/// order), where the receipt was signed with them: `id` and `digest` after `kind`, `leafHash`
/// and `inclusionProof` after `leafIndex`. Receipts stored by earlier versions kept `id`,
/// `digest` and `leafHash`; those are left as they are.
pub fn restore_items(stored: &mut Value, leaves: &[LeafFacts<'_>]) -> Result<(), RestoreError> {
    let Some(items) = stored["items"].as_array_mut() else {
        return Ok(());
    };
    let reduced = items
        .iter_mut()
        .filter_map(Value::as_object_mut)
        .filter(|item| !item.contains_key("inclusionProof") && item.contains_key("leafIndex"));
    for (item, leaf) in reduced.zip(leaves) {
        let after = |item: &serde_json::Map<String, Value>, key: &str| {
            item.keys()
                .position(|k| k == key)
                .map_or(item.len(), |i| i + 1)
        };
        if !item.contains_key("id") {
            let data: Value = serde_json::from_str(leaf.data).map_err(|_| RestoreError("data"))?;
            if data.get("kind") != item.get("kind") {
                return Err(RestoreError("kind"));
            }
            let (Some(id), Some(digest)) = (data["id"].as_str(), data["digest"].as_str()) else {
                return Err(RestoreError("id"));
            };
            let at = after(item, "kind");
            item.shift_insert(at, "id".into(), id.into());
            item.shift_insert(at + 1, "digest".into(), digest.into());
        }
        if !item.contains_key("leafHash") {
            let at = after(item, "leafIndex");
            item.shift_insert(at, "leafHash".into(), STANDARD.encode(leaf.hash).into());
        }
        let encoded: Vec<Value> = leaf
            .proof
            .iter()
            .map(|h| STANDARD.encode(h).into())
            .collect();
        let at = after(item, "leafHash");
        item.shift_insert(at, "inclusionProof".into(), encoded.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_stored_receipt_gets_its_items_back_in_place() {
        let hash = |b: u8| [b; 32];
        let encoded = |h: [u8; 32]| STANDARD.encode(h);
        let proofs = [vec![hash(1), hash(2)], vec![hash(3)]];
        let receipt = json!({
            "envelope": "uEiX", "checkpoint": "registry.test/log\n9\nroot\n", "treeSize": 9,
            "items": [
                {"index": 0, "kind": "licence", "id": "urn:elicence:a", "digest": "uEiA",
                 "leafIndex": 7, "leafHash": encoded(hash(9)),
                 "inclusionProof": [encoded(hash(1)), encoded(hash(2))], "registration": "AQ"},
                {"index": 1, "kind": "status", "id": "urn:elicence:a", "digest": "uEiB",
                 "leafIndex": 8, "leafHash": encoded(hash(8)),
                 "inclusionProof": [encoded(hash(3))]},
            ],
            "proof": {"proofValue": "z1"},
        });
        let stored = stored_form(receipt.clone());
        for gone in [
            "checkpoint",
            "inclusionProof",
            "leafHash",
            "urn:elicence:a",
            "uEiA",
            "uEiB",
        ] {
            assert!(!stored.contains(gone), "{gone} is not stored");
        }
        let data = [
            r#"{"digest":"uEiA","id":"urn:elicence:a","kind":"licence"}"#,
            r#"{"digest":"uEiB","id":"urn:elicence:a","kind":"status"}"#,
        ];
        let leaves = [
            LeafFacts {
                data: data[0],
                hash: hash(9),
                proof: &proofs[0],
            },
            LeafFacts {
                data: data[1],
                hash: hash(8),
                proof: &proofs[1],
            },
        ];
        let mut back: Value = serde_json::from_str(&stored).expect("JSON");
        assert_eq!(missing_checkpoint(&back), Some(9));
        restore_checkpoint(&mut back, "registry.test/log\n9\nroot\n");
        assert_eq!(reduced_items(&back), Some((9, vec![7, 8])));
        restore_items(&mut back, &leaves).expect("restored");
        assert_eq!(
            back.to_string(),
            receipt.to_string(),
            "byte for byte, keys in place"
        );
        // A receipt stored whole needs nothing.
        assert_eq!(reduced_items(&receipt), None);
        assert_eq!(missing_checkpoint(&receipt), None);
        // A leaf of another kind than the item is a damaged row, not a receipt to answer.
        let mut back: Value = serde_json::from_str(&stored).expect("JSON");
        let swapped = [leaves[1], leaves[0]];
        assert_eq!(
            restore_items(&mut back, &swapped),
            Err(RestoreError("kind"))
        );
    }

    #[test]
    fn a_receipt_stored_by_an_earlier_version_keeps_its_own_fields() {
        // Stored before items were reduced: only the inclusion proofs were left out.
        let hash = |b: u8| [b; 32];
        let encoded = |h: [u8; 32]| STANDARD.encode(h);
        let earlier = json!({
            "treeSize": 9,
            "items": [{"index": 0, "kind": "licence", "id": "urn:elicence:a", "digest": "uEiA",
                       "leafIndex": 7, "leafHash": encoded(hash(9)), "registration": "AQ"}],
        });
        let proof = [hash(1)];
        let leaf = LeafFacts {
            data: "{}",
            hash: hash(0),
            proof: &proof,
        };
        let mut back = earlier.clone();
        restore_items(&mut back, &[leaf]).expect("restored");
        let mut expected = earlier;
        expected["items"][0]
            .as_object_mut()
            .expect("item")
            .shift_insert(6, "inclusionProof".into(), json!([encoded(hash(1))]));
        assert_eq!(back.to_string(), expected.to_string());
    }
}
