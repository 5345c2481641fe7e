//! A repeated envelope gets its original receipt. The store keeps receipts without their
//! items' inclusion proofs (see [`crate::log::receipt`]): they are put back here from the
//! log's nodes at the receipt's own tree size, so the answer is the receipt as first sent,
//! byte for byte and under its original signature.

use std::collections::HashMap;

use serde_json::Value;

use crate::log::merkle::{inclusion_plan, NodeId};
use crate::log::receipt::{missing_proofs, restore_proofs};
use crate::storage::{Store, StoreError};

/// The receipt as first sent, from its stored form.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn original_receipt(store: &dyn Store, stored: String) -> Result<String, StoreError> {
    let mut receipt: Value = serde_json::from_str(&stored)
        .map_err(|_| StoreError::corrupt("a stored receipt is not JSON"))?;
    let Some((size, leaves)) = missing_proofs(&receipt) else {
        return Ok(stored);
    };
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
    restore_proofs(&mut receipt, &proofs);
    Ok(receipt.to_string())
}
