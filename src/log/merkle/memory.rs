//! An in-memory node store: the same storage model and proof path as the database, for tests
//! and for auditors that rebuild a log from its entries.

use std::collections::HashMap;

use super::{
    consistency_plan, inclusion_plan, leaf_hash, root_plan, CompactRange, Hash, MerkleError,
    NodeId, ProofPlan,
};

/// A Merkle tree held in memory as its complete nodes, one `Vec` per level.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is the hash of `NodeId { level: l, index: i }`.
    levels: Vec<Vec<Hash>>,
    frontier: CompactRange,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds a tree from leaf hashes, in order.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut tree = Self::new();
        for leaf in leaves {
            tree.append_leaf_hash(leaf);
        }
        tree
    }

    /// Appends a leaf's data; returns its index.
    pub fn append(&mut self, data: &[u8]) -> u64 {
        self.append_leaf_hash(leaf_hash(data))
    }

    /// Appends a leaf hash; returns its index.
    pub fn append_leaf_hash(&mut self, leaf: Hash) -> u64 {
        let index = self.frontier.size();
        for (id, hash) in self.frontier.append(leaf) {
            let level = usize::from(id.level);
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            debug_assert_eq!(
                self.levels[level].len() as u64,
                id.index,
                "nodes arrive in order"
            );
            self.levels[level].push(hash);
        }
        index
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// The current root.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }

    /// The hash of a complete node, if the tree has it.
    pub fn node(&self, id: NodeId) -> Option<Hash> {
        let index = usize::try_from(id.index).ok()?;
        self.levels.get(usize::from(id.level))?.get(index).copied()
    }

    /// The hashes of the given nodes that the tree has: what one store query returns.
    pub fn fetch(&self, ids: &[NodeId]) -> HashMap<NodeId, Hash> {
        ids.iter()
            .filter_map(|&id| self.node(id).map(|hash| (id, hash)))
            .collect()
    }

    /// The root the tree had at `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, MerkleError> {
        self.check_size(size)?;
        let hashes = self.run(&root_plan(size))?;
        // Invariant: a root plan always assembles to exactly one hash.
        Ok(hashes[0])
    }

    /// The inclusion proof of leaf `index` in the tree at `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(size)?;
        self.run(&inclusion_plan(index, size)?)
    }

    /// The consistency proof between the tree at `size1` and at `size2` leaves.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Hash>, MerkleError> {
        self.check_size(size2)?;
        self.run(&consistency_plan(size1, size2)?)
    }

    fn run(&self, plan: &ProofPlan) -> Result<Vec<Hash>, MerkleError> {
        plan.assemble(&self.fetch(&plan.nodes()))
    }

    fn check_size(&self, size: u64) -> Result<(), MerkleError> {
        if size > self.size() {
            return Err(MerkleError::SizeBeyondTree {
                size,
                tree_size: self.size(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::merkle::{empty_root, node_hash, verify_consistency, verify_inclusion};

    #[test]
    fn empty_tree_has_empty_root() {
        let tree = MemoryTree::new();
        assert_eq!(tree.root(), empty_root());
        assert_eq!(tree.root_at(0), Ok(empty_root()));
    }

    #[test]
    fn three_leaf_tree_by_hand() {
        let mut tree = MemoryTree::new();
        let hashes: Vec<Hash> = [b"a", b"b", b"c"].iter().map(|d| leaf_hash(*d)).collect();
        for data in [b"a", b"b", b"c"] {
            tree.append(data);
        }
        let root = node_hash(&node_hash(&hashes[0], &hashes[1]), &hashes[2]);
        assert_eq!(tree.root(), root);
        let proof = tree.inclusion_proof(2, 3).expect("2 < 3");
        assert_eq!(proof, vec![node_hash(&hashes[0], &hashes[1])]);
        assert_eq!(verify_inclusion(&hashes[2], 2, 3, &proof, &root), Ok(()));
        let proof = tree.consistency_proof(2, 3).expect("2 <= 3");
        let root2 = tree.root_at(2).expect("2 <= 3");
        assert_eq!(verify_consistency(2, 3, &proof, &root2, &root), Ok(()));
    }

    #[test]
    fn sizes_past_the_tree_are_refused() {
        let tree = MemoryTree::from_leaf_hashes([leaf_hash(b"x")]);
        let beyond = MerkleError::SizeBeyondTree {
            size: 2,
            tree_size: 1,
        };
        assert_eq!(tree.root_at(2), Err(beyond.clone()));
        assert_eq!(tree.inclusion_proof(0, 2), Err(beyond.clone()));
        assert_eq!(tree.consistency_proof(1, 2), Err(beyond));
        assert_eq!(tree.node(NodeId { level: 9, index: 0 }), None);
    }
}
