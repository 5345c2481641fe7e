//! Unit tests of the pure submission checks: envelope shape, issuer proofs, status
//! transitions. A licence item's own rules are tested in `licence/tests.rs`, which shares the
//! fixtures here.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use super::licence::LicenceClaims;
use super::status;
use super::*;
use crate::crypto::digest::digest_value;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{sign, ProofOptions};
use crate::domain::identifiers::LicenceId;
use crate::domain::issuer::Issuer;
use crate::domain::issuer::{IssuerKey, IssuerStatus};
use crate::domain::licence::LicenceChain;
use crate::domain::licence::LicenceState;

pub(super) const HOST: &str = "registry.test";
pub(super) const USCC: &str = "11220000013544541J";
pub(super) const DID: &str = "did:web:registry.test:issuers:11220000013544541J";

pub(super) fn at(y: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
        .single()
        .expect("date")
}

pub(super) fn issuer_with(key: &KeyPair, revoked_at: Option<DateTime<Utc>>) -> Issuer {
    Issuer {
        uscc: USCC.parse().expect("vector"),
        name: "test".into(),
        contact: None,
        status: IssuerStatus::Active,
        created_at: at(2020),
        keys: vec![IssuerKey {
            multikey: key.multikey(),
            valid_from: at(2020),
            valid_until: None,
            revoked_at,
            compromised_since: None,
            created_at: at(2020),
        }],
    }
}

pub(super) fn signed(key: &KeyPair, doc: &Value, created: DateTime<Utc>) -> Value {
    let options = ProofOptions::assertion(format!("{DID}#{}", key.multikey()), created);
    sign(doc, key, &options).expect("signable")
}

#[test]
fn envelope_shape() {
    let ok = json!({"issuer": DID, "sequence": 1, "previous": null, "items": [{}], "proof": {}});
    let envelope = Envelope::parse(ok.clone(), HOST).expect("well-formed");
    assert_eq!(envelope.sequence, 1);
    let digest = digest_value(&json!(1));
    let bad = [
        json!({"issuer": DID, "sequence": 1, "previous": null, "items": [{}]}),
        json!({"issuer": DID, "sequence": 1, "previous": null, "items": [{}], "proof": {}, "x": 1}),
        json!({"issuer": DID, "sequence": 0, "previous": null, "items": [{}], "proof": {}}),
        json!({"issuer": DID, "sequence": 2, "previous": null, "items": [{}], "proof": {}}),
        json!({"issuer": DID, "sequence": 1, "previous": digest, "items": [{}], "proof": {}}),
        json!({"issuer": DID, "sequence": 2, "previous": "abc", "items": [{}], "proof": {}}),
        json!({"issuer": DID, "sequence": 1, "previous": null, "items": [], "proof": {}}),
    ];
    for value in bad {
        assert!(
            matches!(
                Envelope::parse(value.clone(), HOST),
                Err(EnvelopeError::Malformed(_))
            ),
            "{value}"
        );
    }
    let foreign = json!({"issuer": "did:web:x:issuers:11220000013544541J", "sequence": 1, "previous": null, "items": [{}], "proof": {}});
    assert!(matches!(
        Envelope::parse(foreign, HOST),
        Err(EnvelopeError::IssuerDid(_))
    ));
}

#[test]
fn keys_decoded_once_serve_every_item_and_vouch_for_no_signature() {
    let key = KeyPair::generate();
    let issuer = issuer_with(&key, None);
    let now = at(2026);
    let mut keys = DecodedKeys::default();
    for n in 0..3 {
        let doc = signed(&key, &json!({"n": n}), at(2024));
        let checked = check_issuer_proof_with(&doc, DID, &issuer, now, &mut keys);
        assert_eq!(checked, check_issuer_proof(&doc, DID, &issuer, now));
        assert!(checked.is_ok());
    }
    assert_eq!(keys.keys.len(), 1, "one key, decoded once");
    // A key already decoded checks the next signature as strictly as a fresh one.
    let mut tampered = signed(&key, &json!({"n": 9}), at(2024));
    tampered["n"] = json!(10);
    let err =
        check_issuer_proof_with(&tampered, DID, &issuer, now, &mut keys).expect_err("tampered");
    assert_eq!(err.code, "signature_invalid");
}

