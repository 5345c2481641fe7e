//! DID documents for did:web: the registry's own (`did:web:<host>`) and each issuer's
//! (`did:web:<host>:issuers:<USCC>`). Keys are listed as Multikey verification methods whose
//! fragment is the Multikey itself, and each may make assertions (sign credentials).

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::domain::issuer::Issuer;

/// The JSON-LD contexts of every document served.
pub const CONTEXTS: [&str; 2] = [
    "https://www.w3.org/ns/did/v1",
    "https://w3id.org/security/multikey/v1",
];

/// The registry's own DID: `did:web:<host>` (`host` already did:web-encoded).
pub fn registry_did(host: &str) -> String {
    format!("did:web:{host}")
}

/// The DID URL of one key: `<did>#<multikey>`.
pub fn key_id(did: &str, multikey: &str) -> String {
    format!("{did}#{multikey}")
}

/// A DID document listing `multikeys` as assertion methods of `did`.
pub fn document<'a>(did: &str, multikeys: impl IntoIterator<Item = &'a str>) -> Value {
    let methods: Vec<Value> = multikeys
        .into_iter()
        .map(|k| {
            json!({
                "id": key_id(did, k),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": k,
            })
        })
        .collect();
    let ids: Vec<Value> = methods.iter().map(|m| m["id"].clone()).collect();
    json!({
        "@context": CONTEXTS,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    })
}

/// An issuer's DID document: only its current keys (not revoked, compromised or expired at
/// `now`). Withdrawn keys are judged through the registry's own records, not the document.
pub fn issuer_document(did: &str, issuer: &Issuer, now: DateTime<Utc>) -> Value {
    document(
        did,
        issuer
            .keys
            .iter()
            .filter(|k| k.is_current(now))
            .map(|k| k.multikey.as_str()),
    )
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::issuer::{IssuerKey, IssuerStatus};

    fn at(y: i32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, 1, 1, 0, 0, 0)
            .single()
            .expect("valid date")
    }

    fn key(multikey: &str) -> IssuerKey {
        IssuerKey {
            multikey: multikey.into(),
            valid_from: at(2020),
            valid_until: Some(at(2030)),
            revoked_at: None,
            compromised_since: None,
            created_at: at(2020),
        }
    }

    #[test]
    fn lists_only_current_keys() {
        let mut revoked = key("z6MkRevoked");
        revoked.revoked_at = Some(at(2024));
        let mut expired = key("z6MkExpired");
        expired.valid_until = Some(at(2021));
        let issuer = Issuer {
            uscc: "11220000013544541J".parse().expect("vector"),
            name: "x".into(),
            contact: None,
            status: IssuerStatus::Active,
            created_at: at(2020),
            keys: vec![key("z6MkCurrent"), revoked, expired],
        };
        let did = "did:web:r.example:issuers:11220000013544541J";
        let doc = issuer_document(did, &issuer, at(2025));
        assert_eq!(doc["id"], did);
        assert_eq!(doc["@context"], json!(CONTEXTS));
        assert_eq!(
            doc["verificationMethod"],
            json!([{
                "id": format!("{did}#z6MkCurrent"),
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": "z6MkCurrent",
            }])
        );
        assert_eq!(
            doc["assertionMethod"],
            json!([format!("{did}#z6MkCurrent")])
        );
    }

    #[test]
    fn registry_did_is_the_bare_host() {
        assert_eq!(registry_did("r.example%3A8443"), "did:web:r.example%3A8443");
    }
}
