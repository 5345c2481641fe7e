//! RFC 9162 Merkle tree hashing and the log's storage model.
//!
//! The tree lives in a database, so nothing here ever walks all leaves. The store keeps the hash
//! of every *complete, aligned subtree*: [`NodeId`] `{ level, index }` is the subtree over leaves
//! `[index·2^level, (index+1)·2^level)`, level 0 being the leaf hashes. Appending a leaf (through
//! [`CompactRange`]) yields the leaf node and every parent it completes; those pairs are all the
//! store ever writes.
//!
//! Every node of an RFC 9162 proof is `MTH(D[a:b])` for a range that is either one complete node
//! or, on the right edge of a tree of `n` leaves, the fold of the complete nodes of the binary
//! decomposition of `[a, b)`. A proof is therefore computed in three steps: plan the [`NodeId`]s
//! it needs ([`inclusion_plan`], [`consistency_plan`], [`root_plan`]), fetch them all in one
//! query ([`ProofPlan::nodes`]), and assemble ([`ProofPlan::assemble`]). Each costs O(log n)
//! node reads. [`verify_inclusion`] and [`verify_consistency`] are the RFC 9162 client checks,
//! and `MemoryTree` (tests only) is an in-memory store the proofs are checked against.

#[cfg(test)]
mod memory;
mod proof;

use sha2::{Digest, Sha256};

#[cfg(test)]
pub use memory::MemoryTree;
pub use proof::{
    consistency_plan, inclusion_plan, root_plan, verify_consistency, verify_inclusion, ProofPlan,
};

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
pub type Hash = [u8; 32];

/// Why a Merkle operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MerkleError {
    /// A leaf index at or past the tree size.
    #[error("leaf index {index} is out of range for tree size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size it was asked against.
        size: u64,
    },
    /// A consistency proof from a larger tree to a smaller one.
    #[error("tree size {size1} is larger than tree size {size2}")]
    SizeOrder {
        /// The older (first) tree size.
        size1: u64,
        /// The newer (second) tree size.
        size2: u64,
    },
    /// A tree size past what the tree holds.
    #[error("tree size {size} is past the tree's {tree_size} leaves")]
    SizeBeyondTree {
        /// The requested size.
        size: u64,
        /// The number of leaves the tree holds.
        tree_size: u64,
    },
    /// The store did not return a node the plan needs.
    #[error("node at level {} index {} is missing from the store", .0.level, .0.index)]
    MissingNode(NodeId),
    /// The frontier given to [`CompactRange::from_peaks`] does not match its size.
    #[error("tree size {size} needs {expected} peaks, got {got}")]
    PeakCount {
        /// The tree size.
        size: u64,
        /// `size.count_ones()`.
        expected: usize,
        /// How many peaks were given.
        got: usize,
    },
    /// A proof with the wrong number of hashes for its sizes.
    #[error("proof has {got} hashes, expected {expected}")]
    ProofLength {
        /// What the sizes call for.
        expected: usize,
        /// What the proof holds.
        got: usize,
    },
    /// The root the proof leads to is not the expected one.
    #[error("proof does not lead to the expected root")]
    RootMismatch,
    /// A consistency proof that does not lead to the expected older root.
    #[error("proof does not lead to the expected first root")]
    FirstRootMismatch,
}

/// The hash of a leaf: `SHA-256(0x00 ‖ data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    Sha256::new()
        .chain_update([0x00])
        .chain_update(data)
        .finalize()
        .into()
}

