//! The registry's transparency log: one append-only Merkle tree with RFC 9162 hashing, and the
//! signed checkpoints that commit to it.
//!
//! [`merkle`] owns the hashing, the storage model (complete aligned subtrees, addressed by
//! [`merkle::NodeId`]), the right-edge frontier used to append ([`merkle::CompactRange`]), proof
//! planning and assembly (a proof is one batched read of O(log n) nodes), and proof
//! verification. [`checkpoint`] owns the C2SP signed-note checkpoint format the registry signs
//! with its Ed25519 key. Neither knows about SQL or HTTP: a store persists the `(NodeId, Hash)`
//! pairs that [`merkle::CompactRange::append`] returns and answers the node lists that
//! [`merkle::ProofPlan::nodes`] asks for. [`batch`] and [`plan`] are what one append is: the
//! sealed batch's data, each envelope's fate under the lock, the nodes and proofs it adds;
//! [`envelope`] the stored form of an envelope (its items stored once, in their own rows), and
//! [`packed`] the compressed form those items' signed text is stored in;
//! [`receipt`] the registry-signed answers (stored without their inclusion proofs), [`registration`] the compact per-licence receipts
//! an offline verifier checks. The write path that feeds them (intake and the
//! sequencer) is [`crate::submissions`], above storage.

pub mod batch;
pub mod checkpoint;
pub mod envelope;
pub mod merkle;
pub mod packed;
pub mod plan;
pub mod receipt;
pub mod registration;
