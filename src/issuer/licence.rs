//! Licences as docs/design.md ("Objects", "Signatures") describes them: the unsigned VC,
//! then its proof.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::crypto::digest::digest_value;
use crate::crypto::keys::KeyPair;
use crate::crypto::proof::{self, ProofError, ProofOptions};
use crate::domain::identifiers::{DivisionCode, HolderId, LicenceId};
use crate::domain::status_list::StatusSlot;
use crate::domain::time::seconds;

/// The one JSON-LD context a licence carries (VC 2.0's base context).
pub const VC_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// Why a licence could not be built.
#[derive(Debug, thiserror::Error)]
pub enum LicenceError {
    /// The subject is not a JSON object.
    #[error("the subject must be a JSON object")]
    SubjectNotObject,
    /// `credentialSubject.id` is missing or not a holder URN.
    #[error("the subject's id must be urn:cn:rid:<resident ID> or urn:cn:uscc:<USCC>: {0}")]
    SubjectId(String),
    /// `credentialSubject.holderName` is missing or empty.
    #[error("the subject must have a non-empty holderName")]
    HolderName,
    /// Version 1 was given a previous version, or a later version none.
    #[error("version {version} {reason}")]
    Previous { version: u16, reason: &'static str },
    /// The previous version's `id` is not the version just before this one.
    #[error("the previous version is {found:?}, expected {expected:?}")]
    PreviousId { expected: String, found: String },
    /// `validUntil` is not after `validFrom`.
    #[error("validUntil must be after validFrom")]
    Validity,
}

/// Everything a licence is built from. `previous` is the signed previous version (from version
/// 2 on): its id and digest go into `relatedResource`.
#[derive(Debug, Clone)]
pub struct LicenceDraft {
    pub id: LicenceId,
    /// The issuer's DID, `did:web:<host>:issuers:<USCC>`.
    pub issuer_did: String,
    /// The registry's public base URL; the schema URL is built on it.
    pub public_base: String,
    /// The licence type's schema version the subject follows.
    pub schema_version: u32,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
    pub jurisdiction: DivisionCode,
    /// The `credentialSubject`: an object with `id` (holder URN) and `holderName`.
    pub subject: Value,
    pub previous: Option<Value>,
}

/// Builds the complete unsigned VC of `draft`, members in the documented order.
pub fn build_licence(draft: &LicenceDraft) -> Result<Value, LicenceError> {
    check_subject(&draft.subject)?;
    if draft
        .valid_until
        .is_some_and(|until| until <= draft.valid_from)
    {
        return Err(LicenceError::Validity);
    }
    let mut vc = Map::new();
    vc.insert("@context".into(), json!([VC_CONTEXT]));
    vc.insert("id".into(), draft.id.urn().into());
    vc.insert("type".into(), json!(["VerifiableCredential", "ELicence"]));
    vc.insert("issuer".into(), draft.issuer_did.clone().into());
    vc.insert("validFrom".into(), seconds(draft.valid_from).into());
    if let Some(until) = draft.valid_until {
        vc.insert("validUntil".into(), seconds(until).into());
    }
    vc.insert("jurisdiction".into(), draft.jurisdiction.as_str().into());
    vc.insert("credentialSchema".into(), schema_ref(draft));
    vc.insert("credentialSubject".into(), draft.subject.clone());
    if let Some(related) = related_resource(&draft.id, draft.previous.as_ref())? {
        vc.insert("relatedResource".into(), related);
    }
    Ok(Value::Object(vc))
}

/// Adds a `credentialStatus` naming `slots` of the licence issuer's status lists at the
/// registry `public_base` (one entry, or an array of them), before signing.
pub fn add_status(vc: &mut Value, public_base: &str, slots: &[StatusSlot]) {
    let Some(issuer) = vc["id"]
        .as_str()
        .and_then(|urn| LicenceId::from_urn(urn).ok())
        .map(|id| id.issuer().clone())
    else {
        return;
    };
    let base = public_base.trim_end_matches('/');
    let mut entries: Vec<Value> = slots.iter().map(|s| s.entry(base, &issuer)).collect();
    let status = match entries.len() {
        0 => return,
        1 => entries.remove(0),
        _ => Value::Array(entries),
    };
    if let Some(fields) = vc.as_object_mut() {
        fields.insert("credentialStatus".into(), status);
    }
}

/// Signs a built licence with an `assertionMethod` proof by `verification_method`.
pub fn sign_licence(
    vc: &Value,
    key: &KeyPair,
    verification_method: &str,
    created: DateTime<Utc>,
) -> Result<Value, ProofError> {
    proof::sign(
        vc,
        key,
        &ProofOptions::assertion(verification_method, created),
    )
}

fn schema_ref(draft: &LicenceDraft) -> Value {
    let base = draft.public_base.trim_end_matches('/');
    json!({
        "id": format!(
            "{base}/v1/licence-types/{}/versions/{}/schema",
            draft.id.type_code(),
            draft.schema_version
        ),
        "type": "JsonSchema",
    })
}

fn check_subject(subject: &Value) -> Result<(), LicenceError> {
    let fields = subject.as_object().ok_or(LicenceError::SubjectNotObject)?;
    let id = fields
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| LicenceError::SubjectId("missing".into()))?;
    HolderId::from_urn(id).map_err(|e| LicenceError::SubjectId(e.to_string()))?;
    match fields.get("holderName").and_then(Value::as_str) {
        Some(name) if !name.trim().is_empty() => Ok(()),
        _ => Err(LicenceError::HolderName),
    }
}

