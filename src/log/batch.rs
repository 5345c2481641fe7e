//! What the sequencer hands the store: validated envelopes with their items and leaf data, and
//! what the store hands back. Plain data; no SQL, no HTTP.

use chrono::{DateTime, Utc};

use super::merkle::Hash;
pub use super::packed::Packed;
use crate::domain::identifiers::{LicenceId, Uscc};
pub use crate::domain::licence::LicenceChain;
use crate::domain::licence::StatusAction;
use crate::domain::status_list::StatusSlot;

/// An issuer's chain head: the sequence and digest of its latest accepted envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainHead {
    pub sequence: u64,
    pub digest: String,
}

impl LicenceChain {
    /// What the next status event must name as `previous`: the latest event, else the head
    /// version.
    pub fn event_anchor(&self) -> &str {
        self.last_event.as_deref().unwrap_or(&self.head_digest)
    }
}

/// A validated licence, ready to store.
#[derive(Debug, Clone)]
pub struct NewLicence {
    pub id: LicenceId,
    pub schema_version: u32,
    /// The holder's URN.
    pub holder: String,
    pub jurisdiction: String,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub digest: String,
    /// The status list slots its `credentialStatus` takes.
    pub status: Vec<StatusSlot>,
    /// The signed credential, serialised from the parsed value (same JCS, so same digest),
    /// packed for storage.
    pub document: Packed,
}

/// A validated status change, ready to store.
#[derive(Debug, Clone)]
pub struct NewStatusEvent {
    /// The licence version it names.
    pub licence: LicenceId,
    pub action: StatusAction,
    pub reason: String,
    pub effective_from: DateTime<Utc>,
    pub digest: String,
    pub previous: String,
    /// The signed status event, packed for storage.
    pub document: Packed,
}

/// One item of an envelope.
#[derive(Debug, Clone)]
pub enum PendingItem {
    Licence(NewLicence),
    Status(NewStatusEvent),
}

impl PendingItem {
    /// `licence` or `status`, as in leaf data and receipts.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Licence(_) => "licence",
            Self::Status(_) => "status",
        }
    }

    /// The licence URN the item is about.
    pub fn licence_urn(&self) -> String {
        match self {
            Self::Licence(l) => l.id.urn(),
            Self::Status(s) => s.licence.urn(),
        }
    }

    pub fn digest(&self) -> &str {
        match self {
            Self::Licence(l) => &l.digest,
            Self::Status(s) => &s.digest,
        }
    }
}

/// A validated envelope: everything to store, and the chain it expects.
#[derive(Debug, Clone)]
pub struct PendingEnvelope {
    pub digest: String,
    pub issuer: Uscc,
    pub sequence: u64,
    pub previous: Option<String>,
    /// The envelope as stored: as received, with each item replaced by its digest
    /// ([`super::envelope::stored_document`]).
    pub document: String,
    pub items: Vec<PendingItem>,
    /// The resulting state of every licence the items touch.
    pub chains: Vec<LicenceChain>,
}

impl PendingEnvelope {
    /// The head the issuer's chain must have for this envelope to follow it.
    pub fn expected_head(&self) -> Option<ChainHead> {
        self.previous.as_ref().map(|digest| ChainHead {
            sequence: self.sequence - 1,
            digest: digest.clone(),
        })
    }
}

/// A batch for one transaction: envelopes in arrival order and the time they are accepted.
#[derive(Debug, Clone)]
pub struct Batch {
    pub accepted_at: DateTime<Utc>,
    pub envelopes: Vec<PendingEnvelope>,
    /// Leaf data per envelope per item (same shape as `envelopes[i].items`).
    pub leaves: Vec<Vec<String>>,
}

impl Batch {
    /// The batch of `envelopes` accepted at `accepted_at`, with each item's leaf data
    /// ([`super::receipt::leaf_data`]).
    pub fn new(accepted_at: DateTime<Utc>, envelopes: Vec<PendingEnvelope>) -> Self {
        let leaves = envelopes
            .iter()
            .map(|env| {
                env.items
                    .iter()
                    .map(|item| super::receipt::leaf_data(env, item, accepted_at))
                    .collect()
            })
            .collect();
        Self {
            accepted_at,
            envelopes,
            leaves,
        }
    }
}

/// One appended leaf of an accepted envelope, with its proof against the new tree size.
#[derive(Debug, Clone)]
pub struct AppendedLeaf {
    pub index: u64,
    pub hash: Hash,
    pub inclusion: Vec<Hash>,
}

/// What the store passes to the sealer once the batch's leaves are appended.
#[derive(Debug, Clone)]
pub struct Appended {
    pub size: u64,
    pub root: Hash,
    /// Per accepted envelope: its position in the batch and its leaves, in item order.
    pub envelopes: Vec<(usize, Vec<AppendedLeaf>)>,
}

/// What the sealer answers: the signed checkpoint note and one receipt per accepted envelope
/// (same order as [`Appended::envelopes`]).
#[derive(Debug, Clone)]
pub struct Sealed {
    pub checkpoint: String,
    /// The receipts as answered.
    pub receipts: Vec<String>,
    /// The same receipts as stored: without their inclusion proofs, which the tree gives
    /// again (`receipt::restore_proofs`).
    pub stored: Vec<String>,
}

/// Signs the checkpoint and receipts of a batch once its leaves are appended (pure; no I/O).
/// The store runs it on a blocking thread while it writes the rows that need no signature.
pub type Sealer = dyn Fn(&Batch, &Appended) -> Sealed + Send + Sync;

/// The fate of one envelope of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Appended; the receipt to answer (201).
    Accepted(String),
    /// Already accepted earlier (this batch or before); the original receipt (200).
    Repeat(String),
    /// The chain head moved since validation (409).
    HeadMismatch(Option<ChainHead>),
}
