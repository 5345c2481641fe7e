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
mod tests {
    use super::*;
    use serde_json::json;

    /// The leaf data written member by member is the JCS form of the same members as a value,
    /// for a licence and a status change, with text that needs escaping and a sequence past
    /// 2^53 (which JCS writes as a double).
    #[test]
    fn leaf_data_is_the_jcs_form_of_its_members() {
        use crate::domain::identifiers::LicenceId;
        use crate::domain::licence::StatusAction;
        let id: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
            .parse()
            .expect("vector id");
        let licence = PendingItem::Licence(super::super::batch::NewLicence {
            id: id.clone(),
            schema_version: 1,
            holder: "urn:holder".into(),
            jurisdiction: "220100".into(),
            valid_from: Utc::now(),
            valid_until: Utc::now(),
            digest: "uEiD\"quoted\\and\u{1}".into(),
            status: Vec::new(),
            document: super::super::batch::Packed::pack(b"{}"),
        });
        let status = PendingItem::Status(super::super::batch::NewStatusEvent {
            licence: id,
            action: StatusAction::Revoke,
            reason: "r".into(),
            effective_from: Utc::now(),
            digest: "uEiStatus".into(),
            previous: "uEiPrevious".into(),
            document: super::super::batch::Packed::pack(b"{}"),
        });
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        for sequence in [1, 9_007_199_254_740_993] {
            let env = PendingEnvelope {
                digest: "uEiEnvelope\u{7f}é".into(),
                issuer: "11220000013544541J".parse().expect("vector USCC"),
                sequence,
                previous: None,
                document: String::new(),
                items: Vec::new(),
                chains: Vec::new(),
            };
            for item in [&licence, &status] {
                let value = json!({
                    "kind": item.kind(),
                    "id": item.licence_urn(),
                    "digest": item.digest(),
                    "issuer": env.issuer.as_str(),
                    "sequence": env.sequence,
                    "envelope": env.digest,
                    "acceptedAt": timestamp(at),
                });
                let expected = String::from_utf8(crate::crypto::jcs::canonicalize(&value)).unwrap();
                assert_eq!(leaf_data(&env, item, at), expected);
            }
        }
    }

    /// The receipt as it was built before the seal wrote its texts itself: a value, signed by
    /// [`crate::crypto::proof::sign_owned`] and serialised, and its stored form
    /// ([`stored::stored_form`]).
    fn receipt_as_value(
        signer: &Signer,
        batch: &Batch,
        appended: &Appended,
        checkpoint: &str,
        at: usize,
        registrations: &[String],
    ) -> (String, String) {
        use base64::engine::general_purpose::STANDARD;
        use base64::Engine as _;
        use serde_json::Value;
        let (i, leaves) = &appended.envelopes[at];
        let env = &batch.envelopes[*i];
        let mut registered = registrations.iter();
        let items: Vec<Value> = env
            .items
            .iter()
            .zip(leaves)
            .enumerate()
            .map(|(index, (item, leaf))| {
                let mut entry = json!({
                    "index": index,
                    "kind": item.kind(),
                    "id": item.licence_urn(),
                    "digest": item.digest(),
                    "leafIndex": leaf.index,
                    "leafHash": STANDARD.encode(leaf.hash),
                    "inclusionProof": leaf.inclusion.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
                });
                if let PendingItem::Licence(_) = item {
                    entry["registration"] = json!(registered.next());
                }
                entry
            })
            .collect();
        let receipt = json!({
            "envelope": env.digest,
            "issuer": crate::domain::issuer::issuer_did(&signer.did_host, &env.issuer),
            "sequence": env.sequence,
            "acceptedAt": timestamp(batch.accepted_at),
            "checkpoint": checkpoint,
            "treeSize": appended.size,
            "items": items,
        });
        let options = signer.proof_options(batch.accepted_at);
        let signed = crate::crypto::proof::sign_owned(receipt, &signer.key, &options).unwrap();
        (signed.to_string(), stored::stored_form(signed))
    }

