//! Licence items: a W3C VC 2.0 `ELicence` signed by the submitting issuer. [`parse`] checks
//! everything the credential says by itself; [`check_type`] and [`check_chain`] check it
//! against the directory and the licence's version chain, which the caller fetches.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::{date_member, ItemError};
use crate::crypto::digest::{digest_value, parse_multibase_sha256};
use crate::crypto::strict_json::Member as _;
use crate::domain::identifiers::{DivisionCode, HolderId, LicenceId, TypeCode, Uscc};
use crate::domain::licence::LicenceChain;
use crate::domain::licence_type::{HolderCategory, LicenceType, TypeStatus, ValidityRange};
use crate::domain::status_list::{self, StatusSlot};

/// The VC 2.0 base context, which must come first.
pub const VC2_CONTEXT: &str = "https://www.w3.org/ns/credentials/v2";

/// Who is submitting, and where this registry lives.
#[derive(Debug, Clone, Copy)]
pub struct Submitter<'a> {
    pub issuer: &'a Uscc,
    pub issuer_did: &'a str,
    /// The registry's public base URL, without a trailing slash.
    pub public_base: &'a str,
}

/// What a well-formed licence claims.
#[derive(Debug, Clone)]
pub struct LicenceClaims {
    pub id: LicenceId,
    pub schema_version: u32,
    pub holder: HolderId,
    pub jurisdiction: DivisionCode,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// The version it replaces, named in `relatedResource` (from version 002 on).
    pub predecessor: Option<(LicenceId, String)>,
    /// The status list slots its `credentialStatus` names (none, or one per purpose).
    pub status: Vec<StatusSlot>,
    /// Multibase SHA-256 of the JCS form of the credential, proof included.
    pub digest: String,
}

/// Checks the credential's own shape, in this order: context, types, identifier, issuer,
/// credential schema, holder, jurisdiction, validity dates, predecessor, status entries.
pub fn parse(vc: &Value, by: &Submitter<'_>) -> Result<LicenceClaims, ItemError> {
    parse_known(vc, by, None, None)
}

/// [`parse`] for a caller that checks the credential's proof next and takes the digest from
/// it ([`crate::domain::submission::Signed::digest`], from the canonical form the check
/// writes): `digest` is left empty until [`LicenceClaims::signed_as`] sets it, instead of
/// writing and hashing the canonical form twice (intake, where it was 6 % of a licence's work).
pub fn parse_before_proof(vc: &Value, by: &Submitter<'_>) -> Result<LicenceClaims, ItemError> {
    parse_known(vc, by, Some(String::new()), None)
}

impl LicenceClaims {
    /// The claims of a credential [`parse_before_proof`] read, with the digest its verified
    /// proof gave.
    pub fn signed_as(self, digest: String) -> Self {
        Self { digest, ..self }
    }
}

