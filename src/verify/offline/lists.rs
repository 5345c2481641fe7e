//! The status lists an offline verifier holds: each a registry-signed
//! `BitstringStatusListCredential` fetched from the URL the trust bundle references, kept only
//! when it is signed by the bundle's key and either has the bits the bundle pinned (their
//! digest) or is newer than the bundle.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::bundle::{bits_digest, BundleList, TrustedBundle};
use crate::crypto::strict_json::Member as _;
use crate::crypto::{multikey, proof};
use crate::domain::identifiers::Uscc;
use crate::domain::status_list::{decode_list, StatusPurpose, LIST_SIZE};
use crate::verify::FastMap;

/// Which list: an issuer's list number for a purpose.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ListKey {
    issuer: Uscc,
    purpose: StatusPurpose,
    list: u32,
}

impl ListKey {
    pub fn new(issuer: Uscc, purpose: StatusPurpose, list: u32) -> Self {
        Self {
            issuer,
            purpose,
            list,
        }
    }
}

/// The decoded bitstrings of the lists kept, and why the others were refused.
#[derive(Debug, Default)]
pub struct LoadedLists {
    bits: FastMap<ListKey, Vec<u8>>,
    problems: Vec<(String, String)>,
}

impl LoadedLists {
    /// Checks each list credential against the bundle; keeps the good ones.
    pub fn load(trusted: &TrustedBundle, lists: &[Value]) -> Self {
        let b = trusted.bundle();
        let by_url: FastMap<&str, &BundleList> =
            b.status_lists.iter().map(|l| (l.url.as_str(), l)).collect();
        let mut loaded = Self::default();
        for list in lists {
            let url = list.member("id").and_then(Value::as_str).unwrap_or("?");
            match check(trusted, &by_url, list) {
                Ok((reference, bits)) => {
                    let key =
                        ListKey::new(reference.issuer.clone(), reference.purpose, reference.list);
                    loaded.bits.insert(key, bits);
                }
                Err(reason) => loaded.problems.push((url.to_owned(), reason)),
            }
        }
        loaded
    }

    /// The bits of a list, when it is held.
    pub fn bits(&self, key: &ListKey) -> Option<&[u8]> {
        self.bits.get(key).map(Vec::as_slice)
    }

    /// The refused lists: (URL, why).
    pub fn problems(&self) -> &[(String, String)] {
        &self.problems
    }
}

/// The bundle's reference a list answers and its bits, or why it is refused.
fn check<'b>(
    trusted: &TrustedBundle,
    by_url: &FastMap<&str, &'b BundleList>,
    list: &Value,
) -> Result<(&'b BundleList, Vec<u8>), String> {
    let prepared = proof::prepare(list).map_err(|e| format!("no usable proof: {e}"))?;
    let registry = &trusted.bundle().registry;
    let signer = prepared
        .verification_method
        .strip_prefix(registry.as_str())
        .and_then(|rest| rest.strip_prefix('#'))
        .and_then(|k| multikey::decode(k).ok());
    if signer.as_ref() != Some(trusted.key()) {
        return Err("not signed by the registry key that signed the bundle".into());
    }
    prepared
        .verify_with(trusted.key())
        .map_err(|e| format!("the signature does not verify: {e}"))?;
    let url = list
        .member("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let reference = *by_url
        .get(url)
        .ok_or("the bundle references no list at this URL")?;
    let subject = list.member("credentialSubject");
    let purpose = subject
        .and_then(|s| s.member("statusPurpose"))
        .and_then(Value::as_str);
    if purpose != Some(reference.purpose.as_str()) {
        return Err("its statusPurpose is not the one its URL names".into());
    }
    let bits = subject
        .and_then(|s| s.member("encodedList"))
        .and_then(Value::as_str)
        .and_then(decode_list)
        .filter(|bits| bits.len() == LIST_SIZE as usize / 8)
        .ok_or("its encodedList is not a bitstring of 131,072 entries")?;
    if bits_digest(&bits) != reference.digest && !newer(list, trusted.bundle().issued_at) {
        return Err("older than the bundle: its bits are not the ones the bundle pinned".into());
    }
    Ok((reference, bits))
}

/// Whether the list was signed after the bundle (a status change since then), in which case
/// its bits rightly differ from the bundle's digest.
fn newer(list: &Value, issued_at: DateTime<Utc>) -> bool {
    list.member("validFrom")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .is_some_and(|t| t.with_timezone(&Utc) > issued_at)
}
