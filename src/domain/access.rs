//! Access records (用证记录): who verified, checked or read which licence, when, why, through
//! which route, and with what result. Records form a hash chain: each carries the SHA-256 of
//! the previous record's canonical form (JCS of its fields, [`AccessRecord::canonical`]), so a
//! record altered or deleted afterwards breaks the chain and [`Auditor`] finds the first break.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{json, Value};

use super::identifiers::{HolderId, Uscc};
use crate::crypto::digest::sha256;
use crate::crypto::jcs::canonicalize;

/// The `previous` of the first record.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Through what a licence was used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A verification by an agency key (`POST /v1/verify`).
    Verify,
    /// A reference checked in an application.
    Application,
    /// An agency read of the full licence (application entitlement or consent).
    AgencyRead,
    /// A scan of a holder's presentation QR code.
    QrScan,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Application => "application",
            Self::AgencyRead => "agency_read",
            Self::QrScan => "qr_scan",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Verify,
            Self::Application,
            Self::AgencyRead,
            Self::QrScan,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// What is recorded; the store adds the sequence number, time and chain hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAccessRecord {
    pub channel: Channel,
    /// The agency that used the licence; `None` for an anonymous use (a QR scan by anyone).
    pub agency: Option<Uscc>,
    /// The licence's holder, who sees the record; `None` when the licence was not found.
    pub holder: Option<HolderId>,
    /// The licence (its `urn:elicence:` URN), as referenced.
    pub licence: Option<String>,
    /// The use cause given (application use cause, consent purpose, verification purpose).
    pub purpose: String,
    /// The route template, e.g. `POST /v1/applications`.
    pub route: String,
    /// The outcome: `fulfilled`, `read`, `valid`, or a refusal code.
    pub result: String,
    /// The application this use belongs to, if any.
    pub application: Option<String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRecord {
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(flatten)]
    pub entry: NewAccessRecord,
    /// Hex SHA-256 of the previous record's canonical form ([`GENESIS`] for the first).
    pub previous: String,
    /// Hex SHA-256 of this record's canonical form.
    pub hash: String,
}

impl AccessRecord {
    /// Chains `entry` after the record `(seq - 1, previous)`.
    pub fn chain(seq: u64, at: DateTime<Utc>, entry: NewAccessRecord, previous: String) -> Self {
        let mut record = Self {
            seq,
            at,
            entry,
            previous,
            hash: String::new(),
        };
        record.hash = record.computed_hash();
        record
    }

    /// The canonical form: JCS of every field but `hash`, times to the microsecond.
    pub fn canonical(&self) -> Vec<u8> {
        let e = &self.entry;
        canonicalize(&json!({
            "seq": self.seq,
            "at": self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "channel": e.channel.as_str(),
            "agency": e.agency.as_ref().map(|a| a.as_str()),
            "holder": e.holder.as_ref().map(HolderId::urn),
            "licence": e.licence,
            "purpose": e.purpose,
            "route": e.route,
            "result": e.result,
            "application": e.application,
            "previous": self.previous,
        }))
    }

    pub fn computed_hash(&self) -> String {
        hex::encode(sha256(&self.canonical()))
    }

    /// The holder-facing form.
    pub fn present(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {seq}: its hash does not match its contents (altered)")]
    Altered { seq: u64 },
    #[error("record {seq}: expected sequence number {expected} (a record is missing)")]
    Gap { seq: u64, expected: u64 },
    #[error("record {seq}: `previous` does not match the hash of record {} (a record was removed or altered)", seq - 1)]
    Link { seq: u64 },
    #[error(
        "the chain head says {head_seq} records ending in {head_hash}, the records end at {seq}"
    )]
    Head {
        seq: u64,
        head_seq: u64,
        head_hash: String,
    },
}

/// Walks the records in sequence order, keeping what the next one must link to.
#[derive(Debug, Clone)]
pub struct Auditor {
    next: u64,
    previous: String,
}

impl Default for Auditor {
    fn default() -> Self {
        Self {
            next: 1,
            previous: GENESIS.to_owned(),
        }
    }
}

impl Auditor {
    /// Checks the next record.
    pub fn feed(&mut self, record: &AccessRecord) -> Result<(), ChainBreak> {
        if record.computed_hash() != record.hash {
            return Err(ChainBreak::Altered { seq: record.seq });
        }
        if record.seq != self.next {
            return Err(ChainBreak::Gap {
                seq: record.seq,
                expected: self.next,
            });
        }
        if record.previous != self.previous {
            return Err(ChainBreak::Link { seq: record.seq });
        }
        self.next += 1;
        self.previous.clone_from(&record.hash);
        Ok(())
    }

    /// Checks the head row against the last record seen; answers how many records were checked.
    pub fn finish(self, head_seq: u64, head_hash: &str) -> Result<u64, ChainBreak> {
        let last = self.next - 1;
        if head_seq != last || head_hash != self.previous {
            return Err(ChainBreak::Head {
                seq: last,
                head_seq,
                head_hash: head_hash.to_owned(),
            });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(purpose: &str) -> NewAccessRecord {
        NewAccessRecord {
            channel: Channel::Application,
            agency: Some(Uscc::with_check("11220000013544541").expect("uscc")),
            holder: Some("urn:cn:rid:11010519491231002X".parse().expect("holder")),
            licence: None,
            purpose: purpose.into(),
            route: "POST /v1/applications".into(),
            result: "fulfilled".into(),
            application: None,
        }
    }

    fn chain(n: u64) -> Vec<AccessRecord> {
        let mut previous = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let r = AccessRecord::chain(seq, Utc::now(), entry("办理"), previous.clone());
                previous.clone_from(&r.hash);
                r
            })
            .collect()
    }

    fn audit(records: &[AccessRecord], head: (u64, &str)) -> Result<u64, ChainBreak> {
        let mut auditor = Auditor::default();
        for r in records {
            auditor.feed(r)?;
        }
        auditor.finish(head.0, head.1)
    }

    #[test]
    fn an_intact_chain_audits() {
        let records = chain(3);
        assert_eq!(audit(&records, (3, &records[2].hash)), Ok(3));
        assert_eq!(audit(&[], (0, GENESIS)), Ok(0));
    }

    #[test]
    fn alteration_removal_and_truncation_are_found() {
        let records = chain(4);
        let head = (4, records[3].hash.as_str());
        let mut altered = records.clone();
        altered[1].entry.purpose = "别的".into();
        assert_eq!(audit(&altered, head), Err(ChainBreak::Altered { seq: 2 }));
        let mut removed = records.clone();
        removed.remove(1);
        assert_eq!(
            audit(&removed, head),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
        assert!(matches!(
            audit(&records[..3], head),
            Err(ChainBreak::Head { seq: 3, .. })
        ));
        // Re-hashing an altered record still breaks the next link.
        let mut rehashed = records.clone();
        rehashed[1].entry.purpose = "别的".into();
        rehashed[1].hash = rehashed[1].computed_hash();
        assert_eq!(audit(&rehashed, head), Err(ChainBreak::Link { seq: 3 }));
    }
}
