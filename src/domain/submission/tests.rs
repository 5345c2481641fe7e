//! Unit tests of the pure submission checks: envelope shape, issuer proofs, licence parsing,
//! version chains and status transitions.

use chrono::{Duration, TimeZone, Utc};
use serde_json::json;

use super::licence::{self, LicenceClaims, Submitter};
use super::status;
use super::*;
use crate::crypto::digest::digest_value;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{sign, ProofOptions};
use crate::domain::identifiers::LicenceId;
use crate::domain::issuer::{IssuerKey, IssuerStatus};
use crate::domain::licence::LicenceState;
use crate::log::batch::LicenceChain;

const HOST: &str = "registry.test";
const USCC: &str = "11220000013544541J";
const DID: &str = "did:web:registry.test:issuers:11220000013544541J";

fn at(y: i32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
        .single()
        .expect("date")
}

fn issuer_with(key: &KeyPair, revoked_at: Option<DateTime<Utc>>) -> Issuer {
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

fn signed(key: &KeyPair, doc: &Value, created: DateTime<Utc>) -> Value {
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

fn claims(version: u16, predecessor: Option<(LicenceId, String)>) -> LicenceClaims {
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

fn chain(head: &LicenceClaims, state: LicenceState) -> LicenceChain {
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

#[test]
fn version_chain_rules() {
    let v1 = claims(1, None);
    assert_eq!(licence::check_chain(&v1, false, None), Ok(()));
    assert_eq!(
        licence::check_chain(&v1, true, None)
            .expect_err("taken")
            .code,
        "licence_exists"
    );
    let head = chain(&v1, LicenceState::Active);
    assert_eq!(
        licence::check_chain(&v1, false, Some(&head))
            .expect_err("base")
            .code,
        "licence_exists"
    );
    let named = Some((v1.id.clone(), v1.digest.clone()));
    assert_eq!(
        licence::check_chain(&claims(2, named.clone()), false, Some(&head)),
        Ok(())
    );
    let cases = [
        (claims(2, None), Some(&head), "predecessor_missing"),
        (claims(2, named.clone()), None, "predecessor_unknown"),
        (claims(3, named.clone()), Some(&head), "version_not_next"),
        (
            claims(2, Some((v1.id.clone(), digest_value(&json!("x"))))),
            Some(&head),
            "predecessor_mismatch",
        ),
        (claims(1, named.clone()), None, "predecessor_unexpected"),
    ];
    for (c, chain, code) in cases {
        assert_eq!(
            licence::check_chain(&c, false, chain).expect_err(code).code,
            code
        );
    }
    let revoked = chain(&v1, LicenceState::Revoked);
    assert_eq!(
        licence::check_chain(&claims(2, named), false, Some(&revoked))
            .expect_err("revoked")
            .code,
        "licence_revoked"
    );
}

#[test]
fn a_later_version_keeps_the_holder() {
    let v1 = claims(1, None);
    let head = chain(&v1, LicenceState::Active);
    let mut v2 = claims(2, Some((v1.id.clone(), v1.digest.clone())));
    v2.holder = "urn:cn:rid:110105199003071239".parse().expect("holder");
    assert_eq!(
        licence::check_chain(&v2, false, Some(&head))
            .expect_err("another holder")
            .code,
        "holder_changed"
    );
}

#[test]
fn licence_parse_refuses_in_order() {
    let uscc = USCC.parse().expect("vector");
    let by = Submitter {
        issuer: &uscc,
        issuer_did: DID,
        public_base: "https://registry.test",
    };
    let id = "urn:elicence:1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F";
    let vc = json!({
        "@context": [licence::VC2_CONTEXT], "id": id, "type": ["VerifiableCredential", "ELicence"],
        "issuer": DID, "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
        "jurisdiction": "220102",
        "credentialSchema": {"id": "https://registry.test/v1/licence-types/11100000000013338W032/versions/2/schema", "type": "JsonSchema"},
        "credentialSubject": {"id": "urn:cn:rid:11010519491231002X"},
    });
    let parsed = licence::parse(&vc, &by).expect("valid");
    assert_eq!(parsed.schema_version, 2);
    assert_eq!(parsed.valid_until - parsed.valid_from, Duration::days(365));
    let cases = [
        (
            "@context",
            json!("https://www.w3.org/2018/credentials/v1"),
            "context_invalid",
        ),
        ("type", json!(["VerifiableCredential"]), "type_invalid"),
        (
            "id",
            json!(format!("{}X", &id[..id.len() - 1])),
            "licence_id_invalid",
        ),
        (
            "issuer",
            json!("did:web:registry.test:issuers:91110000101623741K"),
            "issuer_mismatch",
        ),
        (
            "credentialSchema",
            json!({"id": "https://other/schema", "type": "JsonSchema"}),
            "schema_unknown",
        ),
        (
            "credentialSubject",
            json!({"id": "urn:cn:rid:110105194912310021"}),
            "holder_invalid",
        ),
        ("jurisdiction", json!("22"), "jurisdiction_invalid"),
        (
            "validUntil",
            json!("2025-01-01T00:00:00Z"),
            "validity_invalid",
        ),
        ("relatedResource", json!({}), "predecessor_invalid"),
    ];
    for (member, value, code) in cases {
        let mut bad = vc.clone();
        bad[member] = value;
        assert_eq!(
            licence::parse(&bad, &by).expect_err(code).code,
            code,
            "{member}"
        );
    }
    // One spelling per schema version.
    for version in ["+2", "02", "", "2x"] {
        let mut bad = vc.clone();
        bad["credentialSchema"]["id"] = json!(format!(
            "https://registry.test/v1/licence-types/11100000000013338W032/versions/{version}/schema"
        ));
        let err = licence::parse(&bad, &by).expect_err(version);
        assert_eq!(err.code, "schema_unknown", "{version}");
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
