//! What the log commits to and what the registry signs for an issuer: leaf data (digests and
//! metadata, never personal data), checkpoints, and receipts.
//!
//! A receipt (201 to `POST /v1/submissions`) is a JSON object signed by the registry with
//! eddsa-jcs-2022 (`verificationMethod` `did:web:<host>#<registry multikey>`):
//! `{envelope, issuer, sequence, acceptedAt, checkpoint, treeSize, items: [{index, kind, id,
//! digest, leafIndex, leafHash, inclusionProof, registration?}], proof}`. `checkpoint` is the
//! signed note for `treeSize`; `leafHash` and the proof's hashes are standard base64; each item's
//! proof leads from its leaf hash to the checkpoint's root. A licence item also carries its
//! [`super::registration`] receipt (base64url), which the holder keeps with the licence.
//! The store keeps each receipt without its checkpoint note and with its items reduced to their
//! index, kind, leaf index and registration ([`Sealed::stored`]); an envelope sent again gets the
//! rest back from the checkpoints, the leaves and the tree (`submissions::repeat`).

use chrono::{DateTime, SecondsFormat, Utc};

use super::batch::{Appended, AppendedLeaf, Batch, PendingEnvelope, PendingItem, Sealed};
use super::checkpoint::Checkpoint;
use super::registration::{for_digest, Registration};
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{ProofOptions, Stamp};
use crate::parallel::Spread;

mod stored;
mod text;

pub use stored::{
    missing_checkpoint, reduced_items, restore_checkpoint, restore_items, LeafFacts, RestoreError,
};

/// Who signs, and under which names.
#[derive(Debug)]
pub struct Signer {
    pub key: KeyPair,
    /// The log's origin and checkpoint key name, e.g. `registry.example.gov.cn/log`.
    pub origin: String,
    /// The registry's DID, e.g. `did:web:registry.example.gov.cn`.
    pub registry_did: String,
    /// The host part of issuer DIDs (did:web-encoded).
    pub did_host: String,
}

impl Signer {
    /// The verification method of receipts: the registry DID with its key's Multikey.
    pub fn verification_method(&self) -> String {
        format!("{}#{}", self.registry_did, self.key.multikey())
    }

    /// Signs the checkpoint for `size` leaves with root `root`.
    pub fn checkpoint(&self, size: u64, root: super::merkle::Hash) -> String {
        // Invariant: the origin is checked to be a valid key name when the signer is built.
        Checkpoint::new(self.origin.clone(), size, root)
            .map(|c| c.sign(self.key.signing_key()))
            .unwrap_or_default()
    }

    /// Signs the checkpoint and every accepted envelope's receipt.
    ///
    /// It runs on the single writer's path, inside the batch's transaction, and a batch of
    /// envelopes of 100 is mostly signatures (one registration receipt a licence, one receipt
    /// an envelope): from [`PARALLEL_FROM`] licences on they are spread over the machine's
    /// cores ([`crate::parallel`]), so that the writer holds the lock for less of the batch.
    pub fn seal(&self, batch: &Batch, appended: &Appended) -> Sealed {
        let checkpoint = self.checkpoint(appended.size, appended.root);
        // Each licence item's digest and leaf, envelope by envelope, item by item.
        let licences: Vec<(&str, u64)> = appended
            .envelopes
            .iter()
            .flat_map(|(i, leaves)| batch.envelopes[*i].items.iter().zip(leaves))
            .filter_map(|(item, leaf)| match item {
                PendingItem::Licence(l) => Some((l.digest.as_str(), leaf.index)),
                _ => None,
            })
            .collect();
        let spread = Spread::Cores.when(licences.len() >= PARALLEL_FROM);
        let chunks: Vec<&[(&str, u64)]> = licences.chunks(SIGNED_TOGETHER).collect();
        let registrations: Vec<String> = crate::parallel::map(&chunks, spread, |chunk| {
            self.registrations(chunk, batch.accepted_at)
        })
        .into_iter()
        .flatten()
        .collect();
        // Where each envelope's registrations start.
        let mut starts = Vec::with_capacity(appended.envelopes.len());
        let mut next = 0;
        for (i, _) in &appended.envelopes {
            starts.push(next);
            next += batch.envelopes[*i]
                .items
                .iter()
                .filter(|item| matches!(item, PendingItem::Licence(_)))
                .count();
        }
        let envelopes: Vec<(&(usize, Vec<AppendedLeaf>), usize)> =
            appended.envelopes.iter().zip(starts).collect();
        let accepted_at = timestamp(batch.accepted_at);
        // Invariant: these options carry no @context, the only ones a stamp refuses.
        let stamp = Stamp::new(&self.proof_options(batch.accepted_at)).expect("receipts sign");
        let receipts: (Vec<String>, Vec<String>) =
            crate::parallel::map(&envelopes, spread, |((i, leaves), start)| {
                let env = &batch.envelopes[*i];
                let mut registered = registrations[*start..].iter();
                let ids: Vec<String> = env.items.iter().map(PendingItem::licence_urn).collect();
                let items: Vec<text::Item<'_>> = env
                    .items
                    .iter()
                    .zip(leaves)
                    .zip(&ids)
                    .map(|((item, leaf), id)| text::Item {
                        kind: item.kind(),
                        id,
                        digest: item.digest(),
                        leaf,
                        registration: match item {
                            PendingItem::Licence(_) => {
                                Some(registered.next().map_or("", String::as_str))
                            }
                            PendingItem::Status(_) => None,
                        },
                    })
                    .collect();
                let issuer = crate::domain::issuer::issuer_did(&self.did_host, &env.issuer);
                let head = text::Head {
                    envelope: &env.digest,
                    issuer: &issuer,
                    sequence: env.sequence,
                    accepted_at: &accepted_at,
                    checkpoint: &checkpoint,
                    tree_size: appended.size,
                };
                let texts = text::Texts::write(&head, &items);
                let proof = stamp.proof(&self.key, &texts.canonical);
                texts.finish(&proof)
            })
            .into_iter()
            .unzip();
        let (receipts, stored) = receipts;
        Sealed {
            checkpoint,
            receipts,
            stored,
        }
    }