    /// Envelopes of licences and status changes, with text that needs escaping and a sequence
    /// past 2^53, two of them accepted, on a tree that already holds leaves.
    fn sealed_batch() -> (Batch, Appended) {
        use crate::domain::identifiers::LicenceId;
        use crate::domain::licence::StatusAction;
        use crate::log::merkle::Hash;
        let vector: LicenceId =
            "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
                .parse()
                .expect("vector id");
        let id = |n: u32| {
            LicenceId::build(vector.type_code(), vector.issuer(), &n.to_string(), 1).expect("an id")
        };
        let licence = |n: u32| {
            PendingItem::Licence(super::super::batch::NewLicence {
                id: id(n),
                schema_version: 1,
                holder: "urn:holder".into(),
                jurisdiction: "220100".into(),
                valid_from: Utc::now(),
                valid_until: Utc::now(),
                digest: crate::crypto::digest::multibase_sha256(&n.to_be_bytes()),
                status: Vec::new(),
                document: super::super::batch::Packed::pack(b"{}"),
            })
        };
        let status = PendingItem::Status(super::super::batch::NewStatusEvent {
            licence: id(7),
            action: StatusAction::Revoke,
            reason: "r".into(),
            effective_from: Utc::now(),
            digest: "uEiStatus\"\u{1}é".into(),
            previous: "uEiPrevious".into(),
            document: super::super::batch::Packed::pack(b"{}"),
        });
        let envelope = |sequence: u64, items: Vec<PendingItem>| PendingEnvelope {
            digest: format!("uEiEnvelope\u{7f}é{sequence}"),
            issuer: "11220000013544541J".parse().expect("vector USCC"),
            sequence,
            previous: None,
            document: String::new(),
            items,
            chains: Vec::new(),
        };
        let accepted_at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        let envelopes = vec![
            envelope(3, vec![licence(1), status, licence(2)]),
            envelope(4, vec![licence(3)]),
            envelope(9_007_199_254_740_993, (10..50).map(licence).collect()),
        ];
        let leaves: Vec<Vec<String>> = envelopes
            .iter()
            .map(|env| {
                env.items
                    .iter()
                    .map(|item| leaf_data(env, item, accepted_at))
                    .collect()
            })
            .collect();
        // Eleven leaves already in the tree; the second envelope was refused.
        let (_, earlier) =
            crate::log::plan::append_leaves(0, Vec::new(), &[leaves[1].as_slice(); 11])
                .expect("appended");
        let peaks: Vec<Hash> = crate::log::merkle::CompactRange::peak_ids(11)
            .iter()
            .map(|id| earlier.iter().find(|(n, _)| n == id).expect("a peak").1)
            .collect();
        let (mut appended, _) =
            crate::log::plan::append_leaves(11, peaks, &[&leaves[0], &leaves[2]])
                .expect("appended");
        appended.envelopes[0].0 = 0;
        appended.envelopes[1].0 = 2;
        let batch = Batch {
            accepted_at,
            envelopes,
            leaves,
        };
        (batch, appended)
    }

    #[test]
    fn sealed_receipts_are_the_receipts_signed_as_values() {
        let signer = Signer {
            key: KeyPair::generate(),
            origin: "registry.test/log".into(),
            registry_did: "did:web:registry.test".into(),
            did_host: "registry.test".into(),
        };
        let (batch, appended) = sealed_batch();
        let sealed = signer.seal(&batch, &appended);
        assert_eq!(sealed.receipts.len(), 2);
        for (at, (i, leaves)) in appended.envelopes.iter().enumerate() {
            let versions: Vec<(&str, u64)> = batch.envelopes[*i]
                .items
                .iter()
                .zip(leaves)
                .filter(|(item, _)| matches!(item, PendingItem::Licence(_)))
                .map(|(item, leaf)| (item.digest(), leaf.index))
                .collect();
            let registrations = signer.registrations(&versions, batch.accepted_at);
            let (answered, stored) = receipt_as_value(
                &signer,
                &batch,
                &appended,
                &sealed.checkpoint,
                at,
                &registrations,
            );
            assert_eq!(sealed.receipts[at], answered, "envelope {i}");
            assert_eq!(sealed.stored[at], stored, "envelope {i}");
            // And it verifies as any eddsa-jcs-2022 document does.
            let receipt: serde_json::Value = serde_json::from_str(&sealed.receipts[at]).unwrap();
            crate::crypto::proof::prepare(&receipt)
                .unwrap()
                .verify_with(&signer.key.verifying_key())
                .expect("the receipt's signature verifies");
        }
    }

    #[test]
    fn registrations_signed_together_match_each_alone_in_order() {
        let signer = Signer {
            key: KeyPair::generate(),
            origin: "registry.test/log".into(),
            registry_did: "did:web:registry.test".into(),
            did_host: "registry.test".into(),
        };
        let at = DateTime::from_timestamp_micros(1_796_000_000_123_456).unwrap();
        let digests: Vec<String> = (0..70u8)
            .map(|i| crate::crypto::digest::multibase_sha256(&[i]))
            .collect();
        let mut versions: Vec<(&str, u64)> = digests
            .iter()
            .enumerate()
            .map(|(i, d)| (d.as_str(), i as u64))
            .collect();
        // A digest that does not parse (never from intake) gets an empty receipt in its place.
        versions.insert(3, ("not a digest", 99));
        let together = signer.registrations(&versions, at);
        assert_eq!(together.len(), versions.len());
        for ((digest, leaf), receipt) in versions.iter().zip(&together) {
            assert_eq!(
                *receipt,
                signer.registration(digest, *leaf, at),
                "leaf {leaf}"
            );
        }
        assert_eq!(together[3], "");
        assert!(!together[4].is_empty());
    }
}
