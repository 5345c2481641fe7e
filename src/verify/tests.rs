//! Unit tests of the verification engine over an in-memory view shaped like an offline bundle
//! (no per-licence data), and of the batched signature step.

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{sign, ProofOptions};
use crate::domain::issuer::IssuerStatus;

const HOST: &str = "registry.test";
const USCC: &str = "91220101MA00001012";

struct BundleView {
    issuer: Issuer,
    state: LicenceState,
}

impl RegistryView for BundleView {
    fn did_host(&self) -> &str {
        HOST
    }
    fn public_base(&self) -> &str {
        "https://registry.test"
    }
    fn issuer(&self, uscc: &Uscc) -> Option<&Issuer> {
        (uscc == &self.issuer.uscc).then_some(&self.issuer)
    }
    fn authorisations(&self, _: &Uscc) -> &[Authorisation] {
        &[]
    }
    fn licence_type(&self, _: &TypeCode) -> Option<TypeFacts<'_>> {
        None
    }
    fn schema(&self, _: &TypeCode, _: u32) -> SchemaLookup {
        SchemaLookup::NotFound
    }
    fn licence(&self, _: &LicenceId) -> LicenceLookup<'_> {
        LicenceLookup::AsOf {
            state: Some(self.state),
            superseded: None,
            receipt: None,
            as_of: Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap(),
        }
    }
}

fn uscc() -> Uscc {
    Uscc::with_check(&USCC[..17]).expect("valid prefix")
}

fn signed(key: &KeyPair, serial: &str) -> Value {
    let uscc = uscc();
    let did = format!("did:web:{HOST}:issuers:{uscc}");
    let id = LicenceId::build(&"11100000000014062K001".parse().unwrap(), &uscc, serial, 1).unwrap();
    let vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": id.urn(), "type": ["VerifiableCredential", "ELicence"], "issuer": did,
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
        "jurisdiction": "220102",
        "credentialSchema": {"id": "https://registry.test/v1/licence-types/11100000000014062K001/versions/1/schema", "type": "JsonSchema"},
        "credentialSubject": {"id": "urn:cn:rid:11010519491231002X", "holderName": "张三"},
    });
    let created = Utc.with_ymd_and_hms(2025, 12, 1, 0, 0, 0).unwrap();
    let options = ProofOptions::assertion(format!("{did}#{}", key.multikey()), created);
    sign(&vc, key, &options).unwrap()
}

fn view(key: &KeyPair, state: LicenceState) -> BundleView {
    let at = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap();
    BundleView {
        issuer: Issuer {
            uscc: uscc(),
            name: "测试".into(),
            contact: None,
            status: IssuerStatus::Active,
            created_at: at,
            keys: vec![crate::domain::issuer::IssuerKey {
                multikey: key.multikey(),
                valid_from: at,
                valid_until: None,
                revoked_at: None,
                compromised_since: None,
                created_at: at,
            }],
        },
        state,
    }
}

fn code<'a>(v: &'a Verification, name: &str) -> (&'a str, bool) {
    let c = v.checks.iter().find(|c| c.name == name).expect("check");
    (c.code, c.ok)
}

#[test]
fn a_bundle_view_marks_registration_unknown_and_status_as_of() {
    let key = KeyPair::generate();
    let vc = signed(&key, "T1");
    let at = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let v = verify_one(&vc, &view(&key, LicenceState::Active), at);
    assert_eq!(code(&v, "signature"), ("signature_valid", true));
    assert_eq!(code(&v, "issuerKey"), ("key_valid", true));
    assert_eq!(code(&v, "registered"), ("not_registered", false));
    assert_eq!(code(&v, "chain"), ("unknown_as_of_bundle", true));
    assert_eq!(code(&v, "status"), ("active", true));
    assert_eq!(v.proof_needed, None);
    let revoked = verify_one(&vc, &view(&key, LicenceState::Revoked), at);
    assert_eq!(code(&revoked, "status"), ("revoked", false));
    let status = revoked.checks.iter().find(|c| c.name == "status").unwrap();
    let Some(super::Details::Json(details)) = &status.details else {
        panic!("free-form details expected: {:?}", status.details);
    };
    assert_eq!(details["asOf"], "2026-05-01T00:00:00Z");
    // This view knows no types or grants, so those fail; the verdict says so.
    assert_eq!(code(&v, "authorisation"), ("not_authorised", false));
    assert_eq!(code(&v, "schema"), ("type_unknown", false));
    assert!(!v.verified);
}

#[test]
fn batched_signatures_find_the_bad_one() {
    let key = KeyPair::generate();
    let mut credentials: Vec<Value> = (0..10).map(|i| signed(&key, &format!("B{i}"))).collect();
    credentials[6]["validUntil"] = json!("2099-01-01T00:00:00Z");
    credentials[8].as_object_mut().unwrap().remove("proof");
    let view = view(&key, LicenceState::Active);
    let prepared: Vec<Prepared<'_>> = credentials.iter().map(|c| prepare(c, &view)).collect();
    let results = verify_signatures(&prepared);
    for (i, r) in results.iter().enumerate() {
        match i {
            6 => assert_eq!(r.as_ref().unwrap_err().0, "signature_invalid"),
            8 => assert_eq!(r.as_ref().unwrap_err().0, "proof_missing"),
            _ => assert!(r.is_ok(), "{i}"),
        }
    }
}

#[test]
fn credentials_are_recognised_by_type() {
    assert!(is_credential(
        &json!({"type": ["VerifiableCredential", "ELicence"]})
    ));
    assert!(is_credential(&json!({"type": "VerifiableCredential"})));
    assert!(!is_credential(&json!({"type": ["ELicence"]})));
    assert!(!is_credential(&json!([1])));
}