#[test]
fn keys_with_comb_tables_answer_as_verify_strict() {
    let key = KeyPair::generate();
    let issuer = issuer_with(&key, None);
    let now = at(2026);
    let tables = std::sync::Arc::new(crate::crypto::key_tables::KeyTables::new(4));
    let mut keys = DecodedKeys::with_tables(tables.clone());
    for n in 0..4 {
        let doc = signed(&key, &json!({"n": n}), at(2024));
        let checked = check_issuer_proof_with(&doc, DID, &issuer, now, &mut keys);
        assert_eq!(checked, check_issuer_proof(&doc, DID, &issuer, now));
        assert!(checked.is_ok());
        let mut tampered = doc.clone();
        tampered["n"] = json!(n + 10);
        let err =
            check_issuer_proof_with(&tampered, DID, &issuer, now, &mut keys).expect_err("tampered");
        assert_eq!(err.code, "signature_invalid");
    }
    assert_eq!(
        tables.len(),
        1,
        "the key's table, built from its second signature"
    );
    assert!(keys.keys[0].2.is_some());
    // Another envelope's keys start with the table already built.
    let mut next = DecodedKeys::with_tables(tables);
    let doc = signed(&key, &json!({"n": 99}), at(2024));
    assert!(check_issuer_proof_with(&doc, DID, &issuer, now, &mut next).is_ok());
    assert!(next.keys[0].2.is_some());
}

#[test]
fn issuer_proofs_need_a_key_usable_then_and_now() {
    let key = KeyPair::generate();
    let doc = signed(&key, &json!({"a": 1}), at(2024));
    let now = at(2026);
    assert_eq!(
        check_issuer_proof(&doc, DID, &issuer_with(&key, None), now),
        Ok(Signed {
            created: at(2024),
            digest: digest_value(&doc)
        })
    );
    // Revoked in 2025: the 2024 signature was fine then, but the key signs nothing new now.
    let err = check_issuer_proof(&doc, DID, &issuer_with(&key, Some(at(2025))), now)
        .expect_err("revoked");
    assert_eq!(err.code, "key_revoked");
    let other = KeyPair::generate();
    let err =
        check_issuer_proof(&doc, DID, &issuer_with(&other, None), now).expect_err("unknown key");
    assert_eq!(err.code, "key_unknown");
    let mut tampered = doc.clone();
    tampered["a"] = json!(2);
    let err =
        check_issuer_proof(&tampered, DID, &issuer_with(&key, None), now).expect_err("tampered");
    assert_eq!(err.code, "signature_invalid");
}

#[test]
fn item_kinds() {
    assert_eq!(
        item_kind(&json!({"licence": 1})).map(|(k, _)| k),
        Ok("licence")
    );
    assert_eq!(
        item_kind(&json!({"statusChange": 1})).map(|(k, _)| k),
        Ok("statusChange")
    );
    for bad in [
        json!({}),
        json!({"licence": 1, "statusChange": 1}),
        json!({"x": 1}),
        json!([]),
    ] {
        assert_eq!(
            item_kind(&bad).expect_err("malformed").code,
            "item_malformed"
        );
    }
}

