//! Verification answers written straight to JSON bytes, for the verification routes.
//!
//! A verification's answer is about 3 KB of which the structure (member names, check names and
//! codes) is fixed and most values are known to need no escaping (times the registry formats,
//! base64, numbers). Going through serde_json scanned every one of those bytes for characters
//! to escape, one string at a time: writing the answer was ~9 % of a batch's instructions
//! (measured with callgrind). This writer copies the fixed parts and escapes only text that could
//! need it. The `Serialize` impls stay for every other use, and the tests hold the two to the
//! same bytes.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::details::{AttachedProof, Details};
use super::{messages, Check, Message, Summary, Verification};
use crate::domain::time;
use crate::log::merkle::Hash;

/// Appends `verification` as JSON, byte for byte what `serde_json::to_writer` writes.
pub fn write(out: &mut Vec<u8>, verification: &Verification) {
    out.extend_from_slice(br#"{"verified":"#);
    boolean(out, verification.verified);
    out.extend_from_slice(br#","checkedAt":"#);
    string(out, &verification.checked_at);
    out.extend_from_slice(br#","summary":"#);
    summary(out, &verification.summary);
    out.extend_from_slice(br#","checks":"#);
    array(out, &verification.checks, write_check);
    out.push(b'}');
}

/// Appends a JSON array of `items`, each as `write` writes it.
pub fn array<T>(out: &mut Vec<u8>, items: &[T], mut write: impl FnMut(&mut Vec<u8>, &T)) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write(out, item);
    }
    out.push(b']');
}

/// Appends any JSON value (a problem, free-form details).
pub fn value(out: &mut Vec<u8>, value: &Value) {
    // Writing a `Value` to a `Vec` cannot fail: its keys are strings and it holds no floats
    // that JSON cannot express.
    let _ = serde_json::to_writer(&mut *out, value);
}

fn summary(out: &mut Vec<u8>, s: &Summary) {
    out.extend_from_slice(br#"{"typeCode":"#);
    optional(out, s.type_code.as_ref(), |out, code| {
        string(out, code.as_str())
    });
    out.extend_from_slice(br#","typeName":"#);
    optional(out, s.type_name.as_ref(), message);
    out.extend_from_slice(br#","identifier":"#);
    optional(out, s.identifier.as_deref(), string);
    out.extend_from_slice(br#","issuerName":"#);
    optional(out, s.issuer_name.as_deref(), string);
    out.extend_from_slice(br#","issuerUscc":"#);
    optional(out, s.issuer_uscc.as_ref(), |out, uscc| {
        string(out, uscc.as_str())
    });
    out.extend_from_slice(br#","holderCategory":"#);
    optional(out, s.holder_category, |out, n| integer(out, u64::from(n)));
    out.extend_from_slice(br#","validFrom":"#);
    optional(out, s.valid_from.as_deref(), string);
    out.extend_from_slice(br#","validUntil":"#);
    optional(out, s.valid_until.as_deref(), string);
    out.extend_from_slice(br#","version":"#);
    optional(out, s.version, |out, n| integer(out, u64::from(n)));
    out.push(b'}');
}

fn write_check(out: &mut Vec<u8>, check: &Check) {
    out.extend_from_slice(br#"{"name":"#);
    string(out, check.name);
    out.extend_from_slice(br#","ok":"#);
    boolean(out, check.ok);
    out.extend_from_slice(br#","code":"#);
    string(out, check.code);
    out.extend_from_slice(br#","message":"#);
    message(out, &check.message);
    if let Some(details) = &check.details {
        out.extend_from_slice(br#","details":"#);
        write_details(out, details);
    }
    out.push(b'}');
}

fn message(out: &mut Vec<u8>, m: &Message) {
    messages::write(out, m);
}

fn write_details(out: &mut Vec<u8>, details: &Details) {
    match details {
        Details::Json(json) => value(out, json),
        Details::Key {
            key,
            signed_at,
            revoked_at,
            compromised_since,
        } => {
            out.extend_from_slice(br#"{"key":"#);
            string(out, key);
            out.extend_from_slice(br#","signedAt":"#);
            timestamp(out, *signed_at);
            out.extend_from_slice(br#","revokedAt":"#);
            optional(out, *revoked_at, timestamp);
            out.extend_from_slice(br#","compromisedSince":"#);
            optional(out, *compromised_since, timestamp);
            out.push(b'}');
        }
        Details::Grant {
            authorisation,
            granted_by,
        } => {
            out.extend_from_slice(br#"{"authorisation":"#);
            string(out, authorisation);
            out.extend_from_slice(br#","grantedBy":"#);
            string(out, granted_by.as_str());
            out.push(b'}');
        }
        Details::TypeVersion {
            type_code,
            schema_version,
        } => {
            out.extend_from_slice(br#"{"typeCode":"#);
            string(out, type_code.as_str());
            out.extend_from_slice(br#","schemaVersion":"#);
            integer(out, u64::from(*schema_version));
            out.push(b'}');
        }
        Details::Validity {
            valid_from,
            valid_until,
            at,
        } => {
            out.extend_from_slice(br#"{"validFrom":"#);
            timestamp(out, *valid_from);
            out.extend_from_slice(br#","validUntil":"#);
            timestamp(out, *valid_until);
            out.extend_from_slice(br#","at":"#);
            timestamp(out, *at);
            out.push(b'}');
        }
        Details::Leaf {
            leaf_index,
            leaf_hash,
            proof,
        } => {
            out.extend_from_slice(br#"{"leafIndex":"#);
            integer(out, *leaf_index);
            out.extend_from_slice(br#","leafHash":"#);
            base64(out, leaf_hash);
            if let Some(proof) = proof {
                attached(out, proof);
            }
            out.push(b'}');
        }
        Details::Head(head) => {
            out.extend_from_slice(br#"{"head":"urn:elicence:"#);
            // A parsed identifier is `0-9A-Z` and dots.
            out.extend_from_slice(head.as_str().as_bytes());
            out.extend_from_slice(br#"","headVersion":"#);
            integer(out, u64::from(head.version()));
            out.push(b'}');
        }
    }
}

fn attached(out: &mut Vec<u8>, proof: &AttachedProof) {
    out.extend_from_slice(br#","treeSize":"#);
    integer(out, proof.tree_size);
    out.extend_from_slice(br#","checkpoint":"#);
    // Rendered once as a JSON string for every answer of the request.
    out.extend_from_slice(proof.checkpoint.get().as_bytes());
    out.extend_from_slice(br#","inclusionProof":"#);
    array(out, &proof.hashes, base64);
}

/// `null`, or the value as `write` writes it.
fn optional<T>(out: &mut Vec<u8>, value: Option<T>, write: impl FnOnce(&mut Vec<u8>, T)) {
    match value {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn boolean(out: &mut Vec<u8>, b: bool) {
    out.extend_from_slice(if b { b"true" } else { b"false" });
}

fn integer(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// A JSON string, escaped as serde_json (and `JSON.stringify`, so JCS) escape.
pub(super) fn string(out: &mut Vec<u8>, s: &str) {
    crate::crypto::jcs::write_string(out, s);
}

/// A time as the registry writes times (digits and `-:TZ`, nothing to escape).
fn timestamp(out: &mut Vec<u8>, t: DateTime<Utc>) {
    out.push(b'"');
    time::write_seconds(out, t);
    out.push(b'"');
}

/// A hash as standard base64 (`A-Za-z0-9+/=`, nothing to escape).
fn base64(out: &mut Vec<u8>, hash: &Hash) {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    // 32 bytes take 44 base64 characters.
    let mut buf = [0u8; 44];
    let n = STANDARD.encode_slice(hash, &mut buf).unwrap_or(0);
    out.push(b'"');
    out.extend_from_slice(&buf[..n]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use serde_json::json;

    use super::*;
    use crate::domain::identifiers::LicenceId;
    use crate::verify::details::tests::at;
    use crate::verify::render_checkpoint;

    fn check(name: &'static str, ok: bool, code: &'static str, details: Option<Details>) -> Check {
        let mut check = Check::new(name, ok, code);
        check.details = details;
        check
    }

    /// Every kind of detail, summary fields present and absent, and text that must be escaped.
    fn verifications() -> Vec<Verification> {
        let t = at("2026-05-01T08:09:10Z");
        let head = LicenceId::from_urn(
            "urn:elicence:1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
        )
        .expect("a licence id");
        let proof = AttachedProof {
            tree_size: 12,
            checkpoint: render_checkpoint("origin\n12\nroot=\n\n— origin sig\n"),
            hashes: vec![[7; 32], [255; 32]],
        };
        let full = Verification {
            verified: true,
            checked_at: "2026-05-01T08:09:10Z".into(),
            summary: Summary {
                type_code: Some("11100000000013338W032".parse().expect("a type code")),
                type_name: Some(Message {
                    zh: Cow::Owned("结婚证 \"甲\"".into()),
                    en: Cow::Owned("Marriage\\Certificate\n".into()),
                }),
                identifier: Some(head.as_str().into()),
                issuer_name: Some("压测发证方 \u{1}".into()),
                issuer_uscc: Some("11220000013544541J".parse().expect("a USCC")),
                holder_category: Some(1),
                valid_from: Some("2025-01-01T00:00:00Z".into()),
                valid_until: Some("</script>".into()),
                version: Some(1),
            },
            checks: vec![
                check("signature", true, "signature_valid", None),
                check(
                    "issuerKey",
                    true,
                    "key_valid",
                    Some(Details::Key {
                        key: "z6Mk".into(),
                        signed_at: t,
                        revoked_at: None,
                        compromised_since: Some(at("0999-01-01T00:00:00Z")),
                    }),
                ),
                check(
                    "authorisation",
                    true,
                    "authorised",
                    Some(Details::Grant {
                        authorisation: "788be7c9".into(),
                        granted_by: "11100000000013155A".parse().expect("a USCC"),
                    }),
                ),
                check(
                    "schema",
                    true,
                    "schema_valid",
                    Some(Details::TypeVersion {
                        type_code: "11100000000013338W032".parse().expect("a type code"),
                        schema_version: 3,
                    }),
                ),
                check(
                    "validityPeriod",
                    false,
                    "expired",
                    Some(Details::Validity {
                        valid_from: t,
                        valid_until: t,
                        at: at("2100-06-01T00:00:00Z"),
                    }),
                ),
                check(
                    "registered",
                    true,
                    "registered",
                    Some(Details::Leaf {
                        leaf_index: 0,
                        leaf_hash: [1; 32],
                        proof: Some(proof),
                    }),
                ),
                check("chain", false, "superseded", Some(Details::Head(head))),
                check(
                    "status",
                    false,
                    "not_checked",
                    Some(Details::Json(
                        json!({"reason": "a \"quoted\" reason", "asOf": null}),
                    )),
                ),
            ],
            proof_needed: None,
        };
        let mut unproved = full.clone();
        unproved.checks[5].details = Some(Details::Leaf {
            leaf_index: u64::MAX,
            leaf_hash: [0; 32],
            proof: None,
        });
        let empty = Verification {
            verified: false,
            checked_at: "2026-05-01T08:09:10Z".into(),
            summary: Summary::default(),
            checks: vec![check(
                "signature",
                false,
                "proof_missing",
                Some(Details::Json(json!({"reason": "no proof"}))),
            )],
            proof_needed: Some(3),
        };
        vec![full, unproved, empty]
    }

    #[test]
    fn writes_what_serde_writes() {
        for verification in verifications() {
            let mut written = Vec::new();
            write(&mut written, &verification);
            let serde = serde_json::to_vec(&verification).expect("serialised");
            assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&serde)
            );
        }
    }

    #[test]
    fn strings_escape_as_serde_does() {
        for s in [
            "",
            "plain",
            "引号\"",
            "back\\slash",
            "\u{0}\u{1f}\u{7f}",
            "tab\tand\r\n",
        ] {
            let mut written = Vec::new();
            string(&mut written, s);
            assert_eq!(written, serde_json::to_vec(s).expect("serialised"), "{s:?}");
        }
    }
}
