//! Cross-checks of the Merkle module: the transparency-dev vectors, and plans, assembly,
//! verification and the frontier against a reference recursive RFC 9162 implementation.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use proptest::prelude::*;
use rand::{rngs::StdRng, RngCore, SeedableRng};

use super::*;

/// RFC 9162 §2.1 written as recursion over the leaf hashes, memoised by range so thousands of
/// sizes stay cheap; it shares nothing with the code under test but `leaf_hash`/`node_hash`.
struct Reference {
    leaves: Vec<Hash>,
    memo: HashMap<(usize, usize), Hash>,
}

impl Reference {
    fn new(leaves: Vec<Hash>) -> Self {
        Self {
            leaves,
            memo: HashMap::new(),
        }
    }

    fn k(n: usize) -> usize {
        let mut k = 1;
        while k * 2 < n {
            k *= 2;
        }
        k
    }

    /// MTH(D[a:b]).
    fn mth(&mut self, a: usize, b: usize) -> Hash {
        match b - a {
            0 => empty_root(),
            1 => self.leaves[a],
            n => {
                if let Some(hash) = self.memo.get(&(a, b)) {
                    return *hash;
                }
                let k = Self::k(n);
                let hash = node_hash(&self.mth(a, a + k), &self.mth(a + k, b));
                self.memo.insert((a, b), hash);
                hash
            }
        }
    }

    /// PATH(m, D[a:b]).
    fn path(&mut self, m: usize, a: usize, b: usize) -> Vec<Hash> {
        if b - a <= 1 {
            return Vec::new();
        }
        let k = Self::k(b - a);
        let (mut proof, sibling) = if m < k {
            (self.path(m, a, a + k), self.mth(a + k, b))
        } else {
            (self.path(m - k, a + k, b), self.mth(a, a + k))
        };
        proof.push(sibling);
        proof
    }

    /// SUBPROOF(m, D[a:b], whole).
    fn subproof(&mut self, m: usize, a: usize, b: usize, whole: bool) -> Vec<Hash> {
        if m == b - a {
            return if whole {
                Vec::new()
            } else {
                vec![self.mth(a, b)]
            };
        }
        let k = Self::k(b - a);
        let (mut proof, sibling) = if m <= k {
            (self.subproof(m, a, a + k, whole), self.mth(a + k, b))
        } else {
            (self.subproof(m - k, a + k, b, false), self.mth(a, a + k))
        };
        proof.push(sibling);
        proof
    }

    fn consistency(&mut self, m: usize, n: usize) -> Vec<Hash> {
        if m == 0 || m == n {
            Vec::new()
        } else {
            self.subproof(m, 0, n, true)
        }
    }
}

fn random_leaves(count: usize, seed: u64) -> Vec<Hash> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let mut data = [0u8; 16];
            rng.fill_bytes(&mut data);
            leaf_hash(&data)
        })
        .collect()
}

/// Checks plan-built proofs for one size against the reference, and that they verify.
fn check_inclusion(tree: &MemoryTree, reference: &mut Reference, index: u64, size: u64) {
    let (i, n) = (index as usize, size as usize);
    let proof = tree
        .inclusion_proof(index, size)
        .expect("index < size <= tree");
    assert_eq!(
        proof,
        reference.path(i, 0, n),
        "inclusion {index} in {size}"
    );
    let root = reference.mth(0, n);
    let leaf = reference.leaves[i];
    assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));
}

fn check_consistency(tree: &MemoryTree, reference: &mut Reference, size1: u64, size2: u64) {
    let (m, n) = (size1 as usize, size2 as usize);
    let proof = tree
        .consistency_proof(size1, size2)
        .expect("size1 <= size2 <= tree");
    assert_eq!(
        proof,
        reference.consistency(m, n),
        "consistency {size1} -> {size2}"
    );
    let (root1, root2) = (reference.mth(0, m), reference.mth(0, n));
    assert_eq!(
        verify_consistency(size1, size2, &proof, &root1, &root2),
        Ok(())
    );
}

#[test]
fn exhaustive_small_trees() {
    // SHA-256 runs at ~9 µs in an unoptimised build, so "every proof" stops at these bounds and
    // a stride (plus the edges) covers the sizes up to MAX.
    const MAX: u64 = 300;
    const ALL_INDICES_UP_TO: u64 = 200;
    const ALL_PAIRS_UP_TO: u64 = 128;
    let leaves = random_leaves(MAX as usize, 1);
    let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
    let mut reference = Reference::new(leaves);
    for size in 0..=MAX {
        let root = reference.mth(0, size as usize);
        assert_eq!(tree.root_at(size), Ok(root), "root at {size}");
        let step = if size <= ALL_INDICES_UP_TO { 1 } else { 11 };
        for index in (0..size).step_by(step).chain(size.checked_sub(1)) {
            check_inclusion(&tree, &mut reference, index, size);
        }
        let step = if size <= ALL_PAIRS_UP_TO { 1 } else { 13 };
        let pow = size.checked_ilog2().map_or(0, |bits| 1 << bits);
        for size1 in (0..=size).step_by(step).chain([pow, size]) {
            check_consistency(&tree, &mut reference, size1, size);
        }
    }
}

