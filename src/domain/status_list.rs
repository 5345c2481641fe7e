//! W3C Bitstring Status List v1.0 as this registry uses it: the `credentialStatus` entries a
//! licence may carry, the slots they name, and the list's bitstring codec. No HTTP, no SQL.
//!
//! Each issuer has its own lists per purpose (`revocation`, `suspension`, and the registry's own
//! `supersession`), numbered from 0, of
//! [`LIST_SIZE`] entries each, at `<public base>/v1/status-lists/<USCC>/<purpose>/<n>`.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::identifiers::Uscc;
use super::submission::ItemError;
use crate::crypto::strict_json::Member as _;

/// Entries per list: the specification's minimum (16 KiB), so that a list says nothing about
/// how many licences an issuer has.
pub const LIST_SIZE: u32 = 131_072;
/// Lists per issuer and purpose (list numbers `0..MAX_LISTS`): 134 million licences each.
pub const MAX_LISTS: u32 = 1024;
/// The entry type a licence's `credentialStatus` uses.
pub const ENTRY_TYPE: &str = "BitstringStatusListEntry";

/// What a status list says about the licences it covers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum StatusPurpose {
    /// A set bit: the licence is revoked (for good).
    Revocation,
    /// A set bit: the licence is suspended now (cleared when it is resumed).
    Suspension,
    /// The registry's own list, never named by a licence: the bit at a version's *revocation*
    /// slot is set once a later version replaced it (`docs/status-lists.md`, "Supersession").
    Supersession,
}

impl StatusPurpose {
    pub const ALL: [StatusPurpose; 3] = [
        StatusPurpose::Revocation,
        StatusPurpose::Suspension,
        StatusPurpose::Supersession,
    ];
    /// The purposes a licence's `credentialStatus` may name.
    pub const ISSUED: [StatusPurpose; 2] = [StatusPurpose::Revocation, StatusPurpose::Suspension];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revocation => "revocation",
            Self::Suspension => "suspension",
            Self::Supersession => "supersession",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One position in one of an issuer's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StatusSlot {
    pub purpose: StatusPurpose,
    /// The list number, below [`MAX_LISTS`].
    pub list: u32,
    /// The index in that list, below [`LIST_SIZE`].
    pub index: u32,
}

impl StatusSlot {
    /// The slot at `position` counted across an issuer's lists of one purpose (list 0 first),
    /// or `None` past the last list.
    pub fn at(purpose: StatusPurpose, position: u64) -> Option<Self> {
        let list = u32::try_from(position / u64::from(LIST_SIZE)).ok()?;
        let index = u32::try_from(position % u64::from(LIST_SIZE)).ok()?;
        (list < MAX_LISTS).then_some(Self {
            purpose,
            list,
            index,
        })
    }

    /// The `BitstringStatusListEntry` naming this slot of `issuer`'s list.
    pub fn entry(&self, public_base: &str, issuer: &Uscc) -> Value {
        let list = list_url(public_base, issuer, self.purpose, self.list);
        json!({
            "id": format!("{list}#{}", self.index),
            "type": ENTRY_TYPE,
            "statusPurpose": self.purpose.as_str(),
            "statusListIndex": self.index.to_string(),
            "statusListCredential": list,
        })
    }
}

/// The URL of one of `issuer`'s lists.
pub fn list_url(public_base: &str, issuer: &Uscc, purpose: StatusPurpose, list: u32) -> String {
    format!(
        "{public_base}/v1/status-lists/{issuer}/{}/{list}",
        purpose.as_str()
    )
}

/// The slots a licence's `credentialStatus` names: none when it has none; else one entry or an
/// array of at most one per purpose, each pointing at a list of `issuer` at this registry.
pub fn parse_entries(
    object: &Map<String, Value>,
    issuer: &Uscc,
    public_base: &str,
) -> Result<Vec<StatusSlot>, ItemError> {
    let entries = match object.member("credentialStatus") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(entry @ Value::Object(_)) => vec![entry],
        Some(_) => {
            return Err(invalid(
                "credentialStatus must be an entry or an array of them",
            ))
        }
    };
    let mut slots: Vec<StatusSlot> = Vec::with_capacity(entries.len());
    for entry in entries {
        let slot = parse_entry(entry, issuer, public_base)?;
        if slots.iter().any(|s| s.purpose == slot.purpose) {
            return Err(invalid(
                "at most one credentialStatus entry per statusPurpose",
            ));
        }
        slots.push(slot);
    }
    Ok(slots)
}

