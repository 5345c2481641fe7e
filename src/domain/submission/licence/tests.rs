//! A licence item's own rules: parsing in order, and the version chain (same holder, the
//! current head as predecessor).

use chrono::Duration;
use serde_json::json;

use super::*;
use crate::domain::licence::LicenceState;
use crate::domain::submission::licence;
use crate::domain::submission::tests::{chain, claims, DID, USCC};

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
