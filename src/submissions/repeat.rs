//! A repeated envelope gets its original receipt. The store keeps receipts without their
//! checkpoint note and with their items reduced (see [`crate::log::receipt`]): the note is put
//! back here from the `checkpoints` row of the receipt's tree size, each item's identifier,
//! digest and leaf hash from its leaf, and its inclusion proof from the log's nodes at that
//! size, so the answer is the receipt as first sent, byte for byte and under its original
//! signature.

use std::collections::HashMap;

use serde_json::Value;

use crate::log::merkle::{inclusion_plan, NodeId};
use crate::log::receipt::{
    missing_checkpoint, reduced_items, restore_checkpoint, restore_items, LeafFacts,
};
use crate::storage::{Store, StoreError};

/// The receipt as first sent, from its stored form.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn original_receipt(store: &dyn Store, stored: String) -> Result<String, StoreError> {
    let mut receipt: Value = serde_json::from_str(&stored)
        .map_err(|_| StoreError::corrupt("a stored receipt is not JSON"))?;
    let (checkpoint, reduced) = (missing_checkpoint(&receipt), reduced_items(&receipt));
    if checkpoint.is_none() && reduced.is_none() {
        return Ok(stored);
    }
    if let Some(size) = checkpoint {
        let signed = store.checkpoint_at(size).await?.ok_or_else(|| {
            StoreError::corrupt(format!("the checkpoint at {size} of a receipt is missing"))
        })?;
        restore_checkpoint(&mut receipt, &signed.note);
    }
    if let Some((size, leaves)) = reduced {
        restore_items_from_log(store, &mut receipt, size, &leaves).await?;
    }
    Ok(receipt.to_string())
}

/// Puts back the reduced items' identifiers, digests, leaf hashes (from their leaves) and
/// inclusion proofs at `size` (from the log's nodes).
async fn restore_items_from_log(
    store: &dyn Store,
    receipt: &mut Value,
    size: u64,
    leaves: &[u64],
) -> Result<(), StoreError> {
    let plans = leaves
        .iter()
        .map(|&leaf| inclusion_plan(leaf, size))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::corrupt)?;
    let mut ids: Vec<NodeId> = plans.iter().flat_map(|p| p.node_ids()).collect();
    // The proofs of one envelope's neighbouring leaves share most of their nodes.
    ids.sort_unstable();
    ids.dedup();
    let nodes = store.log_nodes(&ids).await?;
    let mut folded = HashMap::new();
    let proofs = plans
        .iter()
        .map(|plan| plan.assemble_sharing(&nodes, &mut folded))
        .collect::<Result<Vec<_>, _>>()
        .map_err(StoreError::corrupt)?;
    // An envelope's items are consecutive leaves: one read of their range.
    let (first, last) = (
        leaves.iter().copied().min().unwrap_or(0),
        leaves.iter().copied().max().unwrap_or(0),
    );
    let count = last - first + 1;
    if usize::try_from(count).ok() != Some(leaves.len()) {
        return Err(StoreError::corrupt(
            "a stored receipt's leaves are not one range",
        ));
    }
    let entries: HashMap<u64, _> = store
        .log_entries(first, count)
        .await?
        .into_iter()
        .map(|e| (e.index, e))
        .collect();
    let facts = leaves
        .iter()
        .zip(&proofs)
        .map(|(leaf, proof)| {
            let entry = entries.get(leaf).ok_or_else(|| {
                StoreError::corrupt(format!("leaf {leaf} of a receipt is missing"))
            })?;
            Ok(LeafFacts {
                data: &entry.data,
                hash: entry.leaf_hash,
                proof,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    restore_items(receipt, &facts).map_err(StoreError::corrupt)
}
