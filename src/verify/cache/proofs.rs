//! Inclusion proofs for the [`RegistryCache`]: log nodes from memory or one query, and the
//! signed checkpoint they lead to.

use std::sync::Arc;

use super::{LatestCheckpoint, RegistryCache};
use crate::log::merkle::{inclusion_plan, Hash, NodeId};
use crate::storage::StoreError;
use crate::verify::{FastMap, InclusionProof, Verification};

impl RegistryCache {
    /// The hashes of these log nodes: from memory, the rest in one query (then kept). A
    /// stored node is a complete subtree and never changes, so a kept hash is never stale; the
    /// upper levels, which every proof shares, stay in memory.
    pub async fn log_nodes(&self, ids: &[NodeId]) -> Result<FastMap<NodeId, Hash>, StoreError> {
        let (mut found, missing) = self.licences.nodes(ids);
        if !missing.is_empty() {
            let read = self.store.log_nodes(&missing).await?;
            self.licences.fill_nodes(&read);
            found.extend(read);
        }
        Ok(found)
    }

    /// Fills in every wanted inclusion proof against one signed checkpoint, in one query.
    pub(super) async fn attach_proofs(
        &self,
        results: &mut [Verification],
    ) -> Result<(), StoreError> {
        let Some(highest) = results.iter().filter_map(|r| r.proof_needed).max() else {
            return Ok(());
        };
        let Some(checkpoint) = self.checkpoint_covering(highest).await? else {
            return Ok(());
        };
        let plans: Vec<_> = results
            .iter()
            .map(|r| {
                r.proof_needed
                    .and_then(|i| inclusion_plan(i, checkpoint.size).ok())
            })
            .collect();
        let mut ids: Vec<NodeId> = plans.iter().flatten().flat_map(|p| p.node_ids()).collect();
        // Proofs of neighbouring leaves share most nodes: each is fetched once.
        ids.sort_unstable();
        ids.dedup();
        let nodes = self.log_nodes(&ids).await?;
        let mut folded = std::collections::HashMap::new();
        for (result, plan) in results.iter_mut().zip(plans) {
            let Some(plan) = plan else { continue };
            match plan.assemble_sharing(&nodes, &mut folded) {
                Ok(hashes) => result.attach_proof(InclusionProof {
                    tree_size: checkpoint.size,
                    checkpoint: checkpoint.note.clone(),
                    hashes,
                }),
                Err(e) => tracing::error!(error = %e, "an inclusion proof could not be assembled"),
            }
        }
        Ok(())
    }

    /// Whether the log holds at least `size` leaves: `Ok(())`, or `Err(current size)`. A size
    /// within the last signed checkpoint this instance saw needs no read (the log only grows).
    pub async fn log_holds(&self, size: u64) -> Result<Result<(), u64>, StoreError> {
        let seen = self
            .checkpoint
            .read()
            .ok()
            .and_then(|c| c.as_ref().map(|c| c.size));
        if seen.is_some_and(|seen| size <= seen) {
            return Ok(Ok(()));
        }
        let current = self.store.log_size().await?;
        Ok(if size <= current {
            Ok(())
        } else {
            Err(current)
        })
    }

    /// The cached checkpoint if it covers leaf `index`, else the latest one from the store.
    async fn checkpoint_covering(
        &self,
        index: u64,
    ) -> Result<Option<Arc<LatestCheckpoint>>, StoreError> {
        let cached = self.checkpoint.read().ok().and_then(|c| c.clone());
        if let Some(c) = cached.filter(|c| c.size > index) {
            return Ok(Some(c));
        }
        let latest = self
            .store
            .latest_checkpoint()
            .await?
            .as_ref()
            .map(LatestCheckpoint::new);
        if let (Some(latest), Ok(mut slot)) = (&latest, self.checkpoint.write()) {
            *slot = Some(latest.clone());
        }
        Ok(latest.filter(|c| c.size > index))
    }
}
