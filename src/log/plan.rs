//! The pure part of appending a batch: each envelope's fate under the lock, the leaves and
//! nodes it adds to the tree with their inclusion proofs, and the answers once sealed. The
//! store runs these inside its transaction; nothing here knows SQL.

use std::collections::HashMap;

use super::batch::{Appended, AppendedLeaf, Batch, ChainHead, Outcome};
use super::merkle::{inclusion_plan, leaf_hash, CompactRange, Hash, MerkleError, NodeId};

/// Decides each envelope's fate against the heads and digests stored when the lock was taken,
/// tracking heads as earlier envelopes of the batch are accepted. `Accepted` carries an empty
/// receipt and an in-batch repeat the position of its twin (filled in after sealing).
pub fn triage(
    batch: &Batch,
    mut heads: HashMap<String, ChainHead>,
    stored: &HashMap<String, String>,
) -> Vec<Triage> {
    let mut accepted_at: HashMap<&str, usize> = HashMap::new();
    batch
        .envelopes
        .iter()
        .enumerate()
        .map(|(i, env)| {
            if let Some(receipt) = stored.get(&env.digest) {
                return Triage::Stored(receipt.clone());
            }
            if let Some(&twin) = accepted_at.get(env.digest.as_str()) {
                return Triage::Twin(twin);
            }
            let head = heads.get(env.issuer.as_str()).cloned();
            if head != env.expected_head() {
                return Triage::Mismatch(head);
            }
            heads.insert(
                env.issuer.as_str().to_owned(),
                ChainHead {
                    sequence: env.sequence,
                    digest: env.digest.clone(),
                },
            );
            accepted_at.insert(&env.digest, i);
            Triage::Accept
        })
        .collect()
}

/// See [`triage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    Accept,
    Stored(String),
    Twin(usize),
    Mismatch(Option<ChainHead>),
}

/// Appends the accepted envelopes' leaves to the frontier; answers every node to write, the
/// leaf hashes, and the proofs against the new size. Every node an inclusion proof of a new
/// leaf needs is either a peak of the old tree or a node this append completed. An error means
/// the stored peaks do not describe a tree of `size` leaves.
pub fn append_leaves(
    size: u64,
    peaks: Vec<Hash>,
    leaves: &[&[String]],
) -> Result<(Appended, Vec<(NodeId, Hash)>), MerkleError> {
    let known: HashMap<_, _> = CompactRange::peak_ids(size)
        .into_iter()
        .zip(peaks.iter().copied())
        .collect();
    let mut range = CompactRange::from_peaks(size, peaks)?;
    let mut nodes = Vec::new();
    let mut hashes = Vec::with_capacity(leaves.len());
    for datas in leaves {
        let envelope: Vec<Hash> = datas.iter().map(|d| leaf_hash(d.as_bytes())).collect();
        for hash in &envelope {
            nodes.extend(range.append(*hash));
        }
        hashes.push(envelope);
    }
    let mut all = known;
    all.extend(nodes.iter().copied());
    let new_size = range.size();
    let mut index = size;
    let mut envelopes = Vec::with_capacity(hashes.len());
    for envelope in hashes {
        let mut appended = Vec::with_capacity(envelope.len());
        for hash in envelope {
            let inclusion = inclusion_plan(index, new_size).and_then(|plan| plan.assemble(&all))?;
            appended.push(AppendedLeaf {
                index,
                hash,
                inclusion,
            });
            index += 1;
        }
        envelopes.push((0, appended));
    }
    let root = range.root();
    Ok((
        Appended {
            size: new_size,
            root,
            envelopes,
        },
        nodes,
    ))
}

/// Each envelope's outcome once the receipts are known.
pub fn outcomes(triage: Vec<Triage>, receipts: &HashMap<usize, String>) -> Vec<Outcome> {
    let receipt = |i: usize| receipts.get(&i).cloned().unwrap_or_default();
    triage
        .into_iter()
        .enumerate()
        .map(|(i, t)| match t {
            Triage::Accept => Outcome::Accepted(receipt(i)),
            Triage::Twin(j) => Outcome::Repeat(receipt(j)),
            Triage::Stored(r) => Outcome::Repeat(r),
            Triage::Mismatch(head) => Outcome::HeadMismatch(head),
        })
        .collect()
}