/// A 10,000-leaf tree and its reference, shared by the sampled tests (built once).
fn big() -> MutexGuard<'static, (MemoryTree, Reference)> {
    static BIG: OnceLock<Mutex<(MemoryTree, Reference)>> = OnceLock::new();
    let big = BIG.get_or_init(|| {
        let leaves = random_leaves(10_000, 2);
        let tree = MemoryTree::from_leaf_hashes(leaves.iter().copied());
        Mutex::new((tree, Reference::new(leaves)))
    });
    // A failing test poisons the lock; the data is only read or memoised, so carry on.
    big.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn sampled_inclusion_matches_reference(size in 1u64..=10_000, seed in any::<u64>()) {
        let mut guard = big();
        let (tree, reference) = &mut *guard;
        for index in [0, seed % size, size - 1] {
            check_inclusion(tree, reference, index, size);
        }
    }

    #[test]
    fn sampled_consistency_matches_reference(size2 in 1u64..=10_000, seed in any::<u64>()) {
        let mut guard = big();
        let (tree, reference) = &mut *guard;
        let pow = 1u64 << (63 - size2.leading_zeros());
        for size1 in [1, seed % (size2 + 1), pow, size2 - 1, size2] {
            check_consistency(tree, reference, size1, size2);
        }
    }

    #[test]
    fn tampered_proofs_fail(size in 2u64..=10_000, seed in any::<u64>(), bit in 0usize..256) {
        let guard = big();
        let tree = &guard.0;
        let index = seed % size;
        let root = tree.root_at(size).expect("size <= tree");
        let leaf = tree.node(NodeId { level: 0, index }).expect("index < tree");
        let mut proof = tree.inclusion_proof(index, size).expect("index < size");
        let at = (seed as usize / 7) % proof.len();
        proof[at][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(verify_inclusion(&leaf, index, size, &proof, &root).is_err());
    }
}

#[test]
fn compact_range_root_and_nodes_match_reference() {
    let mut guard = big();
    let (tree, reference) = &mut *guard;
    let mut range = CompactRange::new();
    assert_eq!(range.root(), empty_root());
    for index in 0..10_000u64 {
        let leaf = reference.leaves[index as usize];
        for (id, hash) in range.append(leaf) {
            let start = (id.index << id.level) as usize;
            let end = start + (1usize << id.level);
            assert_eq!(end as u64, index + 1, "a new node ends at the new leaf");
            assert_eq!(hash, reference.mth(start, end), "node {id:?}");
        }
        // Every root for small sizes, then a stride (each root costs ~log n slow debug hashes).
        let size = index + 1;
        if size <= 1_024 || size % 97 == 0 || size.is_power_of_two() || size == 10_000 {
            let root = reference.mth(0, size as usize);
            assert_eq!(range.root(), root, "root at {size}");
            assert_eq!(tree.root_at(size), Ok(root));
        }
    }
}

#[test]
fn compact_range_resumes_from_stored_peaks() {
    let guard = big();
    let tree = &guard.0;
    let sizes = (0..=300).chain([511, 512, 513, 4095, 4096, 9_000, 9_999]);
    for size in sizes {
        let ids = CompactRange::peak_ids(size);
        let fetched = tree.fetch(&ids);
        let peaks: Vec<Hash> = ids.iter().map(|id| fetched[id]).collect();
        let mut resumed = CompactRange::from_peaks(size, peaks).expect("one peak per set bit");
        assert_eq!(resumed.root(), tree.root_at(size).expect("size <= tree"));
        let next: Vec<Hash> = (size..(size + 50).min(10_000))
            .map(|i| tree.node(NodeId { level: 0, index: i }).expect("i < tree"))
            .collect();
        for node in resumed.append_all(next) {
            assert_eq!(
                Some(node.1),
                tree.node(node.0),
                "node {:?} after resume",
                node.0
            );
        }
        let end = resumed.size();
        assert_eq!(resumed.root(), tree.root_at(end).expect("end <= tree"));
    }
    let wrong = CompactRange::from_peaks(3, vec![empty_root()]);
    assert_eq!(
        wrong,
        Err(MerkleError::PeakCount {
            size: 3,
            expected: 2,
            got: 1
        })
    );
}

#[test]
fn plans_read_only_stored_nodes_and_few_of_them() {
    for size in (1..=2_000u64).chain([u64::MAX / 3, u64::MAX]) {
        let bound = 2 * (64 - size.leading_zeros() as usize) + 2;
        let stored = |id: &NodeId| ((id.index + 1) as u128) << id.level <= size as u128;
        for plan in [
            inclusion_plan(size / 2, size).expect("size / 2 < size"),
            consistency_plan(size / 3 + 1, size).expect("size / 3 + 1 <= size"),
            root_plan(size),
        ] {
            let nodes = plan.nodes();
            assert!(
                nodes.len() <= bound,
                "{} nodes for size {size}",
                nodes.len()
            );
            assert!(nodes.iter().all(stored), "unstored node at size {size}");
        }
    }
}

mod vectors;
