//! Proof planning, assembly and verification (RFC 9162 §2.1.3 and §2.1.4).
//!
//! A [`ProofPlan`] lists, for each hash of a proof, the complete nodes whose fold gives it. The
//! store fetches [`ProofPlan::nodes`] in one query and [`ProofPlan::assemble`] folds them. Plans
//! need only sizes and indices, so a proof against any past tree size costs the same O(log n)
//! reads as one against the current size.
//!
//! Edge cases follow transparency-dev: a consistency proof from size 0, or between equal sizes,
//! is empty (and verifies only if empty, with equal roots, or with the empty root for size 0).

use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;

use super::{empty_root, fold_right, node_hash, range_nodes, Hash, MerkleError, NodeId};

/// The nodes a proof (or a root) is built from, one group per output hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPlan {
    /// One entry per output hash, in output order; each is folded right-to-left.
    items: Vec<Vec<NodeId>>,
}

impl ProofPlan {
    /// Every node the store must fetch, deduplicated, ordered by level then index.
    pub fn nodes(&self) -> Vec<NodeId> {
        let unique: BTreeSet<NodeId> = self.items.iter().flatten().copied().collect();
        unique.into_iter().collect()
    }

    /// Every node the plan reads, in plan order, repeats included: for callers that gather the
    /// nodes of many plans and deduplicate once.
    pub fn node_ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.items.iter().flatten().copied()
    }

    /// The number of hashes [`ProofPlan::assemble`] returns.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether the plan yields no hashes (a trivial consistency proof).
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Builds the proof from the fetched nodes; extra entries in `fetched` are ignored.
    pub fn assemble<S: BuildHasher>(
        &self,
        fetched: &HashMap<NodeId, Hash, S>,
    ) -> Result<Vec<Hash>, MerkleError> {
        self.assemble_sharing(fetched, &mut HashMap::new())
    }

    /// [`ProofPlan::assemble`] for one of many plans against the same tree: the proofs of
    /// neighbouring leaves share their right-edge groups, each folded once and kept in `folded`
    /// (by the group's first and last node, which fix the range it covers).
    pub fn assemble_sharing<S: BuildHasher>(
        &self,
        fetched: &HashMap<NodeId, Hash, S>,
        folded: &mut HashMap<(NodeId, NodeId), Hash>,
    ) -> Result<Vec<Hash>, MerkleError> {
        let hash = |id: &NodeId| {
            fetched
                .get(id)
                .copied()
                .ok_or(MerkleError::MissingNode(*id))
        };
        self.items
            .iter()
            .map(|group| match group.as_slice() {
                // Most groups are one complete subtree: nothing to fold.
                [one] => hash(one),
                [first, .., last] => {
                    if let Some(done) = folded.get(&(*first, *last)) {
                        return Ok(*done);
                    }
                    let hashes = group.iter().map(hash).collect::<Result<Vec<_>, _>>()?;
                    let done = fold_right(&hashes);
                    folded.insert((*first, *last), done);
                    Ok(done)
                }
                [] => Ok(fold_right(&[])),
            })
            .collect()
    }
}

/// Plans the inclusion proof `PATH(index, D[size])` (RFC 9162 §2.1.3.1).
pub fn inclusion_plan(index: u64, size: u64) -> Result<ProofPlan, MerkleError> {
    if index >= size {
        return Err(MerkleError::IndexOutOfRange { index, size });
    }
    // Walk down from the root; the RFC lists siblings from the leaf up, so reverse at the end.
    // One item per level: the tree's height.
    let mut items = Vec::with_capacity((u64::BITS - (size - 1).leading_zeros()) as usize);
    let (mut start, mut end) = (0, size);
    while end - start > 1 {
        let mid = start + split_point(end - start);
        if index < mid {
            items.push(range_nodes(mid, end));
            end = mid;
        } else {
            items.push(range_nodes(start, mid));
            start = mid;
        }
    }
    items.reverse();
    Ok(ProofPlan { items })
}