#[test]
fn status_changes() {
    let uscc: Uscc = USCC.parse().expect("vector");
    let v1 = claims(1, None);
    let body = json!({"licence": v1.id.urn(), "action": "suspend", "reason": "r", "effectiveFrom": "2026-06-01T00:00:00Z", "previous": v1.digest});
    let change = status::parse(&body).expect("well-formed");
    let head = chain(&v1, LicenceState::Active);
    assert_eq!(
        status::check(&change, &uscc, true, Some(&head)),
        Ok(LicenceState::Suspended)
    );
    assert_eq!(
        status::check(&change, &uscc, false, None)
            .expect_err("unknown")
            .code,
        "licence_unknown"
    );
    let other: Uscc = "91110000101623741K".parse().expect("vector");
    assert_eq!(
        status::check(&change, &other, true, Some(&head))
            .expect_err("owner")
            .code,
        "licence_not_owned"
    );
    let suspended = LicenceChain {
        state: LicenceState::Suspended,
        last_event: Some(change.digest.clone()),
        ..head.clone()
    };
    assert_eq!(
        status::check(&change, &uscc, true, Some(&suspended))
            .expect_err("twice")
            .code,
        "transition_invalid"
    );
    let mut resume = body.clone();
    resume["action"] = json!("resume");
    let resume = status::parse(&resume).expect("well-formed");
    assert_eq!(
        status::check(&resume, &uscc, true, Some(&suspended))
            .expect_err("stale")
            .code,
        "previous_mismatch"
    );
    for (member, value, code) in [
        ("reason", json!(""), "reason_missing"),
        ("action", json!("delete"), "action_invalid"),
        ("effectiveFrom", json!("soon"), "effective_from_invalid"),
        ("extra", json!(1), "status_malformed"),
    ] {
        let mut bad = body.clone();
        bad[member] = value;
        assert_eq!(status::parse(&bad).expect_err(code).code, code);
    }
}

#[test]
fn proofs_are_dated_near_receipt() {
    let window = SigningWindow::default();
    let now = at(2026);
    for ok in [
        now,
        now + Duration::minutes(5),
        now - Duration::days(7),
        now - Duration::days(1),
    ] {
        assert_eq!(window.check(ok, now), Ok(()), "{ok}");
    }
    let code = |created| window.check(created, now).expect_err("outside").code;
    assert_eq!(code(now + Duration::minutes(6)), "created_in_future");
    assert_eq!(
        code(now - Duration::days(7) - Duration::seconds(1)),
        "created_too_old"
    );
    assert_eq!(
        SigningWindow::days(30).check(now - Duration::days(20), now),
        Ok(())
    );
}

#[test]
fn status_changes_need_a_grant_when_signed_but_revocation_does_not() {
    use crate::domain::authorisation::Authorisation;
    let uscc: Uscc = USCC.parse().expect("vector");
    let v1 = claims(1, None);
    let head = chain(&v1, LicenceState::Active);
    let grant = Authorisation {
        id: "g".into(),
        issuer: uscc.clone(),
        type_codes: vec![v1.id.type_code().clone()],
        jurisdiction: "22".parse().expect("scope"),
        valid_from: at(2020),
        valid_until: Some(at(2025)),
        granted_by: "11100000000013338W".parse().expect("vector"),
        granted_at: at(2020),
        withdrawn_at: None,
        withdrawal_reason: None,
    };
    let change = |action: &str| {
        let body = json!({"licence": v1.id.urn(), "action": action, "reason": "r",
            "effectiveFrom": "2026-06-01T00:00:00Z", "previous": v1.digest});
        status::parse(&body).expect("well-formed")
    };
    let grants = [grant];
    let check =
        |action, signed| status::check_authorised(&change(action), &head, &grants, &uscc, signed);
    assert_eq!(check("suspend", at(2024)), Ok(()));
    for action in ["suspend", "resume"] {
        assert_eq!(
            check(action, at(2026)).expect_err("ended").code,
            "not_authorised"
        );
    }
    assert_eq!(check("revoke", at(2026)), Ok(()));
}

pub(super) fn claims(version: u16, predecessor: Option<(LicenceId, String)>) -> LicenceClaims {
    let id: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
        .parse()
        .expect("vector");
    LicenceClaims {
        id: id.with_version(version).expect("version"),
        schema_version: 1,
        holder: "urn:cn:rid:11010519491231002X".parse().expect("holder"),
        jurisdiction: "220102".parse().expect("division"),
        valid_from: at(2026),
        valid_until: at(2027),
        predecessor,
        status: Vec::new(),
        digest: digest_value(&json!(version)),
    }
}

pub(super) fn chain(head: &LicenceClaims, state: LicenceState) -> LicenceChain {
    LicenceChain {
        base: head.id.base(),
        head: head.id.clone(),
        head_digest: head.digest.clone(),
        state,
        last_event: None,
        holder: head.holder.clone(),
        jurisdiction: head.jurisdiction.clone(),
    }
}
