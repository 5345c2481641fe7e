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
    let vector: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
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
    let batch = Batch::new(accepted_at, envelopes);
    let leaves = &batch.leaves;
    // Eleven leaves already in the tree; the second envelope was refused.
    let (_, earlier) = crate::log::plan::append_leaves(0, Vec::new(), &[leaves[1].as_slice(); 11])
        .expect("appended");
    let peaks: Vec<Hash> = crate::log::merkle::CompactRange::peak_ids(11)
        .iter()
        .map(|id| earlier.iter().find(|(n, _)| n == id).expect("a peak").1)
        .collect();
    let (mut appended, _) =
        crate::log::plan::append_leaves(11, peaks, &[&leaves[0], &leaves[2]]).expect("appended");
    appended.envelopes[0].0 = 0;
    appended.envelopes[1].0 = 2;
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