fn parse_entry(entry: &Value, issuer: &Uscc, base: &str) -> Result<StatusSlot, ItemError> {
    let entry = entry
        .as_object()
        .ok_or_else(|| invalid("a credentialStatus entry is an object"))?;
    let text = |name: &str| entry.member(name).and_then(Value::as_str);
    if text("type") != Some(ENTRY_TYPE) {
        return Err(invalid(format!(
            "a credentialStatus entry's type is {ENTRY_TYPE}"
        )));
    }
    let purpose = text("statusPurpose")
        .and_then(StatusPurpose::parse)
        .filter(|p| StatusPurpose::ISSUED.contains(p))
        .ok_or_else(|| invalid("statusPurpose must be revocation or suspension"))?;
    let index = text("statusListIndex")
        .and_then(decimal)
        .filter(|&i| i < LIST_SIZE)
        .ok_or_else(|| {
            invalid(format!(
                "statusListIndex must be a decimal string below {LIST_SIZE}"
            ))
        })?;
    let prefix = format!("{base}/v1/status-lists/{issuer}/{}/", purpose.as_str());
    let list = text("statusListCredential")
        .and_then(|url| url.strip_prefix(prefix.as_str()))
        .and_then(decimal)
        .filter(|&n| n < MAX_LISTS)
        .ok_or_else(|| {
            invalid(format!(
                "statusListCredential must be {prefix}<n>, n below {MAX_LISTS}: this issuer's \
                 own list at this registry"
            ))
        })?;
    if entry.member("id").is_some_and(|id| !id.is_string()) {
        return Err(invalid("a credentialStatus entry's id is a URL"));
    }
    Ok(StatusSlot {
        purpose,
        list,
        index,
    })
}

/// Digits only, no leading zero (one spelling per number).
fn decimal(s: &str) -> Option<u32> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

fn invalid(detail: impl Into<String>) -> ItemError {
    ItemError::new("status_entry_invalid", detail)
}

/// The `encodedList` of a list of [`LIST_SIZE`] entries with the bits at `set` on: the
/// GZIP-compressed bitstring (index 0 is the left-most bit of the first byte), base64url
/// without padding, with the multibase prefix `u`. Indices past the list are ignored.
pub fn encode_list(set: &[u32]) -> String {
    let bits = bitstring(set);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    gz.write_all(&bits).expect("in-memory write");
    let zipped = gz.finish().expect("in-memory write");
    format!(
        "u{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(zipped)
    )
}

/// The bitstring of a list of [`LIST_SIZE`] entries with the bits at `set` on (index 0 is the
/// left-most bit of the first byte); indices past the list are ignored.
pub fn bitstring(set: &[u32]) -> Vec<u8> {
    let mut bits = vec![0u8; LIST_SIZE as usize / 8];
    for &i in set.iter().filter(|&&i| i < LIST_SIZE) {
        bits[i as usize / 8] |= 0x80 >> (i % 8);
    }
    bits
}

/// Reads an `encodedList` back into its bitstring; `None` when it is not one (not `u` +
/// base64url of GZIP, or larger than a list of [`MAX_DECODED`] bytes).
pub fn decode_list(encoded: &str) -> Option<Vec<u8>> {
    let zipped = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.strip_prefix('u')?)
        .ok()?;
    let mut bits = Vec::new();
    flate2::read::GzDecoder::new(zipped.as_slice())
        .take(MAX_DECODED as u64 + 1)
        .read_to_end(&mut bits)
        .ok()?;
    (bits.len() <= MAX_DECODED).then_some(bits)
}

/// The largest bitstring [`decode_list`] inflates (a gzip bomb stops here): 1 MiB.
pub const MAX_DECODED: usize = 1 << 20;

