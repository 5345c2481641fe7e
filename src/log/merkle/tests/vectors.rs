//! The transparency-dev inclusion and consistency vectors from `tests/vectors/merkle`, checked
//! with the verifiers and, for the happy paths, against proofs from the RFC 6962 test tree.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;

use crate::log::merkle::*;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionVector {
    leaf_idx: u64,
    tree_size: u64,
    root: String,
    leaf_hash: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ConsistencyVector {
    size1: u64,
    size2: u64,
    root1: String,
    root2: String,
    proof: Option<Vec<String>>,
    desc: String,
    want_err: bool,
}

fn vector_dir(kind: &str) -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/merkle")).join(kind)
}

/// Every `<dir>/<n>/*.json` under a vector kind, parsed.
fn load<T: for<'de> Deserialize<'de>>(kind: &str) -> Vec<(PathBuf, T)> {
    let mut files = Vec::new();
    for group in std::fs::read_dir(vector_dir(kind)).expect("vector directory exists") {
        let group = group.expect("readable directory entry").path();
        for file in std::fs::read_dir(&group).expect("vector group is a directory") {
            files.push(file.expect("readable directory entry").path());
        }
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable vector");
            let vector = serde_json::from_str(&text).expect("well-formed vector");
            (path, vector)
        })
        .collect()
}

/// Decodes a vector hash. Some vectors hold values that are not 32 bytes (`"WrongRoot"`, empty
/// garbage in proofs): a typed caller refuses those while decoding, so they are flagged as
/// malformed and zero-padded, and the verifier must refuse the padded value as well.
fn hash(b64: &str, malformed: &mut bool) -> Hash {
    let bytes = STANDARD.decode(b64).expect("vector hashes are base64");
    let mut hash = [0u8; 32];
    let n = bytes.len().min(32);
    hash[..n].copy_from_slice(&bytes[..n]);
    *malformed |= bytes.len() != 32;
    hash
}

fn hashes(proof: &Option<Vec<String>>, malformed: &mut bool) -> Vec<Hash> {
    proof.iter().flatten().map(|h| hash(h, malformed)).collect()
}

/// Checks the verdict on one vector: refused (while decoding or verifying) iff `wantErr`.
fn check_verdict(
    path: &Path,
    desc: &str,
    want_err: bool,
    malformed: bool,
    got: Result<(), MerkleError>,
) {
    assert!(
        !malformed || got.is_err(),
        "{} ({desc}): padded value accepted",
        path.display()
    );
    let refused = malformed || got.is_err();
    assert_eq!(refused, want_err, "{} ({desc}): {got:?}", path.display());
}

/// The eight leaves of the RFC 6962 test tree the vectors are built on.
fn rfc6962_tree() -> MemoryTree {
    let data = [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ];
    let mut tree = MemoryTree::new();
    for hex_data in data {
        tree.append(&hex::decode(hex_data).expect("valid hex"));
    }
    tree
}

#[test]
fn inclusion_vectors() {
    let vectors: Vec<(PathBuf, InclusionVector)> = load("inclusion");
    assert!(vectors.len() >= 40, "found {} vectors", vectors.len());
    let tree = rfc6962_tree();
    for (path, v) in vectors {
        let mut malformed = false;
        let proof = hashes(&v.proof, &mut malformed);
        let (leaf, root) = (
            hash(&v.leaf_hash, &mut malformed),
            hash(&v.root, &mut malformed),
        );
        let got = verify_inclusion(&leaf, v.leaf_idx, v.tree_size, &proof, &root);
        check_verdict(&path, &v.desc, v.want_err, malformed, got);
        if !v.want_err {
            let ours = tree
                .inclusion_proof(v.leaf_idx, v.tree_size)
                .expect("vector sizes fit");
            assert_eq!(ours, proof, "{}", path.display());
            assert_eq!(tree.root_at(v.tree_size), Ok(root));
        }
    }
}

#[test]
fn consistency_vectors() {
    let vectors: Vec<(PathBuf, ConsistencyVector)> = load("consistency");
    assert!(vectors.len() >= 60, "found {} vectors", vectors.len());
    let tree = rfc6962_tree();
    for (path, v) in vectors {
        let mut malformed = false;
        let proof = hashes(&v.proof, &mut malformed);
        let (root1, root2) = (
            hash(&v.root1, &mut malformed),
            hash(&v.root2, &mut malformed),
        );
        let got = verify_consistency(v.size1, v.size2, &proof, &root1, &root2);
        check_verdict(&path, &v.desc, v.want_err, malformed, got);
        if !v.want_err {
            let ours = tree
                .consistency_proof(v.size1, v.size2)
                .expect("vector sizes fit");
            assert_eq!(ours, proof, "{}", path.display());
            assert_eq!(tree.root_at(v.size2), Ok(root2));
        }
    }
}

#[test]
fn consistency_edge_cases() {
    let (empty, a, b) = (empty_root(), leaf_hash(b"a"), leaf_hash(b"b"));
    assert_eq!(verify_consistency(0, 0, &[], &empty, &empty), Ok(()));
    assert_eq!(verify_consistency(0, 5, &[], &empty, &a), Ok(()));
    assert_eq!(
        verify_consistency(0, 5, &[], &a, &a),
        Err(MerkleError::FirstRootMismatch)
    );
    assert_eq!(verify_consistency(3, 3, &[], &a, &a), Ok(()));
    assert_eq!(
        verify_consistency(3, 3, &[], &a, &b),
        Err(MerkleError::RootMismatch)
    );
    assert!(verify_consistency(3, 3, &[a], &a, &a).is_err());
    assert_eq!(
        verify_consistency(4, 3, &[], &a, &a),
        Err(MerkleError::SizeOrder { size1: 4, size2: 3 })
    );
}