/// Plans the consistency proof `PROOF(size1, D[size2])` (RFC 9162 §2.1.4.1).
///
/// Empty when `size1` is 0 or equal to `size2`; an error when `size1 > size2`.
pub fn consistency_plan(size1: u64, size2: u64) -> Result<ProofPlan, MerkleError> {
    if size1 > size2 {
        return Err(MerkleError::SizeOrder { size1, size2 });
    }
    let mut items = Vec::new();
    if size1 == 0 || size1 == size2 {
        return Ok(ProofPlan { items });
    }
    // SUBPROOF(m, D[start:end], whole) unrolled; `whole` is true while the old tree is the
    // left edge of the current subtree, in which case its root is not part of the proof.
    let (mut start, mut end, mut whole) = (0, size2, true);
    while end != size1 {
        let mid = start + split_point(end - start);
        if size1 <= mid {
            items.push(range_nodes(mid, end));
            end = mid;
        } else {
            items.push(range_nodes(start, mid));
            start = mid;
            whole = false;
        }
    }
    if !whole {
        items.push(range_nodes(start, end));
    }
    items.reverse();
    Ok(ProofPlan { items })
}

/// Plans the root of the tree at `size` leaves: one hash, the empty root for size 0.
pub fn root_plan(size: u64) -> ProofPlan {
    ProofPlan {
        items: vec![range_nodes(0, size)],
    }
}