    /// The registration receipt of a licence version (base64url), one Ed25519 signature.
    pub fn registration(
        &self,
        digest: &str,
        leaf_index: u64,
        accepted_at: DateTime<Utc>,
    ) -> String {
        // Invariant: intake computed the digest, so it parses.
        for_digest(
            self.key.signing_key(),
            &self.origin,
            digest,
            leaf_index,
            accepted_at,
        )
        .map(|r| r.encode())
        .unwrap_or_default()
    }

    /// The registration receipts of licence versions accepted together, each `(digest, leaf
    /// index)` as [`registration`](Self::registration) gives it, signed together
    /// ([`Registration::sign_all`]).
    pub fn registrations(
        &self,
        versions: &[(&str, u64)],
        accepted_at: DateTime<Utc>,
    ) -> Vec<String> {
        // Invariant: intake computed the digests, so they parse; one that did not would get
        // an empty receipt, as `registration` gives it.
        let digests: Vec<Option<[u8; 32]>> = versions
            .iter()
            .map(|(digest, _)| crate::crypto::digest::parse_multibase_sha256(digest).ok())
            .collect();
        let signable: Vec<([u8; 32], u64)> = digests
            .iter()
            .zip(versions)
            .filter_map(|(raw, (_, leaf))| raw.map(|raw| (raw, *leaf)))
            .collect();
        let mut signed =
            Registration::sign_all(self.key.signing_key(), &self.origin, &signable, accepted_at)
                .into_iter();
        digests
            .iter()
            .map(|raw| match raw {
                Some(_) => signed.next().map(|r| r.encode()).unwrap_or_default(),
                None => String::new(),
            })
            .collect()
    }

    /// The options of the proofs of receipts accepted `at`.
    fn proof_options(&self, at: DateTime<Utc>) -> ProofOptions {
        ProofOptions::assertion(self.verification_method(), at)
    }
}

/// Licences in a batch from which [`Signer::seal`] spreads its signatures over the cores: below
/// it, starting a thread costs more than it saves (a registration receipt is one Ed25519
/// signature, about 13 µs; a thread's start and join about 30 µs).
const PARALLEL_FROM: usize = 32;

/// Registration receipts signed together ([`Signer::registrations`]): one field inversion
/// serves them all, where each signature's own took about a fifth of its time.
const SIGNED_TOGETHER: usize = 32;

/// The leaf data of an item: the JCS bytes (as text) of `{kind, id, digest, issuer, sequence,
/// envelope, acceptedAt}`, written member by member in JCS order (RFC 8785 sorts names by UTF-16
/// code units; these are ASCII) rather than built as a `Value` and sorted: it runs on the single
/// writer's thread, once per item, before every batch.
pub fn leaf_data(env: &PendingEnvelope, item: &PendingItem, accepted_at: DateTime<Utc>) -> String {
    use crate::crypto::jcs::{write_number, write_string};
    let mut out = Vec::with_capacity(384);
    out.extend_from_slice(b"{\"acceptedAt\":");
    write_string(&mut out, &timestamp(accepted_at));
    out.extend_from_slice(b",\"digest\":");
    write_string(&mut out, item.digest());
    out.extend_from_slice(b",\"envelope\":");
    write_string(&mut out, &env.digest);
    out.extend_from_slice(b",\"id\":");
    write_string(&mut out, &item.licence_urn());
    out.extend_from_slice(b",\"issuer\":");
    write_string(&mut out, env.issuer.as_str());
    out.extend_from_slice(b",\"kind\":");
    write_string(&mut out, item.kind());
    out.extend_from_slice(b",\"sequence\":");
    write_number(&mut out, &env.sequence.into());
    out.push(b'}');
    // Invariant: every part written is UTF-8 text.
    String::from_utf8(out).unwrap_or_default()
}

/// RFC 3339 in UTC with microseconds, the precision both stores keep.
pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests;
