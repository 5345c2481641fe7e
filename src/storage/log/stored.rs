//! What the log's reads give back: checkpoints, leaves, and a licence's stored versions and
//! status events.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::domain::identifiers::{HolderId, LicenceId};
use crate::domain::licence::{LicenceState, StatusAction};
use crate::log::merkle::Hash;

/// A signed checkpoint as stored.
#[derive(Debug, Clone)]
pub struct StoredCheckpoint {
    pub size: u64,
    pub root: Hash,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// One leaf of the log.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub index: u64,
    pub leaf_hash: Hash,
    pub data: String,
}

/// One stored version of a licence.
#[derive(Debug, Clone)]
pub struct StoredLicence {
    pub id: LicenceId,
    pub digest: String,
    pub document: Value,
    pub envelope: String,
    pub leaf_index: u64,
    pub accepted_at: DateTime<Utc>,
}

/// One stored status event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub licence: LicenceId,
    pub action: StatusAction,
    pub reason: String,
    pub effective_from: DateTime<Utc>,
    pub digest: String,
    pub previous: String,
    pub envelope: String,
    pub leaf_index: u64,
    pub accepted_at: DateTime<Utc>,
}

/// Every version and status event of one licence, in order.
#[derive(Debug, Clone)]
pub struct LicenceHistory {
    pub state: LicenceState,
    pub versions: Vec<StoredLicence>,
    pub events: Vec<StoredEvent>,
}

impl LicenceHistory {
    /// Only the versions whose `credentialSubject.id` names `holder`, and the events naming
    /// them: what a read on the holder's behalf may show. Intake refuses a version that
    /// changes the holder (`holder_changed`); this keeps a read safe even if one was stored.
    pub fn held_by(mut self, holder: &HolderId) -> Self {
        self.versions.retain(|v| names_holder(&v.document, holder));
        let kept: Vec<&LicenceId> = self.versions.iter().map(|v| &v.id).collect();
        self.events.retain(|e| kept.contains(&&e.licence));
        self
    }
}

/// Whether a stored credential's subject is `holder`.
fn names_holder(document: &Value, holder: &HolderId) -> bool {
    document["credentialSubject"]["id"]
        .as_str()
        .and_then(|urn| HolderId::from_urn(urn).ok())
        .is_some_and(|named| &named == holder)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn version(n: u16, holder: &str) -> StoredLicence {
        let id: LicenceId = "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F"
            .parse()
            .expect("vector");
        StoredLicence {
            id: id.with_version(n).expect("version"),
            digest: format!("d{n}"),
            document: json!({"credentialSubject": {"id": format!("urn:cn:rid:{holder}")}}),
            envelope: "e".into(),
            leaf_index: u64::from(n),
            accepted_at: Utc::now(),
        }
    }

    #[test]
    fn a_history_read_for_a_holder_shows_only_its_versions() {
        let holder: HolderId = "urn:cn:rid:11010519491231002X".parse().expect("holder");
        let event = |v: &StoredLicence| StoredEvent {
            licence: v.id.clone(),
            action: StatusAction::Suspend,
            reason: "r".into(),
            effective_from: Utc::now(),
            digest: "x".into(),
            previous: v.digest.clone(),
            envelope: "e".into(),
            leaf_index: 9,
            accepted_at: Utc::now(),
        };
        let (own, other) = (
            version(1, "11010519491231002X"),
            version(2, "110105199003071239"),
        );
        let history = LicenceHistory {
            state: LicenceState::Active,
            events: vec![event(&own), event(&other)],
            versions: vec![own.clone(), other],
        };
        let held = history.held_by(&holder);
        assert_eq!(held.versions.len(), 1);
        assert_eq!(held.versions[0].id, own.id);
        assert_eq!(held.events.len(), 1);
        assert_eq!(held.events[0].licence, own.id);
    }
}