/// The hash of an interior node: `SHA-256(0x01 ‖ left ‖ right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    Sha256::new()
        .chain_update([0x01])
        .chain_update(left)
        .chain_update(right)
        .finalize()
        .into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A complete, aligned subtree: the leaves `[index·2^level, (index+1)·2^level)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId {
    /// Height above the leaves; 0 is a leaf.
    pub level: u8,
    /// Position among the nodes of that level, from the left.
    pub index: u64,
}

impl NodeId {
    /// The node at `level` whose leaves start at leaf `start` (which must be aligned to it).
    fn starting_at(level: u8, start: u64) -> Self {
        debug_assert_eq!(start % (1u64 << level), 0, "unaligned node start");
        Self {
            level,
            index: start >> level,
        }
    }
}

/// The complete nodes whose folding gives `MTH(D[start:end])`, largest first.
///
/// Valid for the ranges that occur in RFC 9162 trees: `start` aligned to a power of two at
/// least `end - start`, so the decomposition follows the set bits of `end - start` from the
/// highest, and the RFC's split at the largest power of two below the width folds them
/// right-to-left. Empty for an empty range.
fn range_nodes(start: u64, end: u64) -> Vec<NodeId> {
    // At least one node per set bit of the width; exactly one for an aligned power of two, as
    // most ranges of an inclusion proof are.
    let mut nodes = Vec::with_capacity((end - start).count_ones() as usize);
    let mut at = start;
    while at < end {
        let width = end - at;
        // Largest power of two not above the remaining width, limited by `at`'s alignment.
        let level = (63 - width.leading_zeros()).min(at.trailing_zeros()) as u8;
        nodes.push(NodeId::starting_at(level, at));
        at += 1u64 << level;
    }
    nodes
}

/// Folds complete-node hashes (largest first) into the hash of the range they cover.
fn fold_right(hashes: &[Hash]) -> Hash {
    match hashes.split_last() {
        None => empty_root(),
        Some((last, rest)) => rest
            .iter()
            .rev()
            .fold(*last, |acc, left| node_hash(left, &acc)),
    }
}

/// The right-edge frontier of a tree: one complete subtree per set bit of its size, largest
/// first. Enough to append leaves and compute the current root without reading anything else.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct CompactRange {
    size: u64,
    peaks: Vec<Hash>,
}

impl CompactRange {
    /// The frontier of the empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// The nodes to load from the store to resume a tree of `size` leaves, largest first.
    pub fn peak_ids(size: u64) -> Vec<NodeId> {
        range_nodes(0, size)
    }

    /// Resumes from the hashes of [`CompactRange::peak_ids`]`(size)`, in the same order.
    pub fn from_peaks(size: u64, peaks: Vec<Hash>) -> Result<Self, MerkleError> {
        let expected = size.count_ones() as usize;
        if peaks.len() != expected {
            return Err(MerkleError::PeakCount {
                size,
                expected,
                got: peaks.len(),
            });
        }
        Ok(Self { size, peaks })
    }

    /// Appends one leaf hash. Returns the leaf node and every parent it completes, lowest first:
    /// exactly the pairs the store must write.
    pub fn append(&mut self, leaf: Hash) -> Vec<(NodeId, Hash)> {
        let index = self.size;
        let mut written = vec![(NodeId::starting_at(0, index), leaf)];
        let mut hash = leaf;
        let mut level = 0u8;
        // Each set low bit of the old size is a peak of the same level that the new node
        // completes; the peaks are stored largest first, so those are at the end.
        while (index >> level) & 1 == 1 {
            // Invariant: one peak per set bit of `size`, so a set bit has a peak to pop.
            let left = self.peaks.pop().expect("a peak for every set bit of size");
            hash = node_hash(&left, &hash);
            level += 1;
            written.push((
                NodeId {
                    level,
                    index: index >> level,
                },
                hash,
            ));
        }
        self.peaks.push(hash);
        self.size += 1;
        written
    }

    /// Appends leaf hashes in order; returns every node to store, as [`CompactRange::append`].
    pub fn append_all(&mut self, leaves: impl IntoIterator<Item = Hash>) -> Vec<(NodeId, Hash)> {
        leaves
            .into_iter()
            .flat_map(|leaf| self.append(leaf))
            .collect()
    }

    /// The root of the tree so far (the empty root for no leaves).
    pub fn root(&self) -> Hash {
        fold_right(&self.peaks)
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The peak hashes, largest first, matching [`CompactRange::peak_ids`]`(self.size())`.
    pub fn peaks(&self) -> &[Hash] {
        &self.peaks
    }
}

#[cfg(test)]
mod tests;