/// Whether bit `index` of a decoded bitstring is set.
pub fn bit(bits: &[u8], index: u32) -> bool {
    bits.get(index as usize / 8)
        .is_some_and(|byte| byte & (0x80 >> (index % 8)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> Uscc {
        "11220000013544541J".parse().expect("valid USCC")
    }

    const BASE: &str = "https://registry.example";

    #[test]
    fn the_bitstring_puts_index_0_leftmost_and_round_trips() {
        let encoded = encode_list(&[0, 9, LIST_SIZE - 1]);
        assert!(encoded.starts_with('u'));
        let bits = decode_list(&encoded).expect("decodes");
        assert_eq!(bits.len(), 16 * 1024);
        assert_eq!(bits[0], 0x80);
        assert_eq!(bits[1], 0x40);
        assert_eq!(bits[bits.len() - 1], 0x01);
        assert!(bit(&bits, 9) && !bit(&bits, 8) && !bit(&bits, 10));
    }

    #[test]
    fn entries_round_trip_and_positions_span_lists() {
        let slot =
            StatusSlot::at(StatusPurpose::Suspension, u64::from(LIST_SIZE) + 5).expect("in range");
        assert_eq!((slot.list, slot.index), (1, 5));
        let vc = json!({"credentialStatus": [
            StatusSlot::at(StatusPurpose::Revocation, 7).unwrap().entry(BASE, &issuer()),
            slot.entry(BASE, &issuer()),
        ]});
        let parsed = parse_entries(vc.as_object().unwrap(), &issuer(), BASE).expect("valid");
        assert_eq!(parsed[1], slot);
        assert_eq!(parsed[0].index, 7);
        let past = u64::from(LIST_SIZE) * u64::from(MAX_LISTS);
        assert_eq!(StatusSlot::at(StatusPurpose::Revocation, past), None);
    }

    #[test]
    fn refuses_malformed_entries_and_other_lists() {
        let good = StatusSlot::at(StatusPurpose::Revocation, 3)
            .unwrap()
            .entry(BASE, &issuer());
        let other: Uscc = "11100000000013338W".parse().expect("valid USCC");
        let cases = [
            json!("x"),
            json!([]),
            json!([good, good]),
            json!({"type": "StatusList2021Entry"}),
            StatusSlot::at(StatusPurpose::Revocation, 3)
                .unwrap()
                .entry(BASE, &other),
            StatusSlot::at(StatusPurpose::Revocation, 3)
                .unwrap()
                .entry("https://else", &issuer()),
            json!({"type": ENTRY_TYPE, "statusPurpose": "revocation", "statusListIndex": "03",
                   "statusListCredential": list_url(BASE, &issuer(), StatusPurpose::Revocation, 0)}),
            json!({"type": ENTRY_TYPE, "statusPurpose": "revocation",
                   "statusListIndex": LIST_SIZE.to_string(),
                   "statusListCredential": list_url(BASE, &issuer(), StatusPurpose::Revocation, 0)}),
            json!({"type": ENTRY_TYPE, "statusPurpose": "revocation", "statusListIndex": "1",
                   "statusListCredential": list_url(BASE, &issuer(), StatusPurpose::Suspension, 0)}),
            json!({"type": ENTRY_TYPE, "statusPurpose": "supersession", "statusListIndex": "1",
                   "statusListCredential": list_url(BASE, &issuer(), StatusPurpose::Supersession, 0)}),
            json!({"type": ENTRY_TYPE, "statusPurpose": "message", "statusListIndex": "1",
                   "statusListCredential": list_url(BASE, &issuer(), StatusPurpose::Revocation, 0)}),
        ];
        for case in cases {
            let vc = json!({ "credentialStatus": case });
            let err = parse_entries(vc.as_object().unwrap(), &issuer(), BASE).expect_err("bad");
            assert_eq!(err.code, "status_entry_invalid", "{case}");
        }
        let none = json!({});
        assert!(parse_entries(none.as_object().unwrap(), &issuer(), BASE)
            .unwrap()
            .is_empty());
    }
}