/// Checks an inclusion proof, RFC 9162 §2.1.3.2.
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), MerkleError> {
    let expected = inclusion_plan(index, size)?.len();
    check_length(expected, proof)?;
    let (mut fnode, mut snode) = (index, size - 1);
    let mut r = *leaf_hash;
    for p in proof {
        if snode == 0 {
            return Err(MerkleError::ProofLength {
                expected,
                got: proof.len(),
            });
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node_hash(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(MerkleError::ProofLength {
            expected,
            got: proof.len(),
        });
    }
    if r != *root {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// Checks a consistency proof, RFC 9162 §2.1.4.2.
///
/// Sizes 0 and equal sizes are handled before the RFC algorithm (which assumes
/// `0 < size1 < size2`): the proof must be empty, and the roots equal (size 0: `root1` must be
/// the empty root).
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<(), MerkleError> {
    let expected = consistency_plan(size1, size2)?.len();
    check_length(expected, proof)?;
    if size1 == size2 {
        return if root1 == root2 {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch)
        };
    }
    if size1 == 0 {
        return if *root1 == empty_root() {
            Ok(())
        } else {
            Err(MerkleError::FirstRootMismatch)
        };
    }
    let mut path = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(*root1);
    }
    path.extend_from_slice(proof);
    let (mut fnode, mut snode) = (size1 - 1, size2 - 1);
    while fnode & 1 == 1 {
        fnode >>= 1;
        snode >>= 1;
    }
    let bad_length = MerkleError::ProofLength {
        expected,
        got: proof.len(),
    };
    // Invariant: `check_length` passed with a non-trivial `expected`, so the path is not empty.
    let (first, rest) = path.split_first().ok_or_else(|| bad_length.clone())?;
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if snode == 0 {
            return Err(bad_length);
        }
        if fnode & 1 == 1 || fnode == snode {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    if snode != 0 {
        return Err(bad_length);
    }
    if fr != *root1 {
        return Err(MerkleError::FirstRootMismatch);
    }
    if sr != *root2 {
        return Err(MerkleError::RootMismatch);
    }
    Ok(())
}

/// The largest power of two strictly below `width` (which must be at least 2): the RFC's `k`.
fn split_point(width: u64) -> u64 {
    debug_assert!(width >= 2);
    1u64 << (63 - (width - 1).leading_zeros())
}

fn check_length(expected: usize, proof: &[Hash]) -> Result<(), MerkleError> {
    if proof.len() == expected {
        Ok(())
    } else {
        Err(MerkleError::ProofLength {
            expected,
            got: proof.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(level: u8, index: u64) -> NodeId {
        NodeId { level, index }
    }

    #[test]
    fn split_point_is_largest_power_below() {
        let cases = [
            (2, 1),
            (3, 2),
            (4, 2),
            (5, 4),
            (8, 4),
            (9, 8),
            (u64::MAX, 1 << 63),
        ];
        for (width, k) in cases {
            assert_eq!(split_point(width), k, "width {width}");
        }
    }

    /// Proofs assembled with shared folds are the proofs assembled alone, for every leaf of
    /// trees whose right edge needs folding, in any order.
    #[test]
    fn shared_folds_give_the_same_proofs() {
        for size in [7u64, 13, 21, 64, 100] {
            let mut tree = super::super::memory::MemoryTree::new();
            for i in 0..size {
                tree.append(&i.to_be_bytes());
            }
            let mut folded = HashMap::new();
            for index in (0..size).rev().chain(0..size) {
                let plan = inclusion_plan(index, size).unwrap();
                let fetched = tree.fetch(&plan.nodes());
                let alone = plan.assemble(&fetched).unwrap();
                assert_eq!(plan.assemble_sharing(&fetched, &mut folded).unwrap(), alone);
                let leaf = tree.node(id(0, index)).unwrap();
                verify_inclusion(&leaf, index, size, &alone, &tree.root()).unwrap();
            }
            // A full tree has no partial right edge; these others do.
            assert_eq!(folded.is_empty(), size.is_power_of_two(), "size {size}");
        }
    }

    #[test]
    fn inclusion_plan_for_leaf_six_of_seven() {
        // Tree of 7: PATH(6) = [MTH(D[4:6]), MTH(D[0:4])].
        let plan = inclusion_plan(6, 7).expect("6 < 7");
        assert_eq!(plan.items, vec![vec![id(1, 2)], vec![id(2, 0)]]);
    }

    #[test]
    fn right_edge_sibling_is_a_fold_of_complete_nodes() {
        // Leaf 0 of 7: siblings D[1], D[2:4], D[4:7] = fold(D[4:6], D[6]).
        let plan = inclusion_plan(0, 7).expect("0 < 7");
        assert_eq!(
            plan.items,
            vec![vec![id(0, 1)], vec![id(1, 1)], vec![id(1, 2), id(0, 6)]]
        );
        assert_eq!(plan.nodes(), vec![id(0, 1), id(0, 6), id(1, 1), id(1, 2)]);
    }

    #[test]
    fn consistency_plan_six_to_eight_matches_rfc_example() {
        // RFC 9162 §2.1.5: PROOF(6, D[8]) = [k, l, g] = [D[4:6], D[6:8], D[0:4]].
        let plan = consistency_plan(6, 8).expect("6 <= 8");
        assert_eq!(
            plan.items,
            vec![vec![id(1, 2)], vec![id(1, 3)], vec![id(2, 0)]]
        );
    }

    #[test]
    fn trivial_and_invalid_consistency_plans() {
        assert!(consistency_plan(0, 5).expect("0 <= 5").is_empty());
        assert!(consistency_plan(5, 5).expect("5 <= 5").is_empty());
        assert_eq!(
            consistency_plan(6, 5),
            Err(MerkleError::SizeOrder { size1: 6, size2: 5 })
        );
        assert_eq!(
            inclusion_plan(0, 0),
            Err(MerkleError::IndexOutOfRange { index: 0, size: 0 })
        );
    }

    #[test]
    fn missing_node_is_reported() {
        let plan = root_plan(3);
        let err = plan.assemble(&HashMap::new()).expect_err("nothing fetched");
        assert_eq!(err, MerkleError::MissingNode(id(1, 0)));
    }

    #[test]
    fn plans_are_logarithmic_at_huge_sizes() {
        let size = u64::MAX;
        let inclusion = inclusion_plan(size / 3, size).expect("index < size");
        assert!(
            inclusion.nodes().len() <= 2 * 64,
            "{}",
            inclusion.nodes().len()
        );
        let consistency = consistency_plan(size / 3, size).expect("size1 <= size2");
        assert!(consistency.nodes().len() <= 2 * 64);
        assert_eq!(root_plan(size).nodes().len(), 64);
    }
}