/// `[{id, digestMultibase}]` naming the previous version, required from version 2 on.
fn related_resource(
    id: &LicenceId,
    previous: Option<&Value>,
) -> Result<Option<Value>, LicenceError> {
    let version = id.version();
    let previous = match (version, previous) {
        (1, None) => return Ok(None),
        (1, Some(_)) => {
            return Err(LicenceError::Previous {
                version,
                reason: "is the first and has no previous version",
            })
        }
        (_, None) => {
            return Err(LicenceError::Previous {
                version,
                reason: "needs the signed previous version",
            })
        }
        (_, Some(previous)) => previous,
    };
    // `version` is 2..=999 here, so the one before it is a valid version number.
    let expected = id
        .with_version(version - 1)
        .map_err(|e| LicenceError::SubjectId(e.to_string()))?
        .urn();
    let found = previous.get("id").and_then(Value::as_str).unwrap_or("");
    if found != expected {
        return Err(LicenceError::PreviousId {
            expected,
            found: found.to_owned(),
        });
    }
    Ok(Some(json!([{
        "id": expected,
        "digestMultibase": digest_value(previous),
    }])))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::identifiers::{TypeCode, Uscc};

    pub(crate) fn draft(version: u16, previous: Option<Value>) -> LicenceDraft {
        let issuer: Uscc = "11220000013544541J".parse().expect("vector USCC");
        let type_code: TypeCode = "11100000000013338W032".parse().expect("vector type code");
        LicenceDraft {
            id: LicenceId::build(&type_code, &issuer, "2430599", version).expect("valid parts"),
            issuer_did: "did:web:registry.example.gov.cn:issuers:11220000013544541J".into(),
            public_base: "https://registry.example.gov.cn/".into(),
            schema_version: 1,
            valid_from: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
            valid_until: Some(Utc.with_ymd_and_hms(2031, 1, 1, 0, 0, 0).unwrap()),
            jurisdiction: "220100".parse().expect("division"),
            subject: json!({"id": "urn:cn:rid:11010519491231002X", "holderName": "张三"}),
            previous,
        }
    }

    #[test]
    fn builds_the_documented_example() {
        let vc = build_licence(&draft(1, None)).expect("valid draft");
        assert_eq!(
            vc["id"],
            "urn:elicence:1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
        );
        assert_eq!(
            vc["credentialSchema"]["id"],
            "https://registry.example.gov.cn/v1/licence-types/11100000000013338W032/versions/1/schema"
        );
        assert_eq!(vc["validFrom"], "2026-01-01T00:00:00Z");
        assert_eq!(vc["jurisdiction"], "220100");
        assert!(vc.get("relatedResource").is_none());
        let id = LicenceId::from_urn(vc["id"].as_str().unwrap()).expect("check character valid");
        assert_eq!(id.check(), 'F');
    }

    #[test]
    fn later_versions_chain_to_the_signed_previous_one() {
        let key = KeyPair::generate();
        let v1 = build_licence(&draft(1, None)).unwrap();
        let v1 = sign_licence(&v1, &key, "did:x#k", Utc::now()).unwrap();
        let v2 = build_licence(&draft(2, Some(v1.clone()))).expect("chains");
        assert_eq!(v2["relatedResource"][0]["id"], v1["id"]);
        assert_eq!(
            v2["relatedResource"][0]["digestMultibase"],
            digest_value(&v1).as_str()
        );
        assert!(matches!(
            build_licence(&draft(3, Some(v1))),
            Err(LicenceError::PreviousId { .. })
        ));
        assert!(build_licence(&draft(2, None)).is_err());
    }

    #[test]
    fn refuses_subjects_without_holder() {
        let mut d = draft(1, None);
        d.subject = json!({"id": "urn:cn:rid:110105194912310021", "holderName": "张三"});
        assert!(matches!(build_licence(&d), Err(LicenceError::SubjectId(_))));
        d.subject = json!({"id": "urn:cn:rid:11010519491231002X"});
        assert!(matches!(build_licence(&d), Err(LicenceError::HolderName)));
    }

    #[test]
    fn signed_licence_verifies() {
        let key = KeyPair::generate();
        let vc = build_licence(&draft(1, None)).unwrap();
        let vm = format!("did:web:x:issuers:11220000013544541J#{}", key.multikey());
        let signed = sign_licence(&vc, &key, &vm, Utc::now()).unwrap();
        let verified = proof::verify(&signed, |method| {
            (method == vm).then(|| key.verifying_key())
        })
        .expect("own signature verifies");
        assert_eq!(verified.proof_purpose, "assertionMethod");
        let mut tampered = signed.clone();
        tampered["jurisdiction"] = "220102".into();
        assert!(proof::verify(&tampered, |_| Some(key.verifying_key())).is_err());
    }
}