/// [`parse`], given what the caller already has: the credential's digest (a prepared proof
/// wrote the canonical form: [`crate::crypto::proof::PreparedProof::document_digest`]), and
/// its `id` member parsed with [`LicenceId::from_urn`].
pub fn parse_known(
    vc: &Value,
    by: &Submitter<'_>,
    digest: Option<String>,
    id: Option<LicenceId>,
) -> Result<LicenceClaims, ItemError> {
    let object = vc
        .as_object()
        .ok_or_else(|| ItemError::new("item_malformed", "a licence is a JSON object"))?;
    check_context(object)?;
    check_types(object)?;
    let id = parse_id(object, by, id)?;
    let schema_version = parse_schema_ref(object, &id, by.public_base)?;
    let subject = object
        .member("credentialSubject")
        .and_then(Value::as_object);
    let holder = subject
        .and_then(|s| s.member("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| ItemError::new("holder_invalid", "credentialSubject.id is required"))
        .and_then(|s| {
            HolderId::from_urn(s).map_err(|e| ItemError::new("holder_invalid", e.to_string()))
        })?;
    let jurisdiction = object
        .member("jurisdiction")
        .and_then(Value::as_str)
        .ok_or_else(|| ItemError::new("jurisdiction_invalid", "jurisdiction is required"))?
        .parse::<DivisionCode>()
        .map_err(|e| ItemError::new("jurisdiction_invalid", e.to_string()))?;
    let valid_from = date_member(object, "validFrom", "validity_invalid")?;
    let valid_until = date_member(object, "validUntil", "validity_invalid")?;
    if valid_until <= valid_from {
        return Err(ItemError::new(
            "validity_invalid",
            "validUntil must be after validFrom",
        ));
    }
    let predecessor = parse_predecessor(object, &id)?;
    let status = status_list::parse_entries(object, by.issuer, by.public_base)?;
    Ok(LicenceClaims {
        id,
        schema_version,
        holder,
        jurisdiction,
        valid_from,
        valid_until,
        predecessor,
        status,
        digest: digest.unwrap_or_else(|| digest_value(vc)),
    })
}

fn check_context(object: &Map<String, Value>) -> Result<(), ItemError> {
    let first = match object.member("@context") {
        Some(Value::Array(list)) => list.first(),
        Some(single) => Some(single),
        None => None,
    };
    if first.and_then(Value::as_str) == Some(VC2_CONTEXT) {
        Ok(())
    } else {
        Err(ItemError::new(
            "context_invalid",
            format!("@context must start with {VC2_CONTEXT}"),
        ))
    }
}

fn check_types(object: &Map<String, Value>) -> Result<(), ItemError> {
    let types: Vec<&str> = match object.member("type") {
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"VerifiableCredential") && types.contains(&"ELicence") {
        Ok(())
    } else {
        Err(ItemError::new(
            "type_invalid",
            "type must include VerifiableCredential and ELicence",
        ))
    }
}

fn parse_id(
    object: &Map<String, Value>,
    by: &Submitter<'_>,
    known: Option<LicenceId>,
) -> Result<LicenceId, ItemError> {
    let id = match known {
        Some(id) => id,
        None => {
            let id = object
                .member("id")
                .and_then(Value::as_str)
                .ok_or_else(|| ItemError::new("licence_id_invalid", "id is required"))?;
            LicenceId::from_urn(id)
                .map_err(|e| ItemError::new("licence_id_invalid", e.to_string()))?
        }
    };
    if id.issuer() != by.issuer {
        return Err(ItemError::new(
            "issuer_mismatch",
            "the identifier's issuer segment is not the submitting issuer",
        ));
    }
    if object.member("issuer").and_then(Value::as_str) != Some(by.issuer_did) {
        return Err(ItemError::new(
            "issuer_mismatch",
            format!("issuer must be {}", by.issuer_did),
        ));
    }
    Ok(id)
}

/// `credentialSchema` must be this registry's URL of a version of the identifier's type.
fn parse_schema_ref(
    object: &Map<String, Value>,
    id: &LicenceId,
    base: &str,
) -> Result<u32, ItemError> {
    let schema = object.member("credentialSchema").and_then(Value::as_object);
    let url = schema.and_then(|s| s.member("id")).and_then(Value::as_str);
    let kind = schema
        .and_then(|s| s.member("type"))
        .and_then(Value::as_str);
    // `<base>/v1/licence-types/<type code>/versions/<n>/schema`, matched piece by piece.
    url.filter(|_| kind == Some("JsonSchema"))
        .and_then(|u| u.strip_prefix(base))
        .and_then(|rest| rest.strip_prefix("/v1/licence-types/"))
        .and_then(|rest| rest.strip_prefix(id.type_code().as_str()))
        .and_then(|rest| rest.strip_prefix("/versions/"))
        .and_then(|rest| rest.strip_suffix("/schema"))
        // Digits only, no leading zero: one spelling per version (`parse` would take `+1`).
        .filter(|n| !n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u32>().ok())
        .ok_or_else(|| {
            let prefix = format!("{base}/v1/licence-types/{}/versions/", id.type_code());
            ItemError::new(
                "schema_unknown",
                format!("credentialSchema must be {{\"id\": \"{prefix}<n>/schema\", \"type\": \"JsonSchema\"}}"),
            )
        })
}

/// The `relatedResource` entry naming an earlier version of the same licence, if any.
fn parse_predecessor(
    object: &Map<String, Value>,
    id: &LicenceId,
) -> Result<Option<(LicenceId, String)>, ItemError> {
    let malformed = |m: &str| ItemError::new("predecessor_invalid", m);
    let entries = match object.member("relatedResource") {
        None => return Ok(None),
        Some(Value::Array(entries)) => entries,
        Some(_) => return Err(malformed("relatedResource must be an array")),
    };
    let mut found = None;
    for entry in entries {
        let Some(urn) = entry.member("id").and_then(Value::as_str) else {
            return Err(malformed("every relatedResource entry needs an id"));
        };
        let Ok(other) = LicenceId::from_urn(urn) else {
            continue;
        };
        if other.base() != id.base() {
            continue;
        }
        let digest = entry
            .member("digestMultibase")
            .and_then(Value::as_str)
            .filter(|d| parse_multibase_sha256(d).is_ok())
            .ok_or_else(|| malformed("the predecessor needs a digestMultibase (uEi…)"))?;
        if found.replace((other, digest.to_owned())).is_some() {
            return Err(malformed(
                "relatedResource names more than one version of this licence",
            ));
        }
    }
    Ok(found)
}

/// Checks the claims against the licence type: published, the schema version exists, the
/// holder is of the type's category, and the validity lies in the type's range.
pub fn check_type(
    claims: &LicenceClaims,
    licence_type: Option<&LicenceType>,
) -> Result<(), ItemError> {
    let t = licence_type.ok_or_else(|| ItemError::new("type_unknown", "no such licence type"))?;
    if t.status != TypeStatus::Published {
        return Err(ItemError::new(
            "type_not_published",
            format!("licence type {} is {}", t.code, t.status.as_str()),
        ));
    }
    check_type_fit(claims, t)
}

/// Checks the claims against a licence type whatever its status (verification also accepts
/// licences of a type deprecated since): the schema version exists, the holder is of the
/// type's category, and the validity lies in the type's range.
pub fn check_type_fit(claims: &LicenceClaims, t: &LicenceType) -> Result<(), ItemError> {
    let has_version = t
        .versions
        .iter()
        .any(|v| v.version == claims.schema_version);
    check_fit(claims, &t.code, has_version, t.holder_category, &t.validity)
}

/// [`check_type_fit`] from the type's facts, for a caller that holds them in another shape
/// (the offline verifier, from a trust bundle).
pub fn check_fit(
    claims: &LicenceClaims,
    code: &TypeCode,
    has_version: bool,
    holder_category: HolderCategory,
    validity: &ValidityRange,
) -> Result<(), ItemError> {
    if !has_version {
        return Err(ItemError::new(
            "schema_unknown",
            format!(
                "licence type {code} has no schema version {}",
                claims.schema_version
            ),
        ));
    }
    let category = match holder_category {
        HolderCategory::Person => 1,
        HolderCategory::LegalPerson => 2,
    };
    if claims.holder.category() != category {
        return Err(ItemError::new(
            "holder_category_mismatch",
            "the holder is not of the type's holder category",
        ));
    }
    let length = claims.valid_until - claims.valid_from;
    let (min, max) = (validity.min_days, validity.max_days);
    if length < Duration::days(min.into()) || length > Duration::days(max.into()) {
        return Err(ItemError::new(
            "validity_out_of_range",
            format!("the validity period must last {min} to {max} days"),
        ));
    }
    Ok(())
}

/// Checks the identifier against what exists: not taken; version 001 starts a new licence and
/// names no predecessor; a later version names the current head with its digest and is exactly
/// one more and names the same holder (`holder_changed`); a revoked licence takes no new
/// version.
pub fn check_chain(
    claims: &LicenceClaims,
    taken: bool,
    chain: Option<&LicenceChain>,
) -> Result<(), ItemError> {
    if taken {
        return Err(ItemError::new(
            "licence_exists",
            "a licence with this identifier exists",
        ));
    }
    let version = claims.id.version();
    match (version, chain, &claims.predecessor) {
        (1, None, None) => Ok(()),
        (1, Some(_), _) => Err(ItemError::new(
            "licence_exists",
            "a licence with this base identifier exists; issue the next version",
        )),
        (1, None, Some(_)) => Err(ItemError::new(
            "predecessor_unexpected",
            "version 001 names no predecessor",
        )),
        (_, None, _) => Err(ItemError::new(
            "predecessor_unknown",
            "no earlier version of this licence exists",
        )),
        (_, Some(_), None) => Err(ItemError::new(
            "predecessor_missing",
            "relatedResource must name the current version with its digest",
        )),
        (_, Some(chain), Some((id, digest))) => {
            if id != &chain.head || digest != &chain.head_digest {
                return Err(ItemError::new(
                    "predecessor_mismatch",
                    format!(
                        "the current version is {} with digest {}",
                        chain.head.urn(),
                        chain.head_digest
                    ),
                ));
            }
            if version != chain.head.version() + 1 {
                return Err(ItemError::new(
                    "version_not_next",
                    format!("the next version is {:03}", chain.head.version() + 1),
                ));
            }
            // The holder is fixed for the licence's whole life (type and issuer are too, but
            // they are part of the base identifier, so they cannot differ here).
            if claims.holder != chain.holder {
                return Err(ItemError::new(
                    "holder_changed",
                    "every version of a licence names the holder of its first version",
                ));
            }
            if chain.state == crate::domain::licence::LicenceState::Revoked {
                return Err(ItemError::new(
                    "licence_revoked",
                    "a revoked licence takes no new version",
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
